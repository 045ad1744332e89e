//! Compose's resolved model, read and written back: a project with `build.ssh` (whose JSON
//! compose itself cannot print) is resolved, and the fidelity file devctl writes for every
//! compose fixture of the tests — the awesome-compose corpus, the project's own, and the
//! round-trip fixtures (`build.ssh`, `blkio_config`, `models`, many service fields) — is
//! accepted by `docker compose config`. No container, network or volume is created.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use crate::harness::{Fixture, repository, require_engine};

/// One compose project of the fixtures, and the devctl profile its run needs, if any.
struct Project {
    /// Its folder, relative to the repository.
    source: String,
    profile: Option<&'static str>,
    /// The variables that tell compose alone the same (files, compose profiles).
    compose_variables: Vec<(&'static str, &'static str)>,
}

/// What came of one project: its fidelity file accepted, or why not.
enum Verdict {
    Accepted,
    /// devctl refused to transform it (the first `error:` line).
    Refused(String),
    /// devctl wrote a fidelity file compose does not accept (compose's complaint).
    Rejected(String),
    /// Compose accepts the fidelity file with warnings it does not give on the project.
    Warned(Vec<String>),
}

/// Every folder under tests/fixtures that holds a compose file, and examples/demo.
fn projects() -> Vec<Project> {
    let mut folders = Vec::new();
    collect_compose_folders(&repository().join("tests/fixtures"), &mut folders);
    folders.sort();
    let mut projects: Vec<Project> = folders
        .into_iter()
        .map(|folder| {
            let source = folder
                .strip_prefix(repository())
                .unwrap()
                .display()
                .to_string();
            let (profile, compose_variables) = match source.as_str() {
                // Compose files of other names only: the profile names them.
                "tests/fixtures/init/named-files" => (
                    Some(
                        "compose:\n  files: [docker-compose.dev.yml, docker-compose.postgres.yml]\n",
                    ),
                    vec![(
                        "COMPOSE_FILE",
                        "docker-compose.dev.yml:docker-compose.postgres.yml",
                    )],
                ),
                // Every service sits behind a compose profile.
                "tests/fixtures/init/all-profiles" => (
                    Some("compose:\n  profiles: [full, tools]\n"),
                    vec![("COMPOSE_PROFILES", "full,tools")],
                ),
                _ => (None, Vec::new()),
            };
            Project {
                source,
                profile,
                compose_variables,
            }
        })
        .collect();
    projects.push(Project {
        source: "examples/demo".into(),
        profile: None,
        compose_variables: Vec::new(),
    });
    projects
}

fn collect_compose_folders(folder: &Path, found: &mut Vec<PathBuf>) {
    let mut holds_compose_file = false;
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            collect_compose_folders(&path, found);
        } else if (name.starts_with("compose") || name.starts_with("docker-compose"))
            && (name.ends_with(".yaml") || name.ends_with(".yml"))
        {
            holds_compose_file = true;
        }
    }
    if holds_compose_file {
        found.push(folder.to_path_buf());
    }
}

/// `devctl plan --fidelity` on a copy of `project` (nothing is started), then
/// `docker compose config -q` on the fidelity file it wrote, as devctl runs compose on it.
fn check(project: &Project) -> Verdict {
    let fixture = if project.source == "examples/demo" {
        Fixture::demo("roundtrip")
    } else {
        Fixture::copy("roundtrip", &project.source)
    };
    if let Some(profile) = project.profile {
        fixture.write("profiles/default.yaml", profile);
    }
    let outcome = fixture
        .devctl()
        .args(["plan", "--fidelity", "--format", "json"])
        .run();
    if outcome.code != Some(0) {
        let first = outcome
            .stderr
            .lines()
            .find(|line| line.starts_with("error:"))
            .unwrap_or(&outcome.stderr)
            .to_string();
        return Verdict::Refused(first);
    }
    let plan = outcome.json();
    let file = plan["fidelity"]["compose_file"]
        .as_str()
        .unwrap()
        .to_string();
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    if written["services"]
        .as_object()
        .is_none_or(|services| services.is_empty())
    {
        return Verdict::Rejected(format!("the fidelity file has no services: {written:#}"));
    }
    let output = Command::new("docker")
        .args(["compose", "--project-directory"])
        .arg(fixture.root())
        .args(["-f", &file, "config", "-q"])
        .output()
        .unwrap();
    if !output.status.success() {
        return Verdict::Rejected(String::from_utf8_lossy(&output.stderr).trim().to_string());
    }
    let original = Command::new("docker")
        .args(["compose", "config", "-q"])
        .current_dir(fixture.root())
        .envs(project.compose_variables.iter().copied())
        .output()
        .unwrap();
    let before = warnings(&original.stderr);
    let new: Vec<String> = warnings(&output.stderr)
        .into_iter()
        .filter(|warning| !before.contains(warning))
        .collect();
    if new.is_empty() {
        Verdict::Accepted
    } else {
        Verdict::Warned(new)
    }
}

/// The messages of compose's `level=warning` lines.
fn warnings(stderr: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|line| line.contains("level=warning"))
        .map(|line| {
            line.split_once("msg=")
                .map_or(line, |(_, message)| message)
                .to_string()
        })
        .collect()
}

