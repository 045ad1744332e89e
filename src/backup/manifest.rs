//! `Manifest`: what one backup holds, as `manifest.json` records it (docs/backup-format.md).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::backup::archive::{ArchiveStats, ArtifactKind};
use crate::backup::id;
use crate::project::profile_file::BackupMethod;
use crate::report::exit_status::ExitStatus;
use crate::report::failure::Failure;
use crate::report::text::{escaped, has_hidden_characters};

/// The version of the backup format this devctl writes and reads.
pub const FORMAT_VERSION: u32 = 1;
pub const MANIFEST: &str = "manifest.json";
/// The manifest's own SHA-256, so an edited manifest is detected.
pub const MANIFEST_DIGEST: &str = "manifest.json.sha256";

/// Why a backup was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackupKind {
    /// `devctl backup`.
    Manual,
    /// Taken by `devctl restore` before it replaced the volumes.
    Safety,
    /// Taken by the guard before a command deleted the volumes.
    #[serde(rename = "pre-delete")]
    PreDelete,
}

impl BackupKind {
    /// The name the manifest and `backup list` use.
    pub fn name(self) -> &'static str {
        match self {
            BackupKind::Manual => "manual",
            BackupKind::Safety => "safety",
            BackupKind::PreDelete => "pre-delete",
        }
    }

    /// Taken by devctl on its own (and pruned by the profile's `guard.keep_automatic_backups`).
    pub fn is_automatic(self) -> bool {
        self != BackupKind::Manual
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format_version: u32,
    pub devctl_version: String,
    pub id: String,
    pub kind: BackupKind,
    pub project: String,
    pub profile: String,
    /// UTC, RFC 3339.
    pub created: String,
    pub label: Option<String>,
    /// The endpoint of the engine it was taken from, without credentials.
    pub engine: String,
    /// That engine's ID, as its `/info` gives it; absent from older manifests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_id: Option<String>,
    /// That engine's name (the host name of its machine); absent from older manifests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_name: Option<String>,
    pub artifacts: Vec<Artifact>,
}

/// One stored file: a volume's tar, or a hook's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artifact {
    /// File name inside the backup directory.
    pub file: String,
    pub kind: ArtifactKind,
    /// The compose volume key (`db-data`), or `service:/path` for an anonymous volume.
    pub key: String,
    /// The volume's engine name when it was backed up.
    pub volume: String,
    pub driver: String,
    pub driver_options: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    pub external: bool,
    pub anonymous: bool,
    pub method: BackupMethod,
    /// Services stopped for the copy (`stop`), none otherwise.
    pub services_stopped: Vec<String>,
    /// For `hook`: where and how the output was made, and how to restore it.
    pub hook: Option<Hook>,
    /// Said when the copy may not be consistent (`live`).
    pub warning: Option<String>,
    #[serde(flatten)]
    pub stats: ArchiveStats,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hook {
    pub service: String,
    pub command: Vec<String>,
    pub restore: Vec<String>,
}

impl Manifest {
    /// Writes `manifest.json` and its digest into `directory` (files 0600).
    pub fn write(&self, directory: &Path) -> Result<()> {
        let text = serde_json::to_vec_pretty(self).context("cannot encode the manifest")?;
        write_private(&directory.join(MANIFEST), &text)?;
        let digest = format!("{}  {MANIFEST}\n", hex::encode(Sha256::digest(&text)));
        write_private(&directory.join(MANIFEST_DIGEST), digest.as_bytes())
    }

    /// Reads and checks the manifest of the backup in `directory`: both files must be regular
    /// files of at most `MANIFEST_LIMIT` bytes (a link, a FIFO or a device is refused without
    /// being read), the digest must match, and the fields must pass `check_fields`.
    pub fn read(directory: &Path) -> Result<Manifest> {
        let path = directory.join(MANIFEST);
        let text = read_backup_file(&path, MANIFEST_LIMIT)?;
        let digest_path = directory.join(MANIFEST_DIGEST);
        let recorded = read_backup_file(&digest_path, DIGEST_LIMIT)?;
        let recorded = String::from_utf8_lossy(&recorded);
        let recorded = recorded.split_whitespace().next().unwrap_or_default();
        if recorded != hex::encode(Sha256::digest(&text)) {
            return Err(Failure::new(
                ExitStatus::IntegrityFailure,
                format!(
                    "{} was changed after the backup was written (its SHA-256 does not match {})",
                    shown_path(&path),
                    shown_path(&digest_path)
                ),
            )
            .into());
        }
        let manifest: Manifest = serde_json::from_slice(&text).map_err(|error| {
            Failure::new(
                ExitStatus::IntegrityFailure,
                format!("{} cannot be read: {error}", shown_path(&path)),
            )
        })?;
        if manifest.format_version > FORMAT_VERSION {
            return Err(Failure::bad_input(format!(
                "{} is backup format {}, newer than this devctl reads ({FORMAT_VERSION})",
                shown_path(&path),
                manifest.format_version
            ))
            .hint("upgrade devctl to restore it")
            .into());
        }
        manifest.check_fields().map_err(|reason| {
            Failure::new(
                ExitStatus::IntegrityFailure,
                format!(
                    "{} is not a manifest devctl wrote: {reason}",
                    shown_path(&path)
                ),
            )
            .hint("this backup cannot be trusted; choose another (`devctl backup list`)")
        })?;
        Ok(manifest)
    }

