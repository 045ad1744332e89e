//! How devctl picks the engine beside `--context` (DOCKER_CONTEXT, the docker config's
//! current context), and the TLS and ssh material it refuses at once with its cause and
//! what to do, never a hang: a context that skips the certificate check, a CA that did not
//! sign the engine's certificate, a host whose key is not known. (transport.rs covers the
//! docker variables, plain HTTP to the TLS port and a refused ssh login.)

use std::time::Duration;

use crate::engine::{SSH, TLS};
use crate::fixture::{docker_on, output};
use crate::harness::{Fixture, Test};

fn project(label: &str) -> Fixture {
    let fixture = Fixture::new(label);
    fixture.write(
        "compose.yaml",
        "name: {project}\nservices:\n  app:\n    image: {busybox}\n    init: true\n",
    );
    fixture
}

/// What `devctl doctor` says of the engine (its `engine` line).
fn engine_line(test: Test) -> String {
    let outcome = test.args(["doctor"]).timeout(Duration::from_secs(60)).run();
    let text = format!("{}{}", outcome.stdout, outcome.stderr);
    text.lines()
        .find(|line| line.trim_start().starts_with("✔ engine"))
        .unwrap_or_else(|| panic!("doctor reached no engine:\n{text}"))
        .to_string()
}

/// `docker context inspect`'s endpoint of `context`.
fn endpoint(context: &str) -> String {
    output(docker_on(None).args([
        "context",
        "inspect",
        context,
        "--format",
        "{{.Endpoints.docker.Host}}",
    ]))
    .trim()
    .to_string()
}

pub fn docker_context_and_the_current_context_pick_the_second_engine() {
    let fixture = project("endpoint");
    let tls_host = endpoint(TLS);

    let line = engine_line(fixture.devctl().env("DOCKER_CONTEXT", SSH));
    assert!(
        line.ends_with(&format!("at {} over ssh (context {SSH})", endpoint(SSH))),
        "{line}"
    );

    // The current context of another docker config (`docker context use`), with the same
    // contexts.
    let config = tempfile::Builder::new()
        .prefix("devctl-remote-config-")
        .tempdir()
        .unwrap();
    let shared = std::path::PathBuf::from(std::env::var_os("DOCKER_CONFIG").unwrap());
    std::os::unix::fs::symlink(shared.join("contexts"), config.path().join("contexts")).unwrap();
    std::fs::write(
        config.path().join("config.json"),
        format!("{{\"currentContext\": \"{TLS}\"}}\n"),
    )
    .unwrap();
    let line = engine_line(fixture.devctl().env("DOCKER_CONFIG", config.path()));
    assert!(
        line.ends_with(&format!("at {tls_host} over TLS (context {TLS})")),
        "{line}"
    );
}

/// `devctl status` as `test` sets it up, which must fail within seconds with a hint; its
/// stderr.
fn refused(test: Test) -> String {
    let started = std::time::Instant::now();
    let outcome = test.args(["status"]).timeout(Duration::from_secs(60)).run();
    assert_ne!(outcome.code, Some(0), "{}", outcome.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}: {}",
        started.elapsed(),
        outcome.stderr
    );
    assert!(
        outcome.stderr.contains("hint:"),
        "no hint: {}",
        outcome.stderr
    );
    outcome.stderr
}

fn create_context(name: &str, docker: &str) {
    output(docker_on(None).args(["context", "create", name, "--docker", docker]));
}

pub fn bad_tls_or_ssh_material_is_refused_with_its_cause() {
    let fixture = project("refusals");
    let name = fixture.name.clone();
    let tls_host = endpoint(TLS);
    let certificates = std::path::PathBuf::from(std::env::var("DEVCTL_REMOTE_CERT_DIR").unwrap());
    let ssh_host = endpoint(SSH);
    let ssh_port = ssh_host.rsplit(':').next().unwrap();

    // A context that would skip the certificate check.
    let skipping = format!("{name}-skip");
    create_context(
        &skipping,
        &format!(
            "host={tls_host},ca={0}/ca.pem,cert={0}/cert.pem,key={0}/key.pem,skip-tls-verify=true",
            certificates.display()
        ),
    );
    let stderr = refused(fixture.devctl().args(["--context", &skipping]));
    assert!(stderr.contains("skips checking"), "{stderr}");

    // A CA that did not sign the engine's certificate: the cause is named.
    let other = tempfile::Builder::new()
        .prefix("devctl-remote-ca-")
        .tempdir()
        .unwrap();
    let made = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=another CA", "-keyout"])
        .arg(other.path().join("ca-key.pem"))
        .arg("-out")
        .arg(other.path().join("ca.pem"))
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let strange = format!("{name}-other-ca");
    create_context(
        &strange,
        &format!(
            "host={tls_host},ca={},cert={1}/cert.pem,key={1}/key.pem",
            other.path().join("ca.pem").display(),
            certificates.display()
        ),
    );
    let stderr = refused(fixture.devctl().args(["--context", &strange]));
    let error = stderr.split("hint:").next().unwrap().to_lowercase();
    assert!(
        error.contains("certificate") || error.contains("issuer"),
        "the error does not say the engine's certificate is the cause: {stderr}"
    );
    // The engine answered: the message says its certificate was not trusted, not that it
    // is not answering, and names the CA that was used.
    assert!(!error.contains("not answering"), "{stderr}");
    assert!(
        error.contains("/docker/ca.pem"),
        "the CA is not named: {stderr}"
    );

    // A host whose key is not known: ssh's own words.
    let unknown = format!("{name}-unknown-host");
    create_context(&unknown, &format!("host=ssh://root@localhost:{ssh_port}"));
    let stderr = refused(fixture.devctl().args(["--context", &unknown]));
    assert!(stderr.contains("Host key verification failed"), "{stderr}");
}
