//! `HealthWait`: watches a project's containers until each is healthy, running, or done.
//!
//! A container with a healthcheck must report healthy; one without must be running; a
//! one-shot container (init or migration job) that exited 0 and is not restarted counts as a
//! success. An unhealthy container, a non-zero exit, or the timeout ends the wait as a failure.

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
        timed_out: bool,
    },
    Interrupted(i32),
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
            let verdict = judge(container);
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
        if results
            .iter()
            .any(|result| matches!(result.verdict, Verdict::Failed(_)))
        {
            return Ok(WaitOutcome::Failed {
                containers: results,
                timed_out: false,
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
                timed_out: true,
            });
        }
        std::thread::sleep(POLL);
    }
}

/// Where one container stands.
pub fn judge(container: &ContainerInspectResponse) -> Verdict {
    let Some(state) = container.state.as_ref() else {
        return Verdict::Pending;
    };
    let health = state.health.as_ref().and_then(|health| health.status);
    match state.status {
        Some(ContainerStateStatusEnum::RUNNING) => match health {
            Some(HealthStatusEnum::HEALTHY) => Verdict::Healthy,
            Some(HealthStatusEnum::UNHEALTHY) => Verdict::Failed("unhealthy".into()),
            Some(HealthStatusEnum::STARTING) => Verdict::Pending,
            _ => Verdict::Running,
        },
        Some(ContainerStateStatusEnum::EXITED) => {
            let code = state.exit_code.unwrap_or(-1);
            if code == 0 && !restarts_after_success(container) {
                Verdict::Completed
            } else if code == 0 {
                Verdict::Pending
            } else {
                Verdict::Failed(format!("exited with code {code}"))
            }
        }
        Some(ContainerStateStatusEnum::DEAD) => Verdict::Failed("dead".into()),
        _ => Verdict::Pending,
    }
}

fn restarts_after_success(container: &ContainerInspectResponse) -> bool {
    let policy = container
        .host_config
        .as_ref()
        .and_then(|config| config.restart_policy.as_ref())
        .and_then(|policy| policy.name);
    matches!(
        policy,
        Some(RestartPolicyNameEnum::ALWAYS | RestartPolicyNameEnum::UNLESS_STOPPED)
    )
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
