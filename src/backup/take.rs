//! Taking a backup: stop (or hook, or live) per volume, stream every volume out of the engine
//! through zstd and SHA-256 in parallel, start again what was stopped, and commit the backup
//! only when everything is on disk.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Instant, SystemTime};

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};

use crate::backup::archive::{self, ArtifactKind, ROOT};
use crate::backup::journal::{Journal, Operation};
use crate::backup::manifest::{Artifact, BackupKind, FORMAT_VERSION, Manifest};
use crate::backup::store::StoredBackup;
use crate::backup::target::VolumeTarget;
use crate::backup::workspace::Workspace;
use crate::engine::urls::without_credentials;
use crate::project::ServiceScope;
use crate::project::profile_file::BackupMethod;
use crate::report::command_line::Stack;
use crate::report::exit_status::ExitStatus;
use crate::report::failure::Failure;
use crate::report::printer::Printer;
use crate::report::units::human_bytes;

/// Takes a backup of `targets` and returns it, complete and committed.
pub fn take(
    workspace: &Workspace,
    printer: &Printer,
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
    // One disk-usage query serves the room check and the progress bars; it runs while the
    // helper containers are created, as neither needs the other.
    let (sizes, helpers) = std::thread::scope(|scope| {
        let sizes = scope.spawn(|| workspace.volume_sizes());
        let helpers = create_helpers(workspace, targets);
        let sizes = sizes
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (sizes, helpers)
    });
    // Removed when the copy is done, or on any way out before.
    let helpers = Helpers {
        workspace,
        ids: helpers?,
    };
    check_room(workspace, targets, sizes)?;
    let id = workspace.store.new_id(label);
    let partial = workspace.store.begin(&id)?;
    let running_before = workspace.running_services()?;
    check_hooks_running(targets, &running_before, workspace.project.stack())?;
    let to_stop = services_to_stop(targets, &running_before);
    stop_for_copy(workspace, printer, &id, kind, &to_stop)?;
    let signals_before = crate::system::signals::count();
    let copied = copy_all(
        workspace,
        printer,
        targets,
        &helpers.ids,
        partial.path(),
        &to_stop,
        sizes,
    );
    drop(helpers);
    // Start again whatever was running before and is not now, even when the copy failed.
    let restarted = match to_stop.is_empty() {
        true => Ok(()),
        false => start_again(workspace, printer, &running_before),
    };
    if restarted.is_ok() && kind == BackupKind::Manual {
        // Nothing is left stopped: there is nothing for a later run to report. (A safety
        // backup runs inside a restore, whose own journal stays.)
        Journal::clear(&workspace.state)?;
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
    let manifest = manifest(workspace, &id, kind, label, artifacts);
    let stored = partial.commit(&manifest)?;
    printer.info(summary(&manifest, started));
    Ok(stored)
}

/// Takes an automatic backup (`kind` safety or pre-delete) of `targets`, then prunes the older
/// automatic ones to the profile's `guard.keep_automatic_backups`, sparing the new one and
/// those in `spare` (the backup being restored); manual backups are never pruned.
pub fn take_automatic(
    workspace: &Workspace,
    printer: &Printer,
    targets: &[VolumeTarget],
    kind: BackupKind,
    label: Option<&str>,
    spare: &[&str],
) -> Result<StoredBackup> {
    let backup = take(workspace, printer, targets, kind, label)?;
    let keep = workspace.project.profile.keep_automatic_backups;
    let mut spared = vec![backup.manifest.id.as_str()];
    spared.extend_from_slice(spare);
    for removed in workspace.store.prune_automatic(keep, &spared)? {
        printer.info(format!(
            "removed the older automatic backup {removed} (guard.keep_automatic_backups: {keep})"
        ));
    }
    Ok(backup)
}

/// `backup ID: N volumes, RAW → STORED stored, in SECONDS`.
fn summary(manifest: &Manifest, started: Instant) -> String {
    format!(
        "backup {}: {} volume{}, {} → {} stored, in {:.1}s",
        manifest.id,
        manifest.artifacts.len(),
        if manifest.artifacts.len() == 1 {
            ""
        } else {
            "s"
        },
        human_bytes(manifest.raw_bytes()),
        human_bytes(manifest.stored_bytes()),
        started.elapsed().as_secs_f64()
    )
}

/// Refuses when a target's backup hook runs in a service that is not running.
fn check_hooks_running(targets: &[VolumeTarget], running: &[String], stack: Stack) -> Result<()> {
    for target in targets {
        if let Some(hook) = &target.hook
            && !running.contains(&hook.service)
        {
            return Err(Failure::bad_input(format!(
                "the backup hook of volume {} runs in service {}, which is not running",
                target.key, hook.service
            ))
            .hint(format!(
                "start it with `{}`, then back up again",
                stack.devctl("up")
            ))
            .into());
        }
    }
    Ok(())
}

/// The running services that mount a volume copied with its services stopped.
fn services_to_stop(targets: &[VolumeTarget], running: &[String]) -> Vec<String> {
    running
        .iter()
        .filter(|service| {
            targets.iter().any(|target| {
                target.method == BackupMethod::Stop && target.services.contains(service)
            })
        })
        .cloned()
        .collect()
}

/// Stops `services` for a consistent copy; a manual backup records them in the journal first,
/// so that a run killed meanwhile is found by the next one.
fn stop_for_copy(
    workspace: &Workspace,
    printer: &Printer,
    id: &str,
    kind: BackupKind,
    services: &[String],
) -> Result<()> {
    if services.is_empty() {
        return Ok(());
    }
    printer.info(format!(
        "stopping {} for a consistent copy",
        services.join(", ")
    ));
    if kind == BackupKind::Manual {
        let journal = Journal {
            stopped_services: services.to_vec(),
            ..Journal::new(Operation::Backup, id, workspace.engine.endpoint())
        };
        journal.save(&workspace.state)?;
    }
    workspace.compose(&["stop"], services, printer)
}

/// Starts whatever of `running_before` is not running now.
fn start_again(workspace: &Workspace, printer: &Printer, running_before: &[String]) -> Result<()> {
    let running = workspace.running_services()?;
    let stopped: Vec<String> = running_before
        .iter()
        .filter(|service| !running.contains(service))
        .cloned()
        .collect();
    workspace.compose(&["start"], &stopped, printer)
}

/// The manifest of backup `id` of `artifacts`, stamped now.
fn manifest(
    workspace: &Workspace,
    id: &str,
    kind: BackupKind,
    label: Option<&str>,
    artifacts: Vec<Artifact>,
) -> Manifest {
    // Who the engine is, so that a restore elsewhere can say it crosses engines; a backup
    // is not lost for want of it.
    let identity = workspace.engine.identity().unwrap_or_default();
    Manifest {
        format_version: FORMAT_VERSION,
        devctl_version: env!("CARGO_PKG_VERSION").to_string(),
        id: id.to_string(),
        kind,
        project: workspace.model.name().to_string(),
        profile: workspace.project.profile.name.clone(),
        created: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        label: label.map(String::from),
        engine: without_credentials(workspace.engine.host()),
        engine_id: identity.id,
        engine_name: identity.name,
        artifacts,
    }
}

/// Copies every target into `directory` (through its helper container of `helpers`, or its
/// hook), volumes in parallel within the machine's cores.
fn copy_all(
    workspace: &Workspace,
    printer: &Printer,
    targets: &[VolumeTarget],
    helpers: &[Option<String>],
    directory: &Path,
    stopped: &[String],
    sizes: &BTreeMap<String, u64>,
) -> Result<Vec<Artifact>> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = cores.min(targets.len()).max(1);
    let copy = Copy {
        workspace,
        directory,
        files: file_names(targets),
        level: workspace.project.profile.backup.compression_level,
        workers: (cores / threads).max(1) as u32,
        stopped,
    };
    let progress = printer.progress();
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
                        let result = copy.one(index, target, helpers[index].as_deref(), &bar);
                        // The summary says what was copied: a bar left on screen would only go stale.
                        bar.finish_and_clear();
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
    let mut ordered: Vec<(usize, Result<Artifact>)> = results;
    ordered.sort_by_key(|(index, _)| *index);
    ordered.into_iter().map(|(_, result)| result).collect()
}

