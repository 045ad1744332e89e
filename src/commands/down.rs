//! `devctl down`: stop and remove every container and network of the project — services behind
//! any compose profile included. Volumes stay, unless `--volumes`: then the guard lists them,
//! asks for the project name, backs them up, and devctl removes them (never a protected or an
//! external one) after compose has removed the containers.

use anyhow::Result;

use crate::cli::{DownArgs, GlobalArgs};
use crate::compose::verb_plan::VerbPlan;
use crate::guard::deletion_plan;
use crate::guard::passthrough;
use crate::project::{Project, ServiceScope};
use crate::report::exit_status::ExitStatus;
use crate::report::printer::Printer;

/// Compose's arguments for `down` (never `-v`: devctl removes volumes itself).
fn arguments(args: &DownArgs) -> Vec<String> {
    let mut arguments = vec!["down".to_string()];
    if !args.keep_orphans {
        arguments.push("--remove-orphans".into());
    }
    arguments
}

pub fn plan(project: &Project, args: &DownArgs, printer: &Printer) -> Result<VerbPlan> {
    // Removing containers is destructive: always ask compose afresh.
    let model = project.model(ServiceScope::Everything, true, printer)?;
    let command = project.command(&model, ServiceScope::Everything, &arguments(args));
    let mut plan = VerbPlan::single("down", model, command);
    if args.volumes {
        plan.deletion = Some(deletion_plan::declared(
            &plan.model,
            &project.profile.protected_volumes,
        ));
    }
    Ok(plan)
}

pub fn run(args: &DownArgs, global: &GlobalArgs, printer: &Printer) -> Result<ExitStatus> {
    if global.dry_run && !args.volumes {
        // Nothing to list or confirm: print the command, as `plan down` does, without the engine.
        let project = super::options::open(global, printer)?;
        return plan(&project, args, printer)?.execute(true, printer);
    }
    let workspace =
        super::options::open_workspace(global, printer, ServiceScope::Everything, true)?;
    let step = passthrough::down(arguments(args), args.volumes);
    let status = step.run(&workspace, &super::options::guard_options(global), printer)?;
    if status.is_success() && !global.dry_run {
        let kept: Vec<String> = match args.volumes {
            true => Vec::new(),
            false => workspace.model.volume_names(),
        };
        match kept.is_empty() {
            true => printer.info(format!("{} is down", workspace.model.name())),
            false => printer.info(format!(
                "{} is down; volumes kept: {}",
                workspace.model.name(),
                kept.join(", ")
            )),
        }
    }
    Ok(status)
}