    /// Checks what devctl itself writes into a manifest: a well-formed id; artifact files that
    /// are plain names in the backup's directory, each once; a hook exactly with a stream;
    /// and no control or invisible character in the names, the time, the engine or the hook's
    /// service. (The label and the hook's commands are free text: they are escaped wherever
    /// they are shown.)
    pub fn check_fields(&self) -> Result<(), String> {
        id::check(&self.id).map_err(|why| format!("id `{}`: {why}", escaped(&self.id)))?;
        let plain = [
            ("project", &self.project),
            ("profile", &self.profile),
            ("created", &self.created),
            ("engine", &self.engine),
            ("devctl_version", &self.devctl_version),
        ];
        for (field, value) in plain {
            plain_text(field, value)?;
        }
        let recorded = [
            ("engine_id", &self.engine_id),
            ("engine_name", &self.engine_name),
        ];
        for (field, value) in recorded {
            if let Some(value) = value {
                plain_text(field, value)?;
            }
        }
        let mut files: Vec<&str> = Vec::new();
        for (index, artifact) in self.artifacts.iter().enumerate() {
            let field = |name: &str| format!("artifacts[{index}].{name}");
            check_file_name(&artifact.file)
                .map_err(|why| format!("{} `{}`: {why}", field("file"), escaped(&artifact.file)))?;
            if files.contains(&artifact.file.as_str()) {
                return Err(format!(
                    "{} `{}` is named by two artifacts",
                    field("file"),
                    artifact.file
                ));
            }
            files.push(&artifact.file);
            plain_text(&field("key"), &artifact.key)?;
            plain_text(&field("volume"), &artifact.volume)?;
            plain_text(&field("driver"), &artifact.driver)?;
            match (artifact.kind, &artifact.hook) {
                (ArtifactKind::Stream, None) => {
                    return Err(format!(
                        "{} is a hook's output without its hook",
                        field("kind")
                    ));
                }
                (ArtifactKind::Tar, Some(_)) => {
                    return Err(format!("{} is a volume's tar with a hook", field("kind")));
                }
                (_, Some(hook)) => plain_text(&field("hook.service"), &hook.service)?,
                (_, None) => {}
            }
        }
        Ok(())
    }

    /// Raw bytes over every artifact.
    pub fn raw_bytes(&self) -> u64 {
        self.artifacts
            .iter()
            .map(|artifact| artifact.stats.raw_bytes)
            .sum()
    }

    pub fn stored_bytes(&self) -> u64 {
        self.artifacts
            .iter()
            .map(|artifact| artifact.stats.stored_bytes)
            .sum()
    }
}

/// The most `manifest.json` may hold.
pub const MANIFEST_LIMIT: u64 = 1 << 20;
/// The most `manifest.json.sha256` may hold.
const DIGEST_LIMIT: u64 = 1024;

/// Reads a file of a backup (which may come from anywhere) through
/// `system::files::read_regular`: what is not a regular file of at most `limit` bytes is an
/// integrity failure naming it.
fn read_backup_file(path: &Path, limit: u64) -> Result<Vec<u8>> {
    crate::system::files::read_regular(path, limit).map_err(|error| {
        let failure = Failure::new(
            ExitStatus::IntegrityFailure,
            format!("{} {error}", shown_path(path)),
        );
        match error.kind() {
            std::io::ErrorKind::InvalidData => failure
                .hint("this backup cannot be trusted; choose another (`devctl backup list`)")
                .into(),
            _ => anyhow::Error::new(error).context(format!("cannot read {}", shown_path(path))),
        }
    })
}

