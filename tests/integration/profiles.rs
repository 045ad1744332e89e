//! Profiles: the repository's reference profiles, listing and showing, the implicit profile,
//! and every compose file of the awesome-compose corpus.

use std::path::PathBuf;

use crate::harness::{Fixture, Test, repository, snapshot};

/// devctl in the repository, whose checkout is shown as `[REPOSITORY]` in snapshots.
fn repository_devctl(state: &std::path::Path) -> Test {
    Test::new(&repository())
        .env("DEVCTL_STATE_DIR", state)
        .filter(&repository().display().to_string(), "[REPOSITORY]")
}

#[test]
fn reference_profiles_are_valid_and_resolve_through_compose() {
    let state = tempfile::tempdir().unwrap();
    let listing = repository_devctl(state.path())
        .args(["profiles", "--json"])
        .status(0)
        .run()
        .json();
    let names: Vec<&str> = listing["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["default", "full", "reference"]);
    for name in names {
        let plan = repository_devctl(state.path())
            .args(["--profile", name, "plan", "--format", "json", "up"])
            .status(0)
            .run()
            .json();
        assert_eq!(plan["model"]["name"], "devctl-demo", "profile {name}");
        assert!(
            plan["model"]["services"]["backend"].is_object(),
            "profile {name}"
        );
    }
}

#[test]
fn reference_profiles_comment_every_key() {
    for entry in std::fs::read_dir(repository().join("profiles")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (index, line) in lines.iter().enumerate() {
            let trimmed = line.trim_start();
            let is_key =
                !trimmed.starts_with('#') && trimmed.contains(':') && !trimmed.starts_with('-');
            let section = trimmed.ends_with(':');
            let commented = index > 0 && lines[index - 1].trim_start().starts_with('#');
            assert!(
                !is_key || section || commented,
                "{}:{}: `{}` has no comment above it",
                path.display(),
                index + 1,
                trimmed
            );
        }
    }
}

#[test]
fn profiles_list_and_show() {
    let state = tempfile::tempdir().unwrap();
    let table = repository_devctl(state.path())
        .args(["profiles"])
        .status(0)
        .run();
    assert!(
        table
            .stdout
            .lines()
            .any(|line| line.starts_with("* default")),
        "{}",
        table.stdout
    );
    let selected = repository_devctl(state.path())
        .args(["--profile", "full", "profiles"])
        .status(0)
        .run();
    assert!(
        selected
            .stdout
            .lines()
            .any(|line| line.starts_with("* full")),
        "{}",
        selected.stdout
    );
    let shown = repository_devctl(state.path())
        .args(["profiles", "show", "full", "--json"])
        .status(0)
        .run()
        .json();
    let profile = &shown["profile"];
    assert_eq!(profile["extends"], serde_json::json!(["default"]));
    assert_eq!(profile["compose_profiles"], serde_json::json!(["tools"]));
    assert_eq!(profile["project_name"], "devctl-demo");
    assert_eq!(profile["wait_timeout"], "1m");
    // The table shows every section, key by key.
    let table = repository_devctl(state.path())
        .args(["profiles", "show", "reference"])
        .status(0)
        .run();
    for row in [
        "guard.protected_volumes",
        "fidelity.port_offset",
        "doctor.rules",
        "port-all-interfaces: error",
    ] {
        assert!(table.stdout.contains(row), "{row}: {}", table.stdout);
    }
    snapshot!(
        "show_unknown_profile",
        repository_devctl(state.path())
            .args(["profiles", "show", "nope"])
            .status(64)
            .run()
    );
}

#[test]
fn a_bare_compose_project_gets_an_implicit_default_profile() {
    let fixture = Fixture::new("implicit");
    fixture.write(
        "compose.yaml",
        "name: {project}\nservices:\n  app:\n    image: {busybox}\n",
    );
    std::fs::create_dir_all(fixture.root().join("deep/er")).unwrap();
    let mut test = fixture.devctl().args(["profiles"]);
    test.command.current_dir(fixture.root().join("deep/er"));
    let listing = test.status(0).run();
    assert!(
        listing.stdout.contains("* default") && listing.stdout.contains("implicit"),
        "{}",
        listing.stdout
    );
    let plan = fixture.devctl().args(["plan", "up"]).status(0).run();
    assert!(
        plan.stdout
            .starts_with(&format!("docker compose -p {} up --detach", fixture.name)),
        "{}",
        plan.stdout
    );
}

fn corpus() -> Option<PathBuf> {
    let path = std::env::var_os("DEVCTL_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repository().join("tests/fixtures/awesome-compose"));
    path.is_dir().then_some(path)
}

#[test]
fn every_corpus_project_resolves_and_reports_status() {
    crate::harness::require_engine();
    let Some(corpus) = corpus() else {
        eprintln!(
            "no awesome-compose corpus beside the repository (set DEVCTL_CORPUS): nothing to check"
        );
        return;
    };
    let state = tempfile::tempdir().unwrap();
    let mut checked = 0;
    let mut projects: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    projects.sort();
    for project in projects {
        let plan = Test::new(&project)
            .env("DEVCTL_STATE_DIR", state.path())
            .args(["plan", "--format", "json", "up"])
            .status(0)
            .run()
            .json();
        let services = plan["model"]["services"].as_object().unwrap();
        assert!(!services.is_empty(), "{}", project.display());
        let status = Test::new(&project)
            .env("DEVCTL_STATE_DIR", state.path())
            .args(["status", "--json"])
            .status(0)
            .run()
            .json();
        assert_eq!(
            status["services"].as_array().unwrap().len(),
            services.len(),
            "{}",
            project.display()
        );
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} corpus projects found");
}
