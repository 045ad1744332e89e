//! `GuardedStep`: the guard's policy applied to one destructive step.
//!
//! In order: take the project's lock; refuse when another checkout owns the project name;
//! work out exactly which volumes go (the `DeletionPlan`) and list them with their sizes;
//! confirm — the project's name for data (typed on a terminal, or `--confirm PROJECT`), y/N or
//! `--yes` for containers; back the doomed volumes up; append the decision to the audit log;
//! run the compose commands; and, for `down`, remove the doomed volumes by name, so that
//! protected and external volumes are never touched. Refusals are logged too.

use anyhow::Result;

use crate::backup::journal::{self, Journal};
use crate::backup::manifest::BackupKind;
use crate::backup::take;
use crate::backup::workspace::Workspace;
use crate::cli::GlobalArgs;
use crate::compose::program::ComposeCommand;
use crate::guard::audit_log::{AuditEntry, AuditLog};
use crate::guard::checkout_owner;
use crate::guard::classifier::Tier;
use crate::guard::confirmation::Confirmation;
use crate::guard::deletion_plan::{DeletionPlan, Reach};
use crate::report::exit_status::ExitStatus;
use crate::report::printer::Printer;

#[derive(Debug, Clone)]
pub struct GuardedStep {
    /// What was asked for, in words a person typed (`down --volumes`, `compose rm -sfv`).
    pub action: String,
    pub tier: Tier,
    /// Why the step has its tier, one phrase per finding.
    pub reasons: Vec<String>,
    /// Which volumes a data-tier step reaches.
    pub reach: Reach,
    /// The tier the step has when it turns out to delete no volume.
    pub tier_without_volumes: Tier,
    /// The compose commands that carry the step out, in order.
    pub commands: Vec<ComposeCommand>,
    /// devctl removes the doomed volumes itself, by name, after the commands (`down`).
    pub removes_volumes: bool,
    /// Added to the automatic backup's id (`before-down`).
    pub label: String,
}

