//! Restoring a backup: verify → confirm → safety backup → stop → replace each volume and
//! stream its archive in (ownership kept) → start what was running and wait for health →
//! summary with the command that undoes it. A journal records each step, so an interrupted
//! restore is found by the next run.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bollard::models::ContainerInspectResponse;

use crate::backup::archive::{self, ArtifactKind};
use crate::backup::journal::{Journal, Operation};
use crate::backup::last_restore::LastRestore;
use crate::backup::manifest::{Artifact, BackupKind, Hook};
use crate::backup::store::StoredBackup;
use crate::backup::take;
use crate::backup::target::VolumeTarget;
use crate::backup::workspace::Workspace;
use crate::engine::health_wait::{self, WaitOutcome};
use crate::project::ServiceScope;
use crate::project::profile_file::BackupMethod;
use crate::report::exit_status::ExitStatus;
use crate::report::failure::Failure;
use crate::report::printer::Printer;
use crate::report::text::{escaped, shell_quote};
use crate::report::units::human_bytes;

/// What the person asked for.
pub struct RestoreRequest<'a> {
    pub backup: &'a StoredBackup,
    /// Every volume of the project the backup's artifacts map to.
    pub targets: &'a [VolumeTarget],
    /// Only these volumes (keys or names); all when empty.
    pub volumes: &'a [String],
    pub safety_backup: bool,
    /// When the restored services do not become healthy, or a hook restore fails, put the
    /// safety backup back (when one was taken).
    pub rollback: bool,
    /// Record it as the last restore, which `restore --undo` undoes (a rollback is not).
    pub record: bool,
    pub wait_timeout: Duration,
    /// Services an interrupted run stopped: started at the end too.
    pub also_start: Vec<String>,
}

/// An artifact and the volume of this project it goes into.
struct Placement<'a> {
    artifact: &'a Artifact,
    target: &'a VolumeTarget,
}

impl Placement<'_> {
    /// Whether the artifact is a hook's dump, restored through the hook.
    fn is_stream(&self) -> bool {
        self.artifact.kind == ArtifactKind::Stream
    }
}

/// Runs the restore (after verification and confirmation, under the project's lock).
/// `safety_backup` receives the safety backup's id as soon as it is taken, so that the caller
/// can log it whether or not the rest succeeds.
pub fn restore(
    workspace: &Workspace,
    printer: &Printer,
    request: &RestoreRequest,
    safety_backup: &mut Option<String>,
) -> Result<()> {
    crate::system::signals::install();
    let placements = place(request)?;
    let mut journal = Journal::new(
        Operation::Restore,
        &request.backup.manifest.id,
        workspace.engine.endpoint(),
    );
    journal.save(&workspace.state)?;
    let run = Run {
        workspace,
        printer,
        request,
        placements: &placements,
    };
    let result = run.steps(&mut journal);
    safety_backup.clone_from(&journal.safety_backup);
    if let Err(error) = &result
        && request.rollback
        && !journal.replaced_volumes.is_empty()
        && !is_interrupted(error)
        && let Some(safety) = &journal.safety_backup
    {
        return Err(roll_back(
            workspace, printer, request, &journal, safety, error,
        ));
    }
    if result.is_err() && journal.replaced_volumes.is_empty() {
        // Nothing was replaced: no state is left for a later run to finish or undo.
        let restarted = workspace.compose(&["up", "--detach"], &journal.stopped_services, printer);
        if restarted.is_ok() {
            Journal::clear(&workspace.state)?;
        }
    }
    result
}

