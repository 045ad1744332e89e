//! Restore drills: a backup restored into a throwaway sibling of the live project, its
//! services waited on until healthy, the profile's drill checks run in it, the outcome
//! recorded beside the backup, and every container, network and volume of the sibling removed
//! again — also when the drill fails or is interrupted (a killed drill's sibling is removed by
//! the next run, `drill_leftovers`). The live stack's containers and volumes are never
//! touched.
//!
//! Steps: verify → refuse hooks the profile does not declare → build the sibling's model
//! (`drill_sibling`) and check its images are here → marker → create the sibling's volumes
//! and stream the raw archives in → start its services → wait for health → feed hook dumps to
//! their restore commands → run the checks → record → remove the sibling.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result};
use serde_json::Value;

use crate::backup::archive::{self, ArtifactKind};
use crate::backup::drill_leftovers::{self, DRILL_LABEL, Marker};
use crate::backup::drill_record::{CheckOutcome, DrillRecord, DrillResult};
use crate::backup::drill_sibling::{self, Sibling};
use crate::backup::manifest::Artifact;
use crate::backup::restore::foreign_hooks;
use crate::backup::store::StoredBackup;
use crate::backup::workspace::Workspace;
use crate::engine::health_wait::{self, WaitOutcome};
use crate::project::profile_file::DrillCheck;
use crate::report::exit_status::ExitStatus;
use crate::report::failure::Failure;
use crate::report::printer::Printer;
use crate::report::text::{escaped, shell_quote};

/// How much of a check's output the record keeps.
const OUTPUT_KEPT: usize = 2000;

/// Set to a step's name (`created`, `restoring`), a drill stops there until it is killed:
/// for the tests that kill a drill at a step no slow command holds open.
const PAUSE_VARIABLE: &str = "DEVCTL_TEST_PAUSE_AT";

