//! `devctl build [SERVICE]…`: compose's build of the profile's services (of the fidelity
//! stack with `--fidelity`, whose services build their shipped stage).

use anyhow::Result;

use crate::cli::{BuildArgs, GlobalArgs};
use crate::compose::verb_plan::VerbPlan;
use crate::project::{Project, ServiceScope};
use crate::report::exit_status::ExitStatus;
use crate::report::printer::Printer;

pub fn plan(project: &Project, args: &BuildArgs, printer: &Printer) -> Result<VerbPlan> {
    let model = project.model(ServiceScope::Profile, false, printer)?;
    project.check_services(&model, &args.services)?;
    let mut arguments = vec!["build".to_string()];
    if args.no_cache {
        arguments.push("--no-cache".into());
    }
    if args.pull {
        arguments.push("--pull".into());
    }
    arguments.extend(args.services.iter().cloned());
    let command = project.command(&model, ServiceScope::Profile, &arguments);
    Ok(VerbPlan::single("build", model, command))
}

pub fn run(args: &BuildArgs, global: &GlobalArgs, printer: &Printer) -> Result<ExitStatus> {
    let project = super::options::open(global, printer)?;
    plan(&project, args, printer)?.execute(global.dry_run, printer)
}
