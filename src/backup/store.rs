//! `BackupStore`: the backups of one project, `<backup dir>/<project>/<id>/`.
//!
//! A backup is written into `.partial-<id>/` and renamed to `<id>/` only when every artifact
//! and the manifest are on disk, so a backup that `list` shows is complete. Directories are
//! 0700 and files 0600. Partial directories left by an interrupted run are removed by the
//! next run that holds the project's lock.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, Result};

use crate::backup::archive;
use crate::backup::id;
use crate::backup::manifest::{
    Artifact, BackupKind, MANIFEST, Manifest, check_file_name, shown_path,
};
use crate::report::command_line::Stack;
use crate::report::exit_status::ExitStatus;
use crate::report::failure::Failure;
use crate::report::text::escaped;

const PARTIAL_PREFIX: &str = ".partial-";

#[derive(Debug, Clone)]
pub struct BackupStore {
    directory: PathBuf,
    /// The stack whose backups these are, for the devctl command lines hints name.
    stack: Stack,
}

/// A complete backup on disk.
#[derive(Debug, Clone)]
pub struct StoredBackup {
    pub directory: PathBuf,
    pub manifest: Manifest,
}

/// A backup being written; removed when dropped before `commit`.
#[derive(Debug)]
pub struct PartialBackup {
    directory: PathBuf,
    target: PathBuf,
    committed: bool,
}

/// One entry of `list`: a backup whose manifest reads, or one that does not.
#[derive(Debug)]
pub struct Listed {
    pub id: String,
    pub directory: PathBuf,
    pub manifest: Result<Manifest, String>,
}

impl BackupStore {
    pub fn new(directory: PathBuf, stack: Stack) -> BackupStore {
        BackupStore { directory, stack }
    }

    pub fn directory(&self) -> &Path {
        &self.directory
    }