/// One helper container per target copied from the engine (none for a hook's target), each
/// mounting the target's volume; all removed again when one cannot be created.
fn create_helpers(workspace: &Workspace, targets: &[VolumeTarget]) -> Result<Vec<Option<String>>> {
    let containers = workspace
        .engine
        .project_containers(workspace.model.name())?;
    let mut helpers: Vec<Option<String>> = Vec::new();
    for target in targets {
        if target.method == BackupMethod::Hook {
            helpers.push(None);
            continue;
        }
        let created = workspace
            .helper_image(target, &containers)
            .and_then(|image| {
                workspace
                    .engine
                    .create_helper(workspace.model.name(), &image, &target.name)
            });
        match created {
            Ok(id) => helpers.push(Some(id)),
            Err(error) => {
                remove_helpers(workspace, &helpers);
                return Err(error);
            }
        }
    }
    Ok(helpers)
}

/// The helper containers of one backup, removed when dropped.
struct Helpers<'a> {
    workspace: &'a Workspace,
    /// One per target, in order: `None` for a hook's target.
    ids: Vec<Option<String>>,
}

impl Drop for Helpers<'_> {
    fn drop(&mut self) {
        remove_helpers(self.workspace, &self.ids);
    }
}

fn remove_helpers(workspace: &Workspace, helpers: &[Option<String>]) {
    for id in helpers.iter().flatten() {
        let _ = workspace.engine.remove_container(id);
    }
}

