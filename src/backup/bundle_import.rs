//! `devctl backup import`: a bundle file, treated as hostile, into the current project. The
//! whole file is read and checked (`backup::bundle`) into a private staging folder of the
//! store, then the backup in it is checked as `restore` checks a backup (manifest, hashes,
//! every archive entry); only then is the backup stored under its id (unless the store has
//! it) and the carried images loaded (`docker load`), their archive first checked to tag
//! only the images the bundle carries, and compared with the ids the bundle records.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};

use crate::backup::bundle::{
    self, BACKUP_PREFIX, IMAGES, ImageRecord, Index, MODEL, Member, refused,
};
use crate::backup::drill_record::{DrillRecord, DrillState, RECORD};
use crate::backup::manifest::{MANIFEST, MANIFEST_DIGEST, Manifest, shown_path};
use crate::backup::store::StoredBackup;
use crate::backup::workspace::Workspace;
use crate::report::exit_status::ExitStatus;
use crate::report::failure::Failure;
use crate::report::printer::Printer;
use crate::report::text::escaped;

/// What to import.
pub struct ImportRequest<'a> {
    pub file: &'a Path,
    /// The current project's name, given to import a bundle of another project into it.
    pub into_project: Option<&'a str>,
}

/// What an import did.
pub struct Imported {
    pub backup: StoredBackup,
    /// False when the store held this very backup already.
    pub stored: bool,
    /// The project the bundle was exported from.
    pub project: String,
    /// The images loaded.
    pub loaded: Vec<ImageRecord>,
    /// Every image the bundle records.
    pub images: Vec<ImageRecord>,
}

/// Reads, checks and imports the bundle `request.file` (call holding the project's lock).
pub fn import(
    workspace: &Workspace,
    printer: &Printer,
    request: &ImportRequest,
) -> Result<Imported> {
    let shown = shown_path(request.file);
    let source = open(request.file, &shown)?;
    let length = source
        .metadata()
        .with_context(|| format!("cannot read {shown}"))?
        .len();
    let staging = workspace.store.staging()?;
    let backup_directory = staging.path().join("backup");
    crate::system::files::create_private_directories(&backup_directory)?;
    let project = workspace.model.name();
    if let Some(named) = request.into_project
        && named != project
    {
        return Err(Failure::bad_input(format!(
            "--into-project {} is not this project, {project}",
            escaped(named)
        ))
        .hint("run the import in the project to import into (or name it with --project-dir)")
        .into());
    }
    let mut open_member = |_: &Index, member: &Member| -> Result<Box<dyn Write>> {
        let path = staged_path(staging.path(), &backup_directory, &member.name);
        let file = crate::backup::archive::create_private(&path)?;
        Ok(Box::new(BufWriter::with_capacity(1 << 20, file)))
    };
    let progress = printer.progress();
    let bar = progress.add(ProgressBar::new(length));
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>20} {bytes:>10} {binary_bytes_per_sec:>12} {wide_bar:.cyan/blue} {eta:>4}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_prefix("checking bundle");
    let mut reader = std::io::BufReader::with_capacity(
        1 << 20,
        crate::system::signals::Interruptible::new(source),
    );
    let read = bundle::read(&mut reader, length, &shown, &mut open_member, &|bytes| {
        bar.inc(bytes)
    });
    bar.finish_and_clear();
    if let Some(signal) = reader.get_ref().signal() {
        return Err(Failure::new(
            ExitStatus::Interrupted(signal),
            format!("interrupted while reading bundle {shown}; nothing was stored or loaded"),
        )
        .into());
    }
    let index = read?;

    let backup = check_backup(workspace, &index, &backup_directory, &shown)?;
    let model =
        crate::system::files::read_regular(&staging.path().join(MODEL), bundle::MODEL_LIMIT)
            .with_context(|| format!("cannot read the staged {MODEL}"))?;
    if !serde_json::from_slice::<serde_json::Value>(&model).is_ok_and(|model| model.is_object()) {
        return Err(refused(
            &shown,
            format!("its {MODEL} is not a compose model"),
        ));
    }
    for image in index.images.iter().filter(|image| image.saved) {
        let well_formed = image.id.as_deref().is_some_and(|id| {
            id.strip_prefix("sha256:").is_some_and(|hex| {
                hex.len() == 64 && hex.bytes().all(|byte| byte.is_ascii_hexdigit())
            })
        });
        if !well_formed {
            return Err(refused(
                &shown,
                format!(
                    "it carries image {} without a well-formed id to check it against",
                    escaped(&image.reference)
                ),
            ));
        }
    }

    let carried = index.carried_images();
    if !carried.is_empty() {
        let images = staging.path().join("images.tar");
        let mut archive = std::io::BufReader::new(crate::backup::archive::open_artifact(&images)?);
        crate::backup::image_archive::check(&mut archive, &carried)
            .map_err(|why| refused(&shown, why))?;
    }

    // Checked once the bundle is known whole and sound: a damaged one is said to be damaged.
    check_project(&index, project, request.into_project, workspace)?;

    // Checked whole: the backup is stored (unless the store has it), then the images loaded.
    let id = backup.manifest.id.clone();
    let existing = workspace.store.directory().join(&id);
    let (backup, stored) = if std::fs::symlink_metadata(&existing).is_ok() {
        let held = workspace.store.get(&id)?;
        if !same_backup(&held.directory, &backup.directory)? {
            return Err(Failure::new(
                ExitStatus::Refused,
                format!(
                    "the store holds another backup {id} already ({}); the bundle's was not stored",
                    shown_path(&held.directory)
                ),
            )
            .hint(
                "two different backups cannot share an id: remove or rename the one in the store first if the bundle's is the one to keep",
            )
            .into());
        }
        // The same manifest says nothing of the files beside it: a damaged copy is named,
        // not taken for this bundle's whole one.
        if let Err(error) = held.verify(&workspace.project.stack()) {
            let shown_held = shown_path(&held.directory);
            return Err(Failure::new(
                ExitStatus::IntegrityFailure,
                format!(
                    "backup {id} in the store is damaged ({shown_held}): {error:#}; the bundle holds it whole, but was not stored over it"
                ),
            )
            .hint(format!(
                "move the damaged copy out of the store (`mv {shown_held} {}`) and run the import again",
                shown_path(
                    &request
                        .file
                        .parent()
                        .unwrap_or(Path::new("."))
                        .join(format!("{id}.damaged"))
                )
            ))
            .into());
        }
        (held, false)
    } else {
        for entry in std::fs::read_dir(&backup.directory)
            .with_context(|| format!("cannot list {}", backup.directory.display()))?
        {
            let path = entry
                .with_context(|| format!("cannot list {}", backup.directory.display()))?
                .path();
            std::fs::File::open(&path)
                .and_then(|file| file.sync_all())
                .with_context(|| format!("cannot sync {}", path.display()))?;
        }
        (
            workspace.store.adopt(&backup.directory, &backup.manifest)?,
            true,
        )
    };
    let loaded = match index.images.iter().any(|image| image.saved) {
        true => load_images(
            workspace,
            printer,
            &staging.path().join("images.tar"),
            &index,
        )?,
        false => Vec::new(),
    };
    Ok(Imported {
        backup,
        stored,
        project: index.project.clone(),
        loaded,
        images: index.images,
    })
}

