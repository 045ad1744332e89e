//! `VerbPlan`: what a verb is about to do — the exact compose commands, then any wait —
//! printed by `--dry-run` and `devctl plan`, run otherwise.

use std::time::Duration;

use anyhow::Result;
use serde::Serialize;
use serde_json::json;

use crate::compose::model::ComposeModel;
use crate::compose::program::ComposeCommand;
use crate::compose::secrets::{Masking, Secrets};
use crate::project::Project;
use crate::report::exit_status::ExitStatus;
use crate::report::printer::Printer;

/// The JSON schema version of `devctl plan --format json`.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct WaitPlan {
    pub services: Vec<String>,
    #[serde(serialize_with = "seconds")]
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct VerbPlan {
    pub verb: &'static str,
    pub model: ComposeModel,
    pub commands: Vec<ComposeCommand>,
    pub wait: Option<WaitPlan>,
    /// What the guard deletes after the commands (`down --volumes`).
    pub deletion: Option<DeletionNote>,
}

/// The volumes `down --volumes` deletes once confirmed and backed up, as the model declares
/// them; the containers' anonymous volumes go too.
#[derive(Debug, Clone, Serialize)]
pub struct DeletionNote {
    pub volumes: Vec<String>,
    /// `name (why)` of each volume kept.
    pub kept: Vec<String>,
}

impl VerbPlan {
    /// Runs the plan's compose commands in order, stopping at the first that fails; under
    /// `--dry-run` prints them instead. Returns the exit status of the last command run.
    pub fn execute(&self, dry_run: bool, printer: &Printer) -> Result<ExitStatus> {
        if dry_run {
            printer.data(self.text());
            return Ok(ExitStatus::Success);
        }
        for command in &self.commands {
            printer.detail(format!("running: {}", command.line()));
            let status = command.run()?;
            if !status.is_success() {
                return Ok(status);
            }
        }
        Ok(ExitStatus::Success)
    }

    /// `execute`, with no input for compose: a question compose would ask (such as whether
    /// to recreate a changed volume) takes its default answer, no, instead of reaching the
    /// person — devctl's guard asks first.
    pub fn execute_without_input(&self, printer: &Printer) -> Result<ExitStatus> {
        for command in &self.commands {
            printer.detail(format!("running: {}", command.line()));
            let status = command.run_without_input()?;
            if !status.is_success() {
                return Ok(status);
            }
        }
        Ok(ExitStatus::Success)
    }

    /// The compose arguments (after the global ones) of the plan's last command.
    pub fn last_arguments(&self, project: &Project) -> Vec<String> {
        let Some(last) = self.commands.last() else {
            return Vec::new();
        };
        let globals = project
            .command(&self.model, crate::project::ServiceScope::Profile, &[])
            .argv
            .len();
        last.argv[globals.min(last.argv.len())..].to_vec()
    }

    /// Replaces the compose arguments (after the global ones) of the plan's last command.
    pub fn set_last_arguments(&mut self, project: &Project, arguments: &[String]) {
        if let Some(last) = self.commands.last_mut() {
            *last = project.command(
                &self.model,
                crate::project::ServiceScope::Profile,
                arguments,
            );
        }
    }

    /// A plan of one compose command and no wait.
    pub fn single(verb: &'static str, model: ComposeModel, command: ComposeCommand) -> VerbPlan {
        VerbPlan {
            verb,
            model,
            commands: vec![command],
            wait: None,
            deletion: None,
        }
    }

    /// The plan as shell lines: each command, then a comment for what devctl does itself.
    pub fn text(&self) -> String {
        let mut text = String::new();
        for command in &self.commands {
            text.push_str(&command.line());
            text.push('\n');
        }
        if let Some(wait) = &self.wait {
            text.push_str(&format!(
                "# then wait up to {} for {} to be healthy, running or completed\n",
                humantime::format_duration(wait.timeout),
                wait.services.join(", ")
            ));
        }
        if let Some(deletion) = &self.deletion {
            text.push_str(&format!(
                "# then, once confirmed and backed up, remove volumes: {} and the containers' anonymous volumes{}\n",
                match deletion.volumes.is_empty() {
                    true => "none named".to_string(),
                    false => deletion.volumes.join(", "),
                },
                match deletion.kept.is_empty() {
                    true => String::new(),
                    false => format!("; kept: {}", deletion.kept.join(", ")),
                }
            ));
        }
        text
    }

    /// The plan as JSON, with the profile and the resolved compose model; unless `secrets`
    /// says to show them, the secret values of both are masked.
    pub fn json(&self, project: &Project, secrets: Secrets) -> serde_json::Value {
        let mut document = json!({
            "schema_version": SCHEMA_VERSION,
            "verb": self.verb,
            "project": self.model.name(),
            "root": project.root.path(),
            "profile": project.profile,
            "commands": self.commands.iter().map(|command| json!({
                "argv": command.argv,
                "line": command.line(),
                "directory": command.directory,
                "env": command.env,
            })).collect::<Vec<_>>(),
            "wait": self.wait,
            "deletion": self.deletion,
            "model": self.model.value(),
        });
        if secrets == Secrets::Masked {
            let masking = Masking::of(self.model.value()).with_variables(
                &crate::compose::variables::defined_variables(&project.env_file_paths()),
            );
            document["model"] = masking.model(self.model.value());
            if let Some(services) = document["profile"]["fidelity"]["environment"].as_object_mut() {
                for environment in services.values_mut() {
                    masking.mask_variables(environment);
                }
            }
        }
        document
    }
}

fn seconds<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(duration.as_secs_f64())
}
