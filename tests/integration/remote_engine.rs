//! An engine that does not see this machine's folders, as a remote one does: devctl runs in a
//! mount namespace of its own where the project's folder is a tmpfs, which the engine (in
//! the machine's namespace) does not have.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{BUSYBOX, Fixture, Test, snapshot};

/// A project whose service bind-mounts `./src`, written to a folder beside the root: the
/// root itself stays empty on this machine, and is filled only in devctl's namespace.
fn hidden_project(label: &str) -> (Fixture, PathBuf) {
    let fixture = Fixture::new(label);
    fixture
        .write(
            "compose.yaml",
            "name: {project}\nservices:\n  web:\n    image: {busybox}\n    init: true\n    command: [\"sleep\", \"3600\"]\n    volumes:\n      - ./src:/app\n",
        )
        .write("src/index.html", "hello\n")
        .write("profiles/default.yaml", "up:\n  wait_timeout: 30s\n");
    let files = fixture.state_dir().with_file_name("files");
    std::fs::rename(fixture.root(), &files).unwrap();
    std::fs::create_dir(fixture.root()).unwrap();
    (fixture, files)
}

/// devctl in a mount namespace of its own, where the root is a tmpfs holding `files`.
fn hidden(fixture: &Fixture, files: &Path) -> Test {
    let root = fixture.root().display().to_string();
    let files = files.display().to_string();
    fixture.devctl().inside(&[
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        "mount -t tmpfs tmpfs \"$0\" && cp -a \"$1/.\" \"$0/\" && cd \"$0\" && shift && exec \"$@\"",
        &root,
        &files,
    ])
}

fn docker(arguments: &[&str]) -> String {
    let output = Command::new("docker").args(arguments).output().unwrap();
    assert!(
        output.status.success(),
        "docker {arguments:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

#[test]
fn a_source_folder_the_engine_cannot_see_is_refused_unless_allowed_and_fidelity_comes_up() {
    let (fixture, files) = hidden_project("unshared");
    let namespace = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "true"])
        .output()
        .unwrap();
    assert!(
        namespace.status.success(),
        "this test needs `unshare --mount` (root, util-linux): {}",
        String::from_utf8_lossy(&namespace.stderr)
    );

    let refused = hidden(&fixture, &files).args(["up"]).status(77).run();
    snapshot!(
        "unshared_bind_source_refused",
        refused,
        [(r"the engine \S+ at \S+ ", "the engine [ENGINE] at [HOST] ")]
    );
    assert!(
        fixture.containers().is_empty(),
        "{:?}",
        fixture.containers()
    );
    assert!(fixture.networks().is_empty(), "{:?}", fixture.networks());
    assert!(fixture.volumes().is_empty(), "{:?}", fixture.volumes());
    assert_eq!(
        docker(&[
            "ps",
            "-a",
            "--filter",
            "label=dev.devctl.helper=bind-source-probe",
            "--format",
            "{{.ID}}"
        ]),
        ""
    );
    assert!(!fixture.root().join("src").exists());

    // Allowed by the profile: it starts, on the empty folder the engine made on its side.
    std::fs::write(
        files.join("profiles/default.yaml"),
        "up:\n  wait_timeout: 30s\n  allow_unshared_bind_sources: true\n",
    )
    .unwrap();
    hidden(&fixture, &files)
        .args(["up"])
        .status(0)
        .stderr("starting anyway, as up.allow_unshared_bind_sources allows")
        .stderr("service web: ./src → /app")
        .run();
    assert_eq!(fixture.running(), [format!("{}-web-1", fixture.name)]);
    assert_eq!(fixture.shell("web", "ls -A /app"), "");
    hidden(&fixture, &files).args(["down"]).status(0).run();

    // The fidelity stack ships the sources in its images: it comes up without the setting.
    std::fs::write(
        files.join("profiles/default.yaml"),
        "up:\n  wait_timeout: 30s\n",
    )
    .unwrap();
    hidden(&fixture, &files)
        .args(["up", "--fidelity"])
        .status(0)
        .stderr("no source mounts")
        .run();
    let fidelity = format!("{}-fidelity-web-1", fixture.name);
    assert_eq!(
        docker(&["inspect", "--format", "{{.State.Running}}", &fidelity]),
        "true"
    );
    assert_eq!(
        docker(&["inspect", "--format", "{{.Config.Image}}", &fidelity]),
        BUSYBOX
    );
}