/// Opens the bundle: a regular file (a link to one is followed), never a FIFO or a device,
/// which are refused without being read.
fn open(file: &Path, shown: &str) -> Result<std::fs::File> {
    let resolved = std::fs::canonicalize(file).map_err(|error| {
        Failure::bad_input(format!("cannot read bundle {shown}: {error}"))
            .hint("name the file `devctl backup export` wrote")
    })?;
    crate::system::files::open_regular(&resolved).map_err(|error| match error.kind() {
        std::io::ErrorKind::InvalidData => Failure::bad_input(format!("bundle {shown} {error}"))
            .hint("name the file `devctl backup export` wrote")
            .into(),
        _ => anyhow::Error::new(error).context(format!("cannot read bundle {shown}")),
    })
}

/// Where a member is staged: the backup's files in `backup`, the rest beside it.
fn staged_path(staging: &Path, backup: &Path, name: &str) -> PathBuf {
    match name.strip_prefix(BACKUP_PREFIX) {
        // `Index::check` admitted only plain file names here.
        Some(file) => backup.join(file),
        None if name == IMAGES => staging.join("images.tar"),
        None => staging.join(MODEL),
    }
}

/// Refuses a bundle of another project, unless `into_project` names the current one.
fn check_project(
    index: &Index,
    project: &str,
    into_project: Option<&str>,
    workspace: &Workspace,
) -> Result<()> {
    if index.project == project || into_project.is_some() {
        return Ok(());
    }
    Err(Failure::new(
        ExitStatus::Refused,
        format!(
            "the bundle holds a backup of project {}, not of this project, {project}",
            escaped(&index.project)
        ),
    )
    .hint(format!(
        "to import it into {project} all the same (volumes are matched by their compose key), add `--into-project {project}`; else run `{}` in the project it belongs to",
        workspace.project.stack().devctl("backup import FILE")
    ))
    .into())
}

