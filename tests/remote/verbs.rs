//! Every verb on the second engine, over TLS and over ssh: up (a built service with a
//! health check), status (health and mounts), logs, backup, restore, the guarded
//! `down -v --confirm` (backed up), up --fidelity and doctor; and nothing of the project
//! ever appears on the local engine.

use crate::engine::{SSH, TLS};
use crate::fixture::{Remote, resources};
use crate::harness::{Fixture, service_row};

/// A project whose `app` is built from a tiny Dockerfile FROM the test busybox, runs with
/// `init: true`, has a health check, prints a line naming the project when it starts, and
/// mounts the named volume `data` at /data.
pub fn built_project(label: &str) -> Fixture {
    let fixture = Fixture::new(label);
    fixture.write(
        "profiles/default.yaml",
        "compose:\n  project_name: {project}\n",
    );
    fixture.write(
        "app/Dockerfile",
        "FROM {busybox}\nRUN echo built > /built\nCMD [\"sleep\", \"600\"]\n",
    );
    fixture.write(
        "compose.yaml",
        "services:\n  app:\n    build: ./app\n    init: true\n    command: [sh, -c, 'echo started {project}; exec sleep 600']\n    volumes: [data:/data]\n    healthcheck:\n      test: [CMD, test, -f, /built]\n      interval: 1s\n      retries: 30\nvolumes:\n  data:\n",
    );
    fixture
}

/// Files with owners, modes, links, an empty folder and a Unicode name, in /data of `app`.
pub const FILL: &str = "cd /data && echo secret > owned && chown 999:999 owned && chmod 0600 owned \
    && mkdir -p 'empty dir' nested/deeper && ln -s owned link && ln -s ../owned nested/up \
    && printf 'ü' > 'ünïcödé ✓.txt' && dd if=/dev/urandom of=random bs=64k count=16 2>/dev/null \
    && chmod 0750 nested && chown 1234:5678 nested/deeper";

/// Every path under /data with its owner, mode, type, size and link target, and every
/// file's checksum.
pub const LISTING: &str = "cd /data && find . | sort | while read -r f; do stat -c '%n|%u:%g|%a|%F|%s' \"$f\"; if [ -L \"$f\" ]; then readlink \"$f\"; fi; done; find . -type f | sort | while read -r f; do md5sum \"$f\"; done";

fn nothing_local(remote: &Remote) {
    for project in [
        remote.name().to_string(),
        format!("{}-fidelity", remote.name()),
    ] {
        assert_eq!(
            resources(None, &project),
            Vec::<String>::new(),
            "project {project} appeared on the local engine"
        );
    }
}

fn every_verb_on(context: &'static str, transport: &str) {
    let remote = Remote::new(built_project("verbs"), context);
    let name = remote.name().to_string();
    remote.devctl().args(["up"]).status(0).run();
    nothing_local(&remote);

    let status = remote
        .devctl()
        .args(["status", "--json"])
        .status(0)
        .run()
        .json();
    let row = service_row(&status, "app");
    assert_eq!(row["state"], "running", "{row:#}");
    assert_eq!(row["health"], "healthy", "{row:#}");
    let mounts = row["mounts"].as_array().unwrap();
    assert!(
        mounts.iter().any(|mount| mount["kind"] == "volume"
            && mount["source"] == format!("{name}_data")
            && mount["target"] == "/data"),
        "{row:#}"
    );

    let logs = remote.devctl().args(["logs", "app"]).status(0).run();
    assert!(
        logs.stdout.contains(&format!("started {name}")),
        "logs lack the start line\n--- stdout\n{}\n--- stderr\n{}",
        logs.stdout,
        logs.stderr
    );

    remote.shell("app", FILL);
    let before = remote.shell("app", LISTING);
    assert!(
        before.contains("owned|999:999|600|regular file"),
        "{before}"
    );
    let id = remote
        .devctl()
        .args(["backup"])
        .status(0)
        .run()
        .stdout
        .trim()
        .to_string();
    remote.shell(
        "app",
        "cd /data && echo changed > owned && rm link && rm -r 'empty dir' && echo extra > extra",
    );
    assert_ne!(remote.shell("app", LISTING), before);
    remote
        .devctl()
        .args(["restore", &id, "--confirm", &name])
        .status(0)
        .run();
    assert_eq!(remote.shell("app", LISTING), before);
    nothing_local(&remote);

    // Refused without the project's name, then confirmed, backed up first.
    remote.devctl().args(["down", "-v"]).status(77).run();
    assert!(
        remote
            .resources_on(Some(context))
            .contains(&format!("volume {name}_data"))
    );
    let down = remote
        .devctl()
        .args(["down", "-v", "--confirm", &name])
        .status(0)
        .run();
    assert_eq!(remote.resources_on(Some(context)), Vec::<String>::new());
    let listed = remote
        .devctl()
        .args(["backup", "list", "--json"])
        .status(0)
        .run()
        .json();
    assert!(
        listed["backups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|backup| backup["kind"] == "pre-delete"),
        "no pre-delete backup: {listed:#}\n{}",
        down.stderr
    );

    remote.devctl().args(["up", "--fidelity"]).status(0).run();
    let fidelity = format!("{name}-fidelity");
    let on_engine = resources(Some(context), &fidelity);
    assert!(
        on_engine.contains(&format!("container {fidelity}-app-1")),
        "{on_engine:?}"
    );
    let fidelity_status = remote
        .devctl()
        .args(["status", "--json", "--fidelity"])
        .status(0)
        .run()
        .json();
    assert_eq!(
        service_row(&fidelity_status, "app")["health"],
        "healthy",
        "{fidelity_status:#}"
    );
    remote.devctl().args(["down", "--fidelity"]).status(0).run();

    let doctor = remote.devctl().args(["doctor"]).run();
    let text = format!("{}{}", doctor.stdout, doctor.stderr);
    assert!(
        text.contains(&format!("over {transport} (context {context})")),
        "doctor does not name the engine and its transport:\n{text}"
    );
    nothing_local(&remote);
}

pub fn every_verb_over_tls() {
    every_verb_on(TLS, "TLS");
}

pub fn every_verb_over_ssh() {
    every_verb_on(SSH, "ssh");
}
