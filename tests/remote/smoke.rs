//! The remote engine itself, through the docker CLI alone: both contexts reach the second
//! engine (not the local one), and that engine cannot see the tests' folders.

use crate::engine::{SSH, TLS};
use crate::fixture::{Remote, docker_on, output, resources};

fn engine_id(context: Option<&str>) -> String {
    output(docker_on(context).args(["info", "--format", "{{.ID}}"]))
        .trim()
        .to_string()
}

pub fn contexts_reach_the_second_engine() {
    let local = engine_id(None);
    let over_tls = engine_id(Some(TLS));
    let over_ssh = engine_id(Some(SSH));
    assert!(!local.is_empty(), "the local engine reports no ID");
    assert_ne!(over_tls, local, "the TLS context reaches the local engine");
    assert_eq!(
        over_ssh, over_tls,
        "the ssh and TLS contexts reach different engines"
    );
    let root = output(docker_on(Some(SSH)).args(["info", "--format", "{{.DockerRootDir}}"]));
    assert_ne!(root.trim(), "/var/lib/docker", "{root}");
}

pub fn the_second_engine_cannot_see_the_tests_folders() {
    let folder = tempfile::Builder::new()
        .prefix("devctl-remote-smoke-")
        .tempdir()
        .unwrap();
    std::fs::write(folder.path().join("seen"), "local only\n").unwrap();
    let mount = format!(
        "type=bind,source={},target=/mounted",
        folder.path().display()
    );
    for context in [TLS, SSH] {
        let refused = docker_on(Some(context))
            .args(["run", "--rm", "--network", "none", "--mount", &mount])
            .args([crate::harness::BUSYBOX, "true"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(
            !refused.status.success() && stderr.contains("does not exist"),
            "a bind mount of {} worked on {context}: {stderr}",
            folder.path().display()
        );
    }
    // The same mount on the local engine works and shows the file.
    let local = output(
        docker_on(None)
            .args(["run", "--rm", "--network", "none", "--mount", &mount])
            .args([crate::harness::BUSYBOX, "cat", "/mounted/seen"]),
    );
    assert_eq!(local, "local only\n");
}

/// What a test leaves of its project on the second engine (and on the local one) goes with
/// its fixture.
pub fn a_remote_fixture_is_removed_from_both_engines() {
    let remote = Remote::new(crate::harness::Fixture::new("cleanup"), TLS);
    let name = remote.name().to_string();
    let label = format!("com.docker.compose.project={name}");
    for context in [Some(TLS), None] {
        output(docker_on(context).args([
            "volume",
            "create",
            "--label",
            &label,
            &format!("{name}_data"),
        ]));
        output(docker_on(context).args([
            "network",
            "create",
            "--label",
            &label,
            &format!("{name}_default"),
        ]));
        output(docker_on(context).args([
            "create",
            "--label",
            &label,
            "--name",
            &format!("{name}-app-1"),
            crate::harness::BUSYBOX,
            "true",
        ]));
    }
    let expected = vec![
        format!("container {name}-app-1"),
        format!("network {name}_default"),
        format!("volume {name}_data"),
    ];
    assert_eq!(remote.resources_on(Some(TLS)), expected);
    assert_eq!(remote.resources_on(None), expected);
    drop(remote);
    assert_eq!(resources(Some(TLS), &name), Vec::<String>::new());
    assert_eq!(resources(None, &name), Vec::<String>::new());
}
