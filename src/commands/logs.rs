//! `devctl logs`: the services' logs, through compose with the profile applied.

use anyhow::Result;

use crate::cli::{GlobalArgs, LogsArgs};
use crate::compose::verb_plan::VerbPlan;
use crate::project::{Project, ServiceScope};
use crate::report::exit_status::ExitStatus;
use crate::report::printer::Printer;

pub fn plan(project: &Project, args: &LogsArgs, printer: &Printer) -> Result<VerbPlan> {
    let model = project.model(ServiceScope::Profile, false, printer)?;
    let mut arguments = vec!["logs".to_string()];
    if args.follow {
        arguments.push("--follow".into());
    }
    if let Some(tail) = &args.tail {
        arguments.extend(["--tail".into(), tail.clone()]);
    }
    arguments.extend(args.services.iter().cloned());
    let command = project.command(&model, ServiceScope::Profile, &arguments);
    Ok(VerbPlan::single("logs", model, command))
}

pub fn run(args: &LogsArgs, global: &GlobalArgs, printer: &Printer) -> Result<ExitStatus> {
    let project = super::options::open(global, printer)?;
    let plan = plan(&project, args, printer)?;
    plan.execute(global.dry_run, printer)
}
