//! Bad input: a clear message naming the file, flag or value, a non-zero exit, never a panic.

use crate::harness::{Fixture, Test, script};

const BAD_INPUT: i32 = 64;
const ENGINE_UNAVAILABLE: i32 = 69;

fn with_compose(label: &str) -> Fixture {
    let fixture = Fixture::new(label);
    fixture.write(
        "compose.yaml",
        "name: {project}\nservices:\n  app:\n    image: {busybox}\n",
    );
    fixture
}

#[test]
fn malformed_yaml_names_file_line_and_column() {
    let fixture = with_compose("yaml");
    fixture.write(
        "profiles/default.yaml",
        "compose:\n  files: [compose.yaml\n  env_files: x\n",
    );
    let outcome = fixture.devctl().args(["up"]).status(BAD_INPUT).run();
    let first = outcome.stderr.lines().next().unwrap();
    assert!(first.starts_with("error: "), "{first}");
    let location = first.trim_start_matches("error: ");
    let parts: Vec<&str> = location.splitn(4, ':').collect();
    assert!(parts[0].ends_with("profiles/default.yaml"), "{first}");
    assert!(
        parts[1].parse::<u32>().is_ok() && parts[2].parse::<u32>().is_ok(),
        "no line:column in {first}"
    );
}

#[test]
fn unknown_key_suggests_the_closest() {
    let fixture = with_compose("key");
    fixture.write("profiles/default.yaml", "compose:\n  project_nme: x\n");
    fixture
        .devctl()
        .args(["status"])
        .status(BAD_INPUT)
        .stderr("default.yaml:2:3: unknown key `project_nme`")
        .stderr("hint: did you mean `project_name`?")
        .run();
    fixture.write("profiles/default.yaml", "wait:\n  timeout: 5s\n");
    fixture
        .devctl()
        .args(["up"])
        .status(BAD_INPUT)
        .stderr("unknown key `wait`")
        .run();
}

#[test]
fn bad_values_are_named() {
    let fixture = with_compose("value");
    fixture.write("profiles/default.yaml", "up:\n  wait_timeout: soonish\n");
    fixture
        .devctl()
        .args(["up"])
        .status(BAD_INPUT)
        .stderr("default.yaml:2:")
        .stderr("`soonish`")
        .run();
    fixture.write("profiles/default.yaml", "");
    fixture
        .devctl()
        .args(["up", "--wait-timeout", "later"])
        .status(BAD_INPUT)
        .stderr("`later`")
        .run();
    fixture
        .devctl()
        .args(["up", "--volumes"])
        .status(BAD_INPUT)
        .stderr("--volumes")
        .run();
}

#[test]
fn unknown_profile_lists_the_available_ones() {
    let fixture = with_compose("profile");
    fixture.write("profiles/default.yaml", "");
    fixture.write("profiles/full.yaml", "extends: default\n");
    fixture
        .devctl()
        .args(["--profile", "ful", "up"])
        .status(BAD_INPUT)
        .stderr("profile `ful` not found")
        .stderr("did you mean `full`?")
        .stderr("available profiles: default, full")
        .run();
    fixture
        .devctl()
        .env("DEVCTL_PROFILE", "nope")
        .args(["status"])
        .status(BAD_INPUT)
        .stderr("available profiles: default, full")
        .run();
    fixture.write("profiles/other.yaml", "");
    std::fs::remove_file(fixture.root().join("profiles/default.yaml")).unwrap();
    fixture.write("profiles/full.yaml", "");
    fixture
        .devctl()
        .args(["up"])
        .status(BAD_INPUT)
        .stderr("none is named `default`: full, other")
        .stderr("--profile")
        .run();
}

#[test]
fn missing_compose_files_are_named() {
    let fixture = Fixture::new("missing");
    fixture.write(
        "profiles/default.yaml",
        "compose:\n  files: [compose.yaml, extra.yaml]\n",
    );
    fixture.write("compose.yaml", "services: {}\n");
    fixture
        .devctl()
        .args(["up"])
        .status(BAD_INPUT)
        .stderr("compose.files names `extra.yaml`, which does not exist")
        .run();
    let bare = Fixture::new("bare");
    bare.write("profiles/default.yaml", "");
    bare.devctl()
        .args(["status"])
        .status(BAD_INPUT)
        .stderr("no compose file in")
        .run();
    let nothing = Fixture::new("nothing");
    nothing
        .devctl()
        .args(["up"])
        .status(BAD_INPUT)
        .stderr("no devctl project found")
        .run();
}

