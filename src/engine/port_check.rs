//! Published host ports checked before anything starts: a port another container holds (of
//! which project), or — on a local engine — a local process, is reported with the compose
//! file line and the variable that set it, instead of compose's `address already in use`
//! half-way through an `up`.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anyhow::Result;
use bollard::models::ContainerSummary;

use crate::compose::inputs::referenced_variables;
use crate::compose::labels;
use crate::compose::model::{ComposeModel, items, published_port, text};
use crate::doctor::yaml_positions::YamlPositions;
use crate::engine::api::Engine;
use crate::engine::urls::{engine_address, is_this_machine};
use crate::report::exit_status::ExitStatus;
use crate::report::failure::Failure;
use crate::report::printer::Printer;
use crate::system::listeners::{is_taken, tcp_owner};

/// One published port a service asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub service: String,
    /// Its index among the service's `ports`.
    pub index: usize,
    pub host_ip: Option<IpAddr>,
    pub port: u16,
    /// `tcp` or `udp`.
    pub protocol: String,
}

/// The single host ports (not ranges) `services` of `model` publish.
pub fn published(model: &ComposeModel, services: &[String]) -> Vec<Published> {
    let mut found = Vec::new();
    for service in services {
        let Some(definition) = model.service(service) else {
            continue;
        };
        for (index, entry) in items(definition, "ports").enumerate() {
            let Some(port) = published_port(entry).and_then(|port| port.parse::<u16>().ok()) else {
                continue;
            };
            let protocol = match text(entry, "protocol") {
                "" => "tcp",
                protocol => protocol,
            };
            found.push(Published {
                service: service.clone(),
                index,
                host_ip: text(entry, "host_ip").parse().ok(),
                port,
                protocol: protocol.to_string(),
            });
        }
    }
    found
}

/// Who holds a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// A container: its name, and its compose project and working directory when it has them.
    Container {
        name: String,
        project: Option<String>,
        checkout: Option<String>,
    },
    /// A process on this machine (the engine is local): `name (pid N)` when known.
    Process(Option<String>),
}

impl Holder {
    fn describe(&self) -> String {
        match self {
            Holder::Container {
                name,
                project: Some(project),
                checkout,
            } => format!(
                "container {name} of project {project}{}",
                checkout
                    .as_ref()
                    .map(|path| format!(" (from {path})"))
                    .unwrap_or_default()
            ),
            Holder::Container { name, .. } => format!("container {name}"),
            Holder::Process(Some(process)) => format!("the local process {process}"),
            Holder::Process(None) => "a local process".into(),
        }
    }
}

/// The container among `containers` that publishes `wanted`'s port, unless it is the same
/// service of `project` (whose container an `up` keeps or replaces itself).
pub fn container_holder(
    wanted: &Published,
    project: &str,
    containers: &[ContainerSummary],
) -> Option<Holder> {
    containers.iter().find_map(|container| {
        let tags = container.labels.clone().unwrap_or_default();
        let own = tags.get(labels::PROJECT).map(String::as_str) == Some(project)
            && tags.get(labels::SERVICE) == Some(&wanted.service);
        let publishes = container.ports.iter().flatten().any(|port| {
            port.public_port == Some(wanted.port)
                && port.typ.map(|typ| typ.to_string()).as_deref() == Some(wanted.protocol.as_str())
        });
        (publishes && !own).then(|| Holder::Container {
            name: container
                .names
                .iter()
                .flatten()
                .next()
                .map(|name| name.trim_start_matches('/').to_string())
                .unwrap_or_else(|| container.id.clone().unwrap_or_default()),
            project: tags.get(labels::PROJECT).cloned(),
            checkout: tags.get(labels::WORKING_DIR).cloned(),
        })
    })
}