/// Puts the safety backup `safety` back after the restore of `request` failed with `error`
/// once it had begun replacing volumes; waits for health again. Returns the failure to end
/// with: rolled back (78), or — the rollback failing too — both errors, with what to do.
fn roll_back(
    workspace: &Workspace,
    printer: &Printer,
    request: &RestoreRequest,
    journal: &Journal,
    safety: &str,
    error: &anyhow::Error,
) -> anyhow::Error {
    let project = workspace.model.name();
    let stack = workspace.project.stack();
    let id = &request.backup.manifest.id;
    printer.warn(format!(
        "the restore of backup {id} failed: {}; putting back safety backup {safety}, which holds what the volumes had",
        escaped(&format!("{error:#}"))
    ));
    let rolled_back = workspace.store.get(safety).and_then(|backup| {
        backup.verify(&stack)?;
        let again = RestoreRequest {
            backup: &backup,
            targets: request.targets,
            volumes: &[],
            safety_backup: false,
            rollback: false,
            record: false,
            wait_timeout: request.wait_timeout,
            also_start: journal.stopped_services.clone(),
        };
        restore(workspace, printer, &again, &mut None)
    });
    match rolled_back {
        Ok(()) => Failure::new(
            ExitStatus::RolledBack,
            format!(
                "restore rolled back: {}; the volumes hold what they held before (safety backup {safety})",
                escaped(&format!("{error:#}"))
            ),
        )
        .hint(format!(
            "to keep the restored state and look at it, run `{}`",
            stack.devctl(&format!(
                "restore {} --no-rollback --confirm {}",
                shell_quote(id),
                shell_quote(project)
            ))
        ))
        .into(),
        Err(rollback_error) => Failure::new(
            ExitStatus::StepFailed,
            format!(
                "the restore of backup {id} failed ({}), and putting safety backup {safety} back failed too: {}",
                escaped(&format!("{error:#}")),
                escaped(&format!("{rollback_error:#}"))
            ),
        )
        .hint(format!(
            "try again with `{}`; the safety backup {safety} is kept",
            stack.devctl(&format!("restore --undo --confirm {}", shell_quote(project)))
        ))
        .into(),
    }
}

/// One restore under way.
struct Run<'a> {
    workspace: &'a Workspace,
    printer: &'a Printer,
    request: &'a RestoreRequest<'a>,
    placements: &'a [Placement<'a>],
}

