//! `HealthWait`: watches a project's containers until each is healthy, running, or done.
//!
//! A container with a healthcheck must report healthy; one without must have stayed running
//! for a second; a one-shot container (init or migration job) that exited 0 and is not
//! restarted counts as a success. An unhealthy container, a non-zero exit, or the timeout
//! ends the wait as a failure. A crash ends it at once: a non-zero exit with no restart
//! policy, or one after which the engine has already restarted the container (a crash loop
//! is not "still starting").

use std::time::{Duration, Instant, SystemTime};

use anyhow::Result;
use bollard::models::{
    ContainerInspectResponse, ContainerStateStatusEnum, HealthStatusEnum, RestartPolicyNameEnum,
};
use serde::Serialize;

use crate::engine::api::Engine;
use crate::engine::service_status::service_of;
use crate::system::signals;

const POLL: Duration = Duration::from_millis(100);

/// How long a container without a healthcheck must stay up, in one run, to count as running:
/// a command that exits at once is then seen exiting, not taken for a running service.
const STEADY: Duration = Duration::from_secs(1);

/// How one container ended the wait.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Healthy,
    Running,
    /// A one-shot job that exited 0.
    Completed,
    /// Still starting when the wait ended.
    Pending,
    /// Exited with a non-zero code and either not restarted (no restart policy) or restarted
    /// `restarts` times already by the engine.
    Crashed {
        exit_code: i64,
        restarts: i64,
    },
    Failed(String),
}

impl Verdict {
    /// Healthy, running without a healthcheck, or a one-shot job done: nothing to wait for.
    pub fn is_ready(&self) -> bool {
        matches!(
            self,
            Verdict::Healthy | Verdict::Running | Verdict::Completed
        )
    }

    /// Whether the wait ends at once on this verdict.
    fn is_failure(&self) -> bool {
        matches!(self, Verdict::Crashed { .. } | Verdict::Failed(_))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ContainerWait {
    pub service: String,
    pub container: String,
    pub verdict: Verdict,
    /// How long it took to get there, from the start of `up`; none if it was ready before.
    pub took: Option<Duration>,
    /// The last health-check outputs, newest last (for failures).
    pub health_outputs: Vec<String>,
}

pub enum WaitOutcome {
    Ready(Vec<ContainerWait>),
    Failed {
        containers: Vec<ContainerWait>,
        cause: FailureCause,
    },
    Interrupted(i32),
}

/// Why a wait failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureCause {
    /// A container crashed (`Verdict::Crashed`); it takes precedence over the others.
    Crashed,
    /// A container is unhealthy, dead, or exited in a way that is not a crash.
    Failed,
    /// Some container was still starting when the timeout passed.
    TimedOut,
}

/// Waits for the containers of `services` in `project`; `started` is when `up` began.
pub fn wait(
    engine: &Engine,
    project: &str,
    services: &[String],
    timeout: Duration,
    started: Instant,
) -> Result<WaitOutcome> {
    signals::install();
    let started_at = SystemTime::now() - started.elapsed();
    let mut ready_after: std::collections::HashMap<String, Option<Duration>> = Default::default();
    let mut runs = RunsSeen::default();
    loop {
        if let Some(signal) = signals::received() {
            return Ok(WaitOutcome::Interrupted(signal));
        }
        let containers: Vec<ContainerInspectResponse> = engine
            .project_containers(project)?
            .into_iter()
            .filter(|container| {
                service_of(container).is_some_and(|service| services.contains(&service))
            })
            .collect();
        let mut results = Vec::new();
        for container in &containers {
            let name = container
                .name
                .clone()
                .unwrap_or_default()
                .trim_start_matches('/')
                .to_string();
            let mut condition = ContainerCondition::read(container);
            condition.running_for = runs.running_for(&name, container, started_at);
            let verdict = judge(&condition);
            let ready = verdict.is_ready();
            if ready && !ready_after.contains_key(&name) {
                let before = started_before(container, started_at);
                ready_after.insert(name.clone(), (!before).then(|| started.elapsed()));
            }
            results.push(ContainerWait {
                service: service_of(container).unwrap_or_default(),
                took: if ready {
                    ready_after.get(&name).copied().flatten()
                } else {
                    None
                },
                container: name,
                verdict,
                health_outputs: health_outputs(container),
            });
        }
        results.sort_by(|a, b| (&a.service, &a.container).cmp(&(&b.service, &b.container)));
        if results.iter().any(|result| result.verdict.is_failure()) {
            let crashed = results
                .iter()
                .any(|result| matches!(result.verdict, Verdict::Crashed { .. }));
            return Ok(WaitOutcome::Failed {
                containers: results,
                cause: if crashed {
                    FailureCause::Crashed
                } else {
                    FailureCause::Failed
                },
            });
        }
        if results
            .iter()
            .all(|result| result.verdict != Verdict::Pending)
        {
            return Ok(WaitOutcome::Ready(results));
        }
        if started.elapsed() >= timeout {
            return Ok(WaitOutcome::Failed {
                containers: results,
                cause: FailureCause::TimedOut,
            });
        }
        std::thread::sleep(POLL);
    }
}

/// What the wait reads of an inspected container: all that `judge` decides on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerCondition {
    /// None when the engine reported no state.
    pub status: Option<ContainerStateStatusEnum>,
    pub health: Option<HealthStatusEnum>,
    /// The last exit's code; the engine sets it to 0 when the container runs again.
    pub exit_code: i64,
    /// How many times the engine has restarted the container by its restart policy.
    pub restart_count: i64,
    pub restart_policy: Option<RestartPolicyNameEnum>,
    /// How long the wait has seen the container's current run running (`Duration::MAX` for
    /// a run that began before `up`); none when it is not running.
    pub running_for: Option<Duration>,
}