    /// A new id: the UTC time, sortable (`20261122T143005Z`), and the label. Ids are unique
    /// and in the order backups were made: when the project already has a backup (or a
    /// partial one) of this second or later, the new id takes the second after the newest.
    pub fn new_id(&self, label: Option<&str>) -> String {
        let mut time = SystemTime::now();
        let newest = self
            .entries()
            .unwrap_or_default()
            .iter()
            .filter_map(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                let name = name.strip_prefix(PARTIAL_PREFIX).unwrap_or(&name);
                id::parse_time(name)
            })
            // A folder named for a time more than a day ahead is not one of ours: ignored.
            .filter(|newest| *newest <= time + std::time::Duration::from_secs(86_400))
            .max();
        if let Some(newest) = newest.filter(|newest| *newest >= id::truncate_to_second(time)) {
            time = newest + std::time::Duration::from_secs(1);
        }
        let mut id = id::format_time(time);
        if let Some(label) = label
            .map(id::sanitize_label)
            .filter(|label| !label.is_empty())
        {
            id.push('-');
            id.push_str(&label);
        }
        id
    }

    /// Starts writing backup `id`.
    pub fn begin(&self, id: &str) -> Result<PartialBackup> {
        crate::system::files::create_private_directories(&self.directory)?;
        let directory = self.directory.join(format!("{PARTIAL_PREFIX}{id}"));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&directory)
            .with_context(|| format!("cannot create directory {}", directory.display()))?;
        Ok(PartialBackup {
            directory,
            target: self.directory.join(id),
            committed: false,
        })
    }

    /// A private directory in the store's folder, for a backup being received (`backup
    /// import`): hidden from `list`, removed when dropped, and by the next run that holds the
    /// lock when a killed run left it.
    pub fn staging(&self) -> Result<tempfile::TempDir> {
        crate::system::files::create_private_directories(&self.directory)?;
        tempfile::Builder::new()
            .prefix(&format!("{PARTIAL_PREFIX}import-"))
            .tempdir_in(&self.directory)
            .with_context(|| format!("cannot create a directory in {}", self.directory.display()))
    }

    /// Moves the complete, verified backup in `directory` (on the store's file system, its
    /// files synced) into place as `manifest.id`; refuses an id the store holds already.
    pub fn adopt(&self, directory: &Path, manifest: &Manifest) -> Result<StoredBackup> {
        id::check(&manifest.id)
            .map_err(|why| anyhow::anyhow!("backup id {}: {why}", escaped(&manifest.id)))?;
        let target = self.directory.join(&manifest.id);
        if std::fs::symlink_metadata(&target).is_ok() {
            anyhow::bail!("{} exists already", target.display());
        }
        sync_directory(directory)?;
        std::fs::rename(directory, &target).with_context(|| {
            format!(
                "cannot move {} to {}",
                directory.display(),
                target.display()
            )
        })?;
        sync_directory(&self.directory)?;
        Ok(StoredBackup {
            directory: target,
            manifest: manifest.clone(),
        })
    }

    /// Removes what interrupted runs left (call while holding the project's lock).
    pub fn clean_partials(&self) -> Result<Vec<String>> {
        let mut removed = Vec::new();
        for entry in self.entries()? {
            let name = entry.file_name().to_string_lossy().to_string();
            if let Some(id) = name.strip_prefix(PARTIAL_PREFIX) {
                std::fs::remove_dir_all(entry.path())
                    .with_context(|| format!("cannot remove {}", entry.path().display()))?;
                removed.push(id.to_string());
            }
        }
        Ok(removed)
    }

    /// Every complete backup, oldest first. An entry that is not a directory of its own (a
    /// symlink to one included) or whose manifest does not read, or names another id, is
    /// listed as damaged.
    pub fn list(&self) -> Result<Vec<Listed>> {
        let mut listed = Vec::new();
        for entry in self.entries()? {
            let name = entry.file_name().to_string_lossy().to_string();
            let kind = entry
                .file_type()
                .with_context(|| format!("cannot list {}", self.directory.display()))?;
            if name.starts_with('.') || !(kind.is_dir() || kind.is_symlink()) {
                continue;
            }
            let manifest = match kind.is_symlink() {
                true => Err(format!(
                    "{} is a symbolic link, not a backup directory",
                    shown_path(&entry.path())
                )),
                false => StoredBackup::open_entry(&entry.path(), &name, &self.stack)
                    .map(|backup| backup.manifest)
                    .map_err(|error| format!("{error:#}")),
            };
            listed.push(Listed {
                id: name,
                directory: entry.path(),
                manifest,
            });
        }
        listed.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(listed)
    }

    /// Removes the oldest automatic backups so that `keep` remain, never those in `spare` (the
    /// one just taken, the one being restored); manual backups are left alone. Returns the
    /// ids removed.
    pub fn prune_automatic(&self, keep: usize, spare: &[&str]) -> Result<Vec<String>> {
        let automatic: Vec<Listed> = self
            .list()?
            .into_iter()
            .filter(|entry| {
                entry
                    .manifest
                    .as_ref()
                    .is_ok_and(|manifest| manifest.kind.is_automatic())
            })
            .collect();
        let surplus = automatic.len().saturating_sub(keep.max(1));
        let mut removed = Vec::new();
        for entry in automatic
            .iter()
            .filter(|entry| !spare.contains(&entry.id.as_str()))
            .take(surplus)
        {
            std::fs::remove_dir_all(&entry.directory)
                .with_context(|| format!("cannot remove {}", entry.directory.display()))?;
            removed.push(entry.id.clone());
        }
        Ok(removed)
    }

    /// The backup with this id.
    pub fn get(&self, id: &str) -> Result<StoredBackup> {
        let directory = self.directory.join(id);
        let exists = std::fs::symlink_metadata(&directory).is_ok_and(|metadata| metadata.is_dir());
        if id::check(id).is_err() || !exists {
            let known: Vec<String> = self.list()?.into_iter().map(|listed| listed.id).collect();
            let hint = if known.is_empty() {
                format!(
                    "this project has no backups yet: `{}` makes one",
                    self.stack.devctl("backup")
                )
            } else {
                format!("backups of this project: {}", known.join(", "))
            };
            return Err(Failure::bad_input(format!(
                "no backup `{}` in {}",
                escaped(id),
                self.directory.display()
            ))
            .hint(escaped(&hint))
            .into());
        }
        StoredBackup::open_entry(&directory, id, &self.stack)
    }

    /// The newest complete backup a person means by "the latest": a manual or a pre-delete
    /// one, never a safety backup.
    pub fn latest(&self) -> Result<StoredBackup> {
        // A safety backup holds what a restore replaced: never the one a person means.
        let listed = self.list()?;
        let newest = listed.iter().rev().find(|listed| {
            listed
                .manifest
                .as_ref()
                .is_ok_and(|manifest| manifest.kind != BackupKind::Safety)
        });
        match newest {
            Some(listed) => StoredBackup::open_entry(&listed.directory, &listed.id, &self.stack),
            None if !listed.is_empty() => Err(Failure::bad_input(format!(
                "no backup in {} but safety backups (what restores replaced), which the latest never means",
                self.directory.display()
            ))
            .hint(format!(
                "name one by its id (`{}` lists them), or `{}` puts back what the last restore replaced",
                self.stack.devctl("backup list"),
                self.stack.devctl("restore --undo")
            ))
            .into()),
            None => Err(
                Failure::bad_input(format!("no backups in {}", self.directory.display()))
                    .hint(format!("make one with `{}`", self.stack.devctl("backup")))
                    .into(),
            ),
        }
    }

    fn entries(&self) -> Result<Vec<std::fs::DirEntry>> {
        if !self.directory.is_dir() {
            return Ok(Vec::new());
        }
        std::fs::read_dir(&self.directory)
            .with_context(|| format!("cannot list {}", self.directory.display()))?
            .map(|entry| entry.with_context(|| format!("cannot list {}", self.directory.display())))
            .collect()
    }
}

