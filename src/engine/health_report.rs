//! What the health wait found, for people: one line per service, and for the services that
//! failed their last health checks and log lines.

use console::style;

use crate::engine::api::Engine;
use crate::engine::health_wait::{ContainerWait, FailureCause, Verdict};
use crate::report::command_line::Stack;
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
/// failure to report (exit status `Unhealthy`), whose hint names the `stack` waited for.
pub(crate) fn report_failure(
    engine: &Engine,
    containers: &[ContainerWait],
    cause: FailureCause,
    timeout: std::time::Duration,
    stack: Stack,
    printer: &Printer,
) -> Failure {
    let is_cause = |container: &ContainerWait| is_cause(container, cause);
    for container in containers {
        let mark = if container.verdict.is_ready() {
            style("✔").green()
        } else if is_cause(container) {
            style("✘").red()
        } else {
            style("…").dim()
        };
        printer.report(format!("  {mark} {}", describe(container)));
    }
    let failing: Vec<&ContainerWait> = containers.iter().filter(|c| is_cause(c)).collect();
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
    printer.report("");
    failure(&failing, cause, timeout, stack)
}

/// Whether `container` is why the wait failed. A service still starting is the cause only when
/// the time ran out; when another crashed or failed, it is shown as it is, without a log
/// section of its own.
fn is_cause(container: &ContainerWait, cause: FailureCause) -> bool {
    !container.verdict.is_ready()
        && (matches!(cause, FailureCause::TimedOut)
            || !matches!(container.verdict, Verdict::Pending))
}

/// The failure for the services that are not ready, by why the wait ended.
fn failure(
    failing: &[&ContainerWait],
    cause: FailureCause,
    timeout: std::time::Duration,
    stack: Stack,
) -> Failure {
    let names: Vec<&str> = failing.iter().map(|c| c.service.as_str()).collect();
    let first = names.first().copied().unwrap_or_default();
    let message = match cause {
        FailureCause::TimedOut => format!(
            "{}: not healthy after {}",
            names.join(", "),
            humantime::format_duration(timeout)
        ),
        FailureCause::Failed => format!("{}: failed", names.join(", ")),
        FailureCause::Crashed => return crash_failure(failing, stack),
    };
    Failure::new(ExitStatus::Unhealthy, message).hint(format!(
        "read `{}`; fix the healthcheck or the service, or allow longer with --wait-timeout (profile key up.wait_timeout)",
        stack.devctl(&format!("logs {first}"))
    ))
}

/// `app: crashed (exit 3, restarted 1 time)` for each crashed service, then the other
/// services that failed; services still starting are not the cause and are not named.
fn crash_failure(failing: &[&ContainerWait], stack: Stack) -> Failure {
    let mut causes: Vec<String> = Vec::new();
    let mut crashed: Vec<&str> = Vec::new();
    for container in failing {
        if let Verdict::Crashed {
            exit_code,
            restarts,
        } = container.verdict
        {
            causes.push(format!(
                "{}: crashed ({})",
                container.service,
                crash_details(exit_code, restarts)
            ));
            crashed.push(&container.service);
        }
    }
    let others: Vec<&str> = failing
        .iter()
        .filter(|container| matches!(container.verdict, Verdict::Failed(_)))
        .map(|container| container.service.as_str())
        .collect();
    if !others.is_empty() {
        causes.push(format!("{}: failed", others.join(", ")));
    }
    Failure::new(ExitStatus::Unhealthy, causes.join("; ")).hint(format!(
        "read `{}`; its command exits with an error: fix the command, its configuration or what it needs at start",
        stack.devctl(&format!("logs {}", crashed.first().copied().unwrap_or_default()))
    ))
}

/// `exit 3`, or `exit 3, restarted 2 times` when the engine has restarted the container.
fn crash_details(exit_code: i64, restarts: i64) -> String {
    format!("exit {exit_code}{}", restarted(restarts))
}

/// `, restarted 2 times`, or nothing when the engine has not restarted the container.
fn restarted(restarts: i64) -> String {
    match restarts {
        0 => String::new(),
        1 => ", restarted 1 time".to_string(),
        _ => format!(", restarted {restarts} times"),
    }
}

