//! `devctl compose [--] ARGS…`: any compose command, with the profile's files, env files,
//! compose profiles and project name applied — through the guard first (see
//! `guard::passthrough`).

use anyhow::Result;

use crate::cli::{ComposeArgs, GlobalArgs};
use crate::guard::passthrough::{self, Route};
use crate::project::ServiceScope;
use crate::report::exit_status::ExitStatus;
use crate::report::printer::Printer;

pub fn run(args: &ComposeArgs, global: &GlobalArgs, printer: &Printer) -> Result<ExitStatus> {
    let variables: Vec<&str> = passthrough::RETARGETING_VARIABLES
        .iter()
        .copied()
        .filter(|name| std::env::var_os(name).is_some_and(|value| !value.is_empty()))
        .collect();
    match passthrough::route(&args.arguments, &variables, super::options::stack(global))? {
        Route::Direct => {
            let project = super::options::open(global, printer)?;
            let model = project.model(ServiceScope::Profile, false, printer)?;
            let command = project.command(&model, ServiceScope::Profile, &args.arguments);
            if global.dry_run {
                printer.data(format!("{}\n", command.line()));
                return Ok(ExitStatus::Success);
            }
            printer.detail(format!("running: {}", command.line()));
            command.run()
        }
        Route::Guarded(step) => {
            let workspace =
                super::options::open_workspace(global, printer, ServiceScope::Everything, true)?;
            step.run(&workspace, &super::options::guard_options(global), printer)
        }
    }
}
