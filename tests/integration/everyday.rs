//! The everyday verbs beside `up` and `down`, on the real engine: `restart` keeps the
//! containers, `build` builds with the profile applied, `shell` and `exec -T` run in the
//! service, `man` prints the manual, and `make install` installs it with the completions.

use std::process::Command;

use crate::harness::{Fixture, repository, require_engine};

/// A project whose `app` is built from a Dockerfile on the test image, and mounts `data`.
fn built_project(label: &str) -> Fixture {
    let fixture = Fixture::new(label);
    fixture.write(
        "profiles/default.yaml",
        "compose:\n  project_name: {project}\n",
    );
    fixture.write(
        "app/Dockerfile",
        "FROM devctl-test/busybox:1\nRUN echo built > /built\nCMD [\"sleep\", \"600\"]\n",
    );
    fixture.write(
        "compose.yaml",
        "services:\n  app:\n    build: ./app\n    image: {project}-app:dev\n    init: true\n    volumes: [data:/data]\nvolumes:\n  data:\n",
    );
    fixture
}

fn container_id(fixture: &Fixture) -> String {
    let output = Command::new("docker")
        .args(["inspect", "--format", "{{.Id}} {{.State.StartedAt}}"])
        .arg(format!("{}-app-1", fixture.name))
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

#[test]
fn build_then_restart_keeps_the_containers_and_shell_and_exec_run_in_the_service() {
    require_engine();
    let fixture = built_project("everyday");
    fixture.devctl().args(["build"]).status(0).run();
    let images = Command::new("docker")
        .args(["image", "inspect", &format!("{}-app:dev", fixture.name)])
        .output()
        .unwrap();
    assert!(images.status.success(), "build made no image");
    fixture.devctl().args(["up"]).status(0).run();
    fixture.shell("app", "echo kept > /data/file");
    let before = container_id(&fixture);
    let (id, started) = before.split_once(' ').unwrap();
    fixture
        .devctl()
        .args(["restart", "app"])
        .status(0)
        .stderr(&format!("{} is up", fixture.name))
        .run();
    let after = container_id(&fixture);
    let (id_after, started_after) = after.split_once(' ').unwrap();
    assert_eq!(id_after, id, "restart recreated the container");
    assert_ne!(started_after, started, "restart did not restart it");
    // An unknown service is bad input, and nothing restarts.
    fixture
        .devctl()
        .args(["restart", "nope"])
        .status(64)
        .stderr("service `nope` is not in profile `default`")
        .run();

    // `shell` without a terminal reads its commands from the input (busybox has no bash).
    fixture
        .devctl()
        .args(["shell", "app"])
        .stdin("cat /built /data/file; echo $0\n")
        .status(0)
        .stdout("built\nkept\nsh\n")
        .run();
    fixture
        .devctl()
        .args(["exec", "-T", "app", "cat", "/data/file"])
        .status(0)
        .stdout("kept\n")
        .run();
}

#[test]
fn man_prints_the_manual_and_make_install_installs_it_with_the_completions() {
    let devctl = env!("CARGO_BIN_EXE_devctl");
    let page = Command::new(devctl).args(["man"]).output().unwrap();
    let text = String::from_utf8_lossy(&page.stdout);
    assert!(page.status.success());
    assert!(text.contains(".TH devctl 1"), "{text}");
    let restore = Command::new(devctl)
        .args(["man", "restore"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&restore.stdout).contains("\\-\\-no\\-rollback"));
    let unknown = Command::new(devctl).args(["man", "nope"]).output().unwrap();
    assert_eq!(unknown.status.code(), Some(64));

    let prefix = tempfile::tempdir().unwrap();
    let output = Command::new("make")
        .arg("--no-print-directory")
        .arg("-C")
        .arg(repository())
        .arg("install")
        // devctl is built by the test run already: install only its pages and completions.
        .arg("CARGO=true")
        .arg(format!("INSTALLED={devctl}"))
        .arg(format!("PREFIX={}", prefix.path().display()))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let share = prefix.path().join("share");
    for path in [
        "man/man1/devctl.1",
        "man/man1/devctl-up.1",
        "man/man1/devctl-restore.1",
        "bash-completion/completions/devctl",
        "zsh/site-functions/_devctl",
        "fish/vendor_completions.d/devctl.fish",
    ] {
        let written = std::fs::metadata(share.join(path));
        assert!(
            written.is_ok_and(|metadata| metadata.len() > 100),
            "{path} is missing or empty"
        );
    }
}
