//! `GuardedStep`: the guard's policy applied to one destructive step.
//!
//! In order: take the project's lock; refuse when another checkout owns the project name;
//! work out exactly which volumes go (the `DeletionPlan`) and list them with their sizes;
//! confirm — the project's name for data (typed on a terminal, or `--confirm PROJECT`), y/N or
//! `--yes` for containers; back the doomed volumes up; append the decision to the audit log;
//! run the compose command; and, for `down`, remove the doomed volumes by name, so that
//! protected and external volumes are never touched. Refusals are logged too.

use anyhow::Result;

use crate::backup::journal::{self, Journal};
use crate::backup::manifest::BackupKind;
use crate::backup::take;
use crate::backup::workspace::Workspace;
use crate::guard::audit_log::{AuditEntry, AuditLog};
use crate::guard::checkout_owner;
use crate::guard::classifier;
use crate::guard::classifier::Tier;
use crate::guard::confirmation::Confirmation;
use crate::guard::deletion_plan::{DeletionPlan, Reach};
use crate::guard::recreation::{self, Recreation};
use crate::project::ServiceScope;
use crate::project::lock::ProjectLock;
use crate::report::exit_status::ExitStatus;
use crate::report::failure::Failure;
use crate::report::printer::Printer;
use crate::report::text::shell_quote;

/// What the person said about a destructive step, besides the step itself.
#[derive(Debug, Clone, Default)]
pub struct GuardOptions {
    /// List what the step would do, and run, confirm, back up and log nothing.
    pub dry_run: bool,
    pub confirmation: Confirmation,
    /// Delete volumes without taking the automatic backup first.
    pub no_backup: bool,
    /// Go ahead although another checkout's containers carry the project's name.
    pub allow_other_checkout: bool,
    /// The devctl profile asked for, repeated in the restore command the guard prints.
    pub profile: Option<String>,
}

#[derive(Debug, Clone)]
pub struct GuardedStep {
    /// What was asked for, in words a person typed (`down --volumes`, `compose rm -sfv`).
    pub action: String,
    pub tier: Tier,
    /// Why the step has its tier, one phrase per finding.
    pub reasons: Vec<String>,
    /// Whether devctl read the command line as compose will; one it cannot read is refused
    /// before anything is confirmed, backed up or run.
    pub readable: bool,
    /// Which volumes a data-tier step reaches.
    pub reach: Reach,
    /// The tier the step has when it turns out to delete no volume.
    pub tier_without_volumes: Tier,
    /// Compose's arguments for the command that carries the step out, and the compose
    /// profiles it runs with.
    pub arguments: Vec<String>,
    pub scope: ServiceScope,
    /// devctl removes the doomed volumes itself, by name, after the command (`down`).
    pub removes_volumes: bool,
    /// Added to the automatic backup's id (`before-down`).
    pub label: String,
    /// What the command creates, besides what it removes.
    pub creates: Creates,
}

/// What a guarded command creates: compose's `up` and `create` also delete and recreate a
/// volume whose declaration changed, and whoever creates a project's containers owns its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Creates {
    Nothing,
    /// `up`, `create`: containers, and volumes (recreating changed ones).
    Containers,
    /// `run`, `scale`, `watch` (which runs `up`): containers, and volumes, but compose takes
    /// no `--yes` there: a recreation is refused (`devctl up` first).
    WithoutYes,
}

