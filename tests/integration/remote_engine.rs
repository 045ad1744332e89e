//! What changes when the engine is not the one here: an engine that does not see this
//! machine's folders, as a remote one does (devctl runs in a mount namespace of its own where
//! the project's folder is a tmpfs, which the engine, in the machine's namespace, does not
//! have); and a backup made on another engine, restored here.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::backup::{backup, manifest, snapshot as backup_snapshot, volume_project};
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
    // compose's own `up`, `create` and `run`, through devctl, are refused alike.
    for command in [
        &["compose", "up", "-d"][..],
        &["compose", "create", "web"],
        &["compose", "run", "--rm", "web", "true"],
    ] {
        hidden(&fixture, &files)
            .args(command)
            .status(77)
            .stderr("these bind mounts' sources are not on its host: service web: ./src → /app;")
            .run();
    }
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

/// Rewrites backup `id`'s manifest of `fixture` with `change`, and its digest to match (the
/// documented scheme: the SHA-256 of manifest.json, in manifest.json.sha256).
fn edit_manifest(fixture: &Fixture, id: &str, change: impl FnOnce(&mut serde_json::Value)) {
    use sha2::Digest;
    let directory = fixture.backup_dir().join(id);
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(directory.join("manifest.json")).unwrap()).unwrap();
    change(&mut manifest);
    let text = serde_json::to_vec_pretty(&manifest).unwrap();
    std::fs::write(directory.join("manifest.json"), &text).unwrap();
    std::fs::write(
        directory.join("manifest.json.sha256"),
        format!(
            "{}  manifest.json\n",
            hex::encode(sha2::Sha256::digest(&text))
        ),
    )
    .unwrap();
}

#[test]
fn a_backup_made_on_another_engine_says_so_and_restores_into_the_project_brought_up_here() {
    crate::harness::require_engine();
    let fixture = volume_project("crossing", "");
    fixture.devctl().args(["up"]).status(0).run();
    fixture.shell(
        "app",
        "mkdir /data/d && echo precious > /data/d/file && chown -R 999:999 /data/d && ln -s d/file /data/link",
    );
    let expected = backup_snapshot(&fixture);
    let id = backup(&fixture, &[]);

    // The manifest records the engine it was made on, as the engine names itself.
    let name = docker(&["info", "--format", "{{.Name}}"]);
    let engine_id = docker(&["info", "--format", "{{.ID}}"]);
    let recorded = manifest(&fixture, &id);
    assert_eq!(recorded["engine_name"], name.as_str());
    assert_eq!(recorded["engine_id"], engine_id.as_str());
    let host = recorded["engine"].as_str().unwrap().to_string();
    assert!(!host.contains('@'), "{host}");

    // Made elsewhere: another engine's ID, name and endpoint.
    edit_manifest(&fixture, &id, |manifest| {
        manifest["engine_id"] = "4c1e8a52-9b1f-4f7e-a0d3-8c7f0e2b6a11".into();
        manifest["engine_name"] = "build-box".into();
        manifest["engine"] = "tcp://build-box:2376".into();
    });
    let listed = fixture
        .devctl()
        .args(["backup", "list"])
        .status(0)
        .stdout("ENGINE")
        .stdout("other: engine build-box (4c1e8a52-9b1f-…) at tcp://build-box:2376")
        .run();
    assert!(!listed.stdout.contains("this one"), "{}", listed.stdout);
    let json = fixture
        .devctl()
        .args(["backup", "list", "--json"])
        .status(0)
        .run()
        .json();
    assert_eq!(json["backups"][0]["engine"]["other"], true);
    assert_eq!(json["backups"][0]["engine"]["name"], "build-box");

    // Here, the project is brought up afresh: its volume is empty.
    fixture.devctl().args(["down"]).status(0).run();
    docker(&["volume", "rm", &format!("{}_data", fixture.name)]);
    fixture.devctl().args(["up"]).status(0).run();
    assert_eq!(fixture.shell("app", "ls -A /data"), "");
    let shown_id: String = engine_id.chars().take(14).collect();
    let restored = fixture
        .devctl()
        .args(["restore", &id, "--confirm", &fixture.name])
        .status(0)
        .run();
    let note = format!(
        "backup {id} was made on engine build-box (4c1e8a52-9b1f-…) at tcp://build-box:2376; restoring into engine {name} ({shown_id}"
    );
    assert!(restored.stderr.contains(&note), "{}", restored.stderr);
    assert!(
        restored.stderr.contains(&format!(") at {host}\n")),
        "{}",
        restored.stderr
    );
    assert_eq!(backup_snapshot(&fixture), expected);

    // An older manifest, without the engine's identity, is compared by its endpoint.
    fixture.shell("app", "rm -r /data/d /data/link");
    edit_manifest(&fixture, &id, |manifest| {
        let fields = manifest.as_object_mut().unwrap();
        fields.remove("engine_id");
        fields.remove("engine_name");
    });
    fixture
        .devctl()
        .args(["restore", &id, "--confirm", &fixture.name])
        .status(0)
        .stderr(&format!(
            "backup {id} was made on the engine at tcp://build-box:2376; restoring into engine {name}"
        ))
        .run();
    assert_eq!(backup_snapshot(&fixture), expected);
    edit_manifest(&fixture, &id, |manifest| {
        manifest["engine"] = host.as_str().into();
    });
    fixture
        .devctl()
        .args(["restore", &id, "--confirm", &fixture.name])
        .status(0)
        .stderr_absent("was made on")
        .run();
    assert_eq!(backup_snapshot(&fixture), expected);
    let listed = fixture.devctl().args(["backup", "list"]).status(0).run();
    assert!(!listed.stdout.contains("ENGINE"), "{}", listed.stdout);
}
