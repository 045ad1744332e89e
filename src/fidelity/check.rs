//! Verification of a running fidelity stack: no bind mount from the project tree that the
//! profile did not allow, and every service on the very image this run built (or, for a
//! service without a build, the image its tag names now) — compared by image id, so a build
//! that was all cache hits still counts.

use anyhow::Result;
use bollard::models::ContainerInspectResponse;

use crate::engine::api::Engine;
use crate::engine::service_status::service_of;
use crate::fidelity::stack::FidelityStack;
use crate::fidelity::transform::relative_inside;
use crate::project::Project;
use crate::report::exit_status::ExitStatus;
use crate::report::failure::Failure;

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
    let mut problems = Vec::new();
    let mut built = Vec::new();
    let mut services = Vec::new();
    // File-based secrets and configs are declared inputs: their bind mounts are expected.
    let declared_files: Vec<std::path::PathBuf> = ["secrets", "configs"]
        .iter()
        .filter_map(|kind| {
            stack
                .transformed
                .model
                .get(kind)
                .and_then(|v| v.as_object())
        })
        .flat_map(|entries| entries.values())
        .filter_map(|entry| entry.get("file").and_then(|file| file.as_str()))
        .map(std::path::PathBuf::from)
        .collect();
    for container in &containers {
        let Some(service) = service_of(container) else {
            continue;
        };
        // A container of a service the stack no longer has (a leftover of another profile)
        // is not the stack's.
        if stack.transformed.model["services"].get(&service).is_none() {
            continue;
        }
        for mount in container.mounts.iter().flatten() {
            let kind = mount.typ.as_ref().map(|kind| kind.to_string());
            let source = match kind.as_deref() {
                Some("bind") => std::path::PathBuf::from(mount.source.clone().unwrap_or_default()),
                // A volume bound to a folder (`driver_opts: {o: bind, device: …}`).
                Some("volume") => match mount
                    .name
                    .as_deref()
                    .and_then(|name| engine.volume(name).ok().flatten())
                    .and_then(|volume| volume.options.get("device").cloned())
                {
                    Some(device) => std::path::PathBuf::from(device),
                    None => continue,
                },
                _ => continue,
            };
            if declared_files.iter().any(|file| {
                relative_inside(file, project.root.path())
                    == relative_inside(&source, project.root.path())
            }) {
                continue;
            }
            let Some(relative) = relative_inside(&source, project.root.path()) else {
                continue;
            };
            let allowed = project.profile.fidelity.keep_mounts.iter().any(|entry| {
                relative_inside(&project.root.path().join(entry), project.root.path())
                    .is_some_and(|listed| listed == relative)
            });
            if !allowed {
                problems.push(format!(
                    "{service}: bind mount ./{} → {} from the project tree, not in fidelity.keep_mounts",
                    relative.display(),
                    mount.destination.clone().unwrap_or_default()
                ));
            }
        }
        let reference = stack.transformed.model["services"][&service]["image"]
            .as_str()
            .map(String::from);
        let running = container.image.clone().unwrap_or_default();
        match reference
            .as_deref()
            .and_then(|name| engine.image_identity(name))
        {
            Some((id, created)) if id == running => {
                if stack.transformed.images.contains_key(&service) {
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
