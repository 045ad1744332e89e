//! Restoring a backup: verify → confirm → safety backup → stop → replace each volume and
//! stream its archive in (ownership kept) → start what was running and wait for health →
//! summary with the command that undoes it. A journal records each step, so an interrupted
//! restore is found by the next run.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::backup::archive::{self, ArtifactKind};
use crate::backup::journal::{Journal, Operation};
use crate::backup::manifest::{Artifact, BackupKind};
use crate::backup::store::StoredBackup;
use crate::backup::take::{self, VolumeSession};
use crate::backup::target::VolumeTarget;
use crate::engine::health_wait::{self, WaitOutcome};
use crate::project::ServiceScope;
use crate::report::exit_status::ExitStatus;
use crate::report::failure::Failure;
use crate::report::units::human_bytes;

/// What the person asked for.
pub struct RestoreRequest<'a> {
    pub backup: &'a StoredBackup,
    /// Every volume of the project the backup's artifacts map to.
    pub targets: &'a [VolumeTarget],
    /// Only these volumes (keys or names); all when empty.
    pub volumes: &'a [String],
    pub safety_backup: bool,
    pub wait_timeout: Duration,
    /// Services an interrupted run stopped: started at the end too.
    pub also_start: Vec<String>,
}

/// An artifact and the volume of this project it goes into.
struct Placement<'a> {
    artifact: &'a Artifact,
    target: &'a VolumeTarget,
}

/// Runs the restore (after verification and confirmation, under the project's lock).
/// `safety_backup` receives the safety backup's id as soon as it is taken, so that the caller
/// can log it whether or not the rest succeeds.
pub fn restore(
    session: &VolumeSession,
    request: &RestoreRequest,
    safety_backup: &mut Option<String>,
) -> Result<()> {
    crate::system::signals::install();
    let placements = place(request)?;
    let mut journal = Journal {
        operation: Operation::Restore,
        pid: std::process::id(),
        backup: request.backup.manifest.id.clone(),
        stopped_services: Vec::new(),
        safety_backup: None,
        replaced_volumes: Vec::new(),
    };
    journal.save(&session.state)?;
    let result = steps(session, request, &placements, &mut journal);
    safety_backup.clone_from(&journal.safety_backup);
    if result.is_err() && journal.replaced_volumes.is_empty() {
        // Nothing was replaced: no state is left for a later run to finish or undo.
        let restarted = session.compose(&["up", "--detach"], &journal.stopped_services);
        if restarted.is_ok() {
            Journal::clear(&session.state)?;
        }
    }
    result
}

