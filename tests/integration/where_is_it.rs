//! Where is it: `status` lists each service's URLs, `open` opens one (or prints it where no
//! browser can), and `ls` lists every compose project on the engine with its checkout.

use crate::harness::{Fixture, free_port, require_engine, script};

/// A project whose `web` publishes a free port on loopback.
fn published_project(label: &str) -> (Fixture, u16) {
    let fixture = Fixture::new(label);
    let port = free_port();
    fixture.write(
        "profiles/default.yaml",
        "compose:\n  project_name: {project}\n",
    );
    fixture.write(
        "compose.yaml",
        &format!(
            "services:\n  web:\n    image: {{busybox}}\n    init: true\n    command: [sleep, '600']\n    ports: ['127.0.0.1:{port}:80']\n  worker:\n    image: {{busybox}}\n    init: true\n    command: [sleep, '600']\n"
        ),
    );
    (fixture, port)
}

#[test]
fn status_shows_urls_and_open_opens_or_prints_them() {
    require_engine();
    let (fixture, port) = published_project("where");
    fixture.devctl().args(["up"]).status(0).run();
    let url = format!("http://127.0.0.1:{port}");
    let status = fixture.status();
    let web = crate::harness::service_row(&status, "web");
    assert_eq!(web["urls"], serde_json::json!([url]));
    let worker = crate::harness::service_row(&status, "worker");
    assert_eq!(worker["urls"], serde_json::json!([]));
    fixture
        .devctl()
        .args(["status"])
        .status(0)
        .stdout(&url)
        .run();

    // A browser opener on PATH is given the URL; the URL is printed either way.
    let bin = fixture.root().join("bin");
    let opened = fixture.root().join("opened");
    script(
        &bin.join("xdg-open"),
        &format!("echo \"$1\" > {}", opened.display()),
    );
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    fixture
        .devctl()
        .args(["open"])
        .env("PATH", &path)
        .status(0)
        .stdout(&format!("{url}\n"))
        .stderr(&format!("opened web at {url}"))
        .run();
    assert_eq!(
        std::fs::read_to_string(&opened).unwrap(),
        format!("{url}\n")
    );
    // An opener that fails (no display): the URL is printed, and said to be printed.
    script(&bin.join("xdg-open"), "exit 3");
    fixture
        .devctl()
        .args(["open", "web"])
        .env("PATH", &path)
        .status(0)
        .stdout(&format!("{url}\n"))
        .stderr("no browser opener")
        .run();
    fixture
        .devctl()
        .args(["open", "worker"])
        .status(64)
        .stderr("service `worker` has no published TCP port")
        .run();
}

#[test]
fn ls_lists_projects_of_two_checkouts_with_their_paths() {
    require_engine();
    let (first, _) = published_project("ls-one");
    let (second, _) = published_project("ls-two");
    first.devctl().args(["up"]).status(0).run();
    second.devctl().args(["up", "worker"]).status(0).run();
    let listed = first.devctl().args(["ls", "--json"]).status(0).run().json();
    let projects = listed["projects"].as_array().unwrap();
    for (fixture, up) in [(&first, 2), (&second, 1)] {
        let entry = projects
            .iter()
            .find(|entry| entry["project"] == fixture.name.as_str())
            .unwrap_or_else(|| panic!("{} not listed: {listed}", fixture.name));
        assert_eq!(
            entry["checkout"],
            fixture.root().canonicalize().unwrap().display().to_string()
        );
        assert_eq!(entry["services_up"], up);
        assert_eq!(entry["devctl_profiles"], true);
        assert_eq!(entry["fidelity"], false);
    }
    first
        .devctl()
        .args(["ls"])
        .status(0)
        .stdout(&second.name)
        .run();
}

#[test]
fn a_taken_port_is_reported_with_its_owner_and_variable_before_anything_starts() {
    require_engine();
    let fixture = Fixture::new("port-taken");
    let port = free_port();
    fixture.write(
        "profiles/default.yaml",
        "compose:\n  project_name: {project}\n",
    );
    fixture.write(".env", &format!("WEB_PORT={port}\n"));
    fixture.write(
        "compose.yaml",
        "services:\n  web:\n    image: {busybox}\n    init: true\n    command: [sleep, '600']\n    ports:\n      - \"127.0.0.1:${WEB_PORT:-8080}:80\"\n",
    );
    // A process here listens on it.
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    fixture
        .devctl()
        .args(["up"])
        .status(64)
        .stderr(&format!(
            "port 127.0.0.1:{port}/tcp of service web is taken by the local process"
        ))
        .stderr(&format!("(pid {})", std::process::id()))
        .stderr("$WEB_PORT (compose.yaml:7:")
        .run();
    assert!(fixture.containers().is_empty(), "something was created");
    drop(listener);

    // Another project's container holds it.
    let (other, other_port) = published_project("port-holder");
    other.devctl().args(["up", "web"]).status(0).run();
    fixture.write(".env", &format!("WEB_PORT={other_port}\n"));
    fixture
        .devctl()
        .args(["up"])
        .status(64)
        .stderr(&format!(
            "is taken by container {}-web-1 of project {}",
            other.name, other.name
        ))
        .run();
    assert!(fixture.containers().is_empty(), "something was created");
    // Free again, it starts; a second up of the same stack is no conflict with itself.
    fixture.write(".env", &format!("WEB_PORT={port}\n"));
    fixture.devctl().args(["up"]).status(0).run();
    fixture.devctl().args(["up"]).status(0).run();
}