/// Drills `backup` (call it holding the project's lock); returns the record it wrote. A drill
/// that fails is an `Ok` record with `DrillResult::Failed`; an interrupted one is an error.
pub fn drill(
    workspace: &Workspace,
    printer: &Printer,
    backup: &StoredBackup,
    wait_timeout: Duration,
) -> Result<DrillRecord> {
    crate::system::signals::install();
    let started = Instant::now();
    let stack = workspace.project.stack();
    backup.verify(&stack)?;
    let targets = workspace.targets(&[], true)?;
    let foreign = foreign_hooks(&backup.manifest.artifacts, &targets);
    if !foreign.is_empty() {
        let lines: Vec<String> = foreign
            .iter()
            .flat_map(|hook| hook.differences.iter().cloned())
            .collect();
        return Err(Failure::new(
            ExitStatus::Refused,
            format!(
                "refusing to drill backup {}: its restore commands are not the profile's ({})",
                backup.manifest.id,
                lines.join("; ")
            ),
        )
        .hint("a drill runs only the restore commands the profile declares: drill it with the profile it was made with (--profile)")
        .into());
    }
    let artifacts = drilled_artifacts(workspace, backup, printer)?;
    let keys: Vec<String> = artifacts.iter().map(|a| a.key.clone()).collect();
    let hook_services: Vec<String> = artifacts
        .iter()
        .filter_map(|artifact| artifact.hook.as_ref().map(|hook| hook.service.clone()))
        .collect();
    let live = workspace.model.name();
    let name = drill_leftovers::sibling_name(live, std::process::id());
    let sibling =
        drill_sibling::sibling(workspace.model.value(), live, &name, &keys, &hook_services)?;
    check_images(workspace, &sibling)?;

    let marker = Marker {
        pid: std::process::id(),
        sibling: name.clone(),
        backup: backup.manifest.id.clone(),
    };
    marker.save(&workspace.state)?;
    let run = Run {
        workspace,
        printer,
        backup,
        sibling: &sibling,
        file: drill_leftovers::drills_directory(&workspace.state)
            .join(&name)
            .join("compose.json"),
    };
    let outcome = run.steps(&artifacts, wait_timeout);
    let removed = drill_leftovers::remove_sibling(&workspace.engine, &workspace.state, live, &name);
    match &removed {
        Ok(()) => printer.info(format!(
            "drill: removed the sibling project {name} (containers, networks, volumes)"
        )),
        Err(error) => printer.warn(format!(
            "cannot remove the drill's sibling project {name}: {}; the next devctl run tries again",
            escaped(&format!("{error:#}"))
        )),
    }
    let (checks, failure) = outcome?;
    let record = DrillRecord {
        backup: backup.manifest.id.clone(),
        result: match failure {
            None => DrillResult::Ok,
            Some(_) => DrillResult::Failed,
        },
        when: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        devctl_version: env!("CARGO_PKG_VERSION").to_string(),
        engine: format!(
            "{} at {}",
            workspace
                .engine
                .server_version()
                .unwrap_or_else(|| "unknown version".into()),
            workspace.engine.host()
        ),
        duration_seconds: (started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
        services: sibling.services.clone(),
        checks,
        failure,
    };
    if let Err(error) = record.write(&backup.directory) {
        printer.warn(format!(
            "cannot record the drill's outcome beside the backup: {}",
            escaped(&format!("{error:#}"))
        ));
    }
    Ok(record)
}

/// The error a failed drill ends the run with.
pub fn failed(record: &DrillRecord, stack: crate::report::command_line::Stack) -> Failure {
    Failure::new(
        ExitStatus::DrillFailed,
        format!(
            "the drill of backup {} failed: {}",
            record.backup,
            escaped(record.failure.as_deref().unwrap_or("unknown"))
        ),
    )
    .hint(format!(
        "this backup does not restore into a working stack; `{}` shows the last drill of each backup",
        stack.devctl("backup list")
    ))
}

/// The backup's artifacts the drill restores: every one of a named volume of this project's
/// model (anonymous ones cannot be placed, and are said to be left out).
fn drilled_artifacts<'a>(
    workspace: &Workspace,
    backup: &'a StoredBackup,
    printer: &Printer,
) -> Result<Vec<&'a Artifact>> {
    let mut drilled = Vec::new();
    for artifact in &backup.manifest.artifacts {
        if artifact.anonymous {
            printer.warn(format!(
                "drill: anonymous volume {} is left out (compose gives each container its own)",
                artifact.key
            ));
            continue;
        }
        let declared = workspace
            .model
            .value()
            .get("volumes")
            .and_then(|volumes| volumes.get(&artifact.key))
            .is_some();
        if !declared {
            return Err(Failure::bad_input(format!(
                "volume `{}` of backup {} is not a volume of this project",
                artifact.key, backup.manifest.id
            ))
            .hint("drill it with the profile it was made with (--profile)")
            .into());
        }
        drilled.push(artifact);
    }
    if drilled.is_empty() {
        return Err(Failure::bad_input(format!(
            "backup {} holds no named volume to drill",
            backup.manifest.id
        ))
        .into());
    }
    Ok(drilled)
}

/// Every image the sibling runs must be on the engine: it is never built or pulled.
fn check_images(workspace: &Workspace, sibling: &Sibling) -> Result<()> {
    let missing: Vec<String> = sibling
        .images
        .iter()
        .filter(|(_, image)| !workspace.engine.has_image(image))
        .map(|(service, image)| format!("{} ({service})", escaped(image)))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Failure::bad_input(format!(
        "the drill runs the live stack's images, and the engine lacks {}",
        missing.join(", ")
    ))
    .hint(format!(
        "`{}` builds or pulls them; then drill again",
        workspace.project.stack().devctl("up")
    ))
    .into())
}

/// One drill under way.
struct Run<'a> {
    workspace: &'a Workspace,
    printer: &'a Printer,
    backup: &'a StoredBackup,
    sibling: &'a Sibling,
    /// The sibling's generated compose file.
    file: std::path::PathBuf,
}

