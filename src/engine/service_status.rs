//! `ServiceStatus`: one row of `devctl status` — a service's container as the engine sees it.

use bollard::models::{ContainerInspectResponse, ContainerStateStatusEnum, HealthStatusEnum};
use serde::Serialize;

use crate::compose::model::ComposeModel;

/// A mount of a service's container.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Mount {
    /// `bind`, `volume`, `anonymous` (a volume compose did not name), `tmpfs`, …
    pub kind: String,
    /// The volume's engine name, or the bind's host path.
    pub source: String,
    pub target: String,
    pub read_only: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServiceStatus {
    pub service: String,
    /// The container's name; none when the service has no container.
    pub container: Option<String>,
    /// `running`, `exited`, `created`, `restarting`, … or `absent` when no container exists.
    pub state: String,
    /// `healthy`, `unhealthy`, `starting`, or none when the container has no healthcheck.
    pub health: Option<String>,
    pub exit_code: Option<i64>,
    /// How many times the engine has restarted the container by its restart policy; none
    /// when the service has no container.
    pub restarts: Option<i64>,
    /// Published ports, as `127.0.0.1:8080->80/tcp`.
    pub ports: Vec<String>,
    /// Its published TCP ports as URLs reachable from here (`with_urls`).
    pub urls: Vec<String>,
    pub mounts: Vec<Mount>,
    pub image: Option<String>,
    /// False for a container of a service outside the profile's model (e.g. another profile's).
    pub in_profile: bool,
}

impl ServiceStatus {
    /// The rows with their URLs, for an engine at `endpoint` (see `engine::urls`).
    pub fn with_urls(mut rows: Vec<ServiceStatus>, endpoint: &str) -> Vec<ServiceStatus> {
        let address = crate::engine::urls::engine_address(endpoint);
        for row in &mut rows {
            row.urls = crate::engine::urls::urls(&row.ports, &address);
        }
        rows
    }

    /// One row per container, then one `absent` row per model service without a container.
    pub fn collect(
        model: &ComposeModel,
        containers: &[ContainerInspectResponse],
    ) -> Vec<ServiceStatus> {
        let services = model.service_names();
        let declared_volumes = model.volume_names();
        let mut rows: Vec<ServiceStatus> = containers
            .iter()
            .map(|container| {
                let service = service_of(container).unwrap_or_default();
                let in_profile = services.contains(&service);
                ServiceStatus::from_container(service, container, &declared_volumes, in_profile)
            })
            .collect();
        for service in services {
            if !rows.iter().any(|row| row.service == service) {
                let image = model
                    .service(&service)
                    .and_then(|definition| definition.get("image"))
                    .and_then(|image| image.as_str())
                    .map(String::from);
                rows.push(ServiceStatus {
                    service,
                    container: None,
                    state: "absent".into(),
                    health: None,
                    exit_code: None,
                    restarts: None,
                    ports: Vec::new(),
                    urls: Vec::new(),
                    mounts: Vec::new(),
                    image,
                    in_profile: true,
                });
            }
        }
        rows.sort_by(|a, b| (&a.service, &a.container).cmp(&(&b.service, &b.container)));
        rows
    }

    fn from_container(
        service: String,
        container: &ContainerInspectResponse,
        declared_volumes: &[String],
        in_profile: bool,
    ) -> ServiceStatus {
        let state = container.state.as_ref();
        let status = state.and_then(|state| state.status);
        let health = state
            .and_then(|state| state.health.as_ref())
            .and_then(|health| health.status)
            .filter(|status| !matches!(status, HealthStatusEnum::EMPTY | HealthStatusEnum::NONE))
            .map(|status| status.to_string());
        let exit_code = state
            .filter(|_| status == Some(ContainerStateStatusEnum::EXITED))
            .and_then(|state| state.exit_code);
        let mut ports: Vec<String> = container
            .network_settings
            .as_ref()
            .and_then(|settings| settings.ports.as_ref())
            .into_iter()
            .flatten()
            .flat_map(|(private, bindings)| {
                bindings.iter().flatten().map(move |binding| {
                    let ip = binding.host_ip.clone().unwrap_or_default();
                    let port = binding.host_port.clone().unwrap_or_default();
                    if ip.is_empty() {
                        format!("{port}->{private}")
                    } else if ip.contains(':') {
                        format!("[{ip}]:{port}->{private}")
                    } else {
                        format!("{ip}:{port}->{private}")
                    }
                })
            })
            .collect();
        ports.sort();
        ports.dedup();
        let mut mounts: Vec<Mount> = container
            .mounts
            .iter()
            .flatten()
            .map(|mount| {
                let kind = mount.typ.clone().unwrap_or_default();
                let name = mount.name.clone().unwrap_or_default();
                let anonymous = kind == "volume"
                    && !declared_volumes.contains(&name)
                    && is_engine_generated(&name);
                Mount {
                    kind: if anonymous {
                        "anonymous".into()
                    } else {
                        kind.clone()
                    },
                    source: if kind == "volume" {
                        name
                    } else {
                        mount.source.clone().unwrap_or_default()
                    },
                    target: mount.destination.clone().unwrap_or_default(),
                    read_only: mount.rw == Some(false),
                }
            })
            .collect();
        mounts.sort_by(|a, b| a.target.cmp(&b.target));
        ServiceStatus {
            service,
            container: container
                .name
                .as_ref()
                .map(|name| name.trim_start_matches('/').to_string()),
            state: status.map_or_else(|| "unknown".into(), |status| status.to_string()),
            health,
            exit_code,
            restarts: Some(container.restart_count.unwrap_or(0)),
            ports,
            urls: Vec::new(),
            mounts,
            image: container
                .config
                .as_ref()
                .and_then(|config| config.image.clone()),
            in_profile,
        }
    }
}

/// The compose service a container belongs to.
pub fn service_of(container: &ContainerInspectResponse) -> Option<String> {
    container
        .config
        .as_ref()?
        .labels
        .as_ref()?
        .get("com.docker.compose.service")
        .cloned()
}

/// Whether a volume's name is one the engine generated (an anonymous volume): 64 hex digits.
pub fn is_engine_generated(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|byte| byte.is_ascii_hexdigit())
}
