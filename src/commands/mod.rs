//! One module per verb; `dispatch` routes the parsed command line to it.

pub mod backup;
pub mod completions;
pub mod compose;
pub mod doctor;
pub mod down;
pub mod exec;
pub mod logs;
pub mod plan;
pub mod profiles;
pub mod restore;
pub mod status;
pub mod up;

use anyhow::Result;

use crate::cli::{Cli, Command, GlobalArgs, GuardArgs};
use crate::compose::verb_plan::VerbPlan;
use crate::guard::confirmation::Confirmation;
use crate::project::{Project, ProjectOptions};
use crate::report::exit_status::ExitStatus;
use crate::report::printer::Printer;

/// Runs the verb and returns the exit code to leave with.
pub fn dispatch(cli: &Cli, printer: &Printer) -> Result<ExitStatus> {
    let global = &cli.global;
    match &cli.command {
        Command::Up(args) => up::run(args, global, printer),
        Command::Down(args) => down::run(args, global, printer),
        Command::FidelityUp(args) => up::run(args, &fidelity(global), printer),
        Command::FidelityDown(args) => down::run(args, &fidelity(global), printer),
        Command::Status(args) => status::run(args, global, printer),
        Command::Logs(args) => logs::run(args, global, printer),
        Command::Backup(args) => backup::run(args, global, printer),
        Command::Restore(args) => restore::run(args, global, printer),
        Command::Exec(args) => exec::run(args, global, printer),
        Command::Profiles(args) => profiles::run(args, global, printer),
        Command::Compose(args) => compose::run(args, global, printer),
        Command::Doctor(args) => doctor::run(args, global, printer),
        Command::Plan(args) => plan::run(args, global, printer),
        Command::Completions(args) => completions::run(args),
    }
}

/// The global flags with `--fidelity` set (`fidelity-up`, `fidelity-down`).
fn fidelity(global: &crate::cli::GlobalArgs) -> crate::cli::GlobalArgs {
    crate::cli::GlobalArgs {
        fidelity: true,
        ..global.clone()
    }
}

/// Runs a plan's compose commands in order, stopping at the first that fails; under
/// `--dry-run` prints them instead. Returns the exit code of the last command run.
pub fn execute(plan: &VerbPlan, dry_run: bool, printer: &Printer) -> Result<ExitStatus> {
    if dry_run {
        printer.data(plan.text());
        return Ok(ExitStatus::Success);
    }
    for command in &plan.commands {
        printer.detail(format!("running: {}", command.line()));
        let status = command.run()?;
        if !status.is_success() {
            return Ok(status);
        }
    }
    Ok(ExitStatus::Success)
}

/// The project the global flags select (`--project-dir`, `--profile`, `--context`, each also
/// from its environment variable).
pub fn project_options(global: &GlobalArgs) -> ProjectOptions {
    ProjectOptions {
        directory: global.project_dir.clone(),
        profile: global.profile_name().map(str::to_string),
        context: global.context.clone(),
        quiet: global.quiet,
    }
}

/// `--confirm PROJECT` and `--yes` (or their environment variables), as the guard reads them.
impl From<&GuardArgs> for Confirmation {
    fn from(args: &GuardArgs) -> Confirmation {
        Confirmation {
            project: args.confirm.clone().filter(|project| !project.is_empty()),
            yes: args.yes,
        }
    }
}

/// Opens the project named by the global flags (shared by every verb that runs compose).
pub fn open(global: &crate::cli::GlobalArgs, printer: &Printer) -> Result<Project> {
    open_checked(global, printer, |_| Ok(()))
}

/// As `open`, with `check` run on the project before compose is first asked anything.
pub fn open_checked(
    global: &crate::cli::GlobalArgs,
    printer: &Printer,
    check: impl FnOnce(&Project) -> Result<()>,
) -> Result<Project> {
    let mut project = Project::open(&project_options(global))?;
    check(&project)?;
    if global.fidelity {
        crate::fidelity::stack::enter(&mut project, printer)?;
    }
    printer.detail(format!(
        "project root {}, profile `{}`, compose {} ({})",
        project.root.path().display(),
        project.profile.name,
        project.compose.version,
        project.compose.argv.join(" ")
    ));
    printer.detail(format!(
        "state in {}, backups in {}",
        project.layout.state_root.display(),
        project.layout.backup_root.display()
    ));
    Ok(project)
}

