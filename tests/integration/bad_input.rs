//! Bad input: a clear message naming the file, flag or value, a non-zero exit, never a panic.
//! Each deterministic message is kept exact, with its exit code, as a snapshot.

use crate::harness::{Fixture, Test, require_engine, script, snapshot};

const BAD_INPUT: i32 = 64;
const ENGINE_UNAVAILABLE: i32 = 69;
const REFUSED: i32 = 77;

fn with_compose(label: &str) -> Fixture {
    let fixture = Fixture::new(label);
    fixture.write(
        "compose.yaml",
        "name: {project}\nservices:\n  app:\n    image: {busybox}\n",
    );
    fixture
}

/// The message names the file, the line and the column.
#[test]
fn malformed_yaml_names_file_line_and_column() {
    let fixture = with_compose("yaml");
    fixture.write(
        "profiles/default.yaml",
        "compose:\n  files: [compose.yaml\n  env_files: x\n",
    );
    snapshot!(
        "malformed_yaml",
        fixture.devctl().args(["up"]).status(BAD_INPUT).run()
    );
}

#[test]
fn unknown_key_suggests_the_closest() {
    let fixture = with_compose("key");
    fixture.write("profiles/default.yaml", "compose:\n  project_nme: x\n");
    snapshot!(
        "unknown_key_with_suggestion",
        fixture.devctl().args(["status"]).status(BAD_INPUT).run()
    );
    fixture.write("profiles/default.yaml", "wait:\n  timeout: 5s\n");
    snapshot!(
        "unknown_key",
        fixture.devctl().args(["up"]).status(BAD_INPUT).run()
    );
}

#[test]
fn bad_values_are_named() {
    let fixture = with_compose("value");
    fixture.write("profiles/default.yaml", "up:\n  wait_timeout: soonish\n");
    snapshot!(
        "bad_duration_in_profile",
        fixture.devctl().args(["up"]).status(BAD_INPUT).run()
    );
    fixture.write("profiles/default.yaml", "");
    snapshot!(
        "bad_duration_flag",
        fixture
            .devctl()
            .args(["up", "--wait-timeout", "later"])
            .status(BAD_INPUT)
            .run()
    );
    snapshot!(
        "flag_of_another_verb",
        fixture
            .devctl()
            .args(["up", "--volumes"])
            .status(BAD_INPUT)
            .run()
    );
}

#[test]
fn unknown_flags_and_formats_are_usage_errors() {
    let fixture = with_compose("flag");
    snapshot!(
        "unknown_flag_of_a_verb",
        fixture
            .devctl()
            .args(["up", "--bogus"])
            .status(BAD_INPUT)
            .run()
    );
    snapshot!(
        "unknown_flag",
        fixture
            .devctl()
            .args(["--bogus", "up"])
            .status(BAD_INPUT)
            .run()
    );
    snapshot!(
        "bad_format",
        fixture
            .devctl()
            .args(["status", "--format", "yaml"])
            .status(BAD_INPUT)
            .run()
    );
    snapshot!(
        "bad_doctor_format",
        fixture
            .devctl()
            .args(["doctor", "--format", "xml"])
            .status(BAD_INPUT)
            .run()
    );
    snapshot!(
        "missing_arguments",
        fixture.devctl().args(["exec"]).status(BAD_INPUT).run()
    );
}

#[test]
fn unknown_profile_lists_the_available_ones() {
    let fixture = with_compose("profile");
    fixture.write("profiles/default.yaml", "");
    fixture.write("profiles/full.yaml", "extends: default\n");
    snapshot!(
        "unknown_profile",
        fixture
            .devctl()
            .args(["--profile", "ful", "up"])
            .status(BAD_INPUT)
            .run()
    );
    snapshot!(
        "unknown_profile_from_environment",
        fixture
            .devctl()
            .env("DEVCTL_PROFILE", "nope")
            .args(["status"])
            .status(BAD_INPUT)
            .run()
    );
    fixture.write("profiles/other.yaml", "");
    std::fs::remove_file(fixture.root().join("profiles/default.yaml")).unwrap();
    fixture.write("profiles/full.yaml", "");
    snapshot!(
        "no_default_profile",
        fixture.devctl().args(["up"]).status(BAD_INPUT).run()
    );
}