impl GuardedStep {
    /// Confirms, backs up, logs and runs the step; returns the exit code to leave with.
    pub fn run(
        &self,
        workspace: &Workspace,
        options: &GuardOptions,
        printer: &Printer,
    ) -> Result<ExitStatus> {
        let first = Decision::new(self, workspace, options, printer);
        if !self.readable {
            return Err(first.refuse(self.unreadable().into()));
        }
        // The lock comes first, so that what is listed is what is deleted.
        let lock = first.lock()?;
        let step = self.with_recreations(workspace, options, printer)?;
        let mut decision = Decision::new(&step, workspace, options, printer);
        let Some(plan) = decision.decide()? else {
            return Ok(ExitStatus::Success);
        };
        if decision.entry.tier == Tier::Safe || matches!(step.reach, Reach::Recreated(_)) {
            // Nothing of the project's goes, or what goes is confirmed and backed up and
            // compose recreates it as it starts: another devctl need not wait for a command
            // that may run for hours (`up` attached, `run` with a shell, `watch`).
            drop(lock);
        }
        let status = decision.run_command()?;
        if !status.is_success() {
            return Ok(status);
        }
        if step.creates != Creates::Nothing {
            checkout_owner::claim(workspace)?;
        }
        if step.removes_volumes {
            decision.delete(&plan)?;
        }
        Ok(ExitStatus::Success)
    }

    /// Everything `run` does before the command — the owner check, the list, the
    /// confirmation, the backup and the audit line — for a caller that holds the project's
    /// lock and runs the command itself. False for a dry run, which only lists.
    pub fn authorize(
        &self,
        workspace: &Workspace,
        options: &GuardOptions,
        printer: &Printer,
    ) -> Result<Option<GuardedStep>> {
        let step = self.with_recreations(workspace, options, printer)?;
        let mut decision = Decision::new(&step, workspace, options, printer);
        Ok(decision.decide()?.map(|_| step.into_owned()))
    }

    /// The step as it must run given the volumes compose would recreate: for `up` and
    /// `create`, a data-tier step reaching exactly those (run with `--yes`, so that compose
    /// asks nothing once devctl has confirmed); for `run`, a refusal.
    fn with_recreations(
        &self,
        workspace: &Workspace,
        options: &GuardOptions,
        printer: &Printer,
    ) -> Result<std::borrow::Cow<'_, GuardedStep>> {
        use std::borrow::Cow;
        if self.creates == Creates::Nothing {
            return Ok(Cow::Borrowed(self));
        }
        // Compose ensures the volumes of the services it runs: the profile's compose
        // profiles (every one when the command names its own), the services named.
        let classification = classifier::classify(&self.arguments);
        let own_profiles = classification
            .globals
            .iter()
            .any(|flag| flag == "--profile" || flag.starts_with("--profile="));
        let profile_model;
        let model = match (self.scope, own_profiles) {
            (ServiceScope::Profile, false) => {
                profile_model = workspace
                    .project
                    .model(ServiceScope::Profile, false, printer)?;
                &profile_model
            }
            _ => &workspace.model,
        };
        // `scale app=2` names its service before the `=`.
        let services: Vec<String> = classification
            .operands
            .iter()
            .map(|operand| operand.split('=').next().unwrap_or_default().to_string())
            .collect();
        let found = recreation::find(model, &workspace.engine, &services)?;
        if found.is_empty() {
            return Ok(Cow::Borrowed(self));
        }
        let names: Vec<String> = found.iter().map(|change| change.name.clone()).collect();
        let lines: Vec<String> = found.iter().map(Recreation::line).collect();
        let refusal = |message: String, hint: &str| {
            let decision = Decision::new(self, workspace, options, printer);
            decision.refuse(Failure::new(ExitStatus::Refused, message).hint(hint).into())
        };
        if self.creates == Creates::WithoutYes {
            return Err(refusal(
                format!(
                    "refusing `{}`: compose would delete and recreate volume(s) whose declaration changed: {}",
                    self.action,
                    lines.join(", ")
                ),
                "run `devctl up` first: it lists those volumes, confirms, and backs them up before compose recreates them",
            ));
        }
        if self.tier == Tier::Data {
            return Err(refusal(
                format!(
                    "refusing `{}`: it deletes volumes, and compose would also delete and recreate volume(s) whose declaration changed: {}",
                    self.action,
                    lines.join(", ")
                ),
                "do one at a time: run `devctl up` first, which confirms and backs up the changed volumes, then this command",
            ));
        }
        let mut arguments = self.arguments.clone();
        let at = classification.position.map_or(0, |at| at + 1);
        arguments.insert(at.min(arguments.len()), "--yes".into());
        Ok(Cow::Owned(GuardedStep {
            tier: Tier::Data,
            reasons: found
                .iter()
                .map(|change| format!("{}: {}", change.name, change.differences.join("; ")))
                .collect(),
            reach: Reach::Recreated(names),
            tier_without_volumes: self.tier,
            arguments,
            label: "before-recreate".into(),
            ..self.clone()
        }))
    }

    /// The refusal of a command line devctl cannot read.
    fn unreadable(&self) -> Failure {
        Failure::new(
            ExitStatus::Refused,
            format!("refusing `{}`: {}", self.action, self.reasons.join("; ")),
        )
        .hint("check the subcommand's spelling (`docker compose --help` lists them) and put no `--` before it; devctl runs only command lines it reads as compose will")
    }
}

