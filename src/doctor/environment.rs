//! The doctor's environment checks: the docker CLI, the docker context, the engine, buildx,
//! and the free space of the project's backup disk.

use serde::Serialize;

use crate::compose::program::DockerCli;
use crate::doctor::rule_id::Severity;
use crate::engine::api::Engine;
use crate::engine::endpoint::Endpoint;
use crate::project::Project;

/// The free space below which the backup directory is a warning.
const LOW_DISK: u64 = 1024 * 1024 * 1024;

/// One environment check.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    /// `ok` (shown for a passing check), `warning` or `error`.
    #[serde(rename = "status", serialize_with = "check_status")]
    pub severity: Severity,
    pub detail: String,
    /// What to do, when it is not fine.
    pub fix: Option<String>,
}

fn check_status<S: serde::Serializer>(
    severity: &Severity,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(match severity {
        Severity::Off | Severity::Info => "ok",
        other => other.name(),
    })
}

impl Check {
    pub(crate) fn ok(name: &'static str, detail: impl Into<String>) -> Check {
        Check {
            name,
            severity: Severity::Off,
            detail: detail.into(),
            fix: None,
        }
    }

    pub(crate) fn bad(
        name: &'static str,
        severity: Severity,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check {
            name,
            severity,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }
}

/// The checks of the docker CLI, context, engine and buildx (for the docker `context`, when
/// one is named), and the engine when it answers.
pub(crate) fn check(context: Option<&str>) -> (Vec<Check>, Option<Engine>) {
    let mut checks = Vec::new();
    let docker = DockerCli::locate(context).ok();
    match docker
        .as_ref()
        .and_then(|docker| docker.first_line_of(&["version", "--format", "{{.Client.Version}}"]))
    {
        Some(version) => checks.push(Check::ok("docker CLI", version)),
        None => checks.push(Check::bad(
            "docker CLI",
            Severity::Error,
            "not found on PATH",
            "install the docker CLI (Debian: apt-get install docker.io; elsewhere Docker Desktop)",
        )),
    }
    let endpoint = Endpoint::resolve(context);
    checks.push(context_check(context, &endpoint));
    let engine = match endpoint.and_then(|endpoint| Engine::connect(&endpoint)) {
        Ok(engine) => {
            checks.push(Check::ok(
                "engine",
                format!(
                    "{} at {}",
                    engine
                        .server_version()
                        .unwrap_or_else(|| "version unknown".into()),
                    engine.endpoint().describe()
                ),
            ));
            Some(engine)
        }
        Err(error) => {
            // The connection's own advice fits its transport (an ssh login, a TLS
            // certificate); starting a daemon is the advice for a local one.
            let fix = crate::report::failure::find(&error)
                .and_then(|failure| failure.hint.clone())
                .unwrap_or_else(|| {
                    "start the engine (`dockerd`, `systemctl start docker`, Docker Desktop) or point DOCKER_HOST / --context at one".to_string()
                });
            checks.push(Check::bad(
                "engine",
                Severity::Error,
                format!("{error:#}"),
                fix,
            ));
            None
        }
    };
    match docker.as_ref().and_then(|docker| docker.first_line_of(&["buildx", "version"])) {
        Some(version) => checks.push(Check::ok("buildx", version)),
        None => checks.push(Check::bad(
            "buildx",
            Severity::Warning,
            "not installed: compose falls back to the classic builder (no BuildKit features: secrets, cache mounts, multi-platform)",
            "install the buildx plugin (Debian: apt-get install docker-buildx)",
        )),
    }
    (checks, engine)
}

/// The docker context in use and the endpoint it points at.
fn context_check(context: Option<&str>, endpoint: &anyhow::Result<Endpoint>) -> Check {
    match endpoint {
        Ok(endpoint) => Check::ok(
            "docker context",
            match context.or(std::env::var("DOCKER_CONTEXT").ok().as_deref()) {
                Some(name) => format!("{name} ({})", endpoint.host),
                None => endpoint.host.clone(),
            },
        ),
        Err(error) => Check::bad(
            "docker context",
            Severity::Error,
            format!("{error:#}"),
            "name an existing context (`docker context ls`)",
        ),
    }
}

/// The project's compose program.
pub(crate) fn compose_check(project: &Project) -> Check {
    Check::ok(
        "compose",
        format!(
            "{} ({})",
            project.compose.version,
            project.compose.argv.join(" ")
        ),
    )
}

/// The backup directory's free space.
pub(crate) fn disk_check(project: &Project) -> Check {
    let directory = &project.layout.backup_root;
    match crate::backup::take::available_space(directory) {
        Some(free) if free < LOW_DISK => Check::bad(
            "backup disk",
            Severity::Warning,
            format!(
                "{} free in {}",
                crate::report::units::human_bytes(free),
                directory.display()
            ),
            "free some space, or set paths.backup_dir / DEVCTL_BACKUP_DIR to a larger disk",
        ),
        Some(free) => Check::ok(
            "backup disk",
            format!(
                "{} free in {}",
                crate::report::units::human_bytes(free),
                directory.display()
            ),
        ),
        None => Check::bad(
            "backup disk",
            Severity::Warning,
            format!("cannot read the free space of {}", directory.display()),
            "check that the backup directory's disk is mounted",
        ),
    }
}
