//! Entering the fidelity stack: the iteration model, transformed, written as the compose file
//! every later command of the run addresses instead of the profile's files; the stages of the
//! Dockerfiles its services build, read for the transform; the host ports it moved to,
//! remembered between runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::Value;

use crate::compose::build_stage::{DockerfileSource, dockerfile_source};
use crate::compose::model::entries;
use crate::doctor::dockerfile::Dockerfile;
use crate::fidelity::stack::FidelityStack;
use crate::fidelity::transform::{self, DockerfileStages, Transformed};
use crate::project::{Project, ServiceScope};
use crate::report::failure::Failure;
use crate::report::printer::Printer;

/// Switches every later command and model of `project` to the fidelity stack: resolves the
/// iteration model, transforms it, and writes the generated compose file (only when it
/// changed, so the model cache stays warm).
pub fn enter(project: &mut Project, printer: &Printer) -> Result<()> {
    let live = project.model(ServiceScope::Profile, false, printer)?;
    let directory = project
        .layout
        .project_state(live.name(), &project.root)
        .join("fidelity");
    crate::system::files::create_private_directories(&directory)
        .with_context(|| format!("cannot create {}", directory.display()))?;
    let mut ports = RememberedPorts::load(directory.join("ports.json"));
    let transformed = transform::transform(
        live.value(),
        &project.profile.fidelity,
        project.root.path(),
        &dockerfile_stages(live.value(), project.root.path()),
        &mut |key, host_ip, avoid| ports.choose(key, host_ip, avoid),
    )?;
    ports.save()?;
    let file = directory.join("compose.json");
    write_compose_file(&file, &transformed)?;
    printer.detail(format!("fidelity stack: compose file {}", file.display()));
    let working_directory = project.compose_directory();
    project.fidelity = Some(FidelityStack {
        file,
        directory: working_directory,
        live: live.name().to_string(),
        transformed,
    });
    Ok(())
}

/// The stage names of the Dockerfile of each service in `model` that builds one, where it can
/// be read (a missing file or a remote context leaves the service out).
fn dockerfile_stages(model: &Value, root: &Path) -> DockerfileStages {
    entries(model, "services")
        .filter_map(|(service, definition)| {
            let text = match dockerfile_source(definition.get("build")?, root) {
                DockerfileSource::File { dockerfile, .. } => {
                    std::fs::read_to_string(dockerfile).ok()?
                }
                DockerfileSource::Inline(text) => text,
                DockerfileSource::Remote => return None,
            };
            Some((service.clone(), Dockerfile::parse(&text).stage_names()))
        })
        .collect()
}

/// Writes the transformed model to `file`, unless the file already holds exactly that.
fn write_compose_file(file: &Path, transformed: &Transformed) -> Result<()> {
    let text = serde_json::to_vec_pretty(&transformed.model)
        .context("cannot encode the fidelity compose file")?;
    if std::fs::read(file).ok().as_deref() != Some(text.as_slice()) {
        crate::system::files::write_atomic(file, &text)?;
    }
    Ok(())
}

/// The host ports chosen for the fidelity stack, by port key (`PortMove::key`), kept between
/// runs so the stack keeps its addresses.
#[derive(Debug)]
struct RememberedPorts {
    file: PathBuf,
    /// As read from the file (empty when it is missing or unreadable).
    loaded: BTreeMap<String, u16>,
    ports: BTreeMap<String, u16>,
}

impl RememberedPorts {
    fn load(file: PathBuf) -> RememberedPorts {
        let loaded: BTreeMap<String, u16> = std::fs::read(&file)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        RememberedPorts {
            file,
            ports: loaded.clone(),
            loaded,
        }
    }

    /// The port remembered for `key` unless it is one to avoid; else a free one, remembered.
    fn choose(&mut self, key: &str, host_ip: Option<&str>, avoid: &[u16]) -> Result<u16, Failure> {
        if let Some(port) = self.ports.get(key).filter(|port| !avoid.contains(port)) {
            return Ok(*port);
        }
        let mut taken: Vec<u16> = self.ports.values().copied().collect();
        taken.extend_from_slice(avoid);
        let port = free_port(host_ip, taken)?;
        self.ports.insert(key.to_string(), port);
        Ok(port)
    }