impl PartialBackup {
    pub fn path(&self) -> &Path {
        &self.directory
    }

    /// Writes the manifest and moves the backup into place.
    pub fn commit(mut self, manifest: &Manifest) -> Result<StoredBackup> {
        manifest.write(&self.directory)?;
        sync_directory(&self.directory)?;
        std::fs::rename(&self.directory, &self.target).with_context(|| {
            format!(
                "cannot move {} to {}",
                self.directory.display(),
                self.target.display()
            )
        })?;
        if let Some(parent) = self.target.parent() {
            sync_directory(parent)?;
        }
        self.committed = true;
        Ok(StoredBackup {
            directory: self.target.clone(),
            manifest: manifest.clone(),
        })
    }
}

impl Drop for PartialBackup {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.directory);
        }
    }
}

impl StoredBackup {
    /// The backup in the store's folder `directory`, named `id`: the manifest's id must be the
    /// folder's name. Hints name the devctl command lines for `stack`.
    fn open_entry(directory: &Path, id: &str, stack: &Stack) -> Result<StoredBackup> {
        let backup = StoredBackup::open(directory, stack)?;
        if backup.manifest.id != id {
            return Err(Failure::new(
                ExitStatus::IntegrityFailure,
                format!(
                    "{} holds backup `{}`, not `{}` as its folder is named",
                    shown_path(directory),
                    backup.manifest.id,
                    escaped(id)
                ),
            )
            .hint(format!(
                "this backup cannot be trusted; choose another (`{}`)",
                stack.devctl("backup list")
            ))
            .into());
        }
        Ok(backup)
    }

    /// A backup directory anywhere (`--from DIR`; it may have been renamed: the manifest's id
    /// is the backup's); hints name the devctl command lines for `stack`.
    pub fn open(directory: &Path, stack: &Stack) -> Result<StoredBackup> {
        if std::fs::symlink_metadata(directory.join(MANIFEST)).is_err() {
            return Err(Failure::bad_input(format!(
                "{} is not a devctl backup: it has no {MANIFEST}",
                shown_path(directory)
            ))
            .hint(format!(
                "name a backup directory (`<backup dir>/<project>/<id>/`), as `{}` shows",
                stack.devctl("backup list")
            ))
            .into());
        }
        let manifest = Manifest::read(directory).map_err(|error| untrusted(error, stack))?;
        Ok(StoredBackup {
            directory: directory.to_path_buf(),
            manifest,
        })
    }

    /// Re-hashes every artifact and reads every archive through to its end; any difference
    /// from the manifest is an integrity failure, whose hint names the listing for `stack`.
    pub fn verify(&self, stack: &Stack) -> Result<()> {
        self.verify_artifacts()
            .map_err(|error| untrusted(error, stack))
    }

    fn verify_artifacts(&self) -> Result<()> {
        for artifact in &self.manifest.artifacts {
            // `Manifest::read` checked the name already; a manifest made in memory is checked
            // here, before the name is joined to the directory.
            check_file_name(&artifact.file).map_err(|why| {
                mismatch(format!(
                    "artifact file `{}`: {why}",
                    escaped(&artifact.file)
                ))
            })?;
            let path = self.directory.join(&artifact.file);
            // One pass hashes and reads the archive through; when it cannot be read, a hash
            // that differs from the manifest's is the failure to report.
            let found = match archive::check(&path, artifact.kind) {
                Ok(found) => found,
                Err(error) => {
                    let (sha256, size) = archive::hash_file(&path)?;
                    self.compare_hash(artifact, &path, &sha256, size)?;
                    return Err(error);
                }
            };
            self.compare_hash(artifact, &path, &found.sha256, found.stored_bytes)?;
            if found.raw_bytes != artifact.stats.raw_bytes
                || found.entries != artifact.stats.entries
            {
                return Err(mismatch(format!(
                    "{} reads as {} bytes in {} entries; the manifest recorded {} bytes in {}",
                    shown_path(&path),
                    found.raw_bytes,
                    found.entries,
                    artifact.stats.raw_bytes,
                    artifact.stats.entries
                )));
            }
        }
        Ok(())
    }
}