fn steps(
    session: &VolumeSession,
    request: &RestoreRequest,
    placements: &[Placement],
    journal: &mut Journal,
) -> Result<()> {
    let started = Instant::now();
    let project = session.model.name().to_string();

    if request.safety_backup {
        let existing: Vec<VolumeTarget> = placements
            .iter()
            .filter(|placement| {
                session
                    .engine
                    .volume(&placement.target.name)
                    .ok()
                    .flatten()
                    .is_some()
            })
            .map(|placement| placement.target.clone())
            .collect();
        if existing.is_empty() {
            session
                .printer
                .info("no safety backup: none of the target volumes exists yet");
        } else {
            let safety = take::take(session, &existing, BackupKind::Safety, Some("safety"))
                .context("the safety backup failed; nothing was restored")?;
            session.printer.info(format!(
                "safety backup {} holds what the volumes had; `devctl restore {} --confirm {project}` puts it back",
                safety.manifest.id, safety.manifest.id
            ));
            journal.safety_backup = Some(safety.manifest.id.clone());
            journal.save(&session.state)?;
        }
    }

    let running_before = session.running_services()?;
    let tar_placements: Vec<&Placement> = placements
        .iter()
        .filter(|placement| placement.artifact.kind == ArtifactKind::Tar)
        .collect();
    let users: Vec<String> = running_before
        .iter()
        .filter(|service| {
            tar_placements
                .iter()
                .any(|placement| placement.target.services.contains(service))
        })
        .cloned()
        .collect();
    let mut all_users: Vec<String> = tar_placements
        .iter()
        .flat_map(|placement| placement.target.services.iter().cloned())
        .collect();
    all_users.sort();
    all_users.dedup();
    // Listed before the containers are removed: their images serve as helper images.
    let containers = session.engine.project_containers(session.model.name())?;
    if !tar_placements.is_empty() {
        journal.stopped_services = users.clone();
        journal.save(&session.state)?;
        // A volume can only be replaced once no container uses it, running or not.
        session.compose(&["rm", "--stop", "--force"], &all_users)?;
    }
    for placement in &tar_placements {
        let target = placement.target;
        journal.replaced_volumes.push(target.key.clone());
        journal.save(&session.state)?;
        let image = session.helper_image(target, &containers)?;
        replace_volume(session, placement)?;
        let helper = session
            .engine
            .create_helper(&project, &image, &target.name)?;
        let progress = session.printer.progress();
        let bar = progress.add(indicatif::ProgressBar::new(
            placement.artifact.stats.raw_bytes,
        ));
        let path = request.backup.directory.join(&placement.artifact.file);
        // Entries are `devctl-volume/…`: extracted at `/`, they land in the mounted volume.
        let copied = session.docker.copy_in(&helper, "/", &mut |sink| {
            archive::unpack_into(&path, sink, &|bytes| bar.inc(bytes))
        });
        bar.finish_and_clear();
        session.engine.remove_container(&helper)?;
        copied.with_context(|| format!("cannot restore volume {}", target.name))?;
        if let Some(signal) = crate::system::signals::received() {
            return Err(Failure::new(
                ExitStatus::Interrupted(signal),
                "interrupted during the restore",
            )
            .into());
        }
    }
    let has_hooks = placements
        .iter()
        .any(|p| p.artifact.kind == ArtifactKind::Stream);
    if !has_hooks {
        // Every volume holds the backup now: what follows only starts services.
        Journal::clear(&session.state)?;
    }
    // Services that were running come back; hook services must run for their restore.
    let mut to_start = users.clone();
    for service in &request.also_start {
        if !to_start.contains(service) && session.model.service(service).is_some() {
            to_start.push(service.clone());
        }
    }
    for placement in placements {
        if let (ArtifactKind::Stream, Some(hook)) =
            (placement.artifact.kind, &placement.artifact.hook)
            && !to_start.contains(&hook.service)
        {
            to_start.push(hook.service.clone());
        }
    }
    if !to_start.is_empty() {
        session.compose(&["up", "--detach"], &to_start)?;
        wait_healthy(session, &to_start, request.wait_timeout, started)?;
    }
    for placement in placements
        .iter()
        .filter(|p| p.artifact.kind == ArtifactKind::Stream)
    {
        let hook = placement
            .artifact
            .hook
            .as_ref()
            .context("a stream artifact without its hook")?;
        journal.replaced_volumes.push(placement.target.key.clone());
        journal.save(&session.state)?;
        let mut arguments = vec!["exec".to_string(), "-T".to_string(), hook.service.clone()];
        arguments.extend(hook.restore.iter().cloned());
        let command = session
            .project
            .command(session.model, ServiceScope::Profile, &arguments);
        let path = request.backup.directory.join(&placement.artifact.file);
        command
            .run_fed(&mut |sink| archive::unpack_into(&path, sink, &|_| {}))
            .with_context(|| {
                format!("the restore hook of volume {} failed", placement.target.key)
            })?;
    }
    Journal::clear(&session.state)?;
    let bytes: u64 = placements.iter().map(|p| p.artifact.stats.raw_bytes).sum();
    session.printer.info(format!(
        "restored backup {} into {project}: {} ({}) in {:.1}s",
        request.backup.manifest.id,
        placements
            .iter()
            .map(|p| p.target.key.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        human_bytes(bytes),
        started.elapsed().as_secs_f64()
    ));
    if let Some(safety) = &journal.safety_backup {
        session.printer.info(format!(
            "undo it with: devctl restore {safety} --confirm {project}"
        ));
    }
    Ok(())
}

/// Maps the backup's artifacts (those asked for) onto this project's volumes by compose key.
fn place<'a>(request: &'a RestoreRequest) -> Result<Vec<Placement<'a>>> {
    let artifacts: Vec<&Artifact> = request.backup.manifest.artifacts.iter().collect();
    let mut placements = Vec::new();
    for wanted in request.volumes {
        if !artifacts
            .iter()
            .any(|a| &a.key == wanted || &a.volume == wanted)
        {
            let keys: Vec<&str> = artifacts.iter().map(|a| a.key.as_str()).collect();
            return Err(Failure::bad_input(format!(
                "backup {} holds no volume `{wanted}`",
                request.backup.manifest.id
            ))
            .hint(format!("it holds: {}", keys.join(", ")))
            .into());
        }
    }
    for artifact in artifacts {
        let named = request
            .volumes
            .iter()
            .any(|w| w == &artifact.key || w == &artifact.volume);
        if !(request.volumes.is_empty() || named) {
            continue;
        }
        if artifact.anonymous {
            // Compose gives a recreated container a new anonymous volume: the data would not
            // reach the service.
            if named {
                return Err(Failure::bad_input(format!(
                    "volume `{}` is anonymous: compose gives a recreated container a new one, so it cannot be restored in place",
                    artifact.key
                ))
                .hint(format!(
                    "declare it as a named volume in the compose file, or unpack {} by hand",
                    artifact.file
                ))
                .into());
            }
            continue;
        }
        let target = request
            .targets
            .iter()
            .find(|target| target.key == artifact.key)
            .ok_or_else(|| {
                let keys: Vec<&str> = request.targets.iter().map(|t| t.key.as_str()).collect();
                Failure::bad_input(format!(
                    "volume `{}` of backup {} is not a volume of this project",
                    artifact.key, request.backup.manifest.id
                ))
                .hint(format!(
                    "this project's volumes: {}; restore others with --volume",
                    keys.join(", ")
                ))
            })?;
        placements.push(Placement { artifact, target });
    }
    Ok(placements)
}

