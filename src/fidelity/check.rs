//! Verification of a running fidelity stack: no bind mount from the project tree that the
//! profile did not allow, and every service on the very image this run built (or, for a
//! service without a build, the image its tag names now) — compared by image id, so a build
//! that was all cache hits still counts.

use std::path::PathBuf;

use anyhow::Result;
use bollard::models::{ContainerInspectResponse, MountPoint};
use serde_json::Value;

use crate::engine::api::Engine;
use crate::engine::service_status::service_of;
use crate::fidelity::stack::FidelityStack;
use crate::fidelity::transform::relative_inside;
use crate::project::Project;
use crate::report::exit_status::ExitStatus;
use crate::report::failure::Failure;
use crate::report::printer::Printer;

/// What a passed verification found.
#[derive(Debug, Clone)]
pub struct Verified {
    pub services: usize,
    /// `service (created time)` of each service built from a Dockerfile.
    pub built: Vec<String>,
}

impl Verified {
    pub fn summary(&self) -> String {
        let built = match self.built.is_empty() {
            true => "no service is built from a Dockerfile".to_string(),
            false => format!("images built {}", self.built.join(", ")),
        };
        format!(
            "fidelity verified: {} services, no source mounts, {built}",
            self.services
        )
    }
}

/// Checks the fidelity stack's containers; fails naming every problem.
pub fn verify(engine: &Engine, project: &Project, stack: &FidelityStack) -> Result<Verified> {
    let containers: Vec<ContainerInspectResponse> = engine
        .project_containers(&stack.transformed.project)?
        .into_iter()
        .filter(|container| !is_one_off(container))
        .collect();
    let declared_files = declared_files(&stack.transformed.model);
    let mut problems = Vec::new();
    let mut built = Vec::new();
    let mut services = Vec::new();
    for container in &containers {
        let Some(service) = service_of(container) else {
            continue;
        };
        // A container of a service the stack no longer has (a leftover of another profile)
        // is not the stack's.
        if stack.transformed.model["services"].get(&service).is_none() {
            continue;
        }
        problems.extend(unlisted_source_mounts(
            engine,
            project,
            &declared_files,
            &service,
            container,
        ));
        check_image(
            engine,
            stack,
            &service,
            container,
            &mut built,
            &mut problems,
        );
        if !services.contains(&service) {
            services.push(service);
        }
    }
    if !problems.is_empty() {
        return Err(Failure::new(
            ExitStatus::StepFailed,
            format!(
                "fidelity verification failed for {}:\n  {}",
                stack.transformed.project,
                problems.join("\n  ")
            ),
        )
        .hint("a source mount the stack needs goes under fidelity.keep_mounts in the profile; then run `devctl up --fidelity` again")
        .into());
    }
    built.sort();
    Ok(Verified {
        services: services.len(),
        built,
    })
}

/// The files of file-based secrets and configs: declared inputs, whose bind mounts are
/// expected.
fn declared_files(model: &Value) -> Vec<PathBuf> {
    ["secrets", "configs"]
        .iter()
        .filter_map(|kind| model.get(kind).and_then(Value::as_object))
        .flat_map(|entries| entries.values())
        .filter_map(|entry| entry.get("file").and_then(Value::as_str))
        .map(PathBuf::from)
        .collect()
}

/// The container's mounts from the project tree that are neither declared files nor listed
/// in `fidelity.keep_mounts`, as problems.
fn unlisted_source_mounts(
    engine: &Engine,
    project: &Project,
    declared_files: &[PathBuf],
    service: &str,
    container: &ContainerInspectResponse,
) -> Vec<String> {
    let root = project.root.path();
    let mut problems = Vec::new();
    for mount in container.mounts.iter().flatten() {
        let Some(source) = mount_source(engine, mount) else {
            continue;
        };
        if declared_files
            .iter()
            .any(|file| relative_inside(file, root) == relative_inside(&source, root))
        {
            continue;
        }
        let Some(relative) = relative_inside(&source, root) else {
            continue;
        };
        let allowed = project.profile.fidelity.keep_mounts.iter().any(|entry| {
            relative_inside(&root.join(entry), root).is_some_and(|listed| listed == relative)
        });
        if !allowed {
            problems.push(format!(
                "{service}: bind mount ./{} → {} from the project tree, not in fidelity.keep_mounts",
                relative.display(),
                mount.destination.clone().unwrap_or_default()
            ));
        }
    }
    problems
}

/// Where a mount's data is on the host: a bind mount's source, or the folder a volume is
/// bound to (`driver_opts: {o: bind, device: …}`); none for other mounts.
fn mount_source(engine: &Engine, mount: &MountPoint) -> Option<PathBuf> {
    let kind = mount.typ.as_ref().map(|kind| kind.to_string());
    match kind.as_deref() {
        Some("bind") => Some(PathBuf::from(mount.source.clone().unwrap_or_default())),
        Some("volume") => mount
            .name
            .as_deref()
            .and_then(|name| engine.volume(name).ok().flatten())
            .and_then(|volume| volume.options.get("device").cloned())
            .map(PathBuf::from),
        _ => None,
    }
}

/// Whether the container runs the very image its service names now (by id); a service built
/// in this run goes into `built` with the image's creation time.
fn check_image(
    engine: &Engine,
    stack: &FidelityStack,
    service: &str,
    container: &ContainerInspectResponse,
    built: &mut Vec<String>,
    problems: &mut Vec<String>,
) {
    let reference = stack.transformed.model["services"][service]["image"]
        .as_str()
        .map(String::from);
    let running = container.image.clone().unwrap_or_default();
    match reference
        .as_deref()
        .and_then(|name| engine.image_identity(name))
    {
        Some((id, created)) if id == running => {
            if stack.transformed.images.contains_key(service) {
                built.push(format!("{service} ({created})"));
            }
        }
        Some((id, _)) => problems.push(format!(
            "{service}: runs image {}, not {} ({})",
            short(&running),
            reference.unwrap_or_default(),
            short(&id)
        )),
        None => problems.push(format!(
            "{service}: its image {} is not on the engine",
            reference.unwrap_or_else(|| "(none named)".into())
        )),
    }
}

fn is_one_off(container: &ContainerInspectResponse) -> bool {
    container
        .config
        .as_ref()
        .and_then(|config| config.labels.as_ref())
        .and_then(|labels| labels.get("com.docker.compose.oneoff"))
        .is_some_and(|value| value == "True")
}

fn short(id: &str) -> String {
    id.trim_start_matches("sha256:").chars().take(12).collect()
}

/// For the fidelity stack: the moved ports, the generated file, and the verification.
pub(crate) fn report(engine: &Engine, project: &Project, printer: &Printer) -> Result<()> {
    let Some(stack) = &project.fidelity else {
        return Ok(());
    };
    for port in &stack.transformed.ports {
        printer.info(format!("  port {}", port.describe()));
    }
    printer.info(format!("  compose file {}", stack.file.display()));
    let verified = verify(engine, project, stack)?;
    printer.info(verified.summary());
    Ok(())
}
