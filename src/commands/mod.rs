//! One module per verb; `dispatch` routes the parsed command line to it. `options` turns
//! the global flags into the library's plain options.

pub mod backup;
pub mod build;
pub mod completions;
pub mod compose;
pub mod doctor;
pub mod down;
pub mod exec;
pub mod init;
pub mod logs;
pub mod ls;
pub mod man;
pub mod open;
pub mod options;
pub mod plan;
pub mod profiles;
pub mod restart;
pub mod restore;
pub mod shell;
pub mod status;
pub mod up;

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::report::exit_status::ExitStatus;
use crate::report::printer::Printer;

/// Runs the verb and returns the exit code to leave with.
pub fn dispatch(cli: &Cli, printer: &Printer) -> Result<ExitStatus> {
    let global = &cli.global;
    match &cli.command {
        Command::Up(args) => up::run(args, global, printer),
        Command::Down(args) => down::run(args, global, printer),
        Command::FidelityUp(args) => up::run(args, &options::fidelity(global), printer),
        Command::FidelityDown(args) => down::run(args, &options::fidelity(global), printer),
        Command::Status(args) => status::run(args, global, printer),
        Command::Logs(args) => logs::run(args, global, printer),
        Command::Backup(args) => backup::run(args, global, printer),
        Command::Restore(args) => restore::run(args, global, printer),
        Command::Exec(args) => exec::run(args, global, printer),
        Command::Shell(args) => shell::run(args, global, printer),
        Command::Open(args) => open::run(args, global, printer),
        Command::Ls(args) => ls::run(args, global, printer),
        Command::Restart(args) => restart::run(args, global, printer),
        Command::Build(args) => build::run(args, global, printer),
        Command::Profiles(args) => profiles::run(args, global, printer),
        Command::Compose(args) => compose::run(args, global, printer),
        Command::Doctor(args) => doctor::run(args, global, printer),
        Command::Plan(args) => plan::run(args, global, printer),
        Command::Init(args) => init::run(args, global, printer),
        Command::Completions(args) => completions::run(args),
        Command::Man(args) => man::run(args, printer),
    }
}