#[test]
fn every_compose_fixture_s_fidelity_file_is_accepted_by_compose() {
    require_engine();
    let projects = projects();
    assert!(projects.len() >= 45, "{} projects", projects.len());
    for own in ["build-ssh", "blkio-config", "models", "service-fields"] {
        let source = format!("tests/fixtures/roundtrip/{own}");
        assert!(projects.iter().any(|project| project.source == source));
    }
    let pending = Mutex::new(projects.iter());
    let verdicts = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                loop {
                    let next = pending.lock().unwrap().next();
                    let Some(project) = next else { break };
                    let verdict = check(project);
                    verdicts
                        .lock()
                        .unwrap()
                        .push((project.source.clone(), verdict));
                }
            });
        }
    });
    let mut verdicts = verdicts.into_inner().unwrap();
    verdicts.sort_by(|a, b| a.0.cmp(&b.0));
    let mut rejected = Vec::new();
    let mut warned = Vec::new();
    let mut refused = Vec::new();
    for (source, verdict) in &verdicts {
        match verdict {
            Verdict::Accepted => {}
            Verdict::Rejected(complaint) => rejected.push(format!("{source}: {complaint}")),
            Verdict::Warned(new) => warned.push(format!("{source}: {}", new.join("; "))),
            Verdict::Refused(error) => refused.push(format!("{source}: {error}")),
        }
    }
    assert!(
        rejected.is_empty(),
        "compose rejects the fidelity file devctl wrote:\n{}",
        rejected.join("\n")
    );
    assert!(
        warned.is_empty(),
        "compose warns about the fidelity file devctl wrote, not about the project:\n{}",
        warned.join("\n")
    );
    // The projects devctl cannot transform, each for a reason it states.
    assert_eq!(
        refused,
        [
            "tests/fixtures/awesome-compose/pihole-cloudflared-DoH: error: network `dns-net` has a fixed subnet: a second network with the same subnet beside the live stack's would overlap, and the engine refuses it"
        ],
        "{}",
        refused.join("\n")
    );
}

#[test]
fn a_project_with_build_ssh_is_resolved_with_its_keys() {
    require_engine();
    let fixture = Fixture::copy("roundtrip-ssh", "tests/fixtures/roundtrip/build-ssh");
    let plan = fixture
        .devctl()
        .args(["plan", "--format", "json", "up"])
        .status(0)
        .run()
        .json();
    let key = fixture.root().join("deploy_key").display().to_string();
    let ssh = |service: &str| plan["model"]["services"][service]["build"]["ssh"].clone();
    assert_eq!(ssh("listed"), serde_json::json!([format!("deploy={key}")]));
    assert_eq!(
        ssh("default-path"),
        serde_json::json!([format!("default={key}")])
    );
    let mut mapped: Vec<String> = ssh("mapped")
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry.as_str().unwrap().to_string())
        .collect();
    mapped.sort();
    assert_eq!(mapped, [format!("default={key}"), format!("deploy={key}")]);
    assert_eq!(ssh("agent"), serde_json::json!(["default"]));
    // The model read from compose's YAML is cached like any other.
    fixture
        .devctl()
        .args(["--verbose", "plan", "up"])
        .status(0)
        .stderr("using the cached model")
        .run();
    // The doctor reads the model too: no `compose-invalid`, and the model's rules run.
    let report = fixture
        .devctl()
        .args(["doctor", "--format", "json"])
        .run()
        .json();
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|finding| finding["rule"].as_str())
        .collect();
    assert!(!rules.contains(&"compose-invalid"), "{report:#}");
    // The fidelity stack's own file holds the entries as `id=path`: compose reads them, and
    // devctl reads its model back the same way.
    let status = fixture
        .devctl()
        .args(["status", "--fidelity", "--json"])
        .status(0)
        .run()
        .json();
    assert_eq!(
        status["services"].as_array().unwrap().len(),
        4,
        "{status:#}"
    );
    // And so does init, with every compose profile active.
    fixture
        .devctl()
        .args(["init", "--dry-run"])
        .status(0)
        .stderr("dry run: init would write")
        .run();
}

#[test]
fn blkio_config_is_written_with_the_keys_compose_reads() {
    require_engine();
    let fixture = Fixture::copy("roundtrip-blkio", "tests/fixtures/roundtrip/blkio-config");
    let plan = fixture
        .devctl()
        .args(["plan", "--fidelity", "--format", "json"])
        .status(0)
        .run()
        .json();
    let file = plan["fidelity"]["compose_file"].as_str().unwrap();
    let written: serde_json::Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    assert_eq!(
        written["services"]["app"]["blkio_config"],
        serde_json::json!({
            "weight": 300,
            "weight_device": [{"path": "/dev/sda", "weight": 400}],
            "device_read_bps": [{"path": "/dev/sda", "rate": "12582912"}],
            "device_read_iops": [{"path": "/dev/sda", "rate": "120"}],
            "device_write_bps": [{"path": "/dev/sda", "rate": "1048576"}],
            "device_write_iops": [{"path": "/dev/sda", "rate": "30"}],
        })
    );
}
