//! `devctl backup export`: one backup, the project's compose model (secret values and every
//! value of its env files masked), the references and ids of its services' images, and, when
//! asked, the images themselves (`docker save`), written as one bundle file
//! (`backup::bundle`), atomically and privately.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::backup::bundle::{self, BACKUP_PREFIX, IMAGES, ImageRecord, Index, MODEL, Member};
use crate::backup::drill_record::{self, RECORD};
use crate::backup::manifest::{MANIFEST, MANIFEST_DIGEST, MANIFEST_LIMIT};
use crate::backup::store::StoredBackup;
use crate::backup::workspace::Workspace;
use crate::compose::secrets::{self, Masking};
use crate::report::exit_status::ExitStatus;
use crate::report::failure::Failure;
use crate::report::printer::Printer;
use crate::report::text::escaped;
use crate::report::units::human_bytes;
use crate::system::signals::Interruptible;

/// Which images a bundle carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageSelection {
    /// Only their references and ids.
    None,
    /// The images the project builds.
    Built,
    /// Every image the project's services run.
    All,
}

/// What to export, and where.
pub struct ExportRequest<'a> {
    pub backup: &'a StoredBackup,
    pub output: &'a Path,
    pub images: ImageSelection,
    /// Replace `output` when it exists.
    pub force: bool,
}

/// What was written.
pub struct Exported {
    pub path: PathBuf,
    pub bytes: u64,
    pub images: Vec<ImageRecord>,
}

/// Where a member's bytes come from.
enum Source {
    Bytes(Vec<u8>),
    File(PathBuf),
}

