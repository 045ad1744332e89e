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

use crate::backup::workspace::Workspace;
use crate::cli::{Cli, Command, GlobalArgs, GuardArgs};
use crate::compose::verb_plan::VerbPlan;
use crate::guard::confirmation::Confirmation;
use crate::guard::step::GuardOptions;
use crate::project::{Project, ProjectOptions, ServiceScope};
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
        crate::fidelity::entry::enter(&mut project, printer)?;
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

/// Opens the project named by the global flags for work on its volumes, with the model of
/// the services `scope` selects (afresh when `fresh`).
pub fn open_workspace(
    global: &GlobalArgs,
    printer: &Printer,
    scope: ServiceScope,
    fresh: bool,
) -> Result<Workspace> {
    Workspace::new(open(global, printer)?, scope, fresh, printer)
}

/// What the global flags say about a destructive step: `--dry-run`, `--confirm`, `--yes`,
/// `--no-backup`, `--allow-other-checkout`, and the profile asked for.
pub fn guard_options(global: &GlobalArgs) -> GuardOptions {
    GuardOptions {
        dry_run: global.dry_run,
        confirmation: Confirmation::from(&global.guard),
        no_backup: global.guard.no_backup,
        allow_other_checkout: global.guard.allow_other_checkout,
        profile: global.profile_name().map(str::to_string),
    }
}