impl GuardedStep {
    /// Confirms, backs up, logs and runs the step; returns the exit code to leave with.
    pub fn run(
        &self,
        workspace: &Workspace,
        global: &GlobalArgs,
        printer: &Printer,
    ) -> Result<ExitStatus> {
        let project_name = workspace.model.name().to_string();
        let log = AuditLog::new(&workspace.state);
        let mut entry = AuditEntry::for_workspace(workspace, &self.action, self.tier);
        // A refusal is a decision, logged; a dry run decides nothing.
        let refuse = |entry: AuditEntry, error: anyhow::Error| -> anyhow::Error {
            match global.dry_run {
                true => error,
                false => log.refuse(entry, error),
            }
        };
        // The lock comes first, so that what is listed is what is deleted.
        let _lock = match global.dry_run {
            true => None,
            false => Some(workspace.lock(&self.action, printer)?),
        };
        // Over an interrupted restore the volumes may be half replaced: finish or undo it first.
        let doing = format!("run `{}`", self.action);
        match journal::interrupted_run(&workspace.state, &project_name, &doing, printer) {
            Ok(true) if !global.dry_run => Journal::clear(&workspace.state)?,
            Ok(_) => {}
            Err(error) => return Err(refuse(entry, error)),
        }
        let containers = workspace.engine.project_containers(&project_name)?;
        if let Err(error) = checkout_owner::check(
            &workspace.project,
            &project_name,
            &containers,
            global.guard.allow_other_checkout,
        ) {
            return Err(refuse(entry, error));
        }
        let plan = match self.tier {
            Tier::Data => match DeletionPlan::new(workspace, &containers, &self.reach) {
                Ok(plan) => plan,
                // A step that would delete a protected volume compose cannot spare.
                Err(error) => return Err(refuse(entry, error)),
            },
            _ => DeletionPlan::default(),
        };
        let mut tier = self.tier;
        if tier == Tier::Data && plan.doomed.is_empty() {
            tier = self.tier_without_volumes;
            printer.info(format!(
                "`{}` deletes no volume of project {project_name}: it has none to delete{}",
                self.action,
                match plan.kept.is_empty() {
                    true => String::new(),
                    false => format!(" (kept: {})", plan.kept_lines().join(", ")),
                }
            ));
        }
        entry.tier = tier;
        entry.volumes = plan.doomed_names();
        match tier {
            Tier::Data => {
                printer.info(format!(
                    "`{}` deletes {} volume(s) of project {project_name}:",
                    self.action,
                    plan.doomed.len()
                ));
                for line in plan.doomed_lines() {
                    printer.info(format!("  {line}"));
                }
                if !plan.kept.is_empty() {
                    printer.info(format!("kept: {}", plan.kept_lines().join(", ")));
                }
            }
            Tier::State => printer.info(format!(
                "`{}` on project {project_name}: {}",
                self.action,
                self.reasons.join("; ")
            )),
            Tier::Safe => {}
        }
        if global.dry_run {
            for command in &self.commands {
                printer.data(format!("{}\n", command.line()));
            }
            if self.removes_volumes && !plan.doomed.is_empty() {
                printer.data(format!(
                    "# then remove volumes: {}\n",
                    plan.doomed_names().join(" ")
                ));
            }
            return Ok(ExitStatus::Success);
        }
        let confirmation = Confirmation::from(&global.guard);
        let confirmed = match tier {
            Tier::Data => confirmation.require_project_name(
                &project_name,
                &format!("delete {} volume(s)", plan.doomed.len()),
            ),
            Tier::State => confirmation.require_yes(&format!("{} on {project_name}", self.action)),
            Tier::Safe => Ok(()),
        };
        if let Err(error) = confirmed {
            return Err(refuse(entry, error));
        }
        entry.detail = match tier {
            Tier::Safe => "nothing to confirm".into(),
            _ => confirmation.how(tier == Tier::Data).into(),
        };
        if tier == Tier::Data {
            entry.backup = self.back_up(workspace, &plan, global, printer)?;
        }
        entry.decision = match tier {
            Tier::Safe => "nothing-to-delete".into(),
            _ => "confirmed".into(),
        };
        if self.tier > Tier::Safe {
            log.append(&entry)?;
        }
        for command in &self.commands {
            printer.detail(format!("running: {}", command.line()));
            let status = command.run()?;
            if !status.is_success() {
                return Ok(status);
            }
        }
        if self.removes_volumes {
            for target in &plan.doomed {
                // Compose may have taken an anonymous one with its container already.
                if workspace.engine.volume(&target.name)?.is_some() {
                    workspace.engine.remove_volume(&target.name)?;
                }
            }
            if !plan.doomed.is_empty() {
                printer.info(format!(
                    "deleted {} volume(s): {}",
                    plan.doomed.len(),
                    plan.doomed
                        .iter()
                        .map(|t| t.key.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        Ok(ExitStatus::Success)
    }

    /// Backs up the doomed volumes (unless `--no-backup`), says how to restore them, and
    /// prunes older automatic backups. Returns the new backup's id.
    fn back_up(
        &self,
        workspace: &Workspace,
        plan: &DeletionPlan,
        global: &GlobalArgs,
        printer: &Printer,
    ) -> Result<Option<String>> {
        if global.guard.no_backup {
            printer.warn(format!(
                "--no-backup: {} volume(s) will be deleted without a backup",
                plan.doomed.len()
            ));
            return Ok(None);
        }
        let backup = take::take(
            workspace,
            printer,
            &plan.doomed,
            BackupKind::PreDelete,
            Some(&self.label),
        )?;
        let id = backup.manifest.id.clone();
        let profile = match global.profile_name() {
            Some(name) => format!(" --profile {name}"),
            None => String::new(),
        };
        printer.info(format!(
            "backed up {} volume(s) as {id}; to get them back: devctl{profile} restore {id} --confirm {}",
            plan.doomed.len(),
            workspace.model.name()
        ));
        let keep = workspace.project.profile.keep_automatic_backups;
        for removed in workspace.store.prune_automatic(keep, &id)? {
            printer.info(format!(
                "removed the older automatic backup {removed} (guard.keep_automatic_backups: {keep})"
            ));
        }
        Ok(Some(id))
    }
}
