//! `Journal`: the record of a backup or restore in progress, kept in the project's state
//! directory, so that a run that was killed is detected by the next one, which says how to
//! finish or undo it.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::engine::endpoint::Endpoint;
use crate::engine::urls::without_credentials;
use crate::project::Project;
use crate::project::lock::ProjectLock;
use crate::report::command_line::Stack;
use crate::report::exit_status::ExitStatus;
use crate::report::failure::Failure;
use crate::report::printer::Printer;
use crate::report::text::shell_quote;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    Backup,
    Restore,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Journal {
    pub operation: Operation,
    pub pid: u32,
    /// The backup being written, or the one being restored.
    pub backup: String,
    /// Services devctl stopped and had not started again.
    pub stopped_services: Vec<String>,
    /// The safety backup a restore took (its id), once taken.
    pub safety_backup: Option<String>,
    /// Volumes a restore has begun to replace.
    pub replaced_volumes: Vec<String>,
    /// The engine the run worked on (its endpoint, without credentials); none in journals of
    /// older devctl versions.
    #[serde(default)]
    pub engine: Option<String>,
    /// The docker context that named it, if one did.
    #[serde(default)]
    pub context: Option<String>,
}

impl Journal {
    /// A journal of `operation` on `backup`, on the engine at `endpoint`.
    pub fn new(operation: Operation, backup: &str, endpoint: &Endpoint) -> Journal {
        Journal {
            operation,
            pid: std::process::id(),
            backup: backup.to_string(),
            stopped_services: Vec::new(),
            safety_backup: None,
            replaced_volumes: Vec::new(),
            engine: Some(without_credentials(&endpoint.host)),
            context: endpoint.context.clone(),
        }
    }

    /// Refuses to `doing` on the engine at `endpoint` when this interrupted restore was run on
    /// another one: its volumes there may be half replaced, and a restore, `--undo` or `up` here
    /// would clear its record without touching them.
    pub fn check_engine(
        &self,
        project: &str,
        stack: &Stack,
        endpoint: &Endpoint,
        doing: &str,
    ) -> Result<()> {
        let here = without_credentials(&endpoint.host);
        let Some(there) = self.engine.as_ref().filter(|there| **there != here) else {
            return Ok(());
        };
        if self.operation != Operation::Restore {
            return Ok(());
        }
        let (what, advice) = self.advice(project, stack);
        let reach = match &self.context {
            Some(context) => format!("with `--context {}`", shell_quote(context)),
            None => format!("with DOCKER_HOST={} (and no --context)", shell_quote(there)),
        };
        Err(Failure::new(
            ExitStatus::Refused,
            format!(
                "refusing to {doing}: {what} on the engine at {there}, not the one this command reaches ({here}); its volumes there may be half replaced"
            ),
        )
        .hint(format!("on that engine ({reach}): {advice}"))
        .into())
    }

    pub fn path(project_state: &Path) -> PathBuf {
        project_state.join("journal.json")
    }

    /// The journal an earlier run left, if any.
    pub fn read(project_state: &Path) -> Result<Option<Journal>> {
        let path = Journal::path(project_state);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Records the current state (atomically).
    pub fn save(&self, project_state: &Path) -> Result<()> {
        let text = serde_json::to_vec_pretty(self).context("cannot encode the journal")?;
        crate::system::files::write_atomic(&Journal::path(project_state), &text)
    }

    /// The run finished: forget it.
    pub fn clear(project_state: &Path) -> Result<()> {
        let path = Journal::path(project_state);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(error).with_context(|| format!("cannot remove {}", path.display())),
        }
    }

    /// What the person should know and do about this interrupted run of `project`, with the
    /// devctl command lines for `stack`.
    pub fn advice(&self, project: &str, stack: &Stack) -> (String, String) {
        match self.operation {
            Operation::Backup => (
                format!(
                    "a backup of project {project} was interrupted{}",
                    if self.stopped_services.is_empty() {
                        String::new()
                    } else {
                        format!(" while {} were stopped", self.stopped_services.join(", "))
                    }
                ),
                format!(
                    "`{}` starts the services again; the unfinished backup was never listed and is removed",
                    stack.devctl("up")
                ),
            ),
            Operation::Restore => {
                let quoted = shell_quote(project);
                let undo = match &self.safety_backup {
                    Some(safety) => format!(
                        "undo it with `{}` (it puts back the safety backup {safety}, what the volumes held before)",
                        stack.devctl(&format!("restore --undo --confirm {quoted}"))
                    ),
                    None => "no volume had been replaced yet".to_string(),
                };
                (
                    format!(
                        "a restore of backup {} into project {project} was interrupted{}",
                        self.backup,
                        if self.replaced_volumes.is_empty() {
                            String::new()
                        } else {
                            format!(
                                " after it began replacing {}",
                                self.replaced_volumes.join(", ")
                            )
                        }
                    ),
                    format!(
                        "finish it with `{}`, or {undo}",
                        stack.devctl(&format!(
                            "restore {} --confirm {quoted}",
                            shell_quote(&self.backup)
                        ))
                    ),
                )
            }
        }
    }
}

