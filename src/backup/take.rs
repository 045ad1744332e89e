//! Taking a backup: stop (or hook, or live) per volume, stream every volume out of the engine
//! through zstd and SHA-256 in parallel, start again what was stopped, and commit the backup
//! only when everything is on disk.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Instant, SystemTime};

use anyhow::{Context, Result};
use bollard::models::{ContainerInspectResponse, ContainerStateStatusEnum};
use indicatif::{ProgressBar, ProgressStyle};

use crate::backup::archive::{self, ArtifactKind, ROOT};
use crate::backup::journal::{Journal, Operation};
use crate::backup::manifest::{Artifact, BackupKind, FORMAT_VERSION, Manifest};
use crate::backup::store::{BackupStore, StoredBackup};
use crate::backup::target::VolumeTarget;
use crate::compose::model::ComposeModel;
use crate::compose::program::DockerCli;
use crate::engine::api::Engine;
use crate::engine::service_status::service_of;
use crate::project::profile_file::BackupMethod;
use crate::project::{Project, ServiceScope};
use crate::report::exit_status::ExitStatus;
use crate::report::failure::Failure;
use crate::report::printer::Printer;
use crate::report::units::human_bytes;

/// Everything a backup or restore works with.
pub struct VolumeSession<'a> {
    pub project: &'a Project,
    pub model: &'a ComposeModel,
    pub engine: &'a Engine,
    pub docker: &'a DockerCli,
    pub store: &'a BackupStore,
    /// The project's state directory (journal, lock).
    pub state: PathBuf,
    pub printer: &'a Printer,
}

impl VolumeSession<'_> {
    /// Services of the project with a running container.
    pub fn running_services(&self) -> Result<Vec<String>> {
        let mut running: Vec<String> = self
            .engine
            .project_containers(self.model.name())?
            .iter()
            .filter(|container| {
                container.state.as_ref().and_then(|state| state.status)
                    == Some(ContainerStateStatusEnum::RUNNING)
            })
            .filter_map(service_of)
            .collect();
        running.sort();
        running.dedup();
        Ok(running)
    }

    /// Runs `compose <verb> SERVICES…` for the project; nothing when `services` is empty.
    pub fn compose(&self, verb: &[&str], services: &[String]) -> Result<()> {
        if services.is_empty() {
            return Ok(());
        }
        let mut arguments: Vec<String> = verb.iter().map(|word| word.to_string()).collect();
        arguments.extend(services.iter().cloned());
        let command = self
            .project
            .command(self.model, ServiceScope::Everything, &arguments);
        self.printer.detail(format!("running: {}", command.line()));
        let status = command.run_aside()?;
        if !status.is_success() {
            return Err(anyhow::anyhow!(
                "`{}` exited with {}",
                command.line(),
                status.code()
            ));
        }
        Ok(())
    }

    /// An image the engine has, to create a helper container for `target` from.
    /// `containers` are the project's, listed once by the caller for every target.
    pub fn helper_image(
        &self,
        target: &VolumeTarget,
        containers: &[ContainerInspectResponse],
    ) -> Result<String> {
        for container in containers {
            let serves =
                service_of(container).is_some_and(|service| target.services.contains(&service));
            if let (true, Some(image)) = (serves, container.image.clone()) {
                return Ok(image);
            }
        }
        for service in &target.services {
            let image = self
                .model
                .service(service)
                .and_then(|definition| definition.get("image"))
                .and_then(|image| image.as_str());
            if let Some(image) = image.filter(|image| self.engine.has_image(image)) {
                return Ok(image.to_string());
            }
        }
        self.engine.any_image()?.ok_or_else(|| {
            Failure::engine(format!(
                "the engine has no image to mount volume {} with",
                target.name
            ))
            .hint("build or pull any image first (`devctl up` does), then try again")
            .into()
        })
    }
}