/// Takes the project's lock for `verb` and refuses to go on over an interrupted restore
/// (its volumes may be half replaced); an interrupted backup is only reported.
pub fn lock_project(
    project: &Project,
    model: &crate::compose::model::ComposeModel,
    verb: &str,
    printer: &Printer,
) -> Result<crate::project::lock::ProjectLock> {
    let state = project.layout.project_state(model.name(), &project.root);
    let lock = crate::project::lock::ProjectLock::acquire(
        &state,
        model.name(),
        verb,
        crate::project::lock::timeout_from_environment()?,
        printer,
    )?;
    if interrupted_run(&state, model.name(), verb, printer)? {
        crate::backup::journal::Journal::clear(&state)?;
    }
    Ok(lock)
}

/// Refuses to `doing` over an interrupted restore of the project whose state is in `state`
/// (its volumes may be half replaced); reports any other interrupted run and says whether
/// there was one (its record may then be cleared).
pub fn interrupted_run(
    state: &std::path::Path,
    project: &str,
    doing: &str,
    printer: &Printer,
) -> Result<bool> {
    let Some(journal) = crate::backup::journal::Journal::read(state)? else {
        return Ok(false);
    };
    let (what, advice) = journal.advice(project);
    if journal.operation == crate::backup::journal::Operation::Restore {
        return Err(crate::report::failure::Failure::new(
            crate::report::exit_status::ExitStatus::Refused,
            format!("refusing to {doing}: {what}"),
        )
        .hint(advice)
        .into());
    }
    printer.warn(format!("{what}; {advice}"));
    Ok(true)
}

/// A project opened for work on its volumes: backup, restore and their bookkeeping.
pub struct Workspace {
    pub project: Project,
    pub model: crate::compose::model::ComposeModel,
    pub engine: crate::engine::api::Engine,
    pub docker: crate::compose::program::DockerCli,
    pub store: crate::backup::store::BackupStore,
    /// The project's state directory (lock, journal).
    pub state: std::path::PathBuf,
}

impl Workspace {
    /// Opens the project, resolves its model for the profile's services (afresh when
    /// `fresh`), and connects to the engine.
    pub fn open(
        global: &crate::cli::GlobalArgs,
        printer: &Printer,
        fresh: bool,
    ) -> Result<Workspace> {
        Workspace::open_scoped(
            global,
            printer,
            fresh,
            crate::project::ServiceScope::Profile,
        )
    }

    /// As `open`, with the model of the services `scope` selects.
    pub fn open_scoped(
        global: &crate::cli::GlobalArgs,
        printer: &Printer,
        fresh: bool,
        scope: crate::project::ServiceScope,
    ) -> Result<Workspace> {
        let project = open(global, printer)?;
        let model = project.model(scope, fresh, printer)?;
        let engine = crate::engine::api::Engine::connect(project.context.as_deref())?;
        let docker = crate::compose::program::DockerCli::locate(project.context.as_deref())?;
        let store =
            crate::backup::store::BackupStore::new(project.layout.project_backups(model.name()));
        let state = project.layout.project_state(model.name(), &project.root);
        Ok(Workspace {
            project,
            model,
            engine,
            docker,
            store,
            state,
        })
    }

    /// An audit entry for `action` on this project, stamped now.
    pub fn audit_entry(
        &self,
        action: &str,
        tier: crate::guard::classifier::Tier,
    ) -> crate::guard::audit_log::AuditEntry {
        crate::guard::audit_log::AuditEntry::now(
            self.model.name(),
            &self.project.profile.name,
            action,
            tier,
        )
    }

    pub fn session<'a>(&'a self, printer: &'a Printer) -> crate::backup::take::VolumeSession<'a> {
        crate::backup::take::VolumeSession {
            project: &self.project,
            model: &self.model,
            engine: &self.engine,
            docker: &self.docker,
            store: &self.store,
            state: self.state.clone(),
            printer,
        }
    }

    /// The volumes of the profile's services (see `volume_target::select`).
    pub fn targets(
        &self,
        requested: &[String],
        anonymous: bool,
    ) -> Result<Vec<crate::backup::target::VolumeTarget>> {
        let containers = self.engine.project_containers(self.model.name())?;
        crate::backup::target::select(
            &self.model,
            &containers,
            &self.project.profile.backup,
            requested,
            anonymous,
        )
    }

    /// Takes the project's lock for `purpose`, then clears what interrupted runs left
    /// (unfinished backup directories, helper containers).
    pub fn lock(
        &self,
        purpose: &str,
        printer: &Printer,
    ) -> Result<crate::project::lock::ProjectLock> {
        let lock = crate::project::lock::ProjectLock::acquire(
            &self.state,
            self.model.name(),
            purpose,
            crate::project::lock::timeout_from_environment()?,
            printer,
        )?;
        for id in self.store.clean_partials()? {
            printer.detail(format!(
                "removed the unfinished backup {id} of an interrupted run"
            ));
        }
        self.engine.remove_stale_helpers(self.model.name())?;
        Ok(lock)
    }
}