impl ContainerCondition {
    pub fn read(container: &ContainerInspectResponse) -> ContainerCondition {
        let state = container.state.as_ref();
        ContainerCondition {
            status: state.and_then(|state| state.status),
            health: state
                .and_then(|state| state.health.as_ref())
                .and_then(|health| health.status),
            exit_code: state.and_then(|state| state.exit_code).unwrap_or(-1),
            restart_count: container.restart_count.unwrap_or(0),
            restart_policy: container
                .host_config
                .as_ref()
                .and_then(|config| config.restart_policy.as_ref())
                .and_then(|policy| policy.name),
            running_for: None,
        }
    }

    fn restarts_after_success(&self) -> bool {
        matches!(
            self.restart_policy,
            Some(RestartPolicyNameEnum::ALWAYS | RestartPolicyNameEnum::UNLESS_STOPPED)
        )
    }

    fn restarts_at_all(&self) -> bool {
        !matches!(
            self.restart_policy,
            None | Some(RestartPolicyNameEnum::NO | RestartPolicyNameEnum::EMPTY)
        )
    }

    fn crashed(&self) -> Verdict {
        Verdict::Crashed {
            exit_code: self.exit_code,
            restarts: self.restart_count,
        }
    }
}

/// Where one container stands.
///
/// A non-zero exit is a crash when nothing restarts the container, or when the engine has
/// already restarted it at least once (it is exiting again, or waiting to be restarted
/// again): the wait does not sit out its timeout on a crash loop. The first exit of a
/// container that the engine is about to restart for the first time is still starting.
pub fn judge(condition: &ContainerCondition) -> Verdict {
    let Some(status) = condition.status else {
        return Verdict::Pending;
    };
    let code = condition.exit_code;
    match status {
        ContainerStateStatusEnum::RUNNING => match condition.health {
            Some(HealthStatusEnum::HEALTHY) => Verdict::Healthy,
            Some(HealthStatusEnum::UNHEALTHY) => Verdict::Failed("unhealthy".into()),
            Some(HealthStatusEnum::STARTING) => Verdict::Pending,
            _ if condition
                .running_for
                .is_some_and(|running| running >= STEADY) =>
            {
                Verdict::Running
            }
            _ => Verdict::Pending,
        },
        ContainerStateStatusEnum::RESTARTING if code != 0 && condition.restart_count >= 1 => {
            condition.crashed()
        }
        ContainerStateStatusEnum::EXITED => {
            if code == 0 && !condition.restarts_after_success() {
                Verdict::Completed
            } else if code == 0 {
                Verdict::Pending
            } else if !condition.restarts_at_all() || condition.restart_count >= 1 {
                condition.crashed()
            } else {
                Verdict::Failed(format!("exited with code {code}"))
            }
        }
        ContainerStateStatusEnum::DEAD => Verdict::Failed("dead".into()),
        _ => Verdict::Pending,
    }
}

/// The run of each container the wait has seen running: the engine's start time of the run
/// and when the wait first saw it.
#[derive(Default)]
struct RunsSeen(std::collections::HashMap<String, (String, Instant)>);