/// Checks the staged backup as `restore` checks a backup: its manifest (digest, fields,
/// version), exactly the files it names, every archive, and its drill record.
fn check_backup(
    workspace: &Workspace,
    index: &Index,
    directory: &Path,
    shown: &str,
) -> Result<StoredBackup> {
    let stack = workspace.project.stack();
    let manifest = Manifest::read(directory)
        .map_err(|error| refused(shown, format!("its backup: {error:#}")))?;
    if manifest.id != index.backup {
        return Err(refused(
            shown,
            format!(
                "its index names backup {}, its manifest {}",
                escaped(&index.backup),
                manifest.id
            ),
        ));
    }
    let mut expected: Vec<String> = vec![MANIFEST.into(), MANIFEST_DIGEST.into(), RECORD.into()];
    expected.extend(
        manifest
            .artifacts
            .iter()
            .map(|artifact| artifact.file.clone()),
    );
    for member in &index.members {
        if let Some(file) = member.name.strip_prefix(BACKUP_PREFIX)
            && !expected.iter().any(|name| name == file)
        {
            return Err(refused(
                shown,
                format!(
                    "member {} is not a file of backup {}",
                    escaped(&member.name),
                    manifest.id
                ),
            ));
        }
    }
    for artifact in &manifest.artifacts {
        let name = format!("{BACKUP_PREFIX}{}", artifact.file);
        if !index.members.iter().any(|member| member.name == name) {
            return Err(refused(
                shown,
                format!("it lacks {name}, which backup {} holds", manifest.id),
            ));
        }
    }
    let backup = StoredBackup {
        directory: directory.to_path_buf(),
        manifest,
    };
    backup
        .verify(&stack)
        .map_err(|error| refused(shown, format!("its backup: {error:#}")))?;
    if let DrillState::Unreadable(why) = DrillRecord::state(directory, &backup.manifest.id) {
        return Err(refused(shown, format!("its drill record: {why}")));
    }
    Ok(backup)
}

/// Whether two backup folders hold the same backup: the same manifest (which holds every
/// archive's SHA-256, checked against the files on the way in).
fn same_backup(held: &Path, received: &Path) -> Result<bool> {
    let read = |directory: &Path| {
        crate::system::files::read_regular(
            &directory.join(MANIFEST),
            crate::backup::manifest::MANIFEST_LIMIT,
        )
        .with_context(|| format!("cannot read {}", directory.join(MANIFEST).display()))
    };
    Ok(read(held)? == read(received)?)
}

/// Loads the checked image archive into the engine and compares every carried image's id with
/// the one the bundle records.
fn load_images(
    workspace: &Workspace,
    printer: &Printer,
    archive: &Path,
    index: &Index,
) -> Result<Vec<ImageRecord>> {
    let carried = index.carried_images();
    let mut references: Vec<&str> = carried
        .iter()
        .map(|image| image.reference.as_str())
        .collect();
    references.sort();
    references.dedup();
    printer.info(format!(
        "loading images {}",
        escaped(&references.join(", "))
    ));
    let progress = printer.progress();
    let size = std::fs::metadata(archive).map_or(0, |metadata| metadata.len());
    let bar = progress.add(ProgressBar::new(size));
    bar.set_prefix("images");
    let loaded = workspace.docker.load(&mut |sink| {
        let mut file = crate::backup::archive::open_artifact(archive)?;
        let mut counted = ProgressWriter {
            inner: sink,
            bar: &bar,
        };
        std::io::copy(&mut file, &mut counted).context("cannot feed `docker load`")
    });
    bar.finish_and_clear();
    loaded?;
    for image in &carried {
        let found = workspace
            .engine
            .image_identity(&image.reference)
            .map(|(id, _)| id);
        if found != image.id {
            return Err(Failure::new(
                ExitStatus::IntegrityFailure,
                format!(
                    "image {} loaded as {}, but the bundle records {}",
                    escaped(&image.reference),
                    found.as_deref().map_or("nothing".into(), escaped),
                    image.id.as_deref().map_or("nothing".into(), escaped)
                ),
            )
            .hint(format!(
                "do not run it; remove it (`docker image rm {}`) and export the bundle again",
                escaped(&image.reference)
            ))
            .into());
        }
    }
    Ok(carried)
}

struct ProgressWriter<'a> {
    inner: &'a mut dyn Write,
    bar: &'a ProgressBar,
}

impl Write for ProgressWriter<'_> {
    fn write(&mut self, buffer: &[u8]) -> std::io::Result<usize> {
        let written = self.inner.write(buffer)?;
        self.bar.inc(written as u64);
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
