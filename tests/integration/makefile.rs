//! The Makefile's project verbs: `make demo` ends with the demo healthy; `make status` and
//! `make down` reach the same stack.

use std::process::Command;

use crate::harness::{Fixture, repository, require_engine};

fn make(fixture: &Fixture, target: &str) -> std::process::Output {
    make_with(fixture, target, &[])
}

fn make_with(fixture: &Fixture, target: &str, variables: &[String]) -> std::process::Output {
    let output = make_unchecked(fixture, target, variables);
    assert!(
        output.status.success(),
        "make {target} failed\n--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// `make TARGET` with stdin closed, whatever its exit status.
fn make_unchecked(fixture: &Fixture, target: &str, variables: &[String]) -> std::process::Output {
    let mut command = Command::new("make");
    command
        .arg("--no-print-directory")
        .arg("-C")
        .arg(repository())
        .arg(target)
        // devctl is already built by the test run; `make` must not rebuild it here.
        .arg("CARGO=true")
        .arg(format!("DEVCTL={}", env!("CARGO_BIN_EXE_devctl")))
        .arg(format!("DEMO={}", fixture.root().display()))
        .args(variables)
        .env("DEVCTL_STATE_DIR", fixture.state_dir())
        .env("DEVCTL_BACKUP_DIR", fixture.backup_dir().parent().unwrap())
        .env("NO_COLOR", "1");
    for (key, value) in fixture.variables() {
        command.env(key, value);
    }
    command.stdin(std::process::Stdio::null()).output().unwrap()
}

#[test]
fn make_demo_ends_with_the_demo_healthy() {
    require_engine();
    let demo = Fixture::demo("make");
    let output = make(&demo, "demo");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&format!("{} is up", demo.name)), "{stderr}");
    let backend = stdout
        .lines()
        .find(|line| line.starts_with("backend"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        backend.contains("running") && backend.contains("healthy"),
        "{backend}"
    );
    let status = demo.status();
    for row in status["services"].as_array().unwrap() {
        let ready =
            row["health"] == "healthy" || (row["state"] == "exited" && row["exit_code"] == 0);
        assert!(ready, "{row:#}");
    }
    make(&demo, "status");
    let doctor = make(&demo, "doctor");
    let report = String::from_utf8_lossy(&doctor.stdout);
    assert!(report.contains("0 error(s)"), "{report}");
    let sarif = make_with(&demo, "doctor", &["FORMAT=sarif".to_string()]);
    // make echoes the recipe's command line first.
    let text = String::from_utf8_lossy(&sarif.stdout);
    let log: serde_json::Value = serde_json::from_str(&text[text.find('{').unwrap()..]).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let backup = make(&demo, "backup");
    let id = String::from_utf8_lossy(&backup.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .trim()
        .to_string();
    assert!(
        demo.backup_dir().join(&id).join("manifest.json").is_file(),
        "make backup made no backup {id:?}"
    );
    let restore = make_with(
        &demo,
        "restore",
        &[format!("ID={id}"), format!("CONFIRM={}", demo.name)],
    );
    let stderr = String::from_utf8_lossy(&restore.stderr);
    assert!(
        stderr.contains(&format!("restored backup {id}")),
        "{stderr}"
    );
    let status = demo.status();
    assert_eq!(
        crate::harness::service_row(&status, "backend")["health"],
        "healthy"
    );
    // The fidelity stack comes up beside the live one and goes down alone.
    let fidelity = make(&demo, "fidelity-up");
    let stderr = String::from_utf8_lossy(&fidelity.stderr);
    assert!(stderr.contains("fidelity verified: 3 services"), "{stderr}");
    make(&demo, "fidelity-down");
    assert_eq!(
        crate::harness::service_row(&demo.status(), "backend")["health"],
        "healthy"
    );
    make(&demo, "down");
    assert!(demo.containers().is_empty());
    assert_eq!(demo.volumes().len(), 1);
    // `make nuke` goes through the guard: without a terminal or CONFIRM it deletes nothing.
    let refused = make_unchecked(&demo, "nuke", &[]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{stderr}");
    assert!(
        stderr.contains("refusing to delete 1 volume(s)"),
        "{stderr}"
    );
    assert_eq!(demo.volumes().len(), 1);
    let nuked = make_with(&demo, "nuke", &[format!("CONFIRM={}", demo.name)]);
    let stderr = String::from_utf8_lossy(&nuked.stderr);
    assert!(stderr.contains("backed up 1 volume(s)"), "{stderr}");
    assert!(demo.volumes().is_empty());
}
