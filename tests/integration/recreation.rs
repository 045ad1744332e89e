//! A volume whose declaration changed: compose's `up` and `create` would delete it and create
//! it afresh, empty. Every spelling goes through the guard first — refused without a named
//! confirmation, backed up when confirmed, never for a protected volume — and compose's own
//! "Recreate (data will be lost)?" never reaches the person.

use crate::harness::{Fixture, require_engine, typed_on_terminal};

const REFUSED: i32 = 77;

/// A project whose `app` mounts `data` and the protected `keep`, both labelled `tier: "1"`.
fn labelled_project(label: &str) -> Fixture {
    let fixture = Fixture::new(label);
    fixture.write(
        "profiles/default.yaml",
        "compose:\n  project_name: {project}\nguard:\n  protected_volumes: [keep]\n",
    );
    write_compose(&fixture, "1", "1");
    fixture
}

fn write_compose(fixture: &Fixture, data_tier: &str, keep_tier: &str) {
    fixture.write(
        "compose.yaml",
        &format!(
            "services:\n  app:\n    image: {{busybox}}\n    init: true\n    command: [sleep, '600']\n    volumes: [data:/data, keep:/keep]\nvolumes:\n  data:\n    labels:\n      tier: \"{data_tier}\"\n  keep:\n    labels:\n      tier: \"{keep_tier}\"\n"
        ),
    );
}

/// The value of label `tier` on the project's volume `key`.
fn tier_label(fixture: &Fixture, key: &str) -> String {
    let output = std::process::Command::new("docker")
        .args([
            "volume",
            "inspect",
            "--format",
            "{{index .Labels \"tier\"}}",
        ])
        .arg(format!("{}_{key}", fixture.name))
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

#[test]
fn every_spelling_that_would_recreate_a_changed_volume_is_refused_without_a_named_confirmation() {
    require_engine();
    let fixture = labelled_project("recreate");
    fixture.devctl().args(["up"]).status(0).run();
    fixture.shell("app", "echo precious > /data/file");
    let containers = fixture.containers();
    write_compose(&fixture, "2", "1");
    let data = format!("{}_data", fixture.name);
    for arguments in [
        &["up"][..],
        &["compose", "up", "-d", "-y"],
        &["compose", "up", "-dy"],
        &["compose", "up", "-d", "--y"],
        &["compose", "up", "--detach", "--yes"],
        &["compose", "--profile", "*", "up", "-d", "--yes"],
        &["compose", "up", "-d"],
        &["compose", "create", "-y"],
        &["compose", "create"],
    ] {
        fixture
            .devctl()
            .args(arguments)
            .status(REFUSED)
            .stderr("delete and recreate 1 volume(s)")
            .stderr(&format!("changed: {data}: label tier: \"1\" → \"2\""))
            .stderr(&format!("--confirm {}", fixture.name))
            .stderr_absent("Recreate (data will be lost)")
            .run();
        assert_eq!(tier_label(&fixture, "data"), "1", "{arguments:?}");
    }
    // Commands where compose takes no --yes would ask its own question (answered here by
    // the `y` on their input): `up` first.
    for arguments in [
        &["compose", "run", "--rm", "app", "true"][..],
        &["compose", "watch"],
        &["--yes", "compose", "scale", "app=1"],
    ] {
        fixture
            .devctl()
            .args(arguments)
            .stdin("y\n")
            .status(REFUSED)
            .stderr("run `devctl up` first")
            .run();
        assert_eq!(tier_label(&fixture, "data"), "1", "{arguments:?}");
    }
    // A closed stderr does not turn a refusal into a crash.
    let piped = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "set -o pipefail; {} compose up -d -y 2>&1 | head -c 1 >/dev/null",
            env!("CARGO_BIN_EXE_devctl")
        ))
        .current_dir(fixture.root())
        .env("DEVCTL_STATE_DIR", fixture.state_dir())
        .env("DEVCTL_BACKUP_DIR", fixture.backup_dir().parent().unwrap())
        .status()
        .unwrap();
    assert_eq!(piped.code(), Some(REFUSED));
    // Aimed at another project, the guard could not tell what goes.
    fixture
        .devctl()
        .args([
            "compose",
            "-p",
            &format!("{}-other", fixture.name),
            "up",
            "-d",
            "-y",
        ])
        .status(REFUSED)
        .stderr("would aim it past the profile")
        .run();
    assert_eq!(fixture.containers(), containers);
    assert_eq!(fixture.shell("app", "cat /data/file"), "precious\n");
    // Every refusal is in the audit log.
    let refusals = std::fs::read_to_string(audit_log(&fixture)).unwrap();
    assert!(refusals.lines().count() >= 12, "{refusals}");
}

