//! How devctl reaches the second engine, and what it says when it cannot: TLS named by the
//! docker CLI's variables as well as by a context, a TLS port spoken to in plain HTTP (the
//! failure that opened this work), an ssh login that is refused, and doctor naming the
//! transport.

use crate::engine::{SSH, TLS};
use crate::fixture::{Remote, docker_on, output};
use crate::harness::Fixture;

/// A project with one busybox service, addressed through `context`; nothing is started by
/// these tests.
fn idle_project(context: &'static str) -> Remote {
    let fixture = Fixture::new("transport");
    fixture.write(
        "compose.yaml",
        "services:\n  app:\n    image: {busybox}\n    init: true\n    command: [sleep, '600']\n",
    );
    Remote::new(fixture, context)
}

/// Where the docker CLI keeps the TLS context's certificates: `ca.pem`, `cert.pem` and
/// `key.pem`, as `DOCKER_CERT_PATH` wants them.
fn tls_material() -> std::path::PathBuf {
    use sha2::Digest;
    let config = std::env::var_os("DOCKER_CONFIG").expect("the tests' DOCKER_CONFIG");
    std::path::Path::new(&config)
        .join("contexts/tls")
        .join(hex::encode(sha2::Sha256::digest(TLS.as_bytes())))
        .join("docker")
}

/// The second engine's TLS address and certificate folder, as `docker context inspect`
/// of the TLS context shows them.
fn tls_address() -> String {
    output(docker_on(None).args([
        "context",
        "inspect",
        TLS,
        "--format",
        "{{.Endpoints.docker.Host}}",
    ]))
    .trim()
    .to_string()
}

pub fn tls_named_by_the_docker_variables_reaches_the_engine() {
    let remote = idle_project(TLS);
    let address = tls_address();
    let certificates = tls_material();
    assert!(
        certificates.join("ca.pem").is_file(),
        "{}",
        certificates.display()
    );
    let outcome = remote
        .fixture
        .devctl()
        .env("DOCKER_HOST", &address)
        .env("DOCKER_TLS_VERIFY", "1")
        .env("DOCKER_CERT_PATH", &certificates)
        .args(["status", "--json"])
        .status(0)
        .run();
    assert_eq!(outcome.json()["engine"], address, "{}", outcome.stdout);
}

pub fn a_tls_port_spoken_to_in_plain_http_is_explained() {
    let remote = idle_project(TLS);
    let address = tls_address();
    remote
        .fixture
        .devctl()
        .env("DOCKER_HOST", &address)
        .args(["up"])
        .status(69)
        .stderr(&format!(
            "error: the Docker engine at {address} over plain TCP answered that it speaks only TLS: "
        ))
        .stderr(&format!(
            "hint: the engine at {address} speaks TLS: set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH (the folder with ca.pem, cert.pem, key.pem), or use a docker context made with `ca=`, `cert=` and `key=`\n"
        ))
        .run();
}

pub fn a_refused_ssh_login_is_reported_in_ssh_s_words() {
    let remote = idle_project(TLS);
    let address = output(docker_on(None).args([
        "context",
        "inspect",
        SSH,
        "--format",
        "{{.Endpoints.docker.Host}}",
    ]))
    .trim()
    .to_string();
    // The same host and port, as a user the test key does not log in.
    let (_, host) = address.rsplit_once('@').unwrap();
    let (ip, port) = host.rsplit_once(':').unwrap();
    let stranger = format!("ssh://nobody@{host}");
    remote
        .fixture
        .devctl()
        .env("DOCKER_HOST", &stranger)
        .args(["status"])
        .status(69)
        .stderr(&format!(
            "error: the Docker engine at {stranger} over ssh is not answering: ssh said: nobody@{ip}: Permission denied (publickey"
        ))
        .stderr(&format!(
            "hint: `ssh -p {port} nobody@{ip} docker version` must work without a question"
        ))
        .run();
    // doctor gives the same advice, not the advice for a stopped local daemon.
    let outcome = remote
        .fixture
        .devctl()
        .env("DOCKER_HOST", &stranger)
        .args(["doctor"])
        .status(1)
        .run();
    let text = format!("{}{}", outcome.stdout, outcome.stderr);
    assert!(
        text.contains(&format!(
            "fix: `ssh -p {port} nobody@{ip} docker version` must work without a question"
        )) && !text.contains("systemctl start docker"),
        "doctor's advice for a refused ssh login:\n{text}"
    );
}

pub fn doctor_names_the_engine_and_the_transport() {
    for (context, transport) in [(TLS, "TLS"), (SSH, "ssh")] {
        let remote = idle_project(context);
        let outcome = remote.devctl().args(["doctor"]).run();
        let text = format!("{}{}", outcome.stdout, outcome.stderr);
        assert!(
            text.lines().any(|line| line.contains(" engine ")
                && line.ends_with(&format!(" over {transport} (context {context})"))),
            "doctor does not say it reached the engine over {transport}:\n{text}"
        );
    }
}
