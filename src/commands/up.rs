//! `devctl up`: start the profile's services detached, then wait for health.

use std::time::Instant;

use anyhow::Result;

use crate::backup::workspace::Workspace;
use crate::cli::{GlobalArgs, UpArgs};
use crate::compose::up_plan::{self, UpOptions};
use crate::compose::verb_plan::WaitPlan;
use crate::engine::api::Engine;
use crate::engine::bind_sources;
use crate::engine::health_report;
use crate::engine::health_wait::{self, WaitOutcome};
use crate::guard::passthrough;
use crate::project::Project;
use crate::project::{ServiceScope, required_variables};
use crate::report::exit_status::ExitStatus;
use crate::report::printer::Printer;

/// `up`'s flags (each also from its environment variable) as the plan's options.
pub fn options(args: &UpArgs) -> UpOptions {
    UpOptions {
        services: args.services.clone(),
        wait: !args.no_wait,
        wait_timeout: args.wait_timeout,
        build: args.build,
        no_cache: args.no_cache,
        pull: args.pull,
    }
}

pub fn run(args: &UpArgs, global: &GlobalArgs, printer: &Printer) -> Result<ExitStatus> {
    let started = Instant::now();
    let project = super::options::open_checked(global, printer, |project| {
        if args.skip_env_check {
            return Ok(());
        }
        match (required_variables::check(project), global.dry_run) {
            // A dry run starts nothing: it says what a real up would refuse.
            (Err(error), true) => {
                printer.warn(format!("{error:#}"));
                Ok(())
            }
            (result, _) => result,
        }
    })?;
    let mut plan = up_plan::plan(&project, &options(args), printer)?;
    if global.dry_run {
        return plan.execute(true, printer);
    }
    let workspace = Workspace::new(project, ServiceScope::Profile, false, printer)?;
    let _lock = crate::backup::journal::lock_and_settle(
        &workspace.project,
        plan.model.name(),
        workspace.engine.endpoint(),
        "up",
        printer,
    )?;
    // A drill killed earlier left its sibling project: it goes before anything starts.
    crate::backup::drill_leftovers::clear_abandoned(
        &workspace.engine,
        &workspace.state,
        plan.model.name(),
        printer,
    )?;
    let starting = match args.services.is_empty() {
        true => plan.model.service_names(),
        false => plan.model.with_dependencies(&args.services),
    };
    // A folder of this machine the engine does not have would be an empty one there.
    let advice = bind_sources::Advice::of(&workspace.project);
    bind_sources::check(&workspace.engine, &plan.model, &starting, &advice, printer)?;
    // A published port something else holds would fail compose half-way: said first.
    crate::engine::port_check::check(
        &workspace.engine,
        &plan.model,
        &starting,
        &workspace.project.compose_file_paths(),
        workspace.project.root.path(),
        printer,
    )?;
    // Whose checkout the project is, and which volumes compose would recreate: the guard
    // decides before compose runs, and compose asks nothing itself.
    let arguments = plan.last_arguments(&workspace.project);
    let step = passthrough::up(arguments.clone());
    let guard = super::options::guard_options(global);
    if let Some(step) = step.authorize(&workspace, &guard, printer)?
        && step.arguments != arguments
    {
        plan.set_last_arguments(&workspace.project, &step.arguments);
    }
    let status = plan.execute_without_input(printer)?;
    if !status.is_success() {
        return Ok(status);
    }
    crate::guard::checkout_owner::claim(&workspace)?;
    let (engine, project) = (&workspace.engine, &workspace.project);
    let Some(wait) = &plan.wait else {
        crate::fidelity::check::report(engine, project, printer)?;
        return Ok(ExitStatus::Success);
    };
    let status = wait_for_health(engine, project, plan.model.name(), wait, started, printer)?;
    if status.is_success() {
        crate::fidelity::check::report(engine, project, printer)?;
    }
    Ok(status)
}

/// Waits for `wait`'s services of project `name` (counting from `started`) and reports them
/// ready, or fails with the health report.
pub fn wait_for_health(
    engine: &Engine,
    project: &Project,
    name: &str,
    wait: &WaitPlan,
    started: Instant,
    printer: &Printer,
) -> Result<ExitStatus> {
    match health_wait::wait(engine, name, &wait.services, wait.timeout, started)? {
        WaitOutcome::Interrupted(signal) => Ok(ExitStatus::Interrupted(signal)),
        WaitOutcome::Ready(containers) => {
            health_report::report_ready(name, &containers, started.elapsed(), printer);
            Ok(ExitStatus::Success)
        }
        WaitOutcome::Failed { containers, cause } => Err(health_report::report_failure(
            engine,
            &containers,
            cause,
            wait.timeout,
            project.stack(),
            printer,
        )
        .into()),
    }
}