/// A path of a backup as shown in a message: escaped, since a folder name is anyone's.
pub fn shown_path(path: &Path) -> String {
    escaped(&path.display().to_string())
}

/// Refuses a value with a control or invisible character in it.
fn plain_text(field: &str, value: &str) -> Result<(), String> {
    if has_hidden_characters(value) {
        return Err(format!(
            "{field} `{}` holds control or invisible characters",
            escaped(value)
        ));
    }
    Ok(())
}

/// Whether `file` may name an artifact: a plain file name in the backup's directory, as
/// devctl makes them (ASCII letters, digits, `-`, `_` and `.`), not hidden, not `.` or `..`,
/// not the manifest's own files, and at most 255 bytes.
pub fn check_file_name(file: &str) -> Result<(), String> {
    if file.is_empty() {
        return Err("it is empty".into());
    }
    if file.len() > 255 {
        return Err("it is longer than 255 bytes".into());
    }
    if let Some(other) = file
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(match other {
            '/' | '\\' => "it is a path, not a plain file name in the backup's directory".into(),
            _ => format!(
                "it holds `{}`; only ASCII letters, digits, `-`, `_` and `.` are allowed",
                escaped(&other.to_string())
            ),
        });
    }
    if file.starts_with('.') {
        return Err("it is hidden (starts with `.`), or is `.` or `..`".into());
    }
    if file == MANIFEST || file == MANIFEST_DIGEST {
        return Err("it is the manifest's own file".into());
    }
    Ok(())
}

