//! A private copy of a project, shared by the integration tests and the bench: a temporary
//! directory under a compose project name of its own, the demo copied onto free host ports,
//! devctl run without the caller's DEVCTL_* settings, and, when dropped, the removal of all
//! the project left on the engine.
//!
//! Included with `#[path]` by tests/integration/main.rs, tests/remote/main.rs and
//! benches/compare/main.rs.

use std::io;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};

/// The devctl binary cargo built for the tests and the bench.
pub const DEVCTL: &str = env!("CARGO_BIN_EXE_devctl");

/// A temporary directory for the compose project `project`. Dropping it removes the project
/// and its fidelity stack from the engine (containers with their anonymous volumes,
/// networks, volumes, then the images their builds tagged), then the directory.
pub struct Sandbox {
    temporary: tempfile::TempDir,
    project: String,
}

impl Sandbox {
    /// An empty temporary directory named `<prefix>…` for the project `project`.
    pub fn new(prefix: &str, project: String) -> io::Result<Sandbox> {
        let temporary = tempfile::Builder::new().prefix(prefix).tempdir()?;
        Ok(Sandbox { temporary, project })
    }

    /// The temporary directory.
    pub fn path(&self) -> &Path {
        self.temporary.path()
    }

    /// The compose project name.
    pub fn project(&self) -> &str {
        &self.project
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let fidelity = format!("{}-fidelity", self.project);
        for project in [self.project.as_str(), fidelity.as_str()] {
            if let Err(error) = remove_project(project) {
                eprintln!("warning: cleaning up project {project} failed: {error}");
            }
        }
        if let Err(error) = remove_images(&self.project) {
            eprintln!(
                "warning: removing the images of project {} failed: {error}",
                self.project
            );
        }
    }
}

/// `devctl` in `directory`, with none of the DEVCTL_* variables of the caller's environment.
pub fn devctl(directory: &Path) -> Command {
    let mut command = Command::new(DEVCTL);
    command.current_dir(directory);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("DEVCTL_") {
            command.env_remove(name);
        }
    }
    command
}

/// Copies the demo project `demo` to `target` as the compose project `project`: each
/// profile's `project_name` becomes `project`, and each `*_PORT` variable of its `.env` a
/// free host port. Returns those ports, as (variable, port).
pub fn copy_demo(demo: &Path, target: &Path, project: &str) -> io::Result<Vec<(String, u16)>> {
    copy_tree(demo, target)?;
    for entry in std::fs::read_dir(target.join("profiles"))? {
        let path = entry?.path();
        if path
            .extension()
            .is_some_and(|extension| extension == "yaml")
        {
            rewrite_lines(&path, |line| {
                let key = line.trim_start();
                key.starts_with("project_name:").then(|| {
                    let indent = &line[..line.len() - key.len()];
                    format!("{indent}project_name: {project}")
                })
            })?;
        }
    }
    let env_file = target.join(".env");
    let variables: Vec<String> = std::fs::read_to_string(&env_file)?
        .lines()
        .filter_map(|line| line.trim_start().split_once('='))
        .map(|(key, _)| key.to_string())
        .filter(|key| key.ends_with("_PORT"))
        .collect();
    let free = free_ports(variables.len())?;
    let ports: Vec<(String, u16)> = variables.into_iter().zip(free).collect();
    rewrite_lines(&env_file, |line| {
        let line = line.trim_start();
        let (key, port) = ports
            .iter()
            .find(|(key, _)| line.starts_with(&format!("{key}=")))?;
        Some(format!("{key}={port}"))
    })?;
    Ok(ports)
}

/// Copies the directory `source` into `target`, recursively.
pub fn copy_tree(source: &Path, target: &Path) -> io::Result<()> {
    std::fs::create_dir_all(target)?;
    for entry in std::fs::read_dir(source)? {
        let entry = entry?;
        let destination = target.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &destination)?;
        } else {
            std::fs::copy(entry.path(), &destination)?;
        }
    }
    Ok(())
}

/// Replaces each line of `file` for which `replace` returns a new line.
pub fn rewrite_lines(file: &Path, replace: impl Fn(&str) -> Option<String>) -> io::Result<()> {
    let text = std::fs::read_to_string(file)
        .map_err(|error| io::Error::new(error.kind(), format!("{}: {error}", file.display())))?;
    let lines: Vec<String> = text
        .lines()
        .map(|line| replace(line).unwrap_or_else(|| line.to_string()))
        .collect();
    std::fs::write(file, lines.join("\n") + "\n")
}

/// `count` host ports that were free a moment ago, all different: each listener stays bound
/// until every port is picked.
pub fn free_ports(count: usize) -> io::Result<Vec<u16>> {
    let listeners = (0..count)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<io::Result<Vec<_>>>()?;
    listeners
        .iter()
        .map(|listener| Ok(listener.local_addr()?.port()))
        .collect()
}

/// Removes a compose project's containers (with their anonymous volumes), networks and
/// volumes from the engine. Every step is tried; the first failure is returned.
pub fn remove_project(project: &str) -> io::Result<()> {
    remove_project_from(None, project)
}

/// `remove_project` on the engine of the docker context `context` (None: the default one).
pub fn remove_project_from(context: Option<&str>, project: &str) -> io::Result<()> {
    let label = format!("label=com.docker.compose.project={project}");
    let mut outcome = Ok(());
    for (list, remove) in [
        // `-v`: a container's anonymous volumes go with it.
        (&["ps", "-aq"][..], &["rm", "-f", "-v"][..]),
        (&["network", "ls", "-q"], &["network", "rm"]),
        (&["volume", "ls", "-q"], &["volume", "rm", "-f"]),
    ] {
        let removed = docker(
            docker_command(context)
                .args(list)
                .args(["--filter", &label]),
        )
        .and_then(|listed| {
            let ids: Vec<&str> = listed.split_whitespace().collect();
            if ids.is_empty() {
                return Ok(());
            }
            docker(docker_command(context).args(remove).args(&ids)).map(drop)
        });
        outcome = outcome.and(removed);
    }
    outcome
}

/// Removes the images tagged `<project>-…` or `<project>/…`: those the builds of the project
/// and of its fidelity stack tagged.
pub fn remove_images(project: &str) -> io::Result<()> {
    remove_images_from(None, project)
}

/// `remove_images` on the engine of the docker context `context` (None: the default one).
pub fn remove_images_from(context: Option<&str>, project: &str) -> io::Result<()> {
    let listed =
        docker(docker_command(context).args(["images", "--format", "{{.Repository}}:{{.Tag}}"]))?;
    let tags: Vec<&str> = listed
        .lines()
        .filter(|tag| {
            tag.starts_with(&format!("{project}-")) || tag.starts_with(&format!("{project}/"))
        })
        .collect();
    if !tags.is_empty() {
        docker(docker_command(context).args(["rmi", "-f"]).args(&tags))?;
    }
    Ok(())
}

/// `docker`, or `docker --context CONTEXT`.
fn docker_command(context: Option<&str>) -> Command {
    let mut command = Command::new("docker");
    if let Some(context) = context {
        command.args(["--context", context]);
    }
    command
}

/// Runs a docker command to its end; its stdout, or an error with its stderr.
fn docker(command: &mut Command) -> io::Result<String> {
    let output = command.stdin(Stdio::null()).output()?;
    if !output.status.success() {
        return Err(io::Error::other(format!(
            "{:?} failed ({}): {}",
            command,
            output.status,
            String::from_utf8_lossy(&output.stderr).trim_end()
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