#[test]
fn unknown_services_and_backups_are_named() {
    let fixture = with_compose("names");
    fixture.write("profiles/default.yaml", "");
    snapshot!(
        "unknown_service",
        fixture
            .devctl()
            .args(["up", "nosuch"])
            .status(BAD_INPUT)
            .run()
    );
    snapshot!(
        "unknown_backup",
        fixture
            .devctl()
            .args(["restore", "20990101-000000-abcd"])
            .status(BAD_INPUT)
            .run()
    );
    snapshot!(
        "unknown_backup_to_verify",
        fixture
            .devctl()
            .args(["backup", "verify", "nope"])
            .status(BAD_INPUT)
            .run()
    );
}

/// Without a terminal to ask on, a `--confirm` that names another project is refused, and
/// the volume stays.
#[test]
fn a_wrong_confirmation_without_a_terminal_is_refused() {
    require_engine();
    let fixture = Fixture::new("wrong-confirm");
    fixture.write(
        "compose.yaml",
        "name: {project}\nservices:\n  app:\n    image: {busybox}\n    init: true\n    command: [sleep, '600']\n    volumes: [data:/data]\nvolumes:\n  data:\n",
    );
    fixture.devctl().args(["up"]).status(0).run();
    snapshot!(
        "wrong_confirmation",
        fixture
            .devctl()
            .args(["down", "--volumes", "--confirm", "another-project"])
            .status(REFUSED)
            .run()
    );
    assert_eq!(fixture.volumes(), [format!("{}_data", fixture.name)]);
}

#[test]
fn missing_compose_files_are_named() {
    let fixture = Fixture::new("missing");
    fixture.write(
        "profiles/default.yaml",
        "compose:\n  files: [compose.yaml, extra.yaml]\n",
    );
    fixture.write("compose.yaml", "services: {}\n");
    snapshot!(
        "missing_compose_file",
        fixture.devctl().args(["up"]).status(BAD_INPUT).run()
    );
    let bare = Fixture::new("bare");
    bare.write("profiles/default.yaml", "");
    snapshot!(
        "no_compose_file",
        bare.devctl().args(["status"]).status(BAD_INPUT).run()
    );
    let nothing = Fixture::new("nothing");
    snapshot!(
        "no_project",
        nothing.devctl().args(["up"]).status(BAD_INPUT).run()
    );
}

/// Compose's own message differs between compose versions: only devctl's part is exact.
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
    snapshot!(
        "no_compose_on_path",
        fixture
            .devctl()
            .env("PATH", &empty)
            .args(["up"])
            .status(ENGINE_UNAVAILABLE)
            .run()
    );
    snapshot!(
        "compose_override_missing",
        fixture
            .devctl()
            .env("DEVCTL_COMPOSE", "/nonexistent/compose")
            .args(["up"])
            .status(ENGINE_UNAVAILABLE)
            .run()
    );
}

#[test]
fn docker_without_the_compose_plugin() {
    let fixture = with_compose("noplugin");
    let bin = fixture.root().join("../bin");
    script(
        &bin.join("docker"),
        "echo \"docker: 'compose' is not a docker command.\" >&2\nexit 1",
    );
    snapshot!(
        "no_compose_plugin",
        fixture
            .devctl()
            .env("PATH", &bin)
            .args(["up"])
            .status(ENGINE_UNAVAILABLE)
            .run()
    );
}

#[test]
fn compose_v1_and_old_v2_are_refused() {
    let fixture = with_compose("v1");
    let bin = fixture.root().join("../bin");
    script(&bin.join("docker-compose-v1"), "echo 1.29.2");
    script(&bin.join("docker-compose-old"), "echo v2.17.3");
    snapshot!(
        "compose_v1",
        fixture
            .devctl()
            .env("DEVCTL_COMPOSE", bin.join("docker-compose-v1"))
            .args(["up"])
            .status(ENGINE_UNAVAILABLE)
            .run()
    );
    snapshot!(
        "compose_too_old",
        fixture
            .devctl()
            .env("DEVCTL_COMPOSE", bin.join("docker-compose-old"))
            .args(["up"])
            .status(ENGINE_UNAVAILABLE)
            .run()
    );
}

#[test]
fn a_daemon_that_does_not_answer_says_what_to_start() {
    require_engine();
    let fixture = with_compose("nodaemon");
    for verb in ["up", "status"] {
        snapshot!(
            format!("no_daemon_{verb}"),
            fixture
                .devctl()
                .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
                .args([verb])
                .status(ENGINE_UNAVAILABLE)
                .run()
        );
    }
    snapshot!(
        "unknown_context",
        fixture
            .devctl()
            .args(["--context", "no-such-context", "status"])
            .status(ENGINE_UNAVAILABLE)
            .run()
    );
}