/// One run of a step: what it works with, and the audit entry filled in as it is decided.
struct Decision<'a> {
    step: &'a GuardedStep,
    workspace: &'a Workspace,
    options: &'a GuardOptions,
    printer: &'a Printer,
    log: AuditLog,
    /// Its `tier` is the step's once the plan is known (lower when it deletes no volume).
    entry: AuditEntry,
}

impl<'a> Decision<'a> {
    fn new(
        step: &'a GuardedStep,
        workspace: &'a Workspace,
        options: &'a GuardOptions,
        printer: &'a Printer,
    ) -> Decision<'a> {
        Decision {
            step,
            workspace,
            options,
            printer,
            log: AuditLog::new(&workspace.state),
            entry: AuditEntry::for_workspace(workspace, &step.action, step.tier),
        }
    }

    /// The owner check, the plan, the list, then — unless a dry run, which prints the
    /// commands and ends there — the confirmation, the backup and the audit line.
    fn decide(&mut self) -> Result<Option<DeletionPlan>> {
        let containers = self
            .workspace
            .engine
            .project_containers(self.workspace.model.name())?;
        self.check_owner(&containers)?;
        let plan = self.plan(&containers)?;
        self.print(&plan);
        if self.options.dry_run {
            self.print_commands(&plan);
            return Ok(None);
        }
        self.confirm(&plan)?;
        self.back_up(&plan)?;
        self.audit()?;
        Ok(Some(plan))
    }

    fn project(&self) -> &str {
        self.workspace.model.name()
    }

    /// `error`, the decision logged as a refusal first; a dry run decides nothing.
    fn refuse(&self, error: anyhow::Error) -> anyhow::Error {
        match self.options.dry_run {
            true => error,
            false => self.log.refuse(self.entry.clone(), error),
        }
    }

    /// Takes the project's lock (none for a dry run) and refuses over an interrupted restore,
    /// whose volumes may be half replaced: it must be finished or undone first.
    fn lock(&self) -> Result<Option<ProjectLock>> {
        let lock = match self.options.dry_run {
            true => None,
            false => Some(self.workspace.lock(&self.step.action, self.printer)?),
        };
        let state = &self.workspace.state;
        let doing = format!("run `{}`", self.step.action);
        match journal::interrupted_run(
            state,
            self.project(),
            self.workspace.project.stack(),
            self.workspace.engine.endpoint(),
            &doing,
            self.printer,
        ) {
            Ok(true) if !self.options.dry_run => Journal::clear(state)?,
            Ok(_) => {}
            Err(error) => return Err(self.refuse(error)),
        }
        Ok(lock)
    }

    /// Refuses when another checkout's `containers` carry the project's name.
    fn check_owner(&self, containers: &[bollard::models::ContainerInspectResponse]) -> Result<()> {
        checkout_owner::check(
            self.workspace,
            containers,
            self.options.allow_other_checkout,
        )
        .map_err(|error| self.refuse(error))
    }

    /// The volumes a data-tier step deletes and keeps; a step that turns out to delete none
    /// takes its tier without volumes.
    fn plan(
        &mut self,
        containers: &[bollard::models::ContainerInspectResponse],
    ) -> Result<DeletionPlan> {
        let step = self.step;
        let plan = match step.tier {
            Tier::Data => DeletionPlan::new(self.workspace, containers, &step.reach)
                // A step that would delete a protected volume compose cannot spare.
                .map_err(|error| self.refuse(error))?,
            _ => DeletionPlan::default(),
        };
        if let Reach::Recreated(names) = &step.reach {
            // Compose recreates what no service mounts, too; devctl backs up only mounted ones.
            let doomed = plan.doomed_names();
            if let Some(missing) = names.iter().find(|name| !doomed.contains(name)) {
                return Err(self.refuse(
                    Failure::new(
                        ExitStatus::Refused,
                        format!(
                            "refusing `{}`: compose would delete and recreate the volume {missing}, which no service of the profile mounts, so devctl cannot back it up",
                            step.action
                        ),
                    )
                    .hint("undo the change to its declaration, or remove the volume yourself once its data is safe")
                    .into(),
                ));
            }
        }
        if step.tier == Tier::Data && plan.doomed.is_empty() {
            self.entry.tier = step.tier_without_volumes;
            self.printer.info(format!(
                "`{}` deletes no volume of project {}: it has none to delete{}",
                step.action,
                self.project(),
                match plan.kept.is_empty() {
                    true => String::new(),
                    false => format!(" (kept: {})", plan.kept_lines().join(", ")),
                }
            ));
        }
        self.entry.volumes = plan.doomed_names();
        Ok(plan)
    }

    /// Says what the step deletes (and keeps), or why it needs a yes.
    fn print(&self, plan: &DeletionPlan) {
        let (action, project) = (&self.step.action, self.project());
        match self.entry.tier {
            Tier::Data if matches!(self.step.reach, Reach::Recreated(_)) => {
                self.printer.info(format!(
                    "`{action}` makes compose delete and recreate {} volume(s) of project {project}, empty, because their declaration changed:",
                    plan.doomed.len()
                ));
                for line in plan.doomed_lines() {
                    self.printer.info(format!("  {line}"));
                }
                for reason in &self.step.reasons {
                    self.printer.info(format!("  changed: {reason}"));
                }
            }
            Tier::Data => {
                self.printer.info(format!(
                    "`{action}` deletes {} volume(s) of project {project}:",
                    plan.doomed.len()
                ));
                for line in plan.doomed_lines() {
                    self.printer.info(format!("  {line}"));
                }
                if !plan.kept.is_empty() {
                    self.printer
                        .info(format!("kept: {}", plan.kept_lines().join(", ")));
                }
            }
            Tier::State => self.printer.info(format!(
                "`{action}` on project {project}: {}",
                self.step.reasons.join("; ")
            )),
            Tier::Safe => {}
        }
    }

    /// A dry run's output: the compose command, and the volumes devctl would then remove.
    fn print_commands(&self, plan: &DeletionPlan) {
        self.printer.data(format!("{}\n", self.command().line()));
        if self.step.removes_volumes && !plan.doomed.is_empty() {
            self.printer.data(format!(
                "# then remove volumes: {}\n",
                plan.doomed_names().join(" ")
            ));
        }
    }

    /// Asks for the project's name (data) or a yes (containers), or refuses.
    fn confirm(&mut self, plan: &DeletionPlan) -> Result<()> {
        let confirmation = &self.options.confirmation;
        let project = self.project();
        let tier = self.entry.tier;
        let confirmed = match tier {
            Tier::Data => confirmation
                .require_project_name(project, &format!("delete {} volume(s)", plan.doomed.len())),
            Tier::State => confirmation.require_yes(&format!("{} on {project}", self.step.action)),
            Tier::Safe => Ok(()),
        };
        if let Err(error) = confirmed {
            return Err(self.refuse(error));
        }
        self.entry.detail = match tier {
            Tier::Safe => "nothing to confirm".into(),
            _ => confirmation.how(tier == Tier::Data).into(),
        };
        Ok(())
    }

    /// Backs up the volumes a data-tier step deletes (unless `--no-backup`), says how to
    /// restore them, and prunes older automatic backups.
    fn back_up(&mut self, plan: &DeletionPlan) -> Result<()> {
        if self.entry.tier != Tier::Data {
            return Ok(());
        }
        if self.options.no_backup {
            self.printer.warn(format!(
                "--no-backup: {} volume(s) will be deleted without a backup",
                plan.doomed.len()
            ));
            return Ok(());
        }
        let (workspace, printer) = (self.workspace, self.printer);
        let backup = take::take_automatic(
            workspace,
            printer,
            &plan.doomed,
            BackupKind::PreDelete,
            Some(&self.step.label),
            &[],
        )?;
        let id = backup.manifest.id.clone();
        let profile = match &self.options.profile {
            Some(name) => format!(" --profile {}", shell_quote(name)),
            None => String::new(),
        };
        // `restore` puts named volumes back; compose gives a recreated container a new
        // anonymous volume, so those stay in the backup's archives only.
        let anonymous: Vec<&str> = plan
            .doomed
            .iter()
            .filter(|target| target.anonymous)
            .map(|target| target.key.as_str())
            .collect();
        let restore = workspace.project.stack().devctl(&format!(
            "{profile} restore {} --confirm {}",
            shell_quote(&id),
            shell_quote(self.project())
        ));
        printer.info(match (anonymous.len(), plan.doomed.len()) {
            (0, count) => format!("backed up {count} volume(s) as {id}; to get them back: {restore}"),
            (some, count) if some == count => format!(
                "backed up {count} volume(s) as {id}: anonymous ({}), which restore cannot put back in place; their archives stay in {}",
                anonymous.join(", "),
                backup.directory.display()
            ),
            (_, count) => format!(
                "backed up {count} volume(s) as {id}; to get the named ones back: {restore} (the anonymous ones, {}, cannot be put back in place; their archives stay in {})",
                anonymous.join(", "),
                backup.directory.display()
            ),
        });
        self.entry.backup = Some(id);
        Ok(())
    }

    /// Appends the decision to the audit log (a safe step is not logged).
    fn audit(&mut self) -> Result<()> {
        self.entry.decision = match self.entry.tier {
            Tier::Safe => "nothing-to-delete".into(),
            _ => "confirmed".into(),
        };
        if self.step.tier > Tier::Safe {
            self.log.append(&self.entry)?;
        }
        Ok(())
    }

    /// The compose command that carries the step out.
    fn command(&self) -> crate::compose::program::ComposeCommand {
        self.workspace
            .project
            .command(&self.workspace.model, self.step.scope, &self.step.arguments)
    }

    fn run_command(&self) -> Result<ExitStatus> {
        let command = self.command();
        self.printer.detail(format!("running: {}", command.line()));
        command.run()
    }

    /// Removes the doomed volumes by name (`down`), after compose removed the containers.
    fn delete(&self, plan: &DeletionPlan) -> Result<()> {
        let engine = &self.workspace.engine;
        for target in &plan.doomed {
            // Compose may have taken an anonymous one with its container already.
            if engine.volume(&target.name)?.is_some() {
                engine.remove_volume(&target.name)?;
            }
        }
        if !plan.doomed.is_empty() {
            self.printer.info(format!(
                "deleted {} volume(s): {}",
                plan.doomed.len(),
                plan.doomed
                    .iter()
                    .map(|target| target.key.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        Ok(())
    }
}
