//! `devctl up`: start the profile's services detached, then wait for health.

use std::time::Instant;

use anyhow::Result;
use console::style;

use crate::cli::{GlobalArgs, UpArgs};
use crate::compose::verb_plan::{VerbPlan, WaitPlan};
use crate::engine::api::Engine;
use crate::engine::health_wait::{self, ContainerWait, Verdict, WaitOutcome};
use crate::project::{Project, ServiceScope};
use crate::report::exit_status::ExitStatus;
use crate::report::failure::Failure;
use crate::report::printer::Printer;

/// Lines of each failing service's log shown after a failed wait.
const LOG_TAIL_LINES: usize = 20;

pub fn plan(project: &Project, args: &UpArgs, printer: &Printer) -> Result<VerbPlan> {
    let model = project.model(ServiceScope::Profile, false, printer)?;
    let known = model.service_names();
    if let Some(unknown) = args
        .services
        .iter()
        .find(|service| !known.contains(service))
    {
        return Err(Failure::bad_input(format!(
            "service `{unknown}` is not in profile `{}`",
            project.profile.name
        ))
        .hint(format!("services: {}", known.join(", ")))
        .into());
    }
    let mut commands = Vec::new();
    // A build without the cache, or pulling base images, runs first; the fidelity stack is
    // built at every up (a warm build is all cache hits).
    let prebuild = args.no_cache || args.pull;
    if prebuild {
        let mut build = vec!["build".to_string()];
        if args.no_cache {
            build.push("--no-cache".into());
        }
        if args.pull {
            build.push("--pull".into());
        }
        build.extend(args.services.iter().cloned());
        commands.push(project.command(&model, ServiceScope::Profile, &build));
    }
    let mut arguments = vec!["up".to_string(), "--detach".to_string()];
    if (args.build || project.fidelity.is_some()) && !prebuild {
        arguments.push("--build".into());
    }
    arguments.extend(args.services.iter().cloned());
    commands.push(project.command(&model, ServiceScope::Profile, &arguments));
    let services = if args.services.is_empty() {
        known
    } else {
        model.with_dependencies(&args.services)
    };
    let wait = (!args.no_wait).then(|| WaitPlan {
        services,
        timeout: args.wait_timeout.unwrap_or(project.profile.wait_timeout),
    });
    Ok(VerbPlan {
        verb: "up",
        model,
        commands,
        wait,
        deletion: None,
    })
}

pub fn run(args: &UpArgs, global: &GlobalArgs, printer: &Printer) -> Result<ExitStatus> {
    let started = Instant::now();
    let project = super::open_checked(global, printer, |project| {
        if args.skip_env_check {
            return Ok(());
        }
        match (check_environment(project), global.dry_run) {
            // A dry run starts nothing: it says what a real up would refuse.
            (Err(error), true) => {
                printer.warn(format!("{error:#}"));
                Ok(())
            }
            (result, _) => result,
        }
    })?;
    let plan = plan(&project, args, printer)?;
    if global.dry_run {
        return super::execute(&plan, true, printer);
    }
    let engine = Engine::connect(project.context.as_deref())?;
    let _lock =
        crate::backup::journal::lock_and_settle(&project, plan.model.name(), "up", printer)?;
    let status = super::execute(&plan, false, printer)?;
    if !status.is_success() {
        return Ok(status);
    }
    let Some(wait) = &plan.wait else {
        report_fidelity(&engine, &project, printer)?;
        return Ok(ExitStatus::Success);
    };
    match health_wait::wait(
        &engine,
        plan.model.name(),
        &wait.services,
        wait.timeout,
        started,
    )? {
        WaitOutcome::Interrupted(signal) => Ok(ExitStatus::Interrupted(signal)),
        WaitOutcome::Ready(containers) => {
            for container in &containers {
                printer.info(format!("  {} {}", style("✔").green(), describe(container)));
            }
            printer.info(format!(
                "{} is up ({} services) in {:.1}s",
                plan.model.name(),
                containers.len(),
                started.elapsed().as_secs_f64()
            ));
            report_fidelity(&engine, &project, printer)?;
            Ok(ExitStatus::Success)
        }
        WaitOutcome::Failed {
            containers,
            timed_out,
        } => Err(report_failure(&engine, &containers, timed_out, wait.timeout, printer).into()),
    }
}

/// For the fidelity stack: the moved ports, the generated file, and the verification.
fn report_fidelity(engine: &Engine, project: &Project, printer: &Printer) -> Result<()> {
    let Some(stack) = &project.fidelity else {
        return Ok(());
    };
    for port in &stack.transformed.ports {
        printer.info(format!("  port {}", port.describe()));
    }
    printer.info(format!("  compose file {}", stack.file.display()));
    let verified = crate::fidelity::check::verify(engine, project, stack)?;
    printer.info(verified.summary());
    Ok(())
}

