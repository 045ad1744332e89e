//! A backup moves between engines: made on the second engine (over TLS) it restores into
//! the same project on the local engine with identical data, and the reverse, each restore
//! saying that it crosses engines.

use crate::engine::TLS;
use crate::fixture::{Remote, shell_on};
use crate::verbs::{FILL, LISTING, built_project};

fn backup(remote: &Remote, context: Option<&str>) -> String {
    let mut test = remote.fixture.devctl();
    if let Some(context) = context {
        test = test.args(["--context", context]);
    }
    test.args(["backup"])
        .status(0)
        .run()
        .stdout
        .trim()
        .to_string()
}

/// Restore said the backup crosses engines.
fn crossing(stderr: &str) {
    assert!(
        stderr.contains("was made on") && stderr.contains("restoring into"),
        "restore does not say the backup crosses engines:\n{stderr}"
    );
}

pub fn a_backup_restores_across_engines_both_ways() {
    let remote = Remote::new(built_project("cross"), TLS);
    let name = remote.name().to_string();
    let listing = |context: Option<&str>| shell_on(context, &name, "app", LISTING);

    remote.devctl().args(["up"]).status(0).run();
    remote.shell("app", FILL);
    let on_tls = listing(Some(TLS));
    let id = backup(&remote, Some(TLS));

    remote.fixture.devctl().args(["up"]).status(0).run();
    shell_on(None, &name, "app", "echo local only > /data/local");
    let restored = remote
        .fixture
        .devctl()
        .args(["restore", &id, "--confirm", &name])
        .status(0)
        .run();
    crossing(&restored.stderr);
    assert_eq!(listing(None), on_tls, "TLS engine → local engine");

    // The reverse: changed locally, backed up there, restored on the TLS engine.
    shell_on(
        None,
        &name,
        "app",
        "cd /data && echo again > owned && chown 4321:8765 owned && chmod 0640 owned && ln -sfn nested new-link && rm -r 'empty dir'",
    );
    let local = listing(None);
    assert_ne!(local, on_tls);
    let id = backup(&remote, None);
    let restored = remote
        .devctl()
        .args(["restore", &id, "--confirm", &name])
        .status(0)
        .run();
    crossing(&restored.stderr);
    assert_eq!(listing(Some(TLS)), local, "local engine → TLS engine");
}