/// What every volume's copy shares.
struct Copy<'a> {
    workspace: &'a Workspace,
    /// The backup's directory.
    directory: &'a Path,
    /// The artifact's file name of each target, in order.
    files: Vec<String>,
    /// zstd's compression level and worker threads per volume.
    level: i32,
    workers: u32,
    /// The services stopped for the copy.
    stopped: &'a [String],
}

impl Copy<'_> {
    /// Copies target number `index` (through its helper container, or its hook) into its
    /// artifact file.
    fn one(
        &self,
        index: usize,
        target: &VolumeTarget,
        helper: Option<&str>,
        bar: &ProgressBar,
    ) -> Result<Artifact> {
        let progress = |bytes: u64| bar.inc(bytes);
        let destination = self.directory.join(&self.files[index]);
        let store = |source: &mut dyn std::io::Read, kind| {
            archive::store(
                source,
                &destination,
                kind,
                self.level,
                self.workers,
                &progress,
            )
        };
        let (kind, stats) = match (&target.hook, helper) {
            (Some(hook), _) => {
                let mut arguments =
                    vec!["exec".to_string(), "-T".to_string(), hook.service.clone()];
                arguments.extend(hook.command.iter().cloned());
                let command = self.workspace.project.command(
                    &self.workspace.model,
                    ServiceScope::Profile,
                    &arguments,
                );
                let failure = || format!("the backup hook of volume {} failed", target.key);
                let mut output = command.output_reader()?;
                let stats = store(&mut output, ArtifactKind::Stream).with_context(failure)?;
                output.finish().with_context(failure)?;
                (ArtifactKind::Stream, stats)
            }
            (None, Some(helper)) => {
                // Straight from the engine's archive endpoint: no `docker cp` in between.
                let stats = self
                    .workspace
                    .engine
                    .copy_out(helper, &format!("/{ROOT}"), |source| {
                        store(source, ArtifactKind::Tar)
                    })
                    .with_context(|| format!("cannot copy volume {}", target.name))?;
                (ArtifactKind::Tar, stats)
            }
            (None, None) => unreachable!("every non-hook target has a helper container"),
        };
        self.artifact(target, &self.files[index], kind, stats)
    }

    /// The manifest's record of `target`, copied into `file`: the volume's driver, options and
    /// labels as the engine has them (as declared when it has none).
    fn artifact(
        &self,
        target: &VolumeTarget,
        file: &str,
        kind: ArtifactKind,
        stats: archive::ArchiveStats,
    ) -> Result<Artifact> {
        let volume = self.workspace.engine.volume(&target.name)?;
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
                self.stopped
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
    workspace: &Workspace,
    targets: &[VolumeTarget],
    sizes: &BTreeMap<String, u64>,
) -> Result<()> {
    let needed: u64 = targets
        .iter()
        .filter_map(|target| sizes.get(&target.name))
        .sum();
    let directory = workspace.store.directory();
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
        .hint(format!(
            "free some space (`{}` removes old backups), or set DEVCTL_BACKUP_DIR / paths.backup_dir to a disk with room",
            workspace.project.stack().devctl("backup prune --keep N")
        ))
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