impl Run<'_> {
    /// The restore's steps in order, each recorded in `journal` before it starts.
    fn steps(&self, journal: &mut Journal) -> Result<()> {
        let started = Instant::now();
        if self.request.safety_backup {
            self.safety_backup(journal)?;
        }
        if self.request.record {
            // What `restore --undo` puts back; a rollback (which takes no safety backup)
            // leaves the record of the restore it undid.
            LastRestore {
                backup: self.request.backup.manifest.id.clone(),
                safety_backup: journal.safety_backup.clone(),
                at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            }
            .save(&self.workspace.state)?;
        }
        let tar_placements: Vec<&Placement> = self
            .placements
            .iter()
            .filter(|placement| placement.artifact.kind == ArtifactKind::Tar)
            .collect();
        // Listed before the containers are removed: their images serve as helper images.
        let containers = self
            .workspace
            .engine
            .project_containers(self.workspace.model.name())?;
        let users = self.stop_users(&tar_placements, journal)?;
        for placement in &tar_placements {
            journal.replaced_volumes.push(placement.target.key.clone());
            journal.save(&self.workspace.state)?;
            self.unpack(placement, &containers)?;
        }
        if !self.placements.iter().any(Placement::is_stream) {
            // Every volume holds the backup now: what follows only starts services.
            Journal::clear(&self.workspace.state)?;
        }
        let to_start = self.services_to_start(users);
        if !to_start.is_empty() {
            self.workspace
                .compose(&["up", "--detach"], &to_start, self.printer)?;
            wait_healthy(
                self.workspace,
                &to_start,
                self.request.wait_timeout,
                started,
            )?;
        }
        for placement in self.placements.iter().filter(|p| p.is_stream()) {
            let hook = placement
                .artifact
                .hook
                .as_ref()
                .context("a stream artifact without its hook")?;
            journal.replaced_volumes.push(placement.target.key.clone());
            journal.save(&self.workspace.state)?;
            self.run_hook(placement, hook)?;
        }
        Journal::clear(&self.workspace.state)?;
        self.report(started, journal.safety_backup.as_deref());
        Ok(())
    }

    /// Backs up what the target volumes hold now (those that exist), and records its id.
    fn safety_backup(&self, journal: &mut Journal) -> Result<()> {
        let project = self.workspace.model.name();
        let existing: Vec<VolumeTarget> = self
            .placements
            .iter()
            .filter(|placement| {
                self.workspace
                    .engine
                    .volume(&placement.target.name)
                    .ok()
                    .flatten()
                    .is_some()
            })
            .map(|placement| placement.target.clone())
            .collect();
        if existing.is_empty() {
            self.printer
                .info("no safety backup: none of the target volumes exists yet");
            return Ok(());
        }
        let take = |targets: &[VolumeTarget]| {
            take::take_automatic(
                self.workspace,
                self.printer,
                targets,
                BackupKind::Safety,
                Some("safety"),
                &[&self.request.backup.manifest.id],
            )
        };
        let safety = match take(&existing) {
            Ok(safety) => safety,
            Err(error) if is_interrupted(&error) || existing.iter().all(|t| t.hook.is_none()) => {
                return Err(error.context("the safety backup failed; nothing was restored"));
            }
            Err(error) => {
                // A dump can fail where the files cannot (a database dropped, a service
                // down): the volume's files are what is about to be replaced, so they do.
                let hooked: Vec<&str> = existing
                    .iter()
                    .filter(|target| target.hook.is_some())
                    .map(|target| target.key.as_str())
                    .collect();
                self.printer.warn(format!(
                    "the safety dump of {} failed ({}); taking a safety copy of the volume instead (its files, with its services stopped)",
                    hooked.join(", "),
                    escaped(&format!("{error:#}"))
                ));
                take(&raw_copies(&existing))
                    .context("the safety backup failed; nothing was restored")?
            }
        };
        self.printer.info(format!(
            "safety backup {} holds what the volumes had; `{}` puts it back",
            safety.manifest.id,
            self.workspace.project.stack().devctl(&format!(
                "restore {} --confirm {}",
                shell_quote(&safety.manifest.id),
                shell_quote(project)
            ))
        ));
        journal.safety_backup = Some(safety.manifest.id.clone());
        journal.save(&self.workspace.state)
    }

    /// Removes the containers of every service that mounts a volume to replace (a volume can
    /// only be replaced once no container uses it, running or not); returns those of them that
    /// were running, recorded in `journal` first.
    fn stop_users(
        &self,
        tar_placements: &[&Placement],
        journal: &mut Journal,
    ) -> Result<Vec<String>> {
        let running_before = self.workspace.running_services()?;
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
        if !tar_placements.is_empty() {
            journal.stopped_services = users.clone();
            journal.save(&self.workspace.state)?;
            self.workspace
                .compose(&["rm", "--stop", "--force"], &all_users, self.printer)?;
        }
        Ok(users)
    }

    /// Replaces the placement's volume with an empty one and streams its archive in, through a
    /// helper container made from an image of `containers` (the project's).
    fn unpack(&self, placement: &Placement, containers: &[ContainerInspectResponse]) -> Result<()> {
        let target = placement.target;
        let image = self.workspace.helper_image(target, containers)?;
        replace_volume(self.workspace, placement)?;
        let helper = self.workspace.engine.create_helper(
            self.workspace.model.name(),
            &image,
            &target.name,
        )?;
        let progress = self.printer.progress();
        let bar = progress.add(indicatif::ProgressBar::new(
            placement.artifact.stats.raw_bytes,
        ));
        let path = self.request.backup.directory.join(&placement.artifact.file);
        // Entries are `devctl-volume/…`: extracted at `/`, they land in the mounted volume.
        let copied = self.workspace.docker.copy_in(&helper, "/", &mut |sink| {
            archive::unpack_into(&path, sink, &|bytes| bar.inc(bytes))
        });
        bar.finish_and_clear();
        self.workspace.engine.remove_container(&helper)?;
        copied.with_context(|| format!("cannot restore volume {}", target.name))?;
        if let Some(signal) = crate::system::signals::received() {
            return Err(Failure::new(
                ExitStatus::Interrupted(signal),
                "interrupted during the restore",
            )
            .into());
        }
        Ok(())
    }

    /// Services that were running come back, with those an interrupted run stopped; hook
    /// services must run for their restore.
    fn services_to_start(&self, users: Vec<String>) -> Vec<String> {
        let mut to_start = users;
        for service in &self.request.also_start {
            if !to_start.contains(service) && self.workspace.model.service(service).is_some() {
                to_start.push(service.clone());
            }
        }
        for placement in self.placements {
            if let (ArtifactKind::Stream, Some(hook)) =
                (placement.artifact.kind, &placement.artifact.hook)
                && !to_start.contains(&hook.service)
            {
                to_start.push(hook.service.clone());
            }
        }
        to_start
    }

    /// Feeds a hook's dump to its restore command in its (running) service.
    fn run_hook(&self, placement: &Placement, hook: &Hook) -> Result<()> {
        let mut arguments = vec!["exec".to_string(), "-T".to_string(), hook.service.clone()];
        arguments.extend(hook.restore.iter().cloned());
        let command = self.workspace.project.command(
            &self.workspace.model,
            ServiceScope::Profile,
            &arguments,
        );
        let path = self.request.backup.directory.join(&placement.artifact.file);
        command
            .run_fed(&mut |sink| archive::unpack_into(&path, sink, &|_| {}))
            .with_context(|| {
                format!("the restore hook of volume {} failed", placement.target.key)
            })?;
        Ok(())
    }

    /// What was restored, how long it took, and how to undo it.
    fn report(&self, started: Instant, safety_backup: Option<&str>) {
        let project = self.workspace.model.name();
        let bytes: u64 = self
            .placements
            .iter()
            .map(|p| p.artifact.stats.raw_bytes)
            .sum();
        self.printer.info(format!(
            "restored backup {} into {project}: {} ({}) in {:.1}s",
            self.request.backup.manifest.id,
            self.placements
                .iter()
                .map(|p| p.target.key.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            human_bytes(bytes),
            started.elapsed().as_secs_f64()
        ));
        if let Some(safety) = safety_backup {
            self.printer.info(format!(
                "undo it with: {}",
                self.workspace.project.stack().devctl(&format!(
                    "restore {} --confirm {}",
                    shell_quote(safety),
                    shell_quote(project)
                ))
            ));
        }
    }
}

