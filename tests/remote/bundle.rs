//! A portable bundle carries an environment between engines: `backup export --images=built`
//! on one engine, carried as a file to another checkout of the project, `backup import`
//! there, then `up` and `restore` on the other engine: the service runs the same image id,
//! built on the first engine and never rebuilt, and the data is identical. From the second
//! engine over TLS to the local one, and from the local one to the second over ssh (the
//! images loaded through `docker system dial-stdio`).
//! The bundle holds no secret from `.env`, and a copy with one flipped byte is refused
//! before anything is stored or loaded.

use crate::engine::{SSH, TLS};
use crate::fixture::{Remote, docker_on, output, shell_on};
use crate::harness::Fixture;
use crate::harness::Test;
use crate::verbs::{FILL, LISTING, built_project};

/// The image id the container of `service` runs on `context`.
fn image_id(context: Option<&str>, project: &str, service: &str) -> String {
    output(docker_on(context).args([
        "inspect",
        "--format",
        "{{.Image}}",
        &format!("{project}-{service}-1"),
    ]))
    .trim()
    .to_string()
}

/// Another checkout of `source`'s project (its compose file, Dockerfile and profile) in a
/// folder of its own, with backups and state of its own: the receiving side.
fn receiver(source: &Fixture) -> Fixture {
    let checkout = Fixture::new("bundle-receiver");
    for file in [
        "profiles/default.yaml",
        "compose.yaml",
        "app/Dockerfile",
        ".env",
    ] {
        let text = std::fs::read_to_string(source.root().join(file)).unwrap();
        checkout.write(file, &text);
    }
    checkout
}

/// devctl in `fixture`, aimed at `context` (None: the local engine).
fn devctl_on(fixture: &Fixture, context: Option<&str>) -> Test {
    let test = fixture.devctl();
    match context {
        Some(context) => test.args(["--context", context]),
        None => test,
    }
}

pub fn a_bundle_carries_image_and_data_from_tls_to_the_local_engine() {
    carry(Some(TLS), None, TLS);
}

pub fn a_bundle_carries_image_and_data_from_the_local_engine_over_ssh() {
    carry(None, Some(SSH), SSH);
}

/// Exports on `from`, imports, brings up and restores on `to`; `remote` is the second
/// engine's context among them, whose clean-up the fixture takes care of.
fn carry(from: Option<&'static str>, to: Option<&'static str>, remote: &'static str) {
    let project = built_project("bundle");
    let secret = format!("s3cret-{}", project.name);
    project.write(".env", &format!("API_TOKEN={secret}\n"));
    let compose = std::fs::read_to_string(project.root().join("compose.yaml")).unwrap();
    project.write(
        "compose.yaml",
        &compose.replace(
            "    init: true\n",
            "    init: true\n    environment:\n      API_TOKEN: ${API_TOKEN}\n",
        ),
    );
    let remote = Remote::new(project, remote);
    let name = remote.name().to_string();
    let source = |script: &str| shell_on(from, &name, "app", script);
    devctl_on(&remote.fixture, from)
        .args(["up"])
        .status(0)
        .run();
    assert_eq!(
        source("echo \"$API_TOKEN\""),
        format!("{secret}\n"),
        "the service does not get the secret, so its absence from the bundle proves nothing"
    );
    source(FILL);
    let data = source(LISTING);
    let image = image_id(from, &name, "app");
    let id = devctl_on(&remote.fixture, from)
        .args(["backup"])
        .status(0)
        .run()
        .stdout
        .trim()
        .to_string();
    let bundle = remote.fixture.root().join("../environment.bundle");
    devctl_on(&remote.fixture, from)
        .args(["backup", "export", &id, "--images=built", "-o"])
        .args([&bundle])
        .status(0)
        .run();
    let target_image = || output(docker_on(to).args(["images", "-q", &format!("{name}-app")]));
    assert!(
        target_image().is_empty(),
        "the other engine had the image before the import"
    );
    let bytes = std::fs::read(&bundle).unwrap();
    assert!(
        !bytes
            .windows(secret.len())
            .any(|window| window == secret.as_bytes()),
        "the bundle holds the secret from .env"
    );

    let checkout = receiver(&remote.fixture);
    // One flipped byte, in the middle: refused, nothing stored, no image loaded.
    let damaged = remote.fixture.root().join("../damaged.bundle");
    let mut flipped = bytes.clone();
    flipped[bytes.len() / 2] ^= 0x01;
    std::fs::write(&damaged, flipped).unwrap();
    let refused = devctl_on(&checkout, to)
        .args(["backup", "import"])
        .args([&damaged])
        .run();
    assert_ne!(refused.code, Some(0), "{}", refused.stderr);
    assert!(
        !checkout.backup_dir().join(&id).exists(),
        "a damaged bundle was stored"
    );
    assert!(
        target_image().is_empty(),
        "a damaged bundle loaded its image"
    );

    let imported = devctl_on(&checkout, to)
        .args(["backup", "import"])
        .args([&bundle])
        .status(0)
        .run();
    // Named with the context import ran with, so that pasting it restores on that engine.
    let restore_line = match to {
        Some(context) => format!("devctl --context {context} restore {id}"),
        None => format!("devctl restore {id}"),
    };
    assert!(
        format!("{}{}", imported.stdout, imported.stderr).contains(&restore_line),
        "import does not print the restore command:\n{}{}",
        imported.stdout,
        imported.stderr
    );
    devctl_on(&checkout, to).args(["up"]).status(0).run();
    assert_eq!(
        image_id(to, &name, "app"),
        image,
        "the other engine runs another image than the bundle's"
    );
    let restored = devctl_on(&checkout, to)
        .args(["restore", &id, "--confirm", &name])
        .status(0)
        .run();
    assert!(
        restored.stderr.contains("was made on") && restored.stderr.contains("restoring into"),
        "restore does not say the backup crosses engines:\n{}",
        restored.stderr
    );
    assert_eq!(shell_on(to, &name, "app", LISTING), data);
}
