//! A project on the second engine: a `Fixture` whose devctl runs get `--context`, whose
//! docker commands go to that context, and whose cleanup removes the project (and its
//! fidelity stack and built images) from the second engine as well as from the local one.

use std::process::Command;

use crate::harness::{Fixture, Test};
use crate::sandbox;

/// A project whose `app` is built from ./app and live-mounts ./app/www (which the image
/// also copies), labelled `label`; with `volume` non-empty it also keeps that named volume
/// at /data.
pub fn source_mounted_project(label: &str, volume: &str) -> Fixture {
    let fixture = Fixture::new(label);
    fixture.write(
        "profiles/default.yaml",
        "compose:\n  project_name: {project}\n",
    );
    fixture.write(
        "app/Dockerfile",
        "FROM {busybox}\nCOPY www/ /app/www/\nCMD [\"sleep\", \"600\"]\n",
    );
    fixture.write("app/www/index.html", "shipped\n");
    let (mounts, volumes) = match volume {
        "" => ("[./app/www:/app/www]".to_string(), String::new()),
        name => (
            format!("[./app/www:/app/www, {name}:/data]"),
            format!("volumes:\n  {name}:\n"),
        ),
    };
    fixture.write(
        "compose.yaml",
        &format!("services:\n  app:\n    build: ./app\n    init: true\n    volumes: {mounts}\n    healthcheck:\n      test: [CMD, test, -f, /app/www/index.html]\n      interval: 1s\n      retries: 30\n{volumes}"),
    );
    fixture
}

pub struct Remote {
    pub fixture: Fixture,
    pub context: &'static str,
}

impl Remote {
    pub fn new(fixture: Fixture, context: &'static str) -> Remote {
        Remote { fixture, context }
    }

    pub fn name(&self) -> &str {
        &self.fixture.name
    }

    /// devctl on this project, with `--context`.
    pub fn devctl(&self) -> Test {
        self.fixture.devctl().args(["--context", self.context])
    }

    /// Runs `sh -c script` in the first container of `service` on the second engine.
    pub fn shell(&self, service: &str, script: &str) -> String {
        shell_on(Some(self.context), &self.fixture.name, service, script)
    }

    /// The names of this project's containers, networks and volumes on the engine of
    /// `context` (None: the local one), each listing sorted.
    pub fn resources_on(&self, context: Option<&str>) -> Vec<String> {
        resources(context, &self.fixture.name)
    }
}

impl Drop for Remote {
    fn drop(&mut self) {
        let project = self.fixture.name.clone();
        let fidelity = format!("{project}-fidelity");
        for project in [project.as_str(), fidelity.as_str()] {
            if let Err(error) = sandbox::remove_project_from(Some(self.context), project) {
                eprintln!(
                    "warning: cleaning up project {project} on {} failed: {error}",
                    self.context
                );
            }
        }
        if let Err(error) = sandbox::remove_images_from(Some(self.context), &project) {
            eprintln!(
                "warning: removing the images of project {project} on {} failed: {error}",
                self.context
            );
        }
        // The fixture's own drop then cleans the local engine and removes the folder.
    }
}

/// `docker`, or `docker --context CONTEXT`.
pub fn docker_on(context: Option<&str>) -> Command {
    let mut command = Command::new("docker");
    if let Some(context) = context {
        command.args(["--context", context]);
    }
    command
}

/// Runs a docker command; its stdout, or a failed assertion with its stderr.
pub fn output(command: &mut Command) -> String {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs `sh -c script` in the container `<project>-<service>-1` on `context` (None: the
/// local engine).
pub fn shell_on(context: Option<&str>, project: &str, service: &str, script: &str) -> String {
    output(docker_on(context).args([
        "exec",
        &format!("{project}-{service}-1"),
        "sh",
        "-c",
        script,
    ]))
}

/// The containers, networks and volumes of the compose project `project` on `context`, as
/// `container NAME`, `network NAME`, `volume NAME`.
pub fn resources(context: Option<&str>, project: &str) -> Vec<String> {
    let label = format!("label=com.docker.compose.project={project}");
    let mut found = Vec::new();
    for (kind, list) in [
        ("container", &["ps", "-a", "--format", "{{.Names}}"][..]),
        ("network", &["network", "ls", "--format", "{{.Name}}"]),
        ("volume", &["volume", "ls", "--format", "{{.Name}}"]),
    ] {
        let mut names: Vec<String> =
            output(docker_on(context).args(list).args(["--filter", &label]))
                .lines()
                .map(|name| format!("{kind} {name}"))
                .collect();
        names.sort();
        found.extend(names);
    }
    found
}
