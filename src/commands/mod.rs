//! One module per verb; `dispatch` routes the parsed command line to it.

pub mod completions;
pub mod down;
pub mod exec;
pub mod logs;
pub mod plan;
pub mod profiles;
pub mod status;
pub mod up;

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::printer::Printer;
use crate::project::Project;
use crate::verb_plan::VerbPlan;

/// Runs the verb and returns the exit code to leave with.
pub fn dispatch(cli: &Cli, printer: &Printer) -> Result<u8> {
    let global = &cli.global;
    match &cli.command {
        Command::Up(args) => up::run(args, global, printer),
        Command::Down(args) => down::run(args, global, printer),
        Command::Status(args) => status::run(args, global, printer),
        Command::Logs(args) => logs::run(args, global, printer),
        Command::Exec(args) => exec::run(args, global, printer),
        Command::Profiles(args) => profiles::run(args, global, printer),
        Command::Plan(args) => plan::run(args, global, printer),
        Command::Completions(args) => completions::run(args),
    }
}

/// Runs a plan's compose commands in order, stopping at the first that fails; under
/// `--dry-run` prints them instead. Returns the exit code of the last command run.
pub fn execute(plan: &VerbPlan, dry_run: bool, printer: &Printer) -> Result<u8> {
    if dry_run {
        printer.data(plan.text());
        return Ok(0);
    }
    for command in &plan.commands {
        printer.detail(format!("running: {}", command.line()));
        let code = command.run()?;
        if code != 0 {
            return Ok(code);
        }
    }
    Ok(0)
}

/// Opens the project named by the global flags (shared by every verb that runs compose).
pub fn open(global: &crate::cli::GlobalArgs, printer: &Printer) -> Result<Project> {
    let project = Project::open(global)?;
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