/// Empties a volume by creating it anew (as declared, or as it was), so the archive lands in
/// an empty volume; creates it when it does not exist yet.
fn replace_volume(session: &VolumeSession, placement: &Placement) -> Result<()> {
    let target = placement.target;
    let existing = session.engine.volume(&target.name)?;
    let (driver, options, labels): (String, BTreeMap<String, String>, BTreeMap<String, String>) =
        match &existing {
            Some(volume) => (
                volume.driver.clone(),
                volume.options.clone().into_iter().collect(),
                volume.labels.clone().into_iter().collect(),
            ),
            None => {
                let mut labels = target.labels.clone();
                if !target.external {
                    // As compose labels the volumes it creates, so it adopts this one.
                    labels.insert(
                        "com.docker.compose.project".into(),
                        session.model.name().into(),
                    );
                    labels.insert("com.docker.compose.volume".into(), target.key.clone());
                    labels.insert(
                        "com.docker.compose.version".into(),
                        session.project.compose.version.clone(),
                    );
                }
                (target.driver.clone(), target.driver_options.clone(), labels)
            }
        };
    if existing.is_some() {
        session
            .engine
            .remove_volume(&target.name)
            .with_context(|| {
                format!(
                    "volume {} is still in use by a container outside this project's services",
                    target.name
                )
            })?;
    }
    session
        .engine
        .create_volume(&target.name, &driver, &options, &labels)
}

fn wait_healthy(
    session: &VolumeSession,
    services: &[String],
    timeout: Duration,
    started: Instant,
) -> Result<()> {
    match health_wait::wait(
        session.engine,
        session.model.name(),
        services,
        timeout,
        started,
    )? {
        WaitOutcome::Ready(_) => Ok(()),
        WaitOutcome::Interrupted(_) => Err(anyhow::anyhow!("interrupted")),
        WaitOutcome::Failed { containers, .. } => {
            let failing: Vec<String> = containers
                .iter()
                .filter(|c| !c.verdict.is_ready())
                .map(|c| c.service.clone())
                .collect();
            Err(Failure::new(
                crate::report::exit_status::ExitStatus::Unhealthy,
                format!(
                    "the volumes were restored, but {} did not become healthy",
                    failing.join(", ")
                ),
            )
            .hint("read `devctl logs`; the safety backup can undo the restore")
            .into())
        }
    }
}