#[test]
fn a_compose_file_compose_rejects_reports_compose_s_message() {
    let fixture = Fixture::new("invalid");
    fixture.write(
        "compose.yaml",
        "services:\n  app:\n    image: {busybox}\n    ports: [\"not a port\"]\n",
    );
    fixture
        .devctl()
        .args(["up"])
        .status(BAD_INPUT)
        .stderr("compose cannot resolve the project")
        .stderr("Caused by:")
        .run();
}

#[test]
fn no_compose_on_path() {
    let fixture = with_compose("nocompose");
    let empty = fixture.root().join("../empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    fixture
        .devctl()
        .env("PATH", &empty)
        .args(["up"])
        .status(ENGINE_UNAVAILABLE)
        .stderr("docker compose not found")
        .stderr("hint: install Docker Compose v2.20 or later")
        .run();
    fixture
        .devctl()
        .env("DEVCTL_COMPOSE", "/nonexistent/compose")
        .args(["up"])
        .status(ENGINE_UNAVAILABLE)
        .stderr("DEVCTL_COMPOSE=`/nonexistent/compose`")
        .run();
}

#[test]
fn docker_without_the_compose_plugin() {
    let fixture = with_compose("noplugin");
    let bin = fixture.root().join("../bin");
    script(
        &bin.join("docker"),
        "echo \"docker: 'compose' is not a docker command.\" >&2\nexit 1",
    );
    fixture
        .devctl()
        .env("PATH", &bin)
        .args(["up"])
        .status(ENGINE_UNAVAILABLE)
        .stderr("`docker compose` does not work: docker: 'compose' is not a docker command.")
        .run();
}

#[test]
fn compose_v1_and_old_v2_are_refused() {
    let fixture = with_compose("v1");
    let bin = fixture.root().join("../bin");
    script(&bin.join("docker-compose-v1"), "echo 1.29.2");
    script(&bin.join("docker-compose-old"), "echo v2.17.3");
    fixture
        .devctl()
        .env("DEVCTL_COMPOSE", bin.join("docker-compose-v1"))
        .args(["up"])
        .status(ENGINE_UNAVAILABLE)
        .stderr("is Compose v1 (1.29.2), which is end-of-life")
        .stderr("hint: install Docker Compose v2.20 or later")
        .run();
    fixture
        .devctl()
        .env("DEVCTL_COMPOSE", bin.join("docker-compose-old"))
        .args(["up"])
        .status(ENGINE_UNAVAILABLE)
        .stderr("is Compose 2.17.3; devctl needs 2.20 or later")
        .run();
}

#[test]
fn a_daemon_that_does_not_answer_says_what_to_start() {
    crate::harness::require_engine();
    let fixture = with_compose("nodaemon");
    for verb in ["up", "status"] {
        fixture
            .devctl()
            .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
            .args([verb])
            .status(ENGINE_UNAVAILABLE)
            .stderr("the Docker engine at unix:///nonexistent/docker.sock is not answering")
            .stderr("hint: start it")
            .run();
    }
    fixture
        .devctl()
        .args(["--context", "no-such-context", "status"])
        .status(ENGINE_UNAVAILABLE)
        .stderr("docker context `no-such-context` not found")
        .run();
}

#[test]
fn errors_print_once_with_error_then_hint() {
    let outcome = Test::new(&std::env::temp_dir())
        .args(["--project-dir", "/nonexistent", "up"])
        .status(BAD_INPUT)
        .run();
    assert_eq!(
        outcome.stderr.matches("error:").count(),
        1,
        "{}",
        outcome.stderr
    );
    assert!(
        outcome.stderr.contains("hint: pass an existing directory"),
        "{}",
        outcome.stderr
    );
}