/// Takes a backup of `targets` and returns it, complete and committed.
pub fn take(
    session: &VolumeSession,
    targets: &[VolumeTarget],
    kind: BackupKind,
    label: Option<&str>,
) -> Result<StoredBackup> {
    crate::system::signals::install();
    if targets.is_empty() {
        return Err(Failure::bad_input("there is no volume to back up")
            .hint("this profile's services mount no named volume; --anonymous adds anonymous ones")
            .into());
    }
    let started = Instant::now();
    // One disk-usage query serves the room check and the progress bars.
    let sizes = session.docker.volume_sizes().unwrap_or_default();
    check_room(session, targets, &sizes)?;
    let id = session.store.new_id(label);
    let partial = session.store.begin(&id)?;
    let running_before = session.running_services()?;
    let to_stop: Vec<String> = running_before
        .iter()
        .filter(|service| {
            targets.iter().any(|target| {
                target.method == BackupMethod::Stop && target.services.contains(service)
            })
        })
        .cloned()
        .collect();
    for target in targets {
        if let Some(hook) = &target.hook
            && !running_before.contains(&hook.service)
        {
            return Err(Failure::bad_input(format!(
                "the backup hook of volume {} runs in service {}, which is not running",
                target.key, hook.service
            ))
            .hint("start it with `devctl up`, then back up again")
            .into());
        }
    }
    let mut journal = Journal {
        operation: Operation::Backup,
        pid: std::process::id(),
        backup: id.clone(),
        stopped_services: Vec::new(),
        safety_backup: None,
        replaced_volumes: Vec::new(),
    };
    if !to_stop.is_empty() {
        session.printer.info(format!(
            "stopping {} for a consistent copy",
            to_stop.join(", ")
        ));
        journal.stopped_services = to_stop.clone();
        if kind == BackupKind::Manual {
            journal.save(&session.state)?;
        }
        session.compose(&["stop"], &to_stop)?;
    }
    let signals_before = crate::system::signals::count();
    let copied = copy_all(session, targets, partial.path(), &to_stop, &sizes);
    // Start again whatever was running before and is not now, even when the copy failed.
    let restarted = if to_stop.is_empty() {
        Ok(())
    } else {
        session.running_services().and_then(|running| {
            let stopped: Vec<String> = running_before
                .iter()
                .filter(|service| !running.contains(service))
                .cloned()
                .collect();
            session.compose(&["start"], &stopped)
        })
    };
    if restarted.is_ok() && kind == BackupKind::Manual {
        // Nothing is left stopped: there is nothing for a later run to report. (A safety
        // backup runs inside a restore, whose own journal stays.)
        Journal::clear(&session.state)?;
    }
    if let (true, Some(signal)) = (
        crate::system::signals::count() != signals_before,
        crate::system::signals::received(),
    ) {
        return Err(Failure::new(
            ExitStatus::Interrupted(signal),
            "interrupted: the backup was not kept",
        )
        .into());
    }
    let artifacts = copied?;
    restarted.context("the volumes were copied, but starting the stopped services failed; the backup was not kept")?;
    let manifest = Manifest {
        format_version: FORMAT_VERSION,
        devctl_version: env!("CARGO_PKG_VERSION").to_string(),
        id: id.clone(),
        kind,
        project: session.model.name().to_string(),
        profile: session.project.profile.name.clone(),
        created: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        label: label.map(String::from),
        engine: session.engine.host().to_string(),
        artifacts,
    };
    let stored = partial.commit(&manifest)?;
    session.printer.info(format!(
        "backup {id}: {} volume{}, {} → {} stored, in {:.1}s",
        manifest.artifacts.len(),
        if manifest.artifacts.len() == 1 {
            ""
        } else {
            "s"
        },
        human_bytes(manifest.raw_bytes()),
        human_bytes(manifest.stored_bytes()),
        started.elapsed().as_secs_f64()
    ));
    Ok(stored)
}

/// Copies every target into `directory`, volumes in parallel within the machine's cores.
fn copy_all(
    session: &VolumeSession,
    targets: &[VolumeTarget],
    directory: &Path,
    stopped: &[String],
    sizes: &BTreeMap<String, u64>,
) -> Result<Vec<Artifact>> {
    let level = session.project.profile.backup.compression_level;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = cores.min(targets.len()).max(1);
    let workers = (cores / threads).max(1) as u32;
    let files = file_names(targets);
    let containers = session.engine.project_containers(session.model.name())?;
    let mut helpers: Vec<Option<String>> = Vec::new();
    let cleanup = |helpers: &[Option<String>]| {
        for id in helpers.iter().flatten() {
            let _ = session.engine.remove_container(id);
        }
    };
    for target in targets {
        if target.method == BackupMethod::Hook {
            helpers.push(None);
            continue;
        }
        let created = session.helper_image(target, &containers).and_then(|image| {
            session
                .engine
                .create_helper(session.model.name(), &image, &target.name)
        });
        match created {
            Ok(id) => helpers.push(Some(id)),
            Err(error) => {
                cleanup(&helpers);
                return Err(error);
            }
        }
    }
    let progress = session.printer.progress();
    let next = AtomicUsize::new(0);
    let results: Vec<(usize, Result<Artifact>)> = std::thread::scope(|scope| {
        let workers_handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let index = next.fetch_add(1, Ordering::SeqCst);
                        let Some(target) = targets.get(index) else {
                            break;
                        };
                        let bar = progress.add(bar_for(target, sizes.get(&target.name).copied()));
                        let result = copy_one(
                            session,
                            target,
                            helpers[index].as_deref(),
                            &directory.join(&files[index]),
                            &files[index],
                            level,
                            workers,
                            stopped,
                            &bar,
                        );
                        bar.finish();
                        done.push((index, result));
                    }
                    done
                })
            })
            .collect();
        workers_handles
            .into_iter()
            .flat_map(|handle| handle.join().unwrap_or_default())
            .collect()
    });
    cleanup(&helpers);
    let mut ordered: Vec<(usize, Result<Artifact>)> = results;
    ordered.sort_by_key(|(index, _)| *index);
    ordered.into_iter().map(|(_, result)| result).collect()
}