/// Refuses to start when a variable the compose files require (referenced without a
/// default) is unset, or when the variables break the profile's env schema.
fn check_environment(project: &Project) -> Result<()> {
    let defined = crate::compose::variables::defined_variables(&project.env_file_paths());
    let mut missing: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for file in project.compose_file_paths() {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let shown = crate::doctor::finding::shown(&file, project.root.path());
        for reference in crate::compose::variables::references(&text) {
            if reference.is_unset_in(&defined) {
                missing.entry(reference.name).or_default().push(format!(
                    "{}:{}:{}",
                    shown.display(),
                    reference.line,
                    reference.column
                ));
            }
        }
    }
    let mut problems: Vec<String> = missing
        .iter()
        .map(|(name, places)| format!("{name} (used at {})", places.join(", ")))
        .collect();
    problems.extend(crate::project::env_check::schema_problems(project)?);
    if problems.is_empty() {
        return Ok(());
    }
    let env_files: Vec<String> = project
        .env_file_paths()
        .iter()
        .map(|path| {
            crate::doctor::finding::shown(path, project.root.path())
                .display()
                .to_string()
        })
        .collect();
    let schema_problems = problems.len() - missing.len();
    let what = match (missing.len(), schema_problems) {
        (1, 0) => "a required variable is unset",
        (_, 0) => "required variables are unset",
        (0, _) => "the variables do not satisfy doctor.env_schema",
        _ => "required variables are unset or invalid",
    };
    Err(Failure::bad_input(format!(
        "refusing to start: {what}:\n  {}",
        problems.join("\n  ")
    ))
    .hint(format!(
        "set them in the environment or in {}, give each a default (${{NAME:-value}}), or pass --skip-env-check (DEVCTL_SKIP_ENV_CHECK=1)",
        env_files.join(", ")
    ))
    .into())
}

fn describe(container: &ContainerWait) -> String {
    let state = match &container.verdict {
        Verdict::Healthy => "healthy".to_string(),
        Verdict::Running => "running (no healthcheck)".to_string(),
        Verdict::Completed => "completed (exit 0)".to_string(),
        Verdict::Pending => "still starting".to_string(),
        Verdict::Failed(reason) => reason.clone(),
    };
    let took = match container.took {
        Some(took) => format!(" after {:.1}s", took.as_secs_f64()),
        None if matches!(container.verdict, Verdict::Healthy | Verdict::Running) => {
            " (already)".to_string()
        }
        None => String::new(),
    };
    format!("{:<16} {state}{took}", container.service)
}

/// Shows every service's state and the failing ones' health checks and logs; returns the
/// failure to report (exit status `Unhealthy`).
fn report_failure(
    engine: &Engine,
    containers: &[ContainerWait],
    timed_out: bool,
    timeout: std::time::Duration,
    printer: &Printer,
) -> Failure {
    let is_ready = |container: &ContainerWait| container.verdict.is_ready();
    for container in containers {
        let mark = if is_ready(container) {
            style("✔").green()
        } else {
            style("✘").red()
        };
        printer.report(format!("  {mark} {}", describe(container)));
    }
    let failing: Vec<&ContainerWait> = containers.iter().filter(|c| !is_ready(c)).collect();
    for container in &failing {
        printer.report(format!(
            "\n{} {}",
            style("──").dim(),
            style(&container.service).bold()
        ));
        if !container.health_outputs.is_empty() {
            printer.report("last health checks:");
            for output in &container.health_outputs {
                printer.report(format!("  {output}"));
            }
        }
        match engine.log_tail(&container.container, LOG_TAIL_LINES) {
            Ok(log) if !log.trim().is_empty() => {
                printer.report(format!("last {LOG_TAIL_LINES} log lines:"));
                for line in log.lines() {
                    printer.report(format!("  {line}"));
                }
            }
            Ok(_) => printer.report("(its log is empty)"),
            Err(error) => printer.report(format!("(its log could not be read: {error:#})")),
        }
    }
    let names: Vec<&str> = failing.iter().map(|c| c.service.as_str()).collect();
    let what = if timed_out {
        format!("not healthy after {}", humantime::format_duration(timeout))
    } else {
        "failed".to_string()
    };
    printer.report("");
    Failure::new(
        ExitStatus::Unhealthy,
        format!("{}: {what}", names.join(", ")),
    )
    .hint(format!(
        "read `devctl logs {}`; fix the healthcheck or the service, or allow longer with --wait-timeout (profile key up.wait_timeout)",
        names.first().copied().unwrap_or_default()
    ))
}
