//! A restore the stack cannot run on is rolled back by itself: the safety backup goes back in
//! and the services are healthy again (exit 78); `--no-rollback` keeps the restored state.
//! `--latest` means the newest backup a person made (or the guard took), never a safety
//! backup; `--undo` puts back what the last restore replaced.

use crate::backup::{backup, listed};
use crate::harness::{Fixture, require_engine};

const BAD_INPUT: i32 = 64;
const ROLLED_BACK: i32 = 78;
const UNHEALTHY: i32 = 79;

/// A project whose `app` is healthy only while /data/healthy exists.
fn health_project(label: &str) -> Fixture {
    let fixture = Fixture::new(label);
    fixture.write(
        "profiles/default.yaml",
        "compose:\n  project_name: {project}\n",
    );
    fixture.write(
        "compose.yaml",
        "services:\n  app:\n    image: {busybox}\n    init: true\n    command: [sleep, '600']\n    volumes: [data:/data]\n    healthcheck:\n      test: [CMD, test, -f, /data/healthy]\n      interval: 1s\n      timeout: 1s\n      retries: 2\nvolumes:\n  data:\n",
    );
    fixture
}

fn content(fixture: &Fixture) -> String {
    fixture.shell("app", "cat /data/file; ls /data")
}

#[test]
fn a_restore_the_services_cannot_run_on_is_rolled_back_by_itself() {
    require_engine();
    let fixture = health_project("rollback");
    fixture.devctl().args(["up", "--no-wait"]).status(0).run();
    fixture.shell("app", "echo good > /data/file && touch /data/healthy");
    // A consistent backup of a state in which the service cannot become healthy.
    fixture.shell("app", "echo broken > /data/file && rm /data/healthy");
    let broken = backup(&fixture, &["--label", "broken"]);
    fixture.shell("app", "echo live > /data/file && touch /data/healthy");
    fixture.devctl().args(["up"]).status(0).run();
    let before = content(&fixture);

    let outcome = fixture
        .devctl()
        .args(["restore", &broken, "--wait-timeout", "20s"])
        .args(["--confirm", &fixture.name])
        .status(ROLLED_BACK)
        .stderr("putting back safety backup")
        .stderr("restore rolled back")
        .stderr("--no-rollback")
        .run();
    assert_eq!(content(&fixture), before, "{}", outcome.stderr);
    // The services run healthy on what they had.
    fixture.devctl().args(["up"]).status(0).run();

    // Kept on purpose: the restored state stays to be looked at.
    fixture
        .devctl()
        .args(["restore", &broken, "--wait-timeout", "20s", "--no-rollback"])
        .args(["--confirm", &fixture.name])
        .status(UNHEALTHY)
        .run();
    assert_eq!(content(&fixture), "broken\nfile\n");
}

#[test]
fn latest_means_the_person_s_newest_backup_and_undo_puts_back_what_a_restore_replaced() {
    require_engine();
    let fixture = crate::backup::volume_project("latest", "");
    fixture.devctl().args(["up"]).status(0).run();
    fixture.shell("app", "echo one > /data/file");
    let first = backup(&fixture, &["--label", "first"]);
    fixture.shell("app", "echo two > /data/file");
    fixture
        .devctl()
        .args(["restore", &first, "--confirm", &fixture.name])
        .status(0)
        .run();
    assert_eq!(fixture.shell("app", "cat /data/file"), "one\n");
    let kinds: Vec<String> = listed(&fixture)
        .iter()
        .map(|entry| entry["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds, ["manual", "safety"]);
    // The newest backup is the safety one, yet the latest is the person's own.
    fixture
        .devctl()
        .args(["-n", "restore", "--latest"])
        .status(0)
        .stderr(&format!(
            "backup {first} (manual, label \"first\") of project"
        ))
        .run();
    // Undo: what the last restore replaced comes back.
    fixture
        .devctl()
        .args(["restore", "--undo", "--confirm", &fixture.name])
        .status(0)
        .run();
    assert_eq!(fixture.shell("app", "cat /data/file"), "two\n");

    // Without a safety backup there is nothing to undo with, and the confirmation said so.
    fixture
        .devctl()
        .args([
            "restore",
            &first,
            "--no-safety-backup",
            "--confirm",
            &fixture.name,
        ])
        .status(0)
        .run();
    let (_, screen) = crate::harness::typed_on_terminal(
        &fixture,
        &format!("restore {first} --no-safety-backup"),
        "no",
    );
    assert!(screen.contains("cannot be undone"), "{screen}");
    fixture
        .devctl()
        .args(["restore", "--undo", "--confirm", &fixture.name])
        .status(BAD_INPUT)
        .stderr("took no safety backup")
        .run();
    assert_eq!(fixture.shell("app", "cat /data/file"), "one\n");
}