impl RunsSeen {
    /// How long `container` (named `name`) has been seen running in its current run; a run
    /// that began before `up` (started before `up_started_at`) counts as steady.
    fn running_for(
        &mut self,
        name: &str,
        container: &ContainerInspectResponse,
        up_started_at: SystemTime,
    ) -> Option<Duration> {
        let state = container.state.as_ref()?;
        if state.status != Some(ContainerStateStatusEnum::RUNNING) {
            self.0.remove(name);
            return None;
        }
        if started_before(container, up_started_at) {
            return Some(Duration::MAX);
        }
        let run = state.started_at.clone().unwrap_or_default();
        let seen = self
            .0
            .entry(name.to_string())
            .or_insert_with(|| (run.clone(), Instant::now()));
        if seen.0 != run {
            *seen = (run, Instant::now());
        }
        Some(seen.1.elapsed())
    }
}

fn started_before(container: &ContainerInspectResponse, instant: SystemTime) -> bool {
    container
        .state
        .as_ref()
        .and_then(|state| state.started_at.as_deref())
        .and_then(|text| humantime::parse_rfc3339_weak(text.trim_end_matches('Z')).ok())
        .is_some_and(|started| started < instant)
}

fn health_outputs(container: &ContainerInspectResponse) -> Vec<String> {
    let log = container
        .state
        .as_ref()
        .and_then(|state| state.health.as_ref())
        .and_then(|health| health.log.as_ref());
    let Some(log) = log else {
        return Vec::new();
    };
    log.iter()
        .rev()
        .take(3)
        .rev()
        .map(|entry| {
            format!(
                "exit {}: {}",
                entry.exit_code.unwrap_or(-1),
                entry.output.as_deref().unwrap_or_default().trim()
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ContainerStateStatusEnum::{EXITED, RESTARTING, RUNNING};
    use RestartPolicyNameEnum::{ALWAYS, NO, ON_FAILURE, UNLESS_STOPPED};

    fn condition(
        status: ContainerStateStatusEnum,
        exit_code: i64,
        restart_count: i64,
        restart_policy: Option<RestartPolicyNameEnum>,
    ) -> ContainerCondition {
        ContainerCondition {
            status: Some(status),
            health: None,
            exit_code,
            restart_count,
            restart_policy,
            running_for: None,
        }
    }

    fn with_health(health: HealthStatusEnum, condition: ContainerCondition) -> ContainerCondition {
        ContainerCondition {
            health: Some(health),
            ..condition
        }
    }

    fn running_for(running_for: Duration, condition: ContainerCondition) -> ContainerCondition {
        ContainerCondition {
            running_for: Some(running_for),
            ..condition
        }
    }

    #[test]
    fn running_and_healthy_is_ready() {
        let running = condition(RUNNING, 0, 0, Some(UNLESS_STOPPED));
        assert_eq!(
            judge(&with_health(HealthStatusEnum::HEALTHY, running.clone())),
            Verdict::Healthy
        );
    }

    #[test]
    fn running_without_a_healthcheck_is_ready_once_it_stayed_up() {
        let running = condition(RUNNING, 0, 0, Some(UNLESS_STOPPED));
        // Just started: a command that exits at once would look like this too.
        assert_eq!(judge(&running), Verdict::Pending);
        assert_eq!(
            judge(&running_for(Duration::from_millis(100), running.clone())),
            Verdict::Pending
        );
        assert_eq!(
            judge(&running_for(STEADY, running.clone())),
            Verdict::Running
        );
        // Running since before `up`.
        assert_eq!(
            judge(&running_for(Duration::MAX, running.clone())),
            Verdict::Running
        );
        // A healthcheck that passed needs no wait.
        assert_eq!(
            judge(&with_health(HealthStatusEnum::HEALTHY, running)),
            Verdict::Healthy
        );
    }

    #[test]
    fn starting_is_pending() {
        let starting = with_health(
            HealthStatusEnum::STARTING,
            condition(RUNNING, 0, 0, Some(UNLESS_STOPPED)),
        );
        assert_eq!(judge(&starting), Verdict::Pending);
        assert_eq!(
            judge(&condition(ContainerStateStatusEnum::CREATED, 0, 0, None)),
            Verdict::Pending
        );
        assert_eq!(judge(&ContainerCondition::default()), Verdict::Pending);
    }

    #[test]
    fn unhealthy_fails_but_is_no_crash() {
        let unhealthy = with_health(
            HealthStatusEnum::UNHEALTHY,
            condition(RUNNING, 0, 0, Some(UNLESS_STOPPED)),
        );
        assert_eq!(judge(&unhealthy), Verdict::Failed("unhealthy".into()));
    }

    #[test]
    fn exited_zero_completes_unless_restarted_after_success() {
        for policy in [None, Some(NO), Some(ON_FAILURE)] {
            assert_eq!(
                judge(&condition(EXITED, 0, 0, policy)),
                Verdict::Completed,
                "{policy:?}"
            );
        }
        for policy in [ALWAYS, UNLESS_STOPPED] {
            assert_eq!(
                judge(&condition(EXITED, 0, 0, Some(policy))),
                Verdict::Pending
            );
            assert_eq!(
                judge(&condition(RESTARTING, 0, 1, Some(policy))),
                Verdict::Pending
            );
        }
    }

    #[test]
    fn exited_non_zero_without_restart_policy_crashed() {
        for policy in [None, Some(NO), Some(RestartPolicyNameEnum::EMPTY)] {
            assert_eq!(
                judge(&condition(EXITED, 3, 0, policy)),
                Verdict::Crashed {
                    exit_code: 3,
                    restarts: 0
                },
                "{policy:?}"
            );
        }
    }

    #[test]
    fn restarting_after_one_non_zero_exit_crashed() {
        // The engine counts the restart as the container exits: restarting with a count
        // of 1 is the first exit, about to be restarted again.
        assert_eq!(
            judge(&condition(RESTARTING, 3, 1, Some(UNLESS_STOPPED))),
            Verdict::Crashed {
                exit_code: 3,
                restarts: 1
            }
        );
        assert_eq!(
            judge(&condition(RESTARTING, 3, 4, Some(ALWAYS))),
            Verdict::Crashed {
                exit_code: 3,
                restarts: 4
            }
        );
    }

    #[test]
    fn restarting_with_no_restart_counted_is_pending() {
        assert_eq!(
            judge(&condition(RESTARTING, 3, 0, Some(UNLESS_STOPPED))),
            Verdict::Pending
        );
    }

    #[test]
    fn on_failure_restarts_crash_and_a_success_completes() {
        assert_eq!(
            judge(&condition(RESTARTING, 1, 1, Some(ON_FAILURE))),
            Verdict::Crashed {
                exit_code: 1,
                restarts: 1
            }
        );
        // `on-failure:3` gave up: the container stays exited after its restarts.
        assert_eq!(
            judge(&condition(EXITED, 1, 3, Some(ON_FAILURE))),
            Verdict::Crashed {
                exit_code: 1,
                restarts: 3
            }
        );
        // It succeeded on a retry: exit 0 is not restarted by `on-failure`.
        assert_eq!(
            judge(&condition(EXITED, 0, 2, Some(ON_FAILURE))),
            Verdict::Completed
        );
    }

    #[test]
    fn a_non_zero_exit_nobody_restarted_under_a_policy_is_a_failure_not_a_crash() {
        // Stopped by hand (SIGTERM): the policy did not restart it.
        assert_eq!(
            judge(&condition(EXITED, 143, 0, Some(UNLESS_STOPPED))),
            Verdict::Failed("exited with code 143".into())
        );
    }

    #[test]
    fn a_healthy_service_that_later_restarts() {
        // Restarted once, running again and healthy: restarts alone are no crash.
        let recovered = with_health(
            HealthStatusEnum::HEALTHY,
            condition(RUNNING, 0, 1, Some(UNLESS_STOPPED)),
        );
        assert_eq!(judge(&recovered), Verdict::Healthy);
        let without_healthcheck = running_for(STEADY, condition(RUNNING, 0, 2, Some(ALWAYS)));
        assert_eq!(judge(&without_healthcheck), Verdict::Running);
        // Restarted once and checking its health again.
        let checking = with_health(
            HealthStatusEnum::STARTING,
            condition(RUNNING, 0, 1, Some(UNLESS_STOPPED)),
        );
        assert_eq!(judge(&checking), Verdict::Pending);
        // Its process exited non-zero and the engine is restarting it: a crash.
        let exited = with_health(
            HealthStatusEnum::HEALTHY,
            condition(RESTARTING, 137, 1, Some(UNLESS_STOPPED)),
        );
        assert_eq!(
            judge(&exited),
            Verdict::Crashed {
                exit_code: 137,
                restarts: 1
            }
        );
    }

    #[test]
    fn dead_fails() {
        assert_eq!(
            judge(&condition(ContainerStateStatusEnum::DEAD, 0, 0, None)),
            Verdict::Failed("dead".into())
        );
    }
}