#[test]
fn a_confirmed_recreation_is_backed_up_first_and_restores() {
    require_engine();
    let fixture = labelled_project("recreate-yes");
    fixture.devctl().args(["up"]).status(0).run();
    fixture.shell("app", "echo precious > /data/file");
    write_compose(&fixture, "2", "1");
    let outcome = fixture
        .devctl()
        .args(["--confirm", &fixture.name, "compose", "up", "-d", "-y"])
        .status(0)
        .stderr("backed up 1 volume(s) as ")
        .run();
    assert_eq!(tier_label(&fixture, "data"), "2");
    assert_eq!(fixture.shell("app", "ls /data"), "");
    // The printed restore line brings the data back into the new volume.
    let stderr = outcome.stderr.clone();
    let line = stderr
        .lines()
        .find(|line| line.contains("to get them back: devctl "))
        .unwrap();
    let command = line.split("to get them back: devctl ").nth(1).unwrap();
    assert!(command.contains("before-recreate"), "{command}");
    fixture
        .devctl()
        .args(command.split_whitespace())
        .status(0)
        .run();
    assert_eq!(fixture.shell("app", "cat /data/file"), "precious\n");
    let log = std::fs::read_to_string(audit_log(&fixture)).unwrap();
    let confirmed: serde_json::Value = log
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .find(|entry| entry["decision"] == "confirmed")
        .unwrap();
    assert_eq!(confirmed["volumes"][0], format!("{}_data", fixture.name));
    assert!(confirmed["backup"].is_string());

    // devctl's own up, confirmed, does the same, and nothing of compose's asks.
    fixture.shell("app", "echo again > /data/file");
    write_compose(&fixture, "3", "1");
    fixture
        .devctl()
        .args(["--confirm", &fixture.name, "up"])
        .status(0)
        .stderr("before-recreate")
        .stderr_absent("Recreate (data will be lost)")
        .run();
    assert_eq!(tier_label(&fixture, "data"), "3");
}

#[test]
fn a_protected_volume_is_never_recreated() {
    require_engine();
    let fixture = labelled_project("recreate-keep");
    fixture.devctl().args(["up"]).status(0).run();
    fixture.shell("app", "echo precious > /keep/file");
    write_compose(&fixture, "1", "2");
    for arguments in [&["up"][..], &["compose", "up", "-d", "-y"]] {
        fixture
            .devctl()
            .args(["--confirm", &fixture.name])
            .args(arguments)
            .status(REFUSED)
            .stderr("the protected volume keep")
            .run();
    }
    assert_eq!(tier_label(&fixture, "keep"), "1");
    assert_eq!(fixture.shell("app", "cat /keep/file"), "precious\n");
}