/// `targets` copied as files: a hook target becomes a copy with its services stopped.
fn raw_copies(targets: &[VolumeTarget]) -> Vec<VolumeTarget> {
    targets
        .iter()
        .cloned()
        .map(|mut target| {
            if target.hook.take().is_some() {
                target.method = BackupMethod::Stop;
            }
            target
        })
        .collect()
}

/// Whether `error` is a signal's interruption (which no fallback should outlast).
fn is_interrupted(error: &anyhow::Error) -> bool {
    crate::report::failure::find(error)
        .is_some_and(|failure| matches!(failure.status, ExitStatus::Interrupted(_)))
}

/// A hook recorded in a backup that is not what the current profile would run for its volume.
#[derive(Debug, PartialEq, Eq)]
pub struct ForeignHook {
    /// The volume's compose key.
    pub key: String,
    /// The hook as the backup records it.
    pub recorded: Hook,
    /// How it differs from the profile's, one line each (escaped, ready to show).
    pub differences: Vec<String>,
}

/// The hooks of `artifacts` (hook outputs) that differ from what the current profile declares
/// for their volume in `targets`: another service, another restore command, or no hook at all.
/// Only a hook the profile declares runs without being trusted (the command that makes the
/// dump is not compared: restore never runs it).
pub fn foreign_hooks<'a>(
    artifacts: impl IntoIterator<Item = &'a Artifact>,
    targets: &[VolumeTarget],
) -> Vec<ForeignHook> {
    let mut foreign = Vec::new();
    for artifact in artifacts {
        let (ArtifactKind::Stream, Some(recorded)) = (artifact.kind, &artifact.hook) else {
            continue;
        };
        let declared = targets
            .iter()
            .find(|target| target.key == artifact.key)
            .and_then(|target| target.hook.as_ref());
        let mut differences = Vec::new();
        match declared {
            None => differences.push(format!(
                "the profile declares no hook for volume {}; the backup would run `{}` in service {}",
                escaped(&artifact.key),
                command_line(&recorded.restore),
                escaped(&recorded.service)
            )),
            Some(declared) => {
                if declared.service != recorded.service {
                    differences.push(format!(
                        "service: the backup says {}, the profile {}",
                        escaped(&recorded.service),
                        escaped(&declared.service)
                    ));
                }
                if declared.restore != recorded.restore {
                    differences.push(format!(
                        "restore command: the backup says `{}`, the profile `{}`",
                        command_line(&recorded.restore),
                        command_line(&declared.restore)
                    ));
                }
            }
        }
        if !differences.is_empty() {
            foreign.push(ForeignHook {
                key: artifact.key.clone(),
                recorded: recorded.clone(),
                differences,
            });
        }
    }
    foreign
}

/// A command as one line a person can read and paste: each word shell-quoted, then escaped.
pub fn command_line(words: &[String]) -> String {
    escaped(
        &words
            .iter()
            .map(|word| shell_quote(word))
            .collect::<Vec<_>>()
            .join(" "),
    )
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
fn replace_volume(workspace: &Workspace, placement: &Placement) -> Result<()> {
    let target = placement.target;
    let existing = workspace.engine.volume(&target.name)?;
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
                        workspace.model.name().into(),
                    );
                    labels.insert("com.docker.compose.volume".into(), target.key.clone());
                    labels.insert(
                        "com.docker.compose.version".into(),
                        workspace.project.compose.version.clone(),
                    );
                }
                (target.driver.clone(), target.driver_options.clone(), labels)
            }
        };
    if existing.is_some() {
        workspace
            .engine
            .remove_volume(&target.name)
            .with_context(|| {
                format!(
                    "volume {} is still in use by a container outside this project's services",
                    target.name
                )
            })?;
    }
    workspace
        .engine
        .create_volume(&target.name, &driver, &options, &labels)
}

