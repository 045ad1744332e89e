//! `devctl restart [SERVICE]…`: compose's restart of the profile's services — the same
//! containers, stopped and started, never recreated — then the health wait, as `up` waits.

use std::time::Instant;

use anyhow::Result;

use crate::cli::{GlobalArgs, RestartArgs};
use crate::compose::verb_plan::{VerbPlan, WaitPlan};
use crate::engine::api::Engine;
use crate::project::{Project, ServiceScope};
use crate::report::exit_status::ExitStatus;
use crate::report::printer::Printer;

pub fn plan(project: &Project, args: &RestartArgs, printer: &Printer) -> Result<VerbPlan> {
    let model = project.model(ServiceScope::Profile, false, printer)?;
    project.check_services(&model, &args.services)?;
    let known = model.service_names();
    let mut arguments = vec!["restart".to_string()];
    arguments.extend(args.services.iter().cloned());
    let command = project.command(&model, ServiceScope::Profile, &arguments);
    let services = match args.services.is_empty() {
        true => known,
        false => args.services.clone(),
    };
    let mut plan = VerbPlan::single("restart", model, command);
    plan.wait = (!args.no_wait).then(|| WaitPlan {
        services,
        timeout: args.wait_timeout.unwrap_or(project.profile.wait_timeout),
    });
    Ok(plan)
}

pub fn run(args: &RestartArgs, global: &GlobalArgs, printer: &Printer) -> Result<ExitStatus> {
    let started = Instant::now();
    let project = super::options::open(global, printer)?;
    let plan = plan(&project, args, printer)?;
    if global.dry_run {
        return plan.execute(true, printer);
    }
    let engine = Engine::connect(&project.endpoint)?;
    let status = plan.execute_without_input(printer)?;
    match (&plan.wait, status.is_success()) {
        (Some(wait), true) => {
            super::up::wait_for_health(&engine, &project, plan.model.name(), wait, started, printer)
        }
        _ => Ok(status),
    }
}