/// Writes the bundle of `request.backup`.
pub fn export(
    workspace: &Workspace,
    printer: &Printer,
    request: &ExportRequest,
) -> Result<Exported> {
    let stack = workspace.project.stack();
    let output = request.output;
    if std::fs::symlink_metadata(output).is_ok() && !request.force {
        return Err(Failure::bad_input(format!(
            "{} exists already",
            escaped(&output.display().to_string())
        ))
        .hint("name another file, or add --force to replace it")
        .into());
    }
    let parent = match output.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => parent.to_path_buf(),
        None => PathBuf::from("."),
    };
    if !parent.is_dir() {
        return Err(Failure::bad_input(format!(
            "cannot write {}: {} is not a directory",
            escaped(&output.display().to_string()),
            escaped(&parent.display().to_string())
        ))
        .into());
    }
    let backup = request.backup;
    backup.verify(&stack)?;
    let images = image_records(workspace, request.images)?;

    let mut members: Vec<(Member, Source)> = Vec::new();
    let model = serde_json::to_vec_pretty(&carried_model(workspace))
        .context("cannot encode the compose model")?;
    members.push(in_memory(MODEL, model));
    let read = |name: &str, limit: u64| {
        let path = backup.directory.join(name);
        crate::system::files::read_regular(&path, limit)
            .with_context(|| format!("cannot read {}", path.display()))
    };
    members.push(in_memory(
        &format!("{BACKUP_PREFIX}{MANIFEST}"),
        read(MANIFEST, MANIFEST_LIMIT)?,
    ));
    members.push(in_memory(
        &format!("{BACKUP_PREFIX}{MANIFEST_DIGEST}"),
        read(MANIFEST_DIGEST, 1024)?,
    ));
    for artifact in &backup.manifest.artifacts {
        members.push((
            Member {
                name: format!("{BACKUP_PREFIX}{}", artifact.file),
                size: artifact.stats.stored_bytes,
                sha256: artifact.stats.sha256.clone(),
            },
            Source::File(backup.directory.join(&artifact.file)),
        ));
    }
    if std::fs::symlink_metadata(backup.directory.join(RECORD)).is_ok() {
        match read(RECORD, drill_record::RECORD_LIMIT) {
            Ok(record) => members.push(in_memory(&format!("{BACKUP_PREFIX}{RECORD}"), record)),
            Err(error) => printer.warn(format!(
                "the drill record is left out: {}",
                escaped(&format!("{error:#}"))
            )),
        }
    }
    // The images are saved into a private file beside the output first: the header of a
    // member states its size.
    let spool = match images.iter().any(|image| image.saved) {
        true => Some(save_images(workspace, printer, &images, &parent)?),
        false => None,
    };
    if let Some((file, member)) = &spool {
        members.push((member.clone(), Source::File(file.path().to_path_buf())));
    }

    let created = std::time::SystemTime::now();
    let index = Index {
        format: bundle::FORMAT.into(),
        format_version: bundle::FORMAT_VERSION,
        devctl_version: env!("CARGO_PKG_VERSION").into(),
        created: humantime::format_rfc3339_seconds(created).to_string(),
        project: workspace.model.name().into(),
        backup: backup.manifest.id.clone(),
        images: images.clone(),
        members: members.iter().map(|(member, _)| member.clone()).collect(),
    };
    index.check().map_err(|why| {
        Failure::bad_input(format!(
            "backup {} cannot be bundled: {why}",
            backup.manifest.id
        ))
    })?;
    let mtime = created
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());

    // Signals are caught before the temporary file exists, so that one arriving at any
    // point from here stops the export and removes the file (the default action would leave it).
    crate::system::signals::install();
    let before = crate::system::signals::count();
    let temporary = tempfile::Builder::new()
        .prefix(".devctl-bundle-")
        .tempfile_in(&parent)
        .with_context(|| format!("cannot create a temporary file in {}", parent.display()))?;
    let total: u64 = members.iter().map(|(member, _)| member.size).sum();
    let progress = printer.progress();
    let bar = progress.add(ProgressBar::new(total));
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>20} {bytes:>10} {binary_bytes_per_sec:>12} {wide_bar:.cyan/blue} {eta:>4}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_prefix("bundle");
    let mut writer = bundle::Writer::new(
        BufWriter::with_capacity(1 << 20, temporary.as_file()),
        &index,
        mtime,
    )?;
    for (member, source) in &members {
        let found = match source {
            Source::Bytes(bytes) => {
                writer.member(&member.name, member.size, &mut bytes.as_slice(), &|_| {})?
            }
            Source::File(path) => {
                let mut file =
                    Interruptible::since(crate::backup::archive::open_artifact(path)?, before);
                let written = writer.member(&member.name, member.size, &mut file, &|bytes| {
                    bar.inc(bytes)
                });
                if let Some(signal) = file.signal() {
                    bar.finish_and_clear();
                    return Err(interrupted(signal));
                }
                written?
            }
        };
        if found != member.sha256 {
            bar.finish_and_clear();
            anyhow::bail!(
                "{} changed while it was exported (its SHA-256 is not the one recorded); nothing was written",
                member.name
            );
        }
    }
    let buffered = writer.finish()?;
    bar.finish_and_clear();
    if crate::system::signals::count() != before {
        let signal = crate::system::signals::received().unwrap_or(libc::SIGTERM);
        return Err(interrupted(signal));
    }
    buffered
        .into_inner()
        .map_err(|error| error.into_error())
        .and_then(|file| file.sync_all())
        .with_context(|| format!("cannot write {}", temporary.path().display()))?;
    let bytes = temporary
        .as_file()
        .metadata()
        .with_context(|| format!("cannot read {}", temporary.path().display()))?
        .len();
    let persisted = if request.force {
        temporary.persist(output).map_err(|error| error.error)
    } else {
        temporary
            .persist_noclobber(output)
            .map_err(|error| error.error)
    };
    persisted.with_context(|| format!("cannot write {}", output.display()))?;
    File::open(&parent)
        .and_then(|directory| directory.sync_all())
        .with_context(|| format!("cannot sync directory {}", parent.display()))?;
    Ok(Exported {
        path: output.to_path_buf(),
        bytes,
        images,
    })
}

/// The failure of an export a signal stopped.
fn interrupted(signal: i32) -> anyhow::Error {
    Failure::new(
        ExitStatus::Interrupted(signal),
        "interrupted during the export; nothing was written",
    )
    .into()
}

fn in_memory(name: &str, bytes: Vec<u8>) -> (Member, Source) {
    (
        Member {
            name: name.into(),
            size: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(&bytes)),
        },
        Source::Bytes(bytes),
    )
}