impl StoredBackup {
    /// Fails unless `sha256` and `size` of `path` are what the manifest records of `artifact`.
    fn compare_hash(
        &self,
        artifact: &Artifact,
        path: &Path,
        sha256: &str,
        size: u64,
    ) -> Result<()> {
        if sha256 == artifact.stats.sha256 && size == artifact.stats.stored_bytes {
            return Ok(());
        }
        Err(mismatch(format!(
            "{} does not match the manifest (SHA-256 {}, {} bytes; recorded {}, {} bytes)",
            shown_path(path),
            &sha256[..12],
            size,
            escaped(
                artifact
                    .stats
                    .sha256
                    .get(..12)
                    .unwrap_or(&artifact.stats.sha256)
            ),
            artifact.stats.stored_bytes
        )))
    }
}

fn mismatch(message: String) -> anyhow::Error {
    Failure::new(ExitStatus::IntegrityFailure, message).into()
}

/// `error`, when it is an integrity failure without a hint, with the hint to choose another
/// backup, naming the listing for `stack`.
fn untrusted(mut error: anyhow::Error, stack: &Stack) -> anyhow::Error {
    if let Some(failure) = error.downcast_mut::<Failure>()
        && failure.status == ExitStatus::IntegrityFailure
        && failure.hint.is_none()
    {
        failure.hint = Some(format!(
            "this backup cannot be trusted; choose another (`{}`)",
            stack.devctl("backup list")
        ));
    }
    error
}

