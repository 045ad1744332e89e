//! Bind sources the second engine cannot see, reached through other doors than `up`: a
//! `compose run` that adds a bind mount of its own (`-v`, `--volume`, attached or combined
//! short flags) is refused as `up` is, and the mounts that need no folder of this machine (a
//! named volume, a source missing on both sides) are not.

use crate::engine::TLS;
use crate::fixture::Remote;
use crate::harness::Fixture;

const REFUSED: i32 = 77;

pub fn a_bind_mount_added_by_compose_run_is_refused_as_up_refuses_it() {
    let fixture = Fixture::new("remote-run-bind");
    fixture
        .write(
            "compose.yaml",
            "services:\n  app:\n    image: {busybox}\n    init: true\n    command: [sleep, '600']\n    volumes: [data:/data]\nvolumes:\n  data:\n",
        )
        .write("profiles/default.yaml", "compose:\n  project_name: {project}\n")
        .write("src/index.html", "hello\n");
    let remote = Remote::new(fixture, TLS);
    let source = remote.fixture.root().join("src").display().to_string();
    for arguments in [
        vec!["-v", "./src:/src"],
        vec!["--volume", "./src:/src"],
        vec!["--volume=./src:/src:ro"],
        vec!["-v./src:/src"],
        vec!["--rm=true", "-dv", "./src:/src"],
        vec!["-e", "A=1", "-v", &format!("{source}:/src")],
    ] {
        let mut line = vec!["compose", "run", "--rm"];
        line.extend(arguments.iter().copied());
        line.extend(["app", "ls", "/src"]);
        remote
            .devctl()
            .args(&line)
            .status(REFUSED)
            .stderr("./src → /src")
            .stderr("nothing was started")
            .run();
    }
    // A named volume, and a source this machine does not have either, need nothing here.
    let missing = remote
        .fixture
        .root()
        .join("missing-on-both")
        .display()
        .to_string();
    for volume in ["data:/more".to_string(), format!("{missing}:/missing")] {
        remote
            .devctl()
            .args(["compose", "run", "--rm", "-v", &volume, "app", "true"])
            .status(0)
            .run();
    }
}

pub fn compose_scale_of_a_service_with_an_unshared_bind_source_is_refused() {
    let fixture = Fixture::new("remote-scale-bind");
    fixture
        .write(
            "compose.yaml",
            "services:\n  web:\n    image: {busybox}\n    init: true\n    command: [sleep, '600']\n    volumes: [./src:/app]\n",
        )
        .write("profiles/default.yaml", "compose:\n  project_name: {project}\n")
        .write("src/index.html", "hello\n");
    let remote = Remote::new(fixture, TLS);
    remote
        .devctl()
        .args(["--yes", "compose", "scale", "web=2"])
        .status(REFUSED)
        .stderr("service web: ./src → /app")
        .run();
    assert!(
        remote.resources_on(Some(TLS)).is_empty(),
        "{:?}",
        remote.resources_on(Some(TLS))
    );
}

pub fn a_service_of_a_compose_profile_named_on_the_command_line_is_checked_too() {
    let fixture = Fixture::new("remote-profile-bind");
    fixture
        .write(
            "compose.yaml",
            "services:\n  app:\n    image: {busybox}\n    init: true\n    command: [sleep, '600']\n  tool:\n    image: {busybox}\n    init: true\n    command: [sleep, '600']\n    profiles: [debug]\n    volumes: [./src:/src]\n",
        )
        .write("profiles/default.yaml", "compose:\n  project_name: {project}\n")
        .write("src/index.html", "hello\n");
    let remote = Remote::new(fixture, TLS);
    for line in [
        vec!["compose", "--profile", "debug", "up", "-d"],
        vec!["compose", "--profile=debug", "up", "-d", "tool"],
        vec![
            "compose",
            "--profile",
            "debug",
            "run",
            "--rm",
            "tool",
            "true",
        ],
    ] {
        remote
            .devctl()
            .args(&line)
            .status(REFUSED)
            .stderr("service tool: ./src → /src")
            .run();
    }
    let left: Vec<String> = remote
        .resources_on(Some(TLS))
        .into_iter()
        .filter(|name| name.contains("tool"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
