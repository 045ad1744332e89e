//! `devctl down`: stop and remove every container and network of the project — services behind
//! any compose profile included — and never a volume.

use anyhow::Result;

use crate::cli::{DownArgs, GlobalArgs};
use crate::printer::Printer;
use crate::project::{Project, ServiceScope};
use crate::verb_plan::VerbPlan;

pub fn plan(project: &Project, args: &DownArgs, printer: &Printer) -> Result<VerbPlan> {
    // Removing containers is destructive: always ask compose afresh.
    let model = project.model(ServiceScope::Everything, true, printer)?;
    let mut arguments = vec!["down".to_string()];
    if !args.keep_orphans {
        arguments.push("--remove-orphans".into());
    }
    let command = project.command(&model, ServiceScope::Everything, &arguments);
    Ok(VerbPlan::single("down", model, command))
}

pub fn run(args: &DownArgs, global: &GlobalArgs, printer: &Printer) -> Result<u8> {
    let project = super::open(global, printer)?;
    let plan = plan(&project, args, printer)?;
    let _lock = match global.dry_run {
        true => None,
        false => Some(super::lock_project(&project, &plan.model, "down", printer)?),
    };
    let code = super::execute(&plan, global.dry_run, printer)?;
    if code == 0 && !global.dry_run {
        let volumes = plan.model.volume_names();
        let kept = if volumes.is_empty() {
            String::new()
        } else {
            format!("; volumes kept: {}", volumes.join(", "))
        };
        printer.info(format!("{} is down{kept}", plan.model.name()));
    }
    Ok(code)
}