/// The resolved model as `plan` shows it (secret values masked), and then every value of the
/// project's env files masked wherever it stands: the receiver brings its own.
fn carried_model(workspace: &Workspace) -> Value {
    let model = workspace.model.value();
    let env_files = workspace.project.env_file_paths();
    let masked = Masking::of(model)
        .with_variables(&crate::compose::variables::defined_variables(&env_files))
        .model(model);
    let values: Vec<String> = crate::compose::variables::env_file_variables(&env_files)
        .into_values()
        .collect();
    secrets::without_values(&masked, &values)
}

/// The image of every service of the project: its reference, its id on the engine, whether
/// the project builds it, and whether `selection` carries it. A carried image the engine
/// does not have is bad input.
fn image_records(workspace: &Workspace, selection: ImageSelection) -> Result<Vec<ImageRecord>> {
    let mut records = Vec::new();
    for service in workspace.model.service_names() {
        let definition = workspace.model.service(&service);
        let built = definition.is_some_and(|definition| definition.get("build").is_some());
        let reference = definition
            .and_then(|definition| definition.get("image"))
            .and_then(Value::as_str)
            .map(String::from)
            .unwrap_or_else(|| format!("{}-{service}", workspace.model.name()));
        let id = workspace
            .engine
            .image_identity(&reference)
            .map(|(id, _)| id);
        let saved = match selection {
            ImageSelection::None => false,
            ImageSelection::Built => built,
            ImageSelection::All => true,
        };
        if saved && id.is_none() {
            let stack = workspace.project.stack();
            return Err(Failure::bad_input(format!(
                "image {} of service {service} is not on the engine, so it cannot be carried",
                escaped(&reference)
            ))
            .hint(match built {
                true => format!(
                    "build it first (`{}`), or export with --images=none",
                    stack.devctl("up --build")
                ),
                false => format!(
                    "pull it first (`{}`), or export with --images=built or none",
                    stack.devctl("compose pull")
                ),
            })
            .into());
        }
        records.push(ImageRecord {
            service,
            reference,
            id,
            built,
            saved,
        });
    }
    Ok(records)
}

/// `docker save` of the carried images into a private file in `directory`; returns it and
/// its member.
fn save_images(
    workspace: &Workspace,
    printer: &Printer,
    images: &[ImageRecord],
    directory: &Path,
) -> Result<(tempfile::NamedTempFile, Member)> {
    let mut references: Vec<String> = images
        .iter()
        .filter(|image| image.saved)
        .map(|image| image.reference.clone())
        .collect();
    references.sort();
    references.dedup();
    printer.info(format!("saving images {}", references.join(", ")));
    let spool = tempfile::Builder::new()
        .prefix(".devctl-bundle-images-")
        .tempfile_in(directory)
        .with_context(|| format!("cannot create a temporary file in {}", directory.display()))?;
    let progress = printer.progress();
    let bar = progress.add(ProgressBar::no_length());
    bar.set_style(
        ProgressStyle::with_template("{prefix:>20} {bytes:>10} {binary_bytes_per_sec:>12}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_prefix("images");
    let mut saving = Interruptible::new(workspace.docker.save(&references)?);
    let mut digest = Sha256::new();
    let mut size = 0u64;
    let mut sink = BufWriter::with_capacity(1 << 20, spool.as_file());
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let read = match saving.read(&mut buffer) {
            Ok(read) => read,
            Err(_) if saving.signal().is_some() => {
                bar.finish_and_clear();
                return Err(interrupted(saving.signal().unwrap_or(libc::SIGINT)));
            }
            Err(error) => {
                return Err(error).context("cannot read what `docker save` printed");
            }
        };
        if read == 0 {
            break;
        }
        digest.update(&buffer[..read]);
        sink.write_all(&buffer[..read])
            .with_context(|| format!("cannot write {}", spool.path().display()))?;
        size += read as u64;
        bar.inc(read as u64);
    }
    sink.flush()
        .with_context(|| format!("cannot write {}", spool.path().display()))?;
    drop(sink);
    bar.finish_and_clear();
    saving.into_inner().finish()?;
    printer.detail(format!("images saved: {}", human_bytes(size)));
    Ok((
        spool,
        Member {
            name: IMAGES.into(),
            size,
            sha256: hex::encode(digest.finalize()),
        },
    ))
}
