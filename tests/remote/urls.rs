//! URLs name the engine's host: a project on the second engine reached as
//! `tcp://localhost:PORT` (its certificate names localhost too) shows its published port as
//! `http://localhost:PORT` in `status`, and that URL answers.

use std::io::{Read, Write};

use crate::engine::TLS;
use crate::fixture::{Remote, docker_on, output};
use crate::harness::{Fixture, service_row};

pub fn status_urls_name_the_engine_s_host() {
    let tls_host = output(docker_on(None).args([
        "context",
        "inspect",
        TLS,
        "--format",
        "{{.Endpoints.docker.Host}}",
    ]))
    .trim()
    .to_string();
    let port = tls_host.rsplit(':').next().unwrap().to_string();
    let fixture = Fixture::new("urls");
    fixture.write(
        "compose.yaml",
        "name: {project}\nservices:\n  web:\n    image: {busybox}\n    init: true\n    command: [sh, -c, 'mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 8080 -h /www']\n    ports: ['8080']\n",
    );
    let by_name = format!("{}-by-name", fixture.name);
    let certificates = std::env::var("DEVCTL_REMOTE_CERT_DIR").unwrap();
    output(docker_on(None).args([
        "context",
        "create",
        &by_name,
        "--docker",
        &format!(
            "host=tcp://localhost:{port},ca={certificates}/ca.pem,cert={certificates}/cert.pem,key={certificates}/key.pem"
        ),
    ]));
    let remote = Remote::new(fixture, TLS);
    let devctl = || remote.fixture.devctl().args(["--context", &by_name]);
    devctl().args(["up"]).status(0).run();
    let status = devctl().args(["status", "--json"]).status(0).run().json();
    let row = service_row(&status, "web");
    let url = row["urls"][0]
        .as_str()
        .unwrap_or_else(|| panic!("no URL: {row:#}"))
        .to_string();
    let published = url
        .strip_prefix("http://localhost:")
        .unwrap_or_else(|| panic!("the URL does not name the engine's host: {url}"));
    let mut stream = std::net::TcpStream::connect(("localhost", published.parse::<u16>().unwrap()))
        .unwrap_or_else(|error| panic!("{url}: {error}"));
    stream
        .write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.ends_with("hello\n"), "{url} answered: {response}");
}