/// One `error:` line, then the hint.
#[test]
fn errors_print_once_with_error_then_hint() {
    snapshot!(
        "missing_project_dir",
        Test::new(&std::env::temp_dir())
            .args(["--project-dir", "/nonexistent", "up"])
            .status(BAD_INPUT)
            .run()
    );
}

/// An endpoint that accepts connections and never answers (a stuck daemon, a dead tunnel) is
/// reported as not answering once `DEVCTL_ENGINE_TIMEOUT` has passed, not after minutes.
#[test]
fn an_engine_that_never_answers_is_reported_at_the_time_limit() {
    require_engine();
    let fixture = with_compose("silent");
    let socket = fixture.root().join("silent.sock");
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    // Accepts and holds every connection without a byte in reply, until the test ends.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for connection in listener.incoming().flatten() {
            held.push(connection);
        }
    });
    let outcome = fixture
        .devctl()
        .env("DOCKER_HOST", format!("unix://{}", socket.display()))
        .env("DEVCTL_ENGINE_TIMEOUT", "2s")
        .args(["status"])
        .status(ENGINE_UNAVAILABLE)
        .stderr("is not answering: no answer within 2s (DEVCTL_ENGINE_TIMEOUT)")
        .run();
    assert_eq!(outcome.stderr.matches("error:").count(), 1);
    fixture
        .devctl()
        .env("DOCKER_HOST", format!("unix://{}", socket.display()))
        .env("DEVCTL_ENGINE_TIMEOUT", "soon")
        .args(["status"])
        .status(BAD_INPUT)
        .stderr("DEVCTL_ENGINE_TIMEOUT: `soon` is not a duration")
        .run();
}

/// compose's quick calls have a time limit: a `config` that never finishes is stopped, with
/// everything it started, and reported.
#[test]
fn a_compose_call_that_never_finishes_is_stopped_at_the_time_limit() {
    let fixture = with_compose("slowconfig");
    let bin = fixture.root().join("../bin");
    let marker = fixture.root().join("../still-running");
    // Answers `version`; `config` starts a child that would outlive it, and never returns.
    script(
        &bin.join("docker-compose-slow"),
        &format!(
            "case \"$*\" in *version*) echo 2.30.0; exit 0;; esac\n(sleep 8; touch {}) &\nsleep 60\n",
            marker.display()
        ),
    );
    let outcome = fixture
        .devctl()
        .env("DEVCTL_COMPOSE", bin.join("docker-compose-slow"))
        .env("DEVCTL_COMPOSE_TIMEOUT", "2s")
        .args(["plan", "up"])
        .status(1)
        .stderr("did not finish within 2s, so devctl stopped it")
        .stderr("hint: run it yourself to see what compose is doing")
        .run();
    assert_eq!(outcome.stderr.matches("error:").count(), 1);
    // The whole process group went: the background child never got to write its file.
    std::thread::sleep(std::time::Duration::from_secs(8));
    assert!(
        !marker.exists(),
        "a child of the stopped compose call lived on"
    );
}

/// A compose file whose YAML anchors expand without end keeps compose itself busy for
/// minutes; devctl stops it at the limit instead of hanging with it.
#[test]
fn an_anchor_bomb_stops_at_the_time_limit_instead_of_hanging() {
    require_engine();
    let fixture = Fixture::new("anchorbomb");
    let mut text =
        String::from("name: {project}\nx-a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for pair in names.windows(2) {
        let (previous, name) = (pair[0], pair[1]);
        let items = vec![format!("*{previous}"); 9].join(", ");
        text.push_str(&format!("x-{name}: &{name} [{items}]\n"));
    }
    text.push_str("services:\n  app:\n    image: {busybox}\n    labels:\n      bomb: *i\n");
    fixture.write("compose.yaml", &text);
    fixture
        .devctl()
        .env("DEVCTL_COMPOSE_TIMEOUT", "3s")
        .args(["plan", "up"])
        .status(1)
        .stderr("config --format json` did not finish within 3s, so devctl stopped it")
        .run();
    // compose (a plugin the docker CLI started) was stopped with it: no process is left
    // working in the project's directory.
    let root = std::fs::canonicalize(fixture.root()).unwrap();
    let left: Vec<String> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|entry| std::fs::read_link(entry.path().join("cwd")).is_ok_and(|cwd| cwd == root))
        .filter_map(|entry| std::fs::read_to_string(entry.path().join("cmdline")).ok())
        .map(|command| command.replace('\0', " "))
        .collect();
    assert!(left.is_empty(), "still running in the project: {left:?}");
}