fn wait_healthy(
    workspace: &Workspace,
    services: &[String],
    timeout: Duration,
    started: Instant,
) -> Result<()> {
    match health_wait::wait(
        &workspace.engine,
        workspace.model.name(),
        services,
        timeout,
        started,
    )? {
        WaitOutcome::Ready(_) => Ok(()),
        WaitOutcome::Interrupted(signal) => Err(Failure::new(
            ExitStatus::Interrupted(signal),
            "interrupted while waiting for the restored services",
        )
        .into()),
        WaitOutcome::Failed { containers, .. } => {
            let failing: Vec<String> = containers
                .iter()
                .filter(|c| !c.verdict.is_ready())
                .map(|c| c.service.clone())
                .collect();
            Err(Failure::new(
                ExitStatus::Unhealthy,
                format!(
                    "the volumes were restored, but {} did not become healthy",
                    failing.join(", ")
                ),
            )
            .hint(format!(
                "read `{}`; the safety backup can undo the restore",
                workspace.project.stack().devctl("logs")
            ))
            .into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backup::archive::ArchiveStats;

    fn hook(service: &str, restore: &[&str]) -> Hook {
        Hook {
            service: service.into(),
            command: vec!["pg_dump".into()],
            restore: restore.iter().map(|word| word.to_string()).collect(),
        }
    }

    fn artifact(key: &str, hook: Option<Hook>) -> Artifact {
        Artifact {
            file: format!("{key}.dump.zst"),
            kind: if hook.is_some() {
                ArtifactKind::Stream
            } else {
                ArtifactKind::Tar
            },
            key: key.into(),
            volume: format!("shop_{key}"),
            driver: "local".into(),
            driver_options: BTreeMap::new(),
            labels: BTreeMap::new(),
            external: false,
            anonymous: false,
            method: BackupMethod::Hook,
            services_stopped: Vec::new(),
            hook,
            warning: None,
            stats: ArchiveStats::default(),
        }
    }

    fn target(key: &str, hook: Option<Hook>) -> VolumeTarget {
        VolumeTarget {
            key: key.into(),
            name: format!("shop_{key}"),
            external: false,
            anonymous: false,
            driver: "local".into(),
            driver_options: BTreeMap::new(),
            labels: BTreeMap::new(),
            services: vec!["db".into()],
            method: BackupMethod::Hook,
            hook,
        }
    }

    #[test]
    fn only_the_profile_s_own_hooks_pass() {
        let profile = hook("db", &["psql", "-d", "app"]);
        let targets = [target("pg", Some(profile.clone())), target("files", None)];
        let same = artifact("pg", Some(hook("db", &["psql", "-d", "app"])));
        // The dump command is not compared: restore never runs it.
        let mut other_dump = same.clone();
        other_dump.hook.as_mut().unwrap().command = vec!["something".into()];
        let tar = artifact("files", None);
        assert!(foreign_hooks([&same, &other_dump, &tar], &targets).is_empty());

        let cases = [
            (
                artifact("pg", Some(hook("-V", &["psql", "-d", "app"]))),
                vec!["service: the backup says -V, the profile db"],
            ),
            (
                artifact("pg", Some(hook("db", &["sh", "-c", "rm -rf /\nerror: x"]))),
                vec![
                    "restore command: the backup says `sh -c 'rm -rf /\\nerror: x'`, the profile `psql -d app`",
                ],
            ),
            (
                artifact("pg", Some(hook("web", &["sh"]))),
                vec![
                    "service: the backup says web, the profile db",
                    "restore command: the backup says `sh`, the profile `psql -d app`",
                ],
            ),
            (
                artifact("files", Some(hook("db", &["psql"]))),
                vec![
                    "the profile declares no hook for volume files; the backup would run `psql` in service db",
                ],
            ),
            (
                artifact("elsewhere", Some(hook("db", &["psql"]))),
                vec![
                    "the profile declares no hook for volume elsewhere; the backup would run `psql` in service db",
                ],
            ),
        ];
        for (artifact, differences) in cases {
            let foreign = foreign_hooks([&artifact], &targets);
            assert_eq!(foreign.len(), 1, "{artifact:?}");
            assert_eq!(foreign[0].key, artifact.key);
            assert_eq!(foreign[0].differences, differences);
            assert_eq!(Some(&foreign[0].recorded), artifact.hook.as_ref());
        }
    }
}
