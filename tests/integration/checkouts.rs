//! Two checkouts of one project (a real `git worktree`) with the same project name: the
//! second may not take over the first's stack — not with `up`, the passthrough's `up`,
//! `create`, `run` or `start`, nor fidelity — not even once the first's containers are gone
//! and only its volumes remain; with a per-checkout project name both run side by side.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{Fixture, Test, require_engine};

const REFUSED: i32 = 77;

/// Removes a compose project the fixture does not know of.
struct StrayProject(String);

impl Drop for StrayProject {
    fn drop(&mut self) {
        let _ = crate::sandbox::remove_project(&self.0);
        let _ = crate::sandbox::remove_project(&format!("{}-fidelity", self.0));
    }
}

fn git(directory: &Path, arguments: &[&str]) {
    let output = Command::new("git")
        .args([
            "-c",
            "user.name=test",
            "-c",
            "user.email=test@example.invalid",
        ])
        .args(arguments)
        .current_dir(directory)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "git {arguments:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A committed project in `fixture`'s root with profile `profile`, and a second working
/// tree of it beside the root; returns the second's path.
fn project_with_worktree(fixture: &Fixture, profile: &str) -> PathBuf {
    fixture.write("profiles/default.yaml", profile);
    fixture.write(
        "compose.yaml",
        "services:\n  app:\n    image: {busybox}\n    init: true\n    command: [sleep, '600']\n    volumes: [data:/data, ./src:/src]\nvolumes:\n  data:\n",
    );
    fixture.write("src/checkout.txt", "first\n");
    let root = fixture.root();
    git(&root, &["init", "-q"]);
    git(&root, &["add", "."]);
    git(&root, &["commit", "-qm", "project"]);
    let second = root.parent().unwrap().join("second");
    git(&root, &["worktree", "add", "-q", second.to_str().unwrap()]);
    std::fs::write(second.join("src/checkout.txt"), "second\n").unwrap();
    second
}

/// devctl in `directory`, sharing `fixture`'s state and backups (one machine's devctl).
fn devctl_in(fixture: &Fixture, directory: &Path) -> Test {
    Test::new(directory)
        .env("DEVCTL_STATE_DIR", fixture.state_dir())
        .env("DEVCTL_BACKUP_DIR", fixture.backup_dir().parent().unwrap())
}

/// `id source-of-/src` of the project's app container.
fn app_container(project: &str) -> String {
    let output = Command::new("docker")
        .args([
            "inspect",
            "--format",
            "{{.Id}} {{range .Mounts}}{{if eq .Destination \"/src\"}}{{.Source}}{{end}}{{end}}",
            &format!("{project}-app-1"),
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

#[test]
fn a_second_checkout_may_not_take_over_the_first_s_stack() {
    require_engine();
    let fixture = Fixture::new("checkout");
    let second = project_with_worktree(&fixture, "compose:\n  project_name: {project}\n");
    fixture.devctl().args(["up"]).status(0).run();
    fixture.shell("app", "echo mine > /data/file");
    let before = app_container(&fixture.name);
    assert!(before.ends_with("/root/src"), "{before}");
    let first_root = fixture.root().canonicalize().unwrap();
    for arguments in [
        &["up"][..],
        &["compose", "up", "-d"],
        &["compose", "create"],
        &["compose", "run", "--rm", "app", "true"],
        &["compose", "start"],
    ] {
        devctl_in(&fixture, &second)
            .args(arguments)
            .status(REFUSED)
            .stderr("belongs to another checkout")
            .stderr(&first_root.display().to_string())
            .stderr(&format!("project_name: {}-{{checkout}}", fixture.name))
            .run();
    }
    assert_eq!(app_container(&fixture.name), before);
    assert_eq!(fixture.shell("app", "cat /data/file"), "mine\n");

    // The first's containers gone, its volume stays: devctl's record still names it.
    fixture.devctl().args(["down"]).status(0).run();
    devctl_in(&fixture, &second)
        .args(["up"])
        .status(REFUSED)
        .stderr("its volumes remain")
        .stderr(&first_root.display().to_string())
        .run();
    assert!(fixture.containers().is_empty());
    // The first checkout takes its own stack back.
    fixture.devctl().args(["up"]).status(0).run();
    assert_eq!(fixture.shell("app", "cat /data/file"), "mine\n");
    // Said on purpose, the second goes ahead, and owns the name from then on.
    devctl_in(&fixture, &second)
        .args(["--allow-other-checkout", "up"])
        .status(0)
        .run();
    assert!(app_container(&fixture.name).ends_with("/second/src"));
    fixture
        .devctl()
        .args(["up"])
        .status(REFUSED)
        .stderr("belongs to another checkout")
        .run();
}

#[test]
fn the_fidelity_stack_of_another_checkout_is_refused_too() {
    require_engine();
    let fixture = Fixture::new("checkout-fidelity");
    let second = project_with_worktree(&fixture, "compose:\n  project_name: {project}\n");
    fixture.devctl().args(["up", "--fidelity"]).status(0).run();
    let fidelity = format!("{}-fidelity", fixture.name);
    let before = app_container(&fidelity);
    devctl_in(&fixture, &second)
        .args(["up", "--fidelity"])
        .status(REFUSED)
        .stderr(&format!(
            "project name `{fidelity}` belongs to another checkout"
        ))
        .run();
    assert_eq!(app_container(&fidelity), before);
}

#[test]
fn with_a_per_checkout_project_name_both_checkouts_run_side_by_side() {
    require_engine();
    let fixture = Fixture::new("checkout-own");
    let second =
        project_with_worktree(&fixture, "compose:\n  project_name: {project}-{checkout}\n");
    let (first_name, second_name) = (
        format!("{}-root", fixture.name),
        format!("{}-second", fixture.name),
    );
    let _stacks = (
        StrayProject(first_name.clone()),
        StrayProject(second_name.clone()),
    );
    fixture
        .devctl()
        .args(["up"])
        .status(0)
        .stderr(&format!("{first_name} is up"))
        .run();
    devctl_in(&fixture, &second)
        .args(["up"])
        .status(0)
        .stderr(&format!("{second_name} is up"))
        .run();
    for (project, checkout) in [(&first_name, "first"), (&second_name, "second")] {
        let container = format!("{project}-app-1");
        let shown = Command::new("docker")
            .args(["exec", &container, "cat", "/src/checkout.txt"])
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&shown.stdout),
            format!("{checkout}\n")
        );
        let volume = Command::new("docker")
            .args(["volume", "inspect", &format!("{project}_data")])
            .output()
            .unwrap();
        assert!(volume.status.success(), "{project}_data");
    }
}
