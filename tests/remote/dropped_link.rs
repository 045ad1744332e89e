//! A link to the engine that drops in the middle of a backup: over ssh, the connection is
//! cut while the volume streams. The backup fails at once, naming the volume, stores
//! nothing, leaves no helper container on the engine and starts the service it stopped
//! again; the next backup, over a sound link, works.

use crate::engine::SSH;
use crate::fixture::{Remote, docker_on, output};
use crate::verbs::built_project;

/// The number of reads (at most 64 KiB each) the cut link passes from the engine.
const READS: u32 = 150;

pub fn a_link_cut_during_a_backup_fails_cleanly() {
    let remote = Remote::new(built_project("cut"), SSH);
    let name = remote.name().to_string();
    remote.devctl().args(["up"]).status(0).run();
    // More than the cut link passes (150 reads of at most 64 KiB): 16 MiB that do not compress.
    remote.shell(
        "app",
        "dd if=/dev/urandom of=/data/random bs=1M count=16 2>/dev/null",
    );

    // An ssh on PATH whose connections stop passing the engine's bytes after READS reads.
    let cut = remote.fixture.root().join("../cut-bin");
    crate::harness::script(
        &cut.join("ssh"),
        &format!(
            "/usr/bin/ssh -F \"$HOME/.ssh/config\" \"$@\" | dd bs=64k count={READS} 2>/dev/null"
        ),
    );
    let path = std::env::join_paths(
        std::iter::once(cut).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let failed = remote
        .devctl()
        .env("PATH", &path)
        .args(["backup"])
        .timeout(std::time::Duration::from_secs(120))
        .run();
    assert_ne!(failed.code, Some(0), "{}", failed.stderr);
    assert!(
        failed.stderr.contains(&format!("{name}_data")),
        "the error does not name the volume:\n{}",
        failed.stderr
    );

    let listed = remote
        .devctl()
        .args(["backup", "list", "--json"])
        .status(0)
        .run()
        .json();
    assert_eq!(
        listed["backups"].as_array().unwrap().len(),
        0,
        "a failed backup was stored: {listed:#}"
    );
    let helpers = output(docker_on(Some(SSH)).args([
        "ps",
        "-a",
        "--filter",
        &format!("label=dev.devctl.project={name}"),
        "--format",
        "{{.Names}}",
    ]));
    assert_eq!(helpers, "", "helper containers left on the engine");
    let status = remote
        .devctl()
        .args(["status", "--json"])
        .status(0)
        .run()
        .json();
    assert_eq!(
        crate::harness::service_row(&status, "app")["state"],
        "running",
        "{status:#}"
    );

    remote.devctl().args(["backup"]).status(0).run();
}
