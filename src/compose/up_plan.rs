//! The plan of `devctl up`: a build first when asked for without the cache or with fresh
//! base images, then `up --detach` (with `--build` when asked, and always for the fidelity
//! stack), then the health wait of the services started and their dependencies.

use std::time::Duration;

use anyhow::Result;

use crate::compose::verb_plan::{VerbPlan, WaitPlan};
use crate::project::{Project, ServiceScope};
use crate::report::printer::Printer;

/// What `up` is asked to do.
#[derive(Debug, Clone, Default)]
pub struct UpOptions {
    /// The services to start (with their dependencies); all of the profile's when empty.
    pub services: Vec<String>,
    /// Wait for health after starting.
    pub wait: bool,
    /// How long to wait; else the profile's `up.wait_timeout`.
    pub wait_timeout: Option<Duration>,
    /// Build images before starting.
    pub build: bool,
    /// Build without the cache (a separate `build` first).
    pub no_cache: bool,
    /// Pull newer base images while building (a separate `build` first).
    pub pull: bool,
}

/// The subcommand the plan's last command runs.
const UP: &str = "up";

/// The plan of `up` with `options` on `project`: an unknown service is bad input.
pub fn plan(project: &Project, options: &UpOptions, printer: &Printer) -> Result<VerbPlan> {
    let model = project.model(ServiceScope::Profile, false, printer)?;
    project.check_services(&model, &options.services)?;
    let known = model.service_names();
    let mut commands = Vec::new();
    // A build without the cache, or pulling base images, runs first; the fidelity stack is
    // built at every up (a warm build is all cache hits).
    let prebuild = options.no_cache || options.pull;
    if prebuild {
        let mut build = vec!["build".to_string()];
        if options.no_cache {
            build.push("--no-cache".into());
        }
        if options.pull {
            build.push("--pull".into());
        }
        build.extend(options.services.iter().cloned());
        commands.push(project.command(&model, ServiceScope::Profile, &build));
    }
    let mut arguments = vec![UP.to_string(), "--detach".to_string()];
    if (options.build || project.fidelity.is_some()) && !prebuild {
        arguments.push("--build".into());
    }
    arguments.extend(options.services.iter().cloned());
    commands.push(project.command(&model, ServiceScope::Profile, &arguments));
    let services = if options.services.is_empty() {
        known
    } else {
        model.with_dependencies(&options.services)
    };
    let wait = options.wait.then(|| WaitPlan {
        services,
        timeout: options.wait_timeout.unwrap_or(project.profile.wait_timeout),
    });
    Ok(VerbPlan {
        verb: "up",
        model,
        commands,
        wait,
        deletion: None,
    })
}
