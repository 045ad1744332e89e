//! What the health wait found, for people: one line per service, and for the services that
//! failed their last health checks and log lines.

use console::style;

use crate::engine::api::Engine;
use crate::engine::health_wait::{ContainerWait, Verdict};
use crate::report::exit_status::ExitStatus;
use crate::report::failure::Failure;
use crate::report::printer::Printer;

/// Lines of each failing service's log shown after a failed wait.
const LOG_TAIL_LINES: usize = 20;

/// Every service ready: a line each, then how long `project` took to come up.
pub(crate) fn report_ready(
    project: &str,
    containers: &[ContainerWait],
    took: std::time::Duration,
    printer: &Printer,
) {
    for container in containers {
        printer.info(format!("  {} {}", style("✔").green(), describe(container)));
    }
    printer.info(format!(
        "{project} is up ({} services) in {:.1}s",
        containers.len(),
        took.as_secs_f64()
    ));
}

/// Shows every service's state and the failing ones' health checks and logs; returns the
/// failure to report (exit status `Unhealthy`).
pub(crate) fn report_failure(
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