#[allow(clippy::too_many_arguments)]
fn copy_one(
    session: &VolumeSession,
    target: &VolumeTarget,
    helper: Option<&str>,
    destination: &Path,
    file: &str,
    level: i32,
    workers: u32,
    stopped: &[String],
    bar: &ProgressBar,
) -> Result<Artifact> {
    let progress = |bytes: u64| bar.inc(bytes);
    let (mut output, kind, failure) = match (&target.hook, helper) {
        (Some(hook), _) => {
            let mut arguments = vec!["exec".to_string(), "-T".to_string(), hook.service.clone()];
            arguments.extend(hook.command.iter().cloned());
            let command = session
                .project
                .command(session.model, ServiceScope::Profile, &arguments);
            let failure = format!("the backup hook of volume {} failed", target.key);
            (command.output_reader()?, ArtifactKind::Stream, failure)
        }
        (None, Some(helper)) => {
            let output = session.docker.copy_out(helper, &format!("/{ROOT}"))?;
            (
                output,
                ArtifactKind::Tar,
                format!("cannot copy volume {}", target.name),
            )
        }
        (None, None) => unreachable!("every non-hook target has a helper container"),
    };
    let stats = archive::store(&mut output, destination, kind, level, workers, &progress)
        .with_context(|| failure.clone())?;
    output.finish().with_context(|| failure.clone())?;
    let volume = session.engine.volume(&target.name)?;
    let (driver, driver_options, labels) = match &volume {
        Some(volume) => (
            volume.driver.clone(),
            volume.options.clone().into_iter().collect(),
            volume.labels.clone().into_iter().collect(),
        ),
        None => (
            target.driver.clone(),
            target.driver_options.clone(),
            target.labels.clone(),
        ),
    };
    Ok(Artifact {
        file: file.to_string(),
        kind,
        key: target.key.clone(),
        volume: target.name.clone(),
        driver,
        driver_options,
        labels,
        external: target.external,
        anonymous: target.anonymous,
        method: target.method,
        services_stopped: if target.method == BackupMethod::Stop {
            stopped
                .iter()
                .filter(|service| target.services.contains(service))
                .cloned()
                .collect()
        } else {
            Vec::new()
        },
        hook: target.hook.clone(),
        warning: (target.method == BackupMethod::Live).then(|| {
            format!(
                "copied while in use by {}: files written during the copy may be inconsistent",
                if target.services.is_empty() {
                    "its services".into()
                } else {
                    target.services.join(", ")
                }
            )
        }),
        stats,
    })
}

fn bar_for(target: &VolumeTarget, size: Option<u64>) -> ProgressBar {
    let bar = match size.filter(|size| *size > 0 && target.hook.is_none()) {
        Some(size) => ProgressBar::new(size),
        None => ProgressBar::no_length(),
    };
    let style = ProgressStyle::with_template(
        "{prefix:>20} {bytes:>10} {binary_bytes_per_sec:>12} {wide_bar:.cyan/blue} {eta:>4}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_prefix(target.key.clone());
    bar
}

/// One file name per target, from its key, unique within the backup.
fn file_names(targets: &[VolumeTarget]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for target in targets {
        let stem: String = target
            .key
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let extension = if target.hook.is_some() {
            "dump.zst"
        } else {
            "tar.zst"
        };
        let mut name = format!("{stem}.{extension}");
        let mut sequence = 2;
        while names.contains(&name) {
            name = format!("{stem}-{sequence}.{extension}");
            sequence += 1;
        }
        names.push(name);
    }
    names
}

/// Refuses to start when the backup directory's disk cannot hold the volumes uncompressed.
fn check_room(
    session: &VolumeSession,
    targets: &[VolumeTarget],
    sizes: &BTreeMap<String, u64>,
) -> Result<()> {
    let needed: u64 = targets
        .iter()
        .filter_map(|target| sizes.get(&target.name))
        .sum();
    let directory = session.store.directory();
    let Some(available) = available_space(directory) else {
        return Ok(());
    };
    if needed > available {
        return Err(Failure::new(
            ExitStatus::Io,
            format!(
                "not enough room for this backup in {}: the volumes hold {} and {} is free",
                directory.display(),
                human_bytes(needed),
                human_bytes(available)
            ),
        )
        .hint("free some space (`devctl backup prune --keep N` removes old backups), or set DEVCTL_BACKUP_DIR / paths.backup_dir to a disk with room")
        .into());
    }
    Ok(())
}

/// Free bytes on the file system that holds `path` (or its nearest existing parent).
pub fn available_space(path: &Path) -> Option<u64> {
    let existing = path.ancestors().find(|ancestor| ancestor.exists())?;
    let text = std::ffi::CString::new(existing.as_os_str().as_encoded_bytes()).ok()?;
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: statvfs(3) with a valid NUL-terminated path and a zeroed out-struct.
    let result = unsafe { libc::statvfs(text.as_ptr(), &mut stat) };
    (result == 0).then(|| stat.f_bavail as u64 * stat.f_frsize as u64)
}
