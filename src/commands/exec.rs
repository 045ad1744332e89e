//! `devctl exec`: run a command in a service's container, with the profile applied.

use std::io::IsTerminal;

use anyhow::Result;

use crate::cli::{ExecArgs, GlobalArgs};
use crate::compose::verb_plan::VerbPlan;
use crate::project::{Project, ServiceScope};
use crate::report::exit_status::ExitStatus;
use crate::report::printer::Printer;

pub fn plan(project: &Project, args: &ExecArgs, printer: &Printer) -> Result<VerbPlan> {
    let model = project.model(ServiceScope::Profile, false, printer)?;
    project.check_services(&model, std::slice::from_ref(&args.service))?;
    let mut arguments = vec!["exec".to_string()];
    if args.no_tty || !std::io::stdin().is_terminal() {
        arguments.push("-T".into());
    }
    arguments.push(args.service.clone());
    arguments.extend(args.command.iter().cloned());
    let command = project.command(&model, ServiceScope::Profile, &arguments);
    Ok(VerbPlan::single("exec", model, command))
}

pub fn run(args: &ExecArgs, global: &GlobalArgs, printer: &Printer) -> Result<ExitStatus> {
    let project = super::options::open(global, printer)?;
    let plan = plan(&project, args, printer)?;
    plan.execute(global.dry_run, printer)
}
