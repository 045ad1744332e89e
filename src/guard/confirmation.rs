//! `Confirmation`: decides whether a destructive step may go ahead.
//!
//! Data-destroying steps need the project named: on a terminal the person types the project's
//! name; without one devctl refuses (exit 77) unless `--confirm PROJECT` (or
//! `DEVCTL_CONFIRM`) names this very project. A bare "yes" is never enough for data. Steps
//! that lose only containers or backups already superseded ask y/N on a terminal and need
//! `--yes` (or `DEVCTL_YES`) without one.

use std::io::IsTerminal;

use anyhow::Result;

use crate::report::exit_status::ExitStatus;
use crate::report::failure::Failure;
use crate::report::text::shell_quote;

/// What the person said on the command line about confirming.
#[derive(Debug, Clone, Default)]
pub struct Confirmation {
    /// `--confirm PROJECT` / `DEVCTL_CONFIRM`.
    pub project: Option<String>,
    /// `--yes` / `DEVCTL_YES`.
    pub yes: bool,
}

/// Whether the person can be asked: both stdin and stderr are terminals.
pub fn can_prompt() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

impl Confirmation {
    /// Asks for (or checks) the project's name before `action` (e.g. "restore 2 volumes").
    pub fn require_project_name(&self, project: &str, action: &str) -> Result<()> {
        if let Some(named) = &self.project {
            if named == project {
                return Ok(());
            }
            return Err(Failure::new(
                ExitStatus::Refused,
                format!("refusing to {action}: --confirm (or DEVCTL_CONFIRM) names `{named}`, but this project is `{project}`"),
            )
            .hint(format!("name this project: --confirm {}", shell_quote(project)))
            .into());
        }
        if !can_prompt() {
            return Err(Failure::new(
                ExitStatus::Refused,
                format!("refusing to {action} of project `{project}` without confirmation: there is no terminal to ask on"),
            )
            .hint(format!("name the project to confirm: --confirm {quoted} (or DEVCTL_CONFIRM={quoted})", quoted = shell_quote(project)))
            .into());
        }
        let typed: String = dialoguer::Input::new()
            .with_prompt(format!("To {action}, type the project name `{project}`"))
            .allow_empty(true)
            .interact_text()
            .map_err(|error| {
                Failure::new(ExitStatus::Refused, format!("no confirmation: {error}"))
            })?;
        if typed.trim() == project {
            Ok(())
        } else {
            Err(Failure::new(
                ExitStatus::Refused,
                format!(
                    "refusing to {action}: `{}` is not the project name `{project}`",
                    typed.trim()
                ),
            )
            .into())
        }
    }

    /// How a step that went ahead was confirmed, for the audit log.
    pub fn how(&self, data: bool) -> &'static str {
        match (data, self.project.is_some(), self.yes) {
            (true, true, _) => "--confirm",
            (true, false, _) => "typed the project name",
            (false, _, true) => "--yes",
            (false, _, false) => "answered yes",
        }
    }

    /// Asks y/N (default No) before `action`; without a terminal, `--yes` is required.
    pub fn require_yes(&self, action: &str) -> Result<()> {
        if self.yes {
            return Ok(());
        }
        if !can_prompt() {
            return Err(Failure::new(
                ExitStatus::Refused,
                format!(
                    "refusing to {action} without confirmation: there is no terminal to ask on"
                ),
            )
            .hint("pass --yes (or DEVCTL_YES=1) to go ahead")
            .into());
        }
        let agreed = dialoguer::Confirm::new()
            .with_prompt(format!("{action}?"))
            .default(false)
            .interact()
            .map_err(|error| {
                Failure::new(ExitStatus::Refused, format!("no confirmation: {error}"))
            })?;
        if agreed {
            Ok(())
        } else {
            Err(Failure::new(
                ExitStatus::Refused,
                format!("not confirmed: did not {action}"),
            )
            .into())
        }
    }
}

/// Asks `question` y/N (default No) on the terminal, whatever `--yes` says: for what only a
/// person who has read what is shown may allow. Without a terminal it refuses with `hint`.
pub fn ask_on_terminal(question: &str, refusal: &str, hint: &str) -> Result<()> {
    if !can_prompt() {
        return Err(Failure::new(
            ExitStatus::Refused,
            format!("{refusal}: there is no terminal to ask on"),
        )
        .hint(hint)
        .into());
    }
    let agreed = dialoguer::Confirm::new()
        .with_prompt(question)
        .default(false)
        .interact()
        .map_err(|error| Failure::new(ExitStatus::Refused, format!("no confirmation: {error}")))?;
    if agreed {
        Ok(())
    } else {
        Err(Failure::new(ExitStatus::Refused, format!("{refusal}: not confirmed")).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(result: Result<()>) -> Option<ExitStatus> {
        result
            .err()
            .and_then(|error| crate::report::failure::find(&error).map(|failure| failure.status))
    }

    #[test]
    fn naming_the_project_confirms() {
        let confirmation = Confirmation {
            project: Some("shop".into()),
            yes: false,
        };
        assert!(confirmation.require_project_name("shop", "restore").is_ok());
        let wrong = confirmation.require_project_name("other", "restore");
        assert_eq!(status(wrong), Some(ExitStatus::Refused));
    }

    #[test]
    fn yes_is_not_enough_for_data() {
        // Under `cargo test` stdin is not a terminal, so nothing can be asked.
        let confirmation = Confirmation {
            project: None,
            yes: true,
        };
        if !can_prompt() {
            assert_eq!(
                status(confirmation.require_project_name("shop", "restore")),
                Some(ExitStatus::Refused)
            );
        }
        assert!(confirmation.require_yes("prune").is_ok());
    }
}