/// Refuses to `doing` over an interrupted restore of `project`, whose state is in `state` (its
/// volumes may be half replaced); reports any other interrupted run and says whether there
/// was one (its record may then be cleared).
pub fn interrupted_run(
    state: &Path,
    project: &str,
    stack: Stack,
    endpoint: &Endpoint,
    doing: &str,
    printer: &Printer,
) -> Result<bool> {
    let Some(journal) = Journal::read(state)? else {
        return Ok(false);
    };
    journal.check_engine(project, &stack, endpoint, doing)?;
    let (what, advice) = journal.advice(project, &stack);
    if journal.operation == Operation::Restore {
        return Err(
            Failure::new(ExitStatus::Refused, format!("refusing to {doing}: {what}"))
                .hint(advice)
                .into(),
        );
    }
    printer.warn(format!("{what}; {advice}"));
    Ok(true)
}

/// Takes the lock of `project` (named `name`) for `doing`, then refuses to go on over an
/// interrupted restore (its volumes may be half replaced); an interrupted backup is reported
/// and its record cleared.
pub fn lock_and_settle(
    project: &Project,
    name: &str,
    endpoint: &Endpoint,
    doing: &str,
    printer: &Printer,
) -> Result<ProjectLock> {
    let state = project.layout.project_state(name, &project.root);
    let lock = ProjectLock::take(&state, name, doing, printer)?;
    if interrupted_run(&state, name, project.stack(), endpoint, doing, printer)? {
        Journal::clear(&state)?;
    }
    Ok(lock)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal(operation: Operation, safety_backup: Option<&str>) -> Journal {
        Journal {
            operation,
            pid: 1,
            backup: "20261122T143005Z".into(),
            stopped_services: vec!["db".into()],
            safety_backup: safety_backup.map(String::from),
            replaced_volumes: vec!["data".into()],
            engine: Some("ssh://build-box".into()),
            context: Some("build-box".into()),
        }
    }

    fn endpoint(host: &str) -> Endpoint {
        Endpoint {
            host: host.into(),
            tls: None,
            context: None,
        }
    }

    #[test]
    fn an_interrupted_restore_is_settled_only_on_the_engine_it_ran_on() {
        let directory = tempfile::tempdir().unwrap();
        let printer = Printer::new(true, false, crate::report::printer::Colors::Never);
        journal(Operation::Restore, Some("20261122T150000Z-safety"))
            .save(directory.path())
            .unwrap();
        let here = endpoint("unix:///var/run/docker.sock");
        let error = interrupted_run(
            directory.path(),
            "shop",
            Stack::live(),
            &here,
            "restore",
            &printer,
        )
        .unwrap_err();
        let failure = crate::report::failure::find(&error).unwrap();
        assert_eq!(failure.status, ExitStatus::Refused);
        assert!(
            failure.message.contains("on the engine at ssh://build-box, not the one this command reaches (unix:///var/run/docker.sock)"),
            "{}",
            failure.message
        );
        assert!(
            failure
                .hint
                .as_deref()
                .unwrap_or_default()
                .contains("--context build-box"),
            "{:?}",
            failure.hint
        );
        // On its own engine (a user name in the address changes nothing) it is the usual refusal.
        let there = endpoint("ssh://me@build-box");
        let error = interrupted_run(
            directory.path(),
            "shop",
            Stack::live(),
            &there,
            "up",
            &printer,
        )
        .unwrap_err();
        assert!(!format!("{error:#}").contains("not the one this command reaches"));
        // A journal of an older devctl names no engine: as before.
        let mut older = journal(Operation::Restore, None);
        older.engine = None;
        older
            .check_engine("shop", &Stack::live(), &here, "up")
            .unwrap();
    }

    #[test]
    fn the_advice_names_the_command_lines_of_the_stack_interrupted() {
        let backup = journal(Operation::Backup, None);
        let (what, advice) = backup.advice("shop", &Stack::live());
        assert_eq!(
            what,
            "a backup of project shop was interrupted while db were stopped"
        );
        assert!(advice.starts_with("`devctl up` starts"), "{advice}");
        let (_, advice) = backup.advice("shop-fidelity", &Stack::fidelity());
        assert!(
            advice.starts_with("`devctl up --fidelity` starts"),
            "{advice}"
        );

        let restore = journal(Operation::Restore, Some("20261122T150000Z-safety"));
        let (_, advice) = restore.advice("shop", &Stack::live());
        assert_eq!(
            advice,
            "finish it with `devctl restore 20261122T143005Z --confirm shop`, or undo it with `devctl restore --undo --confirm shop` (it puts back the safety backup 20261122T150000Z-safety, what the volumes held before)"
        );
        let (_, advice) = restore.advice("shop-fidelity", &Stack::fidelity());
        assert_eq!(
            advice,
            "finish it with `devctl restore 20261122T143005Z --confirm shop-fidelity --fidelity`, or undo it with `devctl restore --undo --confirm shop-fidelity --fidelity` (it puts back the safety backup 20261122T150000Z-safety, what the volumes held before)"
        );
    }
}