/// The checks that ran, and why the drill failed (none when it passed).
type Steps = (Vec<CheckOutcome>, Option<String>);

impl Run<'_> {
    /// The steps; a failure of the backup to come up is `Ok` with its reason, an interruption
    /// or an error of devctl's own an `Err`.
    fn steps(&self, artifacts: &[&Artifact], wait_timeout: Duration) -> Result<Steps> {
        let text = serde_json::to_vec_pretty(&self.sibling.model)
            .context("cannot encode the drill's compose file")?;
        crate::system::files::write_atomic(&self.file, &text)?;
        for name in self.sibling.volumes.values() {
            self.create_volume(name)?;
        }
        self.printer.info(format!(
            "drill: sibling project {} created for backup {} (services {})",
            self.sibling.project,
            self.backup.manifest.id,
            self.sibling.services.join(", ")
        ));
        pause_at("created");
        for artifact in artifacts.iter().filter(|a| a.kind == ArtifactKind::Tar) {
            if let Err(error) = self.unpack(artifact) {
                return self.failure(error, "restoring the volumes", Vec::new());
            }
        }
        let started = Instant::now();
        self.printer.info(format!(
            "drill: starting {}",
            self.sibling.services.join(", ")
        ));
        let mut arguments = vec!["up".to_string(), "--detach".to_string()];
        arguments.extend(self.sibling.services.iter().cloned());
        let command = self.compose(&arguments);
        self.printer.detail(format!("running: {}", command.line()));
        let status = command.run_aside()?;
        interrupted()?;
        if !status.is_success() {
            return Ok((
                Vec::new(),
                Some(format!(
                    "compose could not start the sibling's services (exit {})",
                    status.code()
                )),
            ));
        }
        self.printer.info(format!(
            "drill: waiting for {} to be healthy (up to {})",
            self.sibling.services.join(", "),
            humantime::format_duration(wait_timeout)
        ));
        match health_wait::wait(
            &self.workspace.engine,
            &self.sibling.project,
            &self.sibling.services,
            wait_timeout,
            started,
        )? {
            WaitOutcome::Ready(_) => {}
            WaitOutcome::Interrupted(signal) => return Err(interruption(signal)),
            WaitOutcome::Failed { containers, .. } => {
                let failing: Vec<String> = containers
                    .iter()
                    .filter(|container| !container.verdict.is_ready())
                    .map(|container| {
                        crate::engine::health_report::describe(container)
                            .split_whitespace()
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .collect();
                return Ok((
                    Vec::new(),
                    Some(format!(
                        "not healthy within {}: {}",
                        humantime::format_duration(wait_timeout),
                        failing.join("; ")
                    )),
                ));
            }
        }
        for artifact in artifacts.iter().filter(|a| a.kind == ArtifactKind::Stream) {
            if let Err(error) = self.run_hook(artifact) {
                return self.failure(error, "restoring the dump", Vec::new());
            }
        }
        self.checks(wait_timeout)
    }

    /// A step's error as the drill's failure, unless it is an interruption.
    fn failure(
        &self,
        error: anyhow::Error,
        doing: &str,
        checks: Vec<CheckOutcome>,
    ) -> Result<Steps> {
        interrupted()?;
        if crate::report::failure::find(&error)
            .is_some_and(|failure| matches!(failure.status, ExitStatus::Interrupted(_)))
        {
            return Err(error);
        }
        Ok((checks, Some(format!("{doing}: {error:#}"))))
    }

    /// A compose command for the sibling.
    fn compose(&self, arguments: &[String]) -> crate::compose::program::ComposeCommand {
        self.workspace
            .project
            .generated_command(&self.file, &self.sibling.project, arguments)
    }

    /// Creates the sibling's volume `name` labelled as compose labels its own.
    fn create_volume(&self, name: &str) -> Result<()> {
        let key = self
            .sibling
            .volumes
            .iter()
            .find(|(_, volume)| *volume == name)
            .map(|(key, _)| key.clone())
            .unwrap_or_default();
        let labels = BTreeMap::from([
            (
                "com.docker.compose.project".to_string(),
                self.sibling.project.clone(),
            ),
            ("com.docker.compose.volume".to_string(), key),
            (
                "com.docker.compose.version".to_string(),
                self.workspace.project.compose.version.clone(),
            ),
            (
                DRILL_LABEL.to_string(),
                self.workspace.model.name().to_string(),
            ),
        ]);
        self.workspace
            .engine
            .create_volume(name, "local", &BTreeMap::new(), &labels)
    }

    /// Streams a raw archive into the sibling's volume, through a helper container.
    fn unpack(&self, artifact: &Artifact) -> Result<()> {
        let volume = self
            .sibling
            .volumes
            .get(&artifact.key)
            .with_context(|| format!("volume {} has no sibling volume", artifact.key))?;
        self.printer.info(format!(
            "drill: restoring volume {} into {volume}",
            artifact.key
        ));
        let image = self.image_for(&artifact.key)?;
        let helper = self
            .workspace
            .engine
            .create_helper(&self.sibling.project, &image, volume)?;
        let path = self.backup.directory.join(&artifact.file);
        let paused = std::cell::Cell::new(false);
        let copied = self.workspace.docker.copy_in(&helper, "/", &mut |sink| {
            archive::unpack_into(&path, sink, &|_| {
                if !paused.replace(true) {
                    pause_at("restoring");
                }
            })
        });
        self.workspace.engine.remove_container(&helper)?;
        copied.with_context(|| format!("cannot restore volume {} into {volume}", artifact.key))?;
        interrupted()
    }

    /// An image of a sibling service that mounts volume `key`, for its helper container.
    fn image_for(&self, key: &str) -> Result<String> {
        let services = self
            .sibling
            .model
            .get("services")
            .and_then(Value::as_object);
        for (service, definition) in services.into_iter().flatten() {
            let mounts = definition
                .get("volumes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|mount| mount.get("source").and_then(Value::as_str) == Some(key));
            if let (true, Some(image)) = (mounts, self.sibling.images.get(service)) {
                return Ok(image.clone());
            }
        }
        self.workspace
            .engine
            .any_image()?
            .context("the engine has no image to create a helper container from")
    }

    /// Feeds a hook's dump to its restore command in the sibling's (healthy) service.
    fn run_hook(&self, artifact: &Artifact) -> Result<()> {
        let hook = artifact
            .hook
            .as_ref()
            .context("a stream artifact without its hook")?;
        self.printer.info(format!(
            "drill: restoring the dump of volume {} through `{}` in {}",
            artifact.key,
            crate::backup::restore::command_line(&hook.restore),
            hook.service
        ));
        let mut arguments = vec!["exec".to_string(), "-T".to_string(), hook.service.clone()];
        arguments.extend(hook.restore.iter().cloned());
        let path = self.backup.directory.join(&artifact.file);
        self.compose(&arguments)
            .run_fed(&mut |sink| archive::unpack_into(&path, sink, &|_| {}))
            .with_context(|| format!("the restore hook of volume {} failed", artifact.key))?;
        interrupted()
    }

    /// Runs the profile's checks, each to its end; the drill fails if one does not pass.
    fn checks(&self, limit: Duration) -> Result<Steps> {
        let checks = &self.workspace.project.profile.backup.drill_checks;
        if checks.is_empty() {
            self.printer
                .info("drill: services healthy; the profile sets no backup.drill.checks");
            return Ok((Vec::new(), None));
        }
        let mut outcomes = Vec::new();
        for check in checks {
            self.printer.info(format!(
                "drill: running check in {}: {}",
                escaped(&check.service),
                escaped(&check.command)
            ));
            let outcome = self.check(check, limit)?;
            let first = outcome
                .output
                .lines()
                .next()
                .unwrap_or_default()
                .to_string();
            let mark = if outcome.passed { "✔" } else { "✘" };
            self.printer.info(format!(
                "  {mark} exit {}{}",
                outcome
                    .exit_code
                    .map_or_else(|| "-".to_string(), |code| code.to_string()),
                if first.is_empty() {
                    String::new()
                } else {
                    format!(": {}", escaped(&first))
                }
            ));
            outcomes.push(outcome);
        }
        let failed: Vec<String> = outcomes
            .iter()
            .filter(|outcome| !outcome.passed)
            .map(describe_failed_check)
            .collect();
        let failure = (!failed.is_empty()).then(|| failed.join("; "));
        Ok((outcomes, failure))
    }

    /// Runs one check: `sh -c COMMAND` in its service of the sibling.
    fn check(&self, check: &DrillCheck, limit: Duration) -> Result<CheckOutcome> {
        let mut outcome = CheckOutcome {
            service: check.service.clone(),
            command: check.command.clone(),
            expect: check.expect.clone(),
            exit_code: None,
            output: String::new(),
            passed: false,
        };
        if !self.sibling.services.contains(&check.service) {
            outcome.output = format!(
                "service {} does not run in the drill: it mounts none of the backup's volumes and no such service depends on it",
                check.service
            );
            return Ok(outcome);
        }
        let arguments = [
            "exec",
            "-T",
            check.service.as_str(),
            "sh",
            "-c",
            check.command.as_str(),
        ]
        .map(String::from);
        // A signal that came before the command starts is not forwarded to it: stop here.
        interrupted()?;
        let output = match self.compose(&arguments).capture_for(limit) {
            Ok(output) => output,
            Err(error) => {
                interrupted()?;
                outcome.output = format!("{error:#}");
                return Ok(outcome);
            }
        };
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr);
        outcome.exit_code = output.status.code();
        outcome.passed = output.status.success()
            && check
                .expect
                .as_ref()
                .is_none_or(|expect| stdout.contains(expect.as_str()));
        let mut text = stdout.trim().to_string();
        if !stderr.trim().is_empty() {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(stderr.trim());
        }
        outcome.output = text.chars().take(OUTPUT_KEPT).collect();
        Ok(outcome)
    }
}

/// Why a check did not pass, in a line.
fn describe_failed_check(outcome: &CheckOutcome) -> String {
    let head = format!(
        "check `{}` in {}",
        shell_quote(&outcome.command),
        outcome.service
    );
    match (outcome.exit_code, &outcome.expect) {
        (Some(0), Some(expect)) => format!(
            "{head} printed no `{expect}` (it printed `{}`)",
            outcome.output.lines().next().unwrap_or_default()
        ),
        (Some(code), _) => format!("{head} exited {code}"),
        (None, _) => format!(
            "{head} could not run: {}",
            outcome.output.lines().next().unwrap_or_default()
        ),
    }
}

/// An interruption, as the error that ends the run.
fn interruption(signal: i32) -> anyhow::Error {
    Failure::new(
        ExitStatus::Interrupted(signal),
        "the drill was interrupted; its sibling project was removed",
    )
    .into()
}

/// Fails when a termination signal arrived.
fn interrupted() -> Result<()> {
    match crate::system::signals::received() {
        Some(signal) => Err(interruption(signal)),
        None => Ok(()),
    }
}

/// Stops here, for good, when `DEVCTL_TEST_PAUSE_AT` names `step` (only tests set it).
fn pause_at(step: &str) {
    if std::env::var(PAUSE_VARIABLE).is_ok_and(|value| value == step) {
        crate::report::printer::human(&format!("drill: paused at {step} ({PAUSE_VARIABLE})"));
        while crate::system::signals::received().is_none() {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