/// Writes a new file with mode 0600, synced.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut file = crate::backup::archive::create_private(path)?;
    file.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.sync_all()
        .with_context(|| format!("cannot sync {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::failure::find;

    fn artifact(file: &str) -> Artifact {
        Artifact {
            file: file.into(),
            kind: ArtifactKind::Tar,
            key: "data".into(),
            volume: "shop_data".into(),
            driver: "local".into(),
            driver_options: BTreeMap::new(),
            labels: BTreeMap::new(),
            external: false,
            anonymous: false,
            method: BackupMethod::Stop,
            services_stopped: Vec::new(),
            hook: None,
            warning: None,
            stats: ArchiveStats::default(),
        }
    }

    fn manifest() -> Manifest {
        Manifest {
            format_version: FORMAT_VERSION,
            devctl_version: "0.1.0".into(),
            id: "20261122T143005Z-before-upgrade".into(),
            kind: BackupKind::Manual,
            project: "shop".into(),
            profile: "default".into(),
            created: "2026-11-22T14:30:07Z".into(),
            label: Some("Before\nupgrade".into()),
            engine: "unix:///var/run/docker.sock".into(),
            engine_id: Some("WNKR:WFPW:X3KU:5UWM".into()),
            engine_name: Some("laptop".into()),
            artifacts: vec![artifact("data.tar.zst")],
        }
    }

    #[test]
    fn artifact_file_names_are_plain_names_in_the_backup_s_directory() {
        for fine in [
            "data.tar.zst",
            "db-data.dump.zst",
            "cache__cache-2.tar.zst",
            "a",
            "x..y",
        ] {
            check_file_name(fine).unwrap_or_else(|why| panic!("{fine}: {why}"));
        }
        let long = "a".repeat(256);
        for (file, why) in [
            ("", "empty"),
            ("../x", "a path"),
            ("/etc/passwd", "a path"),
            ("sub/data.tar.zst", "a path"),
            ("a\\b", "a path"),
            ("..", "hidden"),
            (".", "hidden"),
            (".hidden.tar.zst", "hidden"),
            ("manifest.json", "manifest's own"),
            ("manifest.json.sha256", "manifest's own"),
            ("a b", "holds ` `"),
            ("x\nerror: y", "holds `\\n`"),
            ("x\u{202e}y", "holds `\\u{202e}`"),
            ("dätä", "holds `ä`"),
            ("a\0b", "holds `\\0`"),
            (long.as_str(), "longer than 255"),
        ] {
            let refusal = check_file_name(file).expect_err(file);
            assert!(
                refusal.contains(why),
                "{file:?}: {refusal} (expected {why})"
            );
        }
    }

    #[test]
    fn fields_devctl_writes_are_checked_and_free_text_is_left_to_escaping() {
        manifest().check_fields().unwrap();
        type Change = Box<dyn Fn(&mut Manifest)>;
        let cases: Vec<(Change, &str)> = vec![
            (Box::new(|m| m.id = "../../elsewhere".into()), "id"),
            (
                Box::new(|m| m.id = "20261122T143005Z-x\nerror: y".into()),
                "id",
            ),
            (
                Box::new(|m| m.project = "shop\nerror: forged".into()),
                "project",
            ),
            (Box::new(|m| m.created = "2026\u{1b}[2K".into()), "created"),
            (Box::new(|m| m.profile = "a\u{202e}b".into()), "profile"),
            (Box::new(|m| m.engine = "x\ry".into()), "engine"),
            (
                Box::new(|m| m.engine_name = Some("box\nerror: x".into())),
                "engine_name",
            ),
            (
                Box::new(|m| m.engine_id = Some("a\u{202e}b".into())),
                "engine_id",
            ),
            (Box::new(|m| m.artifacts[0].file = "../x".into()), "file"),
            (
                Box::new(|m| m.artifacts[0].file = "/etc/passwd".into()),
                "file",
            ),
            (
                Box::new(|m| m.artifacts[0].key = "data\nerror: x".into()),
                "key",
            ),
            (
                Box::new(|m| m.artifacts[0].volume = "v\u{7}".into()),
                "volume",
            ),
            (
                Box::new(|m| m.artifacts.push(artifact("data.tar.zst"))),
                "two artifacts",
            ),
            (
                Box::new(|m| m.artifacts[0].kind = ArtifactKind::Stream),
                "without its hook",
            ),
            (
                Box::new(|m| {
                    m.artifacts[0].hook = Some(Hook {
                        service: "db".into(),
                        command: vec!["dump".into()],
                        restore: vec!["load".into()],
                    })
                }),
                "with a hook",
            ),
            (
                Box::new(|m| {
                    m.artifacts[0].kind = ArtifactKind::Stream;
                    m.artifacts[0].hook = Some(Hook {
                        service: "db\n".into(),
                        command: vec!["dump".into()],
                        restore: vec!["load".into()],
                    })
                }),
                "hook.service",
            ),
        ];
        for (change, field) in cases {
            let mut changed = manifest();
            change(&mut changed);
            let refusal = changed.check_fields().expect_err(field);
            assert!(refusal.contains(field), "{refusal} (expected {field})");
            assert!(!refusal.contains('\n'), "{refusal}");
        }
    }

    #[test]
    fn a_manifest_without_the_engine_s_identity_still_reads() {
        let temp = tempfile::tempdir().unwrap();
        let mut old = serde_json::to_value(manifest()).unwrap();
        let fields = old.as_object_mut().unwrap();
        fields.remove("engine_id");
        fields.remove("engine_name");
        let text = serde_json::to_vec_pretty(&old).unwrap();
        std::fs::write(temp.path().join(MANIFEST), &text).unwrap();
        let digest = format!("{}  {MANIFEST}\n", hex::encode(Sha256::digest(&text)));
        std::fs::write(temp.path().join(MANIFEST_DIGEST), digest).unwrap();
        let read = Manifest::read(temp.path()).unwrap();
        assert_eq!((read.engine_id, read.engine_name), (None, None));
        assert_eq!(read.engine, "unix:///var/run/docker.sock");
    }

    #[test]
    fn the_manifest_and_its_digest_must_be_small_regular_files() {
        let temp = tempfile::tempdir().unwrap();
        let directory = temp.path();
        manifest().write(directory).unwrap();
        assert_eq!(Manifest::read(directory).unwrap(), manifest());
        let digest = directory.join(MANIFEST_DIGEST);
        let saved = std::fs::read(&digest).unwrap();
        std::fs::remove_file(&digest).unwrap();
        std::os::unix::fs::symlink("/dev/zero", &digest).unwrap();
        let error = Manifest::read(directory).unwrap_err();
        assert_eq!(find(&error).unwrap().status, ExitStatus::IntegrityFailure);
        assert!(error.to_string().contains("symbolic link"), "{error}");
        std::fs::remove_file(&digest).unwrap();
        let name = std::ffi::CString::new(digest.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: mkfifo(3) with a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        let error = Manifest::read(directory).unwrap_err();
        assert!(error.to_string().contains("FIFO"), "{error}");
        std::fs::remove_file(&digest).unwrap();
        std::fs::write(&digest, &saved).unwrap();
        let path = directory.join(MANIFEST);
        std::fs::write(&path, vec![b' '; MANIFEST_LIMIT as usize + 1]).unwrap();
        let error = Manifest::read(directory).unwrap_err();
        assert!(error.to_string().contains("larger than"), "{error}");
    }
}