/// Where a service's port entry is written, and the variables it interpolates: the first of
/// `files` (path and text) that has it.
pub fn source(published: &Published, files: &[(PathBuf, String)], root: &Path) -> Option<String> {
    let index = published.index.to_string();
    let path = [
        "services",
        published.service.as_str(),
        "ports",
        index.as_str(),
    ];
    files.iter().find_map(|(file, text)| {
        let positions = YamlPositions::parse(text);
        let mut long = path.to_vec();
        long.push("published");
        let at = match positions.has(&long) {
            true => positions.locate(&long),
            false if positions.has(&path) => positions.locate(&path),
            false => None,
        };
        let ((line, _), _) = at?;
        let written = text
            .lines()
            .nth(line as usize - 1)
            .unwrap_or_default()
            .trim();
        let shown = file.strip_prefix(root).unwrap_or(file).display();
        let variables = referenced_variables(written);
        Some(match variables.is_empty() {
            true => format!("`{written}` in {shown}:{line}"),
            false => format!(
                "{} ({shown}:{line}: `{written}`)",
                variables
                    .iter()
                    .map(|name| format!("${name}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
    })
}

/// Who holds `port` of project `project`: a running container of `containers` other than the
/// service's own, or else — only when the engine runs on this machine (`here`), whose ports
/// are then this machine's — a process that `taken_here` finds here. A process on a remote
/// engine's host cannot be seen from here, and a port of this machine says nothing of it.
pub fn holder(
    port: &Published,
    project: &str,
    containers: &[ContainerSummary],
    here: bool,
    taken_here: impl Fn(&Published) -> bool,
) -> Option<Holder> {
    container_holder(port, project, containers).or_else(|| {
        // The service's own container holds it through the engine's proxy: no conflict.
        let own = container_holder(port, "", containers).is_some();
        (!own && here && taken_here(port)).then(|| Holder::Process(tcp_owner(port.port)))
    })
}

/// Refuses, starting nothing, when a port `services` of `model` publish is taken: by a
/// running container other than the service's own, or — on an engine on this machine — by
/// a process here. On a remote engine, processes of its host are not seen: a note says so.
/// `files` are the compose files (under `root`), to name the line and variable.
pub fn check(
    engine: &Engine,
    model: &ComposeModel,
    services: &[String],
    files: &[PathBuf],
    root: &Path,
    printer: &Printer,
) -> Result<()> {
    let wanted = published(model, services);
    if wanted.is_empty() {
        return Ok(());
    }
    let containers = engine.running_containers()?;
    let here = is_this_machine(engine.host());
    if !here {
        printer.info(format!(
            "the engine runs on {}: its published ports are checked against its containers only (a process of that host holding one is not seen from here)",
            engine_address(engine.host())
        ));
    }
    let mut taken = Vec::new();
    for port in wanted {
        let found = holder(&port, model.name(), &containers, here, |port| {
            is_taken(port.host_ip, port.port, &port.protocol)
        });
        if let Some(found) = found {
            taken.push((port, found));
        }
    }
    if taken.is_empty() {
        return Ok(());
    }
    let sources: Vec<(PathBuf, String)> = files
        .iter()
        .filter_map(|file| Some((file.clone(), std::fs::read_to_string(file).ok()?)))
        .collect();
    let taken: Vec<(Published, Holder, Option<String>)> = taken
        .into_iter()
        .map(|(port, holder)| {
            let written = source(&port, &sources, root);
            (port, holder, written)
        })
        .collect();
    Err(refusal(&taken).into())
}

/// The refusal for the ports `taken` (each with its holder and where it is set).
pub fn refusal(taken: &[(Published, Holder, Option<String>)]) -> Failure {
    let lines: Vec<String> = taken
        .iter()
        .map(|(wanted, holder, source)| {
            format!(
                "port {}{}/{} of service {} is taken by {}{}",
                wanted
                    .host_ip
                    .map(|ip| format!("{ip}:"))
                    .unwrap_or_default(),
                wanted.port,
                wanted.protocol,
                wanted.service,
                holder.describe(),
                source
                    .as_ref()
                    .map(|source| format!("; it is set by {source}"))
                    .unwrap_or_default()
            )
        })
        .collect();
    Failure::new(
        ExitStatus::BadInput,
        format!("nothing was started: {}", lines.join("; ")),
    )
    .hint("stop what holds the port, or publish another one (set the variable, e.g. in .env, or change the compose file)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{PortSummary, PortSummaryTypeEnum};
    use std::collections::HashMap;

    fn model() -> ComposeModel {
        ComposeModel::new(serde_json::json!({
            "name": "shop",
            "services": {
                "web": {"ports": [
                    {"target": 80, "published": "8080", "protocol": "tcp"},
                    {"target": 53, "published": "5353", "protocol": "udp", "host_ip": "127.0.0.1"},
                    {"target": 90, "published": "9000-9010"},
                    {"target": 91}
                ]},
                "db": {}
            }
        }))
        .unwrap()
    }

    fn container(project: &str, service: &str, port: u16) -> ContainerSummary {
        ContainerSummary {
            names: Some(vec![format!("/{project}-{service}-1")]),
            labels: Some(HashMap::from([
                (
                    "com.docker.compose.project".to_string(),
                    project.to_string(),
                ),
                (
                    "com.docker.compose.service".to_string(),
                    service.to_string(),
                ),
                (
                    "com.docker.compose.project.working_dir".to_string(),
                    format!("/src/{project}"),
                ),
            ])),
            ports: Some(vec![PortSummary {
                public_port: Some(port),
                private_port: 80,
                typ: Some(PortSummaryTypeEnum::TCP),
                ..Default::default()
            }]),
            ..Default::default()
        }
    }

    #[test]
    fn single_published_ports_are_listed_with_their_protocol_and_address() {
        let found = published(&model(), &["web".into(), "db".into()]);
        assert_eq!(found.len(), 2);
        assert_eq!((found[0].port, found[0].protocol.as_str()), (8080, "tcp"));
        assert_eq!(found[1].host_ip, Some("127.0.0.1".parse().unwrap()));
        assert_eq!((found[1].index, found[1].protocol.as_str()), (1, "udp"));
    }

    #[test]
    fn another_project_s_container_holds_a_port_and_the_same_service_does_not() {
        let wanted = &published(&model(), &["web".into()])[0];
        assert_eq!(
            container_holder(wanted, "shop", &[container("shop", "web", 8080)]),
            None
        );
        assert_eq!(
            container_holder(wanted, "shop", &[container("blog", "web", 8080)]),
            Some(Holder::Container {
                name: "blog-web-1".into(),
                project: Some("blog".into()),
                checkout: Some("/src/blog".into()),
            })
        );
        assert_eq!(
            container_holder(wanted, "shop", &[container("blog", "web", 8081)]),
            None
        );
    }

    #[test]
    fn a_port_of_this_machine_is_a_conflict_only_for_an_engine_on_this_machine() {
        let wanted = &published(&model(), &["web".into()])[0];
        let taken_here = |_: &Published| true;
        assert!(matches!(
            holder(wanted, "shop", &[], true, taken_here),
            Some(Holder::Process(_))
        ));
        // A remote engine: this machine's ports are not asked about at all.
        let asked = std::cell::Cell::new(false);
        let found = holder(wanted, "shop", &[], false, |_| {
            asked.set(true);
            true
        });
        assert_eq!(found, None);
        assert!(!asked.get());
        // Its containers are still seen, through the engine.
        assert_eq!(
            holder(
                wanted,
                "shop",
                &[container("blog", "web", 8080)],
                false,
                taken_here
            ),
            Some(Holder::Container {
                name: "blog-web-1".into(),
                project: Some("blog".into()),
                checkout: Some("/src/blog".into()),
            })
        );
        // The service's own container holds it: no conflict, whoever holds it here.
        assert_eq!(
            holder(
                wanted,
                "shop",
                &[container("shop", "web", 8080)],
                true,
                taken_here
            ),
            None
        );
    }

    #[test]
    fn the_variable_and_the_line_that_set_a_port_are_named() {
        let wanted = &published(&model(), &["web".into()])[0];
        let short =
            "services:\n  web:\n    image: nginx\n    ports:\n      - \"${WEB_PORT:-8080}:80\"\n";
        let files = vec![(PathBuf::from("/p/compose.yaml"), short.to_string())];
        assert_eq!(
            source(wanted, &files, Path::new("/p")).as_deref(),
            Some("$WEB_PORT (compose.yaml:5: `- \"${WEB_PORT:-8080}:80\"`)")
        );
        let long = "services:\n  web:\n    ports:\n      - target: 80\n        published: 8080\n";
        let files = vec![(PathBuf::from("/p/compose.yaml"), long.to_string())];
        assert_eq!(
            source(wanted, &files, Path::new("/p")).as_deref(),
            Some("`published: 8080` in compose.yaml:5")
        );
    }
}