    /// Writes the ports back when a new one was chosen.
    fn save(&self) -> Result<()> {
        if self.ports != self.loaded {
            let text = serde_json::to_vec_pretty(&self.ports).context("cannot encode ports")?;
            crate::system::files::write_atomic(&self.file, &text)?;
        }
        Ok(())
    }
}

/// A port nobody listens on at `host_ip` (all interfaces when unset), not in `taken`.
fn free_port(host_ip: Option<&str>, taken: Vec<u16>) -> Result<u16, Failure> {
    let address = match host_ip {
        Some(ip) if !ip.is_empty() => ip,
        _ => "0.0.0.0",
    };
    for _ in 0..50 {
        let listener = std::net::TcpListener::bind((address, 0)).map_err(|error| {
            Failure::bad_input(format!(
                "cannot find a free port on {address} for the fidelity stack: {error}"
            ))
            .hint("set fidelity.port_offset in the profile to move ports by a fixed amount")
        })?;
        let port = listener
            .local_addr()
            .map_err(|error| Failure::bad_input(format!("cannot read a free port: {error}")))?
            .port();
        if !taken.contains(&port) {
            return Ok(port);
        }
    }
    Err(Failure::bad_input(format!(
        "no free port on {address} for the fidelity stack"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remembered(ports: &[(&str, u16)]) -> RememberedPorts {
        let loaded: BTreeMap<String, u16> = ports
            .iter()
            .map(|(key, port)| (key.to_string(), *port))
            .collect();
        RememberedPorts {
            file: PathBuf::from("/nonexistent/ports.json"),
            ports: loaded.clone(),
            loaded,
        }
    }

    #[test]
    fn a_remembered_port_is_chosen_again() {
        let mut ports = remembered(&[("app/80/tcp/8080", 40123)]);
        let port = ports
            .choose("app/80/tcp/8080", Some("127.0.0.1"), &[8080])
            .unwrap();
        assert_eq!(port, 40123);
        assert_eq!(ports.ports, ports.loaded);
        // Unchanged ports are not written (the file's folder does not exist).
        ports.save().unwrap();
    }

    #[test]
    fn a_port_to_avoid_or_a_new_key_gets_a_free_port_remembered() {
        let mut ports = remembered(&[("app/80/tcp/8080", 40123)]);
        let moved = ports
            .choose("app/80/tcp/8080", Some("127.0.0.1"), &[8080, 40123])
            .unwrap();
        assert_ne!(moved, 40123);
        assert_eq!(ports.ports["app/80/tcp/8080"], moved);
        let added = ports
            .choose("db/5432/tcp/5432", Some("127.0.0.1"), &[])
            .unwrap();
        assert_ne!(added, moved);
        assert_eq!(ports.ports["db/5432/tcp/5432"], added);
        assert_ne!(ports.ports, ports.loaded);
    }

    #[test]
    fn changed_ports_are_written_and_read_back() {
        let folder = tempfile::tempdir().unwrap();
        let file = folder.path().join("ports.json");
        let mut ports = RememberedPorts::load(file.clone());
        assert!(ports.loaded.is_empty());
        let port = ports.choose("app/80/tcp/8080", None, &[]).unwrap();
        ports.save().unwrap();
        let again = RememberedPorts::load(file);
        assert_eq!(again.loaded["app/80/tcp/8080"], port);
    }

    #[test]
    fn free_ports_skip_taken_ones() {
        let first = free_port(Some("127.0.0.1"), Vec::new()).unwrap();
        let second = free_port(Some("127.0.0.1"), vec![first]).unwrap();
        assert_ne!(first, second);
        // A documentation address (RFC 5737) is on no interface here.
        let failure = free_port(Some("192.0.2.1"), Vec::new()).unwrap_err();
        assert!(
            failure
                .message
                .contains("cannot find a free port on 192.0.2.1"),
            "{}",
            failure.message
        );
    }
}