#[test]
fn on_a_terminal_up_asks_devctl_s_question_never_compose_s() {
    require_engine();
    let fixture = labelled_project("recreate-pty");
    fixture.devctl().args(["up"]).status(0).run();
    fixture.shell("app", "echo precious > /data/file");
    write_compose(&fixture, "2", "1");
    let (code, screen) = typed_on_terminal(&fixture, "up", "y");
    assert_eq!(code, Some(REFUSED), "{screen}");
    assert!(
        screen.contains(&format!("type the project name `{}`", fixture.name)),
        "{screen}"
    );
    assert!(screen.contains("delete and recreate"), "{screen}");
    assert!(!screen.contains("Recreate (data will be lost)"), "{screen}");
    assert_eq!(tier_label(&fixture, "data"), "1");
    assert_eq!(fixture.shell("app", "cat /data/file"), "precious\n");
    let (code, screen) = typed_on_terminal(&fixture, "up", &fixture.name);
    assert_eq!(code, Some(0), "{screen}");
    assert!(!screen.contains("Recreate (data will be lost)"), "{screen}");
    assert_eq!(tier_label(&fixture, "data"), "2");
}

/// The project's audit log.
fn audit_log(fixture: &Fixture) -> std::path::PathBuf {
    let projects = fixture.state_dir().join("projects");
    let entry = std::fs::read_dir(&projects)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.join("audit.jsonl").is_file())
        .unwrap();
    entry.join("audit.jsonl")
}

#[test]
fn a_restore_leaves_compose_no_question_to_answer() {
    require_engine();
    let fixture = labelled_project("recreate-restore");
    fixture.devctl().args(["up"]).status(0).run();
    fixture.shell("app", "echo precious > /data/file");
    fixture.devctl().args(["backup"]).status(0).run();
    let id = crate::backup::listed(&fixture)[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    write_compose(&fixture, "2", "1");
    // The `y` on its input is never read as an answer to compose's question.
    fixture
        .devctl()
        .args(["restore", &id, "--confirm", &fixture.name])
        .stdin("y\n")
        .status(0)
        .stderr_absent(&format!("Volume {}_data Removing", fixture.name))
        .run();
    assert_eq!(tier_label(&fixture, "data"), "1");
    assert_eq!(fixture.shell("app", "cat /data/file"), "precious\n");
}

#[test]
fn volumes_compose_would_leave_alone_are_not_listed() {
    require_engine();
    let fixture = Fixture::new("recreate-alone");
    let shared = format!("{}-shared", fixture.name);
    let _shared = crate::backup::VolumeGuard(shared.clone());
    fixture.write(
        "profiles/default.yaml",
        "compose:\n  project_name: {project}\n",
    );
    let compose = |tier: &str| {
        format!(
            "services:\n  app:\n    image: {{busybox}}\n    init: true\n    command: [sleep, '600']\n    volumes: [shared:/shared]\n  other:\n    image: {{busybox}}\n    init: true\n    command: [sleep, '600']\n  tool:\n    image: {{busybox}}\n    init: true\n    command: [sleep, '600']\n    profiles: [tools]\n    volumes: [tooldata:/tool]\nvolumes:\n  shared:\n    name: {shared}\n    labels:\n      tier: \"{tier}\"\n  tooldata:\n    labels:\n      tier: \"{tier}\"\n"
        )
    };
    // The shared volume is created by another project first, with other labels.
    let other = Fixture::new("recreate-other");
    other.write("compose.yaml", &compose("1"));
    other.devctl().args(["up", "app"]).status(0).run();
    fixture.write("compose.yaml", &compose("2"));
    // Another project's volume: compose only warns.
    fixture.devctl().args(["up", "app"]).status(0).run();
    // The tools profile's volume, changed while that profile is not active.
    fixture
        .devctl()
        .args(["compose", "--profile", "tools", "up", "-d", "tool"])
        .status(0)
        .run();
    fixture.write("compose.yaml", &compose("3"));
    fixture
        .devctl()
        .args(["compose", "up", "-d", "other"])
        .status(0)
        .run();
    fixture.devctl().args(["up", "other"]).status(0).run();
    // Named, it is listed.
    fixture
        .devctl()
        .args(["compose", "--profile", "tools", "up", "-d", "tool"])
        .status(REFUSED)
        .stderr(&format!("{}_tooldata", fixture.name))
        .run();
}