/// One line for a container's wait: its service, state and how long it took.
pub fn describe(container: &ContainerWait) -> String {
    let state = match &container.verdict {
        Verdict::Healthy => "healthy".to_string(),
        Verdict::Running => "running (no healthcheck)".to_string(),
        Verdict::Completed => "completed (exit 0)".to_string(),
        Verdict::Pending => "still starting".to_string(),
        Verdict::Crashed {
            exit_code,
            restarts,
        } => format!(
            "crashed: exited with code {exit_code}{}",
            restarted(*restarts)
        ),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn waited(service: &str, verdict: Verdict) -> ContainerWait {
        ContainerWait {
            service: service.to_string(),
            container: format!("project-{service}-1"),
            verdict,
            took: None,
            health_outputs: Vec::new(),
        }
    }

    /// The failure's message; its status is always `Unhealthy`.
    fn message(failing: &[ContainerWait], cause: FailureCause) -> String {
        let failing: Vec<&ContainerWait> = failing.iter().collect();
        let failure = failure(
            &failing,
            cause,
            std::time::Duration::from_secs(120),
            Stack::live(),
        );
        assert_eq!(failure.status, ExitStatus::Unhealthy);
        failure.to_string()
    }

    /// The failure's hint for a wait on `stack`.
    fn hint(failing: &[ContainerWait], cause: FailureCause, stack: Stack) -> String {
        let failing: Vec<&ContainerWait> = failing.iter().collect();
        failure(&failing, cause, std::time::Duration::from_secs(120), stack)
            .hint
            .unwrap_or_default()
    }

    #[test]
    fn the_logs_hint_names_the_stack_waited_for() {
        let crashed = waited(
            "app",
            Verdict::Crashed {
                exit_code: 3,
                restarts: 0,
            },
        );
        let slow = waited("db", Verdict::Pending);
        for (failing, cause, live, fidelity) in [
            (
                &crashed,
                FailureCause::Crashed,
                "read `devctl logs app`",
                "read `devctl logs app --fidelity`",
            ),
            (
                &slow,
                FailureCause::TimedOut,
                "read `devctl logs db`",
                "read `devctl logs db --fidelity`",
            ),
        ] {
            let failing = std::slice::from_ref(failing);
            assert!(hint(failing, cause, Stack::live()).starts_with(live));
            assert!(hint(failing, cause, Stack::fidelity()).starts_with(fidelity));
        }
    }

    #[test]
    fn a_service_still_starting_is_a_cause_only_when_the_time_ran_out() {
        let starting = waited("db", Verdict::Pending);
        let ready = waited("cache", Verdict::Running);
        assert!(is_cause(&starting, FailureCause::TimedOut));
        assert!(!is_cause(&starting, FailureCause::Crashed));
        assert!(!is_cause(&starting, FailureCause::Failed));
        for cause in [
            FailureCause::TimedOut,
            FailureCause::Crashed,
            FailureCause::Failed,
        ] {
            assert!(!is_cause(&ready, cause));
        }
        let crashed = waited(
            "web",
            Verdict::Crashed {
                exit_code: 3,
                restarts: 1,
            },
        );
        assert!(is_cause(&crashed, FailureCause::Crashed));
    }

    #[test]
    fn a_crash_is_named_with_its_exit_code_and_restarts() {
        let app = waited(
            "app",
            Verdict::Crashed {
                exit_code: 3,
                restarts: 1,
            },
        );
        assert_eq!(
            message(&[app], FailureCause::Crashed),
            "app: crashed (exit 3, restarted 1 time)"
        );
        let job = waited(
            "job",
            Verdict::Crashed {
                exit_code: 4,
                restarts: 0,
            },
        );
        let worker = waited(
            "worker",
            Verdict::Crashed {
                exit_code: 1,
                restarts: 5,
            },
        );
        let sick = waited("sick", Verdict::Failed("unhealthy".into()));
        let db = waited("db", Verdict::Pending);
        assert_eq!(
            message(&[db, job, sick, worker], FailureCause::Crashed),
            "job: crashed (exit 4); worker: crashed (exit 1, restarted 5 times); sick: failed"
        );
    }

    #[test]
    fn a_timeout_and_a_failure_read_as_before() {
        let db = waited("db", Verdict::Pending);
        let app = waited("app", Verdict::Failed("unhealthy".into()));
        assert_eq!(
            message(std::slice::from_ref(&db), FailureCause::TimedOut),
            "db: not healthy after 2m"
        );
        assert_eq!(message(&[app, db], FailureCause::Failed), "app, db: failed");
    }

    #[test]
    fn a_crash_is_described_on_its_line() {
        let line = describe(&waited(
            "app",
            Verdict::Crashed {
                exit_code: 3,
                restarts: 2,
            },
        ));
        assert!(
            line.ends_with("crashed: exited with code 3, restarted 2 times"),
            "{line}"
        );
    }
}