fn sync_directory(path: &Path) -> Result<()> {
    std::fs::File::open(path)
        .and_then(|directory| directory.sync_all())
        .with_context(|| format!("cannot sync directory {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backup::manifest::{BackupKind, FORMAT_VERSION};

    fn manifest(id: &str) -> Manifest {
        Manifest {
            format_version: FORMAT_VERSION,
            devctl_version: "test".into(),
            id: id.into(),
            kind: BackupKind::Manual,
            project: "shop".into(),
            profile: "default".into(),
            created: "2026-11-22T00:00:00Z".into(),
            label: None,
            engine: "unix:///var/run/docker.sock".into(),
            engine_id: None,
            engine_name: None,
            artifacts: Vec::new(),
        }
    }

    #[test]
    fn only_committed_backups_are_listed() {
        let temp = tempfile::tempdir().unwrap();
        let store = BackupStore::new(temp.path().join("shop"), Stack::live());
        let first = store.new_id(Some("Before Upgrade!"));
        assert!(first.ends_with("-before-upgrade"), "{first}");
        let partial = store.begin(&first).unwrap();
        assert!(store.list().unwrap().is_empty());
        partial.commit(&manifest(&first)).unwrap();
        let second = store.new_id(Some("Before Upgrade!"));
        assert_ne!(first, second);
        let abandoned = store.begin(&second).unwrap();
        std::mem::forget(abandoned); // as if the process had been killed
        let listed = store.list().unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(store.latest().unwrap().manifest.id, first);
        assert_eq!(store.clean_partials().unwrap(), vec![second]);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(store.directory().join(&first))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
        let manifest_mode = std::fs::metadata(store.directory().join(&first).join(MANIFEST))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(manifest_mode & 0o777, 0o600);
    }

    #[test]
    fn an_adopted_backup_comes_from_a_hidden_staging_folder_and_never_over_another() {
        let temp = tempfile::tempdir().unwrap();
        let store = BackupStore::new(temp.path().join("shop"), Stack::live());
        let id = "20261130T020000Z";
        let staging = store.staging().unwrap();
        assert!(
            store.list().unwrap().is_empty(),
            "a staging folder is listed"
        );
        let received = staging.path().join("backup");
        std::fs::create_dir(&received).unwrap();
        manifest(id).write(&received).unwrap();
        let adopted = store.adopt(&received, &manifest(id)).unwrap();
        assert_eq!(adopted.directory, store.directory().join(id));
        assert_eq!(store.get(id).unwrap().manifest, manifest(id));
        // The id is taken: a second one is refused, and the first is left as it was.
        let again = staging.path().join("again");
        std::fs::create_dir(&again).unwrap();
        manifest(id).write(&again).unwrap();
        assert!(store.adopt(&again, &manifest(id)).is_err());
        assert!(again.is_dir());
        let mut forged = manifest(id);
        forged.id = "../elsewhere".into();
        assert!(store.adopt(&again, &forged).is_err());
        // A staging folder a killed run left goes with the next clean-up.
        let path = staging.path().to_path_buf();
        std::mem::forget(staging);
        assert_eq!(store.clean_partials().unwrap().len(), 1);
        assert!(!path.exists());
    }

    #[test]
    fn ids_made_in_one_second_stay_in_order_whatever_their_labels() {
        let temp = tempfile::tempdir().unwrap();
        let store = BackupStore::new(temp.path().to_path_buf(), Stack::live());
        let mut made = Vec::new();
        for label in ["zulu", "alpha", "2024", "mike"] {
            let id = store.new_id(Some(label));
            store.begin(&id).unwrap().commit(&manifest(&id)).unwrap();
            made.push(id);
        }
        let listed: Vec<String> = store
            .list()
            .unwrap()
            .into_iter()
            .map(|entry| entry.id)
            .collect();
        assert_eq!(listed, made);
        assert_eq!(
            id::parse_time(&made[0]).map(id::format_time).as_deref(),
            made[0].get(..16)
        );
        assert!(id::parse_time("not-an-id").is_none());
        assert!(id::parse_time("abcéxyzT123456Z-x").is_none());
        // Folders that are not ours do not push new ids around, nor panic.
        std::fs::create_dir_all(store.directory().join("99991231T235959Z")).unwrap();
        std::fs::create_dir_all(store.directory().join("abcéxyzT123456Z-x")).unwrap();
        let next = store.new_id(None);
        assert!(
            next.as_str() < "99991231T235959Z" && next.starts_with("20"),
            "{next}"
        );
        assert!(id::parse_time("before-upgrade-20261122").is_none());
    }

    #[test]
    fn the_latest_is_the_newest_a_person_made_or_the_guard_took_never_a_safety_backup() {
        let temp = tempfile::tempdir().unwrap();
        let store = BackupStore::new(temp.path().to_path_buf(), Stack::live());
        let write = |id: &str, kind: BackupKind| {
            let mut written = manifest(id);
            written.kind = kind;
            store.begin(id).unwrap().commit(&written).unwrap();
        };
        write("20260101T000000Z", BackupKind::Manual);
        write("20260102T000000Z-safety", BackupKind::Safety);
        assert_eq!(store.latest().unwrap().manifest.id, "20260101T000000Z");
        write("20260103T000000Z-before-down", BackupKind::PreDelete);
        write("20260104T000000Z-safety", BackupKind::Safety);
        assert_eq!(
            store.latest().unwrap().manifest.id,
            "20260103T000000Z-before-down"
        );
        // Only safety backups: there is none to mean.
        let only = BackupStore::new(temp.path().join("only"), Stack::live());
        let mut safety = manifest("20260105T000000Z-safety");
        safety.kind = BackupKind::Safety;
        only.begin(&safety.id).unwrap().commit(&safety).unwrap();
        assert!(only.latest().is_err());
    }

    #[test]
    fn automatic_backups_are_pruned_never_the_newest_nor_manual_ones() {
        let temp = tempfile::tempdir().unwrap();
        let store = BackupStore::new(temp.path().to_path_buf(), Stack::live());
        let write = |id: &str, kind: BackupKind| {
            let mut written = manifest(id);
            written.kind = kind;
            store.begin(id).unwrap().commit(&written).unwrap();
        };
        write("20260101T000000Z", BackupKind::PreDelete);
        write("20260102T000000Z", BackupKind::Manual);
        write("20260103T000000Z", BackupKind::Safety);
        write("20260104T000000Z", BackupKind::PreDelete);
        // The one just taken sorts first here (a clock set back): it is kept all the same.
        let removed = store.prune_automatic(1, &["20260101T000000Z"]).unwrap();
        assert_eq!(removed, ["20260103T000000Z", "20260104T000000Z"]);
        let left: Vec<String> = store
            .list()
            .unwrap()
            .into_iter()
            .map(|entry| entry.id)
            .collect();
        assert_eq!(left, ["20260101T000000Z", "20260102T000000Z"]);
        assert!(
            store
                .prune_automatic(1, &["20260101T000000Z"])
                .unwrap()
                .is_empty()
        );
        // Several spared: the one taken and the one being restored.
        write("20260105T000000Z", BackupKind::Safety);
        write("20260106T000000Z", BackupKind::Safety);
        write("20260107T000000Z", BackupKind::Safety);
        let removed = store
            .prune_automatic(2, &["20260107T000000Z", "20260101T000000Z"])
            .unwrap();
        assert_eq!(removed, ["20260105T000000Z", "20260106T000000Z"]);
    }

    #[test]
    fn an_edited_manifest_is_an_integrity_failure() {
        let temp = tempfile::tempdir().unwrap();
        let store = BackupStore::new(temp.path().to_path_buf(), Stack::live());
        let id = store.new_id(None);
        let backup = store.begin(&id).unwrap().commit(&manifest(&id)).unwrap();
        let path = backup.directory.join(MANIFEST);
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("shop", "shoq");
        std::fs::write(&path, text).unwrap();
        let error = store.get(&id).unwrap_err();
        let failure = crate::report::failure::find(&error).unwrap();
        assert_eq!(failure.status, ExitStatus::IntegrityFailure);
        assert_eq!(
            failure.hint.as_deref(),
            Some("this backup cannot be trusted; choose another (`devctl backup list`)")
        );
        // The fidelity stack's store names its own listing.
        let fidelity = BackupStore::new(temp.path().to_path_buf(), Stack::fidelity());
        let error = fidelity.get(&id).unwrap_err();
        assert_eq!(
            crate::report::failure::find(&error)
                .unwrap()
                .hint
                .as_deref(),
            Some("this backup cannot be trusted; choose another (`devctl backup list --fidelity`)")
        );
    }

    #[test]
    fn a_damaged_archive_s_hint_names_the_listing_of_the_stack() {
        let temp = tempfile::tempdir().unwrap();
        let store = BackupStore::new(temp.path().to_path_buf(), Stack::fidelity());
        let id = store.new_id(None);
        let backup = store.begin(&id).unwrap().commit(&manifest(&id)).unwrap();
        // The manifest names an archive that is not there.
        let mut missing = backup.clone();
        missing.manifest.artifacts.push(
            serde_json::from_value(serde_json::json!({
                "file": "data.tar.zst", "kind": "tar", "key": "data", "volume": "shop_data",
                "driver": "local", "driver_options": {}, "labels": {}, "external": false,
                "anonymous": false, "method": "stop", "services_stopped": [], "hook": null,
                "warning": null, "raw_bytes": 1, "stored_bytes": 1, "entries": 1, "sha256": "00"
            }))
            .unwrap(),
        );
        for stack in [Stack::live(), Stack::fidelity()] {
            let error = missing.verify(&stack).unwrap_err();
            let failure = crate::report::failure::find(&error).unwrap();
            assert_eq!(failure.status, ExitStatus::IntegrityFailure);
            assert_eq!(
                failure.hint.clone().unwrap(),
                format!(
                    "this backup cannot be trusted; choose another (`{}`)",
                    stack.devctl("backup list")
                )
            );
        }
        backup.verify(&Stack::fidelity()).unwrap();
    }

    #[test]
    fn an_empty_store_s_hints_name_the_backup_of_the_stack() {
        let temp = tempfile::tempdir().unwrap();
        for (stack, line) in [
            (Stack::live(), "`devctl backup`"),
            (Stack::fidelity(), "`devctl backup --fidelity`"),
        ] {
            let store = BackupStore::new(temp.path().to_path_buf(), stack);
            for error in [store.get("nope").unwrap_err(), store.latest().unwrap_err()] {
                let failure = crate::report::failure::find(&error).unwrap();
                assert!(
                    failure.hint.as_deref().unwrap().contains(line),
                    "{failure:?}"
                );
            }
        }
    }

    #[test]
    fn unknown_ids_list_the_known_ones() {
        let temp = tempfile::tempdir().unwrap();
        let store = BackupStore::new(temp.path().to_path_buf(), Stack::live());
        let id = store.new_id(None);
        store.begin(&id).unwrap().commit(&manifest(&id)).unwrap();
        let error = store.get("nope").unwrap_err();
        let failure = crate::report::failure::find(&error).unwrap();
        assert!(failure.hint.as_deref().unwrap().contains(&id));
        assert!(store.get("../x").is_err());
    }
}
