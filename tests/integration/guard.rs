//! The guard on the real engine: every data-tier spelling is refused without a named
//! confirmation; a confirmed deletion backs up exactly what goes, keeps protected and external
//! volumes, and restores; a terminal must type the name; runs take turns; another checkout's
//! project is refused; every decision is in the audit log.

use std::path::PathBuf;

use crate::backup::VolumeGuard;
use crate::harness::{Fixture, require_engine};

const REFUSED: i32 = 77;

/// A project whose `app` mounts the named volume `data`, the protected `keep`, the external
/// `shared` (when `external`) and an anonymous volume at /cache.
fn guarded_project(label: &str, external: bool) -> (Fixture, Option<VolumeGuard>) {
    let fixture = Fixture::new(label);
    fixture.write(
        "profiles/default.yaml",
        "compose:\n  project_name: {project}\nguard:\n  protected_volumes: [keep]\n",
    );
    let (mount, declaration, guard) = match external {
        true => {
            let name = format!("{}-shared", fixture.name);
            let created = std::process::Command::new("docker")
                .args(["volume", "create", &name])
                .output()
                .unwrap();
            assert!(created.status.success());
            (
                ", shared:/shared",
                format!("  shared:\n    external: true\n    name: {name}\n"),
                Some(VolumeGuard(name)),
            )
        }
        false => ("", String::new(), None),
    };
    fixture.write(
        "compose.yaml",
        &format!(
            "services:\n  app:\n    image: {{busybox}}\n    init: true\n    command: [sleep, '600']\n    volumes: [data:/data, keep:/keep{mount}, /cache]\nvolumes:\n  data:\n  keep:\n{declaration}"
        ),
    );
    (fixture, guard)
}

/// The names of the volumes mounted in the project's `app` container, as `destination=name`.
fn mounts(fixture: &Fixture) -> Vec<String> {
    let output = std::process::Command::new("docker")
        .args([
            "inspect",
            "--format",
            "{{range .Mounts}}{{.Destination}}={{.Name}} {{end}}",
            &format!("{}-app-1", fixture.name),
        ])
        .output()
        .unwrap();
    let mut mounts: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .map(String::from)
        .collect();
    mounts.sort();
    mounts
}

fn volume_exists(name: &str) -> bool {
    std::process::Command::new("docker")
        .args(["volume", "inspect", name])
        .output()
        .unwrap()
        .status
        .success()
}

/// The project's audit log, one JSON value per line.
fn audit(fixture: &Fixture) -> Vec<serde_json::Value> {
    let mut lines = Vec::new();
    for path in find_files(&fixture.state_dir(), "audit.jsonl") {
        let text = std::fs::read_to_string(path).unwrap();
        lines.extend(text.lines().map(|line| serde_json::from_str(line).unwrap()));
    }
    lines
}

fn find_files(directory: &std::path::Path, name: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(directory).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(find_files(&path, name));
        } else if path.file_name().is_some_and(|file| file == name) {
            found.push(path);
        }
    }
    found
}

#[test]
fn every_data_tier_spelling_is_refused_without_a_named_confirmation() {
    require_engine();
    let (fixture, _) = guarded_project("spellings", false);
    fixture.devctl().args(["up"]).status(0).run();
    fixture.shell(
        "app",
        "echo precious > /data/file && echo cached > /cache/file",
    );
    let before = mounts(&fixture);
    assert_eq!(before.len(), 3, "{before:?}");
    let other = format!("{}-other", fixture.name);
    let spellings: &[&[&str]] = &[
        &["down", "-v"],
        &["down", "--volumes"],
        &["down", "--volumes=true"],
        &["down", "--keep-orphans", "-v"],
        &["compose", "down", "-v"],
        &["compose", "down", "--volumes"],
        &["compose", "down", "-v", "--remove-orphans"],
        &["compose", "down", "--volumes=true"],
        &["compose", "down", "-t", "1", "-v"],
        &["compose", "--profile", "app", "down", "-v"],
        &["compose", "--", "down", "-v"],
        &["compose", "--ansi", "never", "down", "--volumes"],
        &["compose", "rm", "-sfv"],
        &["compose", "rm", "-f", "-v", "app"],
        &["compose", "rm", "--stop", "--force", "--volumes"],
        &["compose", "up", "-d", "-V"],
        &["compose", "up", "--detach", "--renew-anon-volumes"],
        // `--` among compose's root flags takes the next word: these run `down -v`.
        &["compose", "--ansi", "never", "--", "ps", "down", "-v"],
        &["compose", "--", "--", "ps", "down", "-v"],
    ];
    for spelling in spellings {
        for extra in [&[][..], &["--yes"], &["--confirm", &other]] {
            let outcome = fixture
                .devctl()
                .args(extra.iter().copied())
                .args(spelling.iter().copied())
                .status(REFUSED)
                .run();
            assert!(
                outcome.stderr.contains("refusing"),
                "{spelling:?} {extra:?}: {}",
                outcome.stderr
            );
        }
        assert_eq!(mounts(&fixture), before, "{spelling:?}");
        assert_eq!(fixture.running().len(), 1, "{spelling:?}");
    }
    assert_eq!(
        fixture.shell("app", "cat /data/file /cache/file"),
        "precious\ncached\n"
    );
    // Each refusal is a decision in the audit log, and nothing was backed up.
    let audit = audit(&fixture);
    assert_eq!(audit.len(), spellings.len() * 3);
    assert!(audit.iter().all(|line| line["decision"] == "refused"
        && line["tier"] == "data"
        && line["backup"].is_null()));
    assert!(!fixture.backup_dir().exists());
    // `plan down -v` and devctl's -n say what would go, and run nothing.
    fixture
        .devctl()
        .args(["plan", "down", "-v"])
        .status(0)
        .stdout(&format!("remove volumes: {}_data and the containers' anonymous volumes; kept: {}_keep (protected)", fixture.name, fixture.name))
        .run();
    fixture
        .devctl()
        .args(["-n", "compose", "down", "-v"])
        .status(0)
        .stdout("# then remove volumes: ")
        .stdout(&format!(" {}_data\n", fixture.name))
        .stdout("down\n")
        .run();
    // A misspelt subcommand is refused before anything is backed up.
    fixture
        .devctl()
        .args(["--confirm", &fixture.name, "compose", "sp"])
        .status(REFUSED)
        .stderr("`sp` is not a compose subcommand devctl knows")
        .run();
    assert!(!fixture.backup_dir().exists());
    // Compose's own --dry-run deletes nothing, so it needs no confirmation.
    fixture
        .devctl()
        .args(["compose", "--dry-run", "down", "-v"])
        .status(0)
        .run();
    assert_eq!(mounts(&fixture), before);
}

#[test]
fn a_confirmed_down_backs_up_exactly_what_goes_keeps_protected_and_external_volumes_and_restores() {
    require_engine();
    let (fixture, shared) = guarded_project("confirmed", true);
    let shared = shared.unwrap();
    fixture.devctl().args(["up"]).status(0).run();
    fixture.shell(
        "app",
        "echo precious > /data/file && echo kept > /keep/file && echo outside > /shared/file && echo cached > /cache/file",
    );
    let anonymous = mounts(&fixture)
        .iter()
        .find_map(|mount| mount.strip_prefix("/cache=").map(String::from))
        .unwrap();
    let outcome = fixture
        .devctl()
        .args(["down", "--volumes", "--confirm", &fixture.name])
        .status(0)
        .stderr("deletes 2 volume(s)")
        .stderr(&format!("{}_keep (protected)", fixture.name))
        .stderr(&format!("{} (external)", shared.0))
        .run();
    assert!(fixture.containers().is_empty());
    assert!(!volume_exists(&format!("{}_data", fixture.name)));
    assert!(!volume_exists(&anonymous), "the anonymous volume survived");
    assert!(volume_exists(&format!("{}_keep", fixture.name)));
    assert!(volume_exists(&shared.0));

    // The backup holds exactly what was deleted, named by key (service and path for the
    // anonymous one), and the audit line names it.
    let listed = crate::backup::listed(&fixture);
    assert_eq!(listed.len(), 1);
    let id = listed[0]["id"].as_str().unwrap().to_string();
    assert_eq!(listed[0]["kind"], "pre-delete");
    let keys = crate::backup::artifact_keys(&fixture, &id);
    assert_eq!(keys, ["app:/cache", "data"]);
    assert!(
        outcome.stderr.contains(&format!(
            "to get the named ones back: devctl restore {id} --confirm {} (the anonymous ones, app:/cache, cannot be put back in place",
            fixture.name
        )),
        "{}",
        outcome.stderr
    );
    let audit = audit(&fixture);
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0]["decision"], "confirmed");
    assert_eq!(audit[0]["detail"], "--confirm");
    assert_eq!(audit[0]["backup"], id.as_str());
    assert_eq!(audit[0]["action"], "down --volumes");

    // The backup brings the data back.
    fixture
        .devctl()
        .args(["restore", &id, "--confirm", &fixture.name])
        .status(0)
        .run();
    fixture.devctl().args(["up"]).status(0).run();
    assert_eq!(
        fixture.shell("app", "cat /data/file /keep/file /shared/file"),
        "precious\nkept\noutside\n"
    );
    let audit = self::audit(&fixture);
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[1]["action"], format!("restore {id}"));

    // Through the passthrough too: `rm -sfv` takes only the anonymous volume, backed up.
    let outcome = fixture
        .devctl()
        .args(["--confirm", &fixture.name, "compose", "rm", "-sfv"])
        .status(0)
        .stderr("deletes 1 volume(s)")
        .run();
    assert!(outcome.stderr.contains("app:/cache"), "{}", outcome.stderr);
    assert!(fixture.containers().is_empty());
    assert!(volume_exists(&format!("{}_data", fixture.name)));
    let audit = self::audit(&fixture);
    assert_eq!(audit.len(), 3);
    let backup = audit[2]["backup"].as_str().unwrap();
    assert!(
        fixture
            .backup_dir()
            .join(backup)
            .join("manifest.json")
            .is_file()
    );
}

#[test]
fn state_tier_commands_need_yes_without_a_terminal() {
    require_engine();
    let (fixture, _) = guarded_project("state", false);
    fixture.devctl().args(["up"]).status(0).run();
    let outcome = fixture
        .devctl()
        .args(["compose", "kill"])
        .status(REFUSED)
        .stderr("--yes")
        .run();
    assert!(outcome.stderr.contains("refusing"), "{}", outcome.stderr);
    assert_eq!(fixture.running().len(), 1);
    // A bare --yes is enough for containers (not for data).
    fixture
        .devctl()
        .args(["--yes", "compose", "kill"])
        .status(0)
        .run();
    assert!(fixture.running().is_empty());
    let audit = audit(&fixture);
    let decisions: Vec<(&str, &str)> = audit
        .iter()
        .map(|line| {
            (
                line["tier"].as_str().unwrap(),
                line["decision"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(decisions, [("state", "refused"), ("state", "confirmed")]);
    // Safe commands run at once and are not logged.
    fixture.devctl().args(["compose", "ps"]).status(0).run();
    assert_eq!(self::audit(&fixture).len(), 2);
}

#[test]
fn on_a_terminal_a_wrong_name_aborts_and_the_right_one_proceeds() {
    require_engine();
    let (fixture, _) = guarded_project("pty", false);
    fixture.devctl().args(["up"]).status(0).run();
    fixture.shell("app", "echo precious > /data/file");
    let typed = |text: &str| crate::harness::typed_on_terminal(&fixture, "compose down -v", text);
    let (code, screen) = typed("not-the-name");
    assert_eq!(code, Some(REFUSED), "{screen}");
    assert!(
        screen.contains(&format!("{}_data", fixture.name)),
        "{screen}"
    );
    assert!(
        screen.contains(&format!("type the project name `{}`", fixture.name)),
        "{screen}"
    );
    assert_eq!(fixture.shell("app", "cat /data/file"), "precious\n");
    let (code, screen) = typed(&fixture.name);
    assert_eq!(code, Some(0), "{screen}");
    assert!(!volume_exists(&format!("{}_data", fixture.name)));
    assert!(volume_exists(&format!("{}_keep", fixture.name)));
    let audit = audit(&fixture);
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[1]["detail"], "typed the project name");
    assert!(audit[1]["backup"].is_string());
}

#[test]
fn concurrent_destructive_runs_take_turns() {
    require_engine();
    let fixture = Fixture::new("turns");
    fixture.write(
        "profiles/default.yaml",
        "compose:\n  project_name: {project}\n",
    );
    // No init: busybox as PID 1 ignores SIGTERM, so every stop takes the 3 s grace period,
    // and the first run holds the lock for a while.
    fixture.write(
        "compose.yaml",
        "services:\n  app:\n    image: {busybox}\n    command: [sleep, '600']\n    stop_grace_period: 3s\n    volumes: [data:/data]\nvolumes:\n  data:\n",
    );
    fixture.devctl().args(["up"]).status(0).run();
    let run = || {
        fixture
            .devctl()
            .args(["down", "-v", "--confirm", &fixture.name])
            .spawn()
    };
    let first = run();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let second = run();
    let outputs = [
        first.wait_with_output().unwrap(),
        second.wait_with_output().unwrap(),
    ];
    let stderrs: Vec<String> = outputs
        .iter()
        .map(|output| String::from_utf8_lossy(&output.stderr).into_owned())
        .collect();
    for (output, stderr) in outputs.iter().zip(&stderrs) {
        assert!(output.status.success(), "{stderr}");
    }
    let waited = stderrs
        .iter()
        .filter(|stderr| stderr.contains("waiting for another devctl run"))
        .count();
    assert_eq!(waited, 1, "{stderrs:#?}");
    // One run deleted (and backed up) the volume; the other, after waiting, found nothing.
    let audit = audit(&fixture);
    let decisions: Vec<&str> = audit
        .iter()
        .map(|line| line["decision"].as_str().unwrap())
        .collect();
    assert_eq!(decisions, ["confirmed", "nothing-to-delete"], "{audit:#?}");
    assert!(audit[0]["backup"].is_string());
    assert!(fixture.volumes().is_empty());
}

#[test]
fn another_checkout_with_the_same_project_name_is_refused() {
    require_engine();
    let (first, _) = guarded_project("owner", false);
    first.devctl().args(["up"]).status(0).run();
    first.shell("app", "echo mine > /data/file");
    // A second checkout: the same files, the same project name, another directory.
    let second = Fixture::new("intruder");
    for file in ["profiles/default.yaml", "compose.yaml"] {
        let text = std::fs::read_to_string(first.root().join(file)).unwrap();
        second.write(file, &text);
    }
    for arguments in [
        vec!["down", "-v", "--confirm", &first.name],
        vec!["--confirm", &first.name, "compose", "down", "-v"],
        vec!["down"],
    ] {
        second
            .devctl()
            .args(arguments)
            .status(REFUSED)
            .stderr("belongs to another checkout")
            .stderr(&first.root().display().to_string())
            .run();
    }
    assert_eq!(first.running().len(), 1);
    assert_eq!(first.shell("app", "cat /data/file"), "mine\n");
    // The override is explicit, and a dry run shows what it would do.
    second
        .devctl()
        .args(["-n", "--allow-other-checkout", "down", "-v"])
        .status(0)
        .stdout("down --remove-orphans")
        .run();
    assert_eq!(first.running().len(), 1);
}

#[test]
fn automatic_backups_are_pruned_to_the_profile_s_count_and_no_backup_skips_them() {
    require_engine();
    let fixture = crate::backup::volume_project("pruned", "guard:\n  keep_automatic_backups: 1\n");
    let manual = {
        fixture.devctl().args(["up"]).status(0).run();
        crate::backup::backup(&fixture, &["--label", "mine"])
    };
    let mut taken = Vec::new();
    for round in 0..2 {
        fixture.devctl().args(["up"]).status(0).run();
        fixture.shell("app", &format!("echo {round} > /data/round"));
        fixture
            .devctl()
            .args(["down", "-v", "--confirm", &fixture.name])
            .status(0)
            .run();
        let audit = audit(&fixture);
        taken.push(
            audit.last().unwrap()["backup"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let ids: Vec<String> = crate::backup::listed(&fixture)
        .iter()
        .map(|backup| backup["id"].as_str().unwrap().to_string())
        .collect();
    // The manual backup stays; of the two automatic ones only the newest is kept.
    assert_eq!(ids, [manual, taken[1].clone()]);

    fixture.devctl().args(["up"]).status(0).run();
    fixture
        .devctl()
        .args(["down", "-v", "--no-backup", "--confirm", &fixture.name])
        .status(0)
        .stderr("without a backup")
        .run();
    assert!(fixture.volumes().is_empty());
    assert_eq!(crate::backup::listed(&fixture).len(), 2);
    let audit = audit(&fixture);
    assert!(audit.last().unwrap()["backup"].is_null());
}

#[test]
fn every_replica_s_anonymous_volume_is_backed_up_and_protected_ones_compose_would_delete_are_refused()
 {
    require_engine();
    let (fixture, _) = guarded_project("replicas", false);
    fixture.devctl().args(["up"]).status(0).run();
    // Scaling may remove replicas: a state-tier step.
    fixture
        .devctl()
        .args(["compose", "up", "-d", "--scale", "app=2"])
        .status(REFUSED)
        .run();
    fixture
        .devctl()
        .args(["--yes", "compose", "up", "-d", "--scale", "app=2"])
        .status(0)
        .run();
    assert_eq!(fixture.running().len(), 2);
    for replica in 1..=2 {
        let output = std::process::Command::new("docker")
            .args([
                "exec",
                &format!("{}-app-{replica}", fixture.name),
                "sh",
                "-c",
                &format!("echo {replica} > /cache/file"),
            ])
            .output()
            .unwrap();
        assert!(output.status.success());
    }
    // Protecting an anonymous volume: compose's `rm -v` cannot be told to spare it.
    let profile = std::fs::read_to_string(fixture.root().join("profiles/default.yaml")).unwrap();
    fixture.write(
        "profiles/default.yaml",
        &profile.replace(
            "protected_volumes: [keep]",
            "protected_volumes: [keep, 'app:/cache']",
        ),
    );
    fixture
        .devctl()
        .args(["--yes", "--confirm", &fixture.name, "compose", "rm", "-sfv"])
        .status(REFUSED)
        .stderr("protected volume app:/cache")
        .run();
    assert_eq!(fixture.running().len(), 2);
    fixture.write("profiles/default.yaml", &profile);
    fixture
        .devctl()
        .args(["--confirm", &fixture.name, "compose", "rm", "-sfv"])
        .status(0)
        .stderr("deletes 2 volume(s)")
        .run();
    let listed = crate::backup::listed(&fixture);
    assert_eq!(listed.len(), 1);
    let id = listed[0]["id"].as_str().unwrap();
    let keys = crate::backup::artifact_keys(&fixture, id);
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(keys.iter().any(|key| key == "app:/cache"), "{keys:?}");
}

#[test]
fn each_data_tier_spelling_confirmed_deletes_only_after_a_backup_that_restores() {
    require_engine();
    let (fixture, _) = guarded_project("confirmed-spellings", false);
    let data = format!("{}_data", fixture.name);
    // (spelling, whether it deletes the named volume or only the anonymous one)
    let spellings: &[(&[&str], bool)] = &[
        (&["down", "--volumes=true"], true),
        (&["compose", "down", "-v"], true),
        (&["compose", "--profile", "app", "down", "--volumes"], true),
        (
            &["compose", "down", "-t", "1", "-v", "--remove-orphans"],
            true,
        ),
        (&["compose", "rm", "-sfv"], false),
        (&["compose", "up", "-d", "-V"], false),
    ];
    for (round, (spelling, named)) in spellings.iter().enumerate() {
        fixture.devctl().args(["up"]).status(0).run();
        fixture.shell(
            "app",
            &format!("echo {round} > /data/file && echo {round} > /cache/file"),
        );
        let anonymous = mounts(&fixture)
            .iter()
            .find_map(|mount| mount.strip_prefix("/cache=").map(String::from))
            .unwrap();
        let outcome = fixture
            .devctl()
            .args(["--confirm", &fixture.name])
            .args(spelling.iter().copied())
            .status(0)
            .run();
        // The restore line is printed only for what restore can put back.
        let hint = match named {
            true => "to get the named ones back: devctl restore ",
            false => "anonymous (app:/cache), which restore cannot put back in place",
        };
        assert!(
            outcome.stderr.contains(hint),
            "{spelling:?}: {}",
            outcome.stderr
        );
        assert_eq!(
            outcome.stderr.contains("devctl restore"),
            *named,
            "{spelling:?}: {}",
            outcome.stderr
        );
        let audit = audit(&fixture);
        let last = audit.last().unwrap();
        assert_eq!(last["decision"], "confirmed", "{spelling:?}");
        let id = last["backup"]
            .as_str()
            .unwrap_or_else(|| panic!("{spelling:?}: no backup"));
        let keys = crate::backup::artifact_keys(&fixture, id);
        assert!(
            keys.iter().any(|key| key == "app:/cache"),
            "{spelling:?}: {keys:?}"
        );
        // `up -V` gives the container a new, empty anonymous volume (compose leaves the old one
        // dangling, backed up); the others delete it.
        let current = mounts(&fixture)
            .iter()
            .find_map(|mount| mount.strip_prefix("/cache=").map(String::from));
        assert_ne!(current.as_deref(), Some(anonymous.as_str()), "{spelling:?}");
        if spelling.contains(&"-V") {
            assert_eq!(fixture.shell("app", "ls /cache"), "", "{spelling:?}");
            let _ = std::process::Command::new("docker")
                .args(["volume", "rm", &anonymous])
                .output();
        } else {
            assert!(
                !volume_exists(&anonymous),
                "{spelling:?}: the anonymous volume survived"
            );
        }
        assert_eq!(!volume_exists(&data), *named, "{spelling:?}");
        assert!(
            volume_exists(&format!("{}_keep", fixture.name)),
            "{spelling:?}"
        );
        if *named {
            assert!(
                keys.iter().any(|key| key == "data"),
                "{spelling:?}: {keys:?}"
            );
            fixture
                .devctl()
                .args(["restore", id, "--confirm", &fixture.name])
                .status(0)
                .run();
            fixture.devctl().args(["up"]).status(0).run();
            assert_eq!(
                fixture.shell("app", "cat /data/file"),
                format!("{round}\n"),
                "{spelling:?}"
            );
        }
    }
}

/// Removes the containers, networks and volumes of a project a test must never create, also
/// when the test fails because it was created.
struct StrayProject(String);

impl Drop for StrayProject {
    fn drop(&mut self) {
        let _ = crate::sandbox::remove_project(&self.0);
    }
}

#[test]
fn compose_commands_aimed_past_the_profile_are_refused_when_they_create_or_destroy() {
    require_engine();
    let (fixture, _) = guarded_project("retarget", false);
    fixture.devctl().args(["up"]).status(0).run();
    fixture.shell("app", "echo precious > /data/file");
    let containers = fixture.containers();
    let other = StrayProject(format!("{}-other", fixture.name));
    fixture.write(
        "other.yaml",
        "services:\n  app:\n    image: {busybox}\n    init: true\n    command: [sleep, '600']\n",
    );
    let flagged: &[&[&str]] = &[
        &["compose", "-p", &other.0, "up", "-d", "-y"],
        &["compose", "--project-name", &other.0, "create"],
        &["compose", "-p", &other.0, "run", "--rm", "app", "true"],
        &["compose", "-f", "other.yaml", "up", "-d"],
        &["compose", "-p", &other.0, "down", "-v"],
        &["compose", "--env-file", "other.env", "rm", "-fsv"],
    ];
    for arguments in flagged {
        let flag = arguments[1];
        fixture
            .devctl()
            .args(*arguments)
            .status(REFUSED)
            .stderr(&format!(
                "error: refusing `{}`: `{flag}` would aim it past the profile",
                arguments[3]
            ))
            .run();
    }
    for (variable, arguments) in [
        ("COMPOSE_PROJECT_NAME", &["compose", "up", "-d"][..]),
        ("COMPOSE_FILE", &["compose", "rm", "-fsv"][..]),
    ] {
        let value = match variable {
            "COMPOSE_FILE" => "other.yaml".to_string(),
            _ => other.0.clone(),
        };
        fixture
            .devctl()
            .args(arguments)
            .env(variable, value)
            .status(REFUSED)
            .stderr(&format!(
                "{variable} in the environment would aim it past the profile"
            ))
            .run();
    }
    // Nothing was created for the other project, and this project's stack and data stand.
    let stray = std::process::Command::new("docker")
        .args(["ps", "-aq", "--filter"])
        .arg(format!("label=com.docker.compose.project={}", other.0))
        .output()
        .unwrap();
    assert!(stray.stdout.is_empty(), "containers of {}", other.0);
    assert_eq!(fixture.containers(), containers);
    assert_eq!(fixture.shell("app", "cat /data/file").trim(), "precious");
    // Commands that neither create nor destroy still run as written.
    fixture
        .devctl()
        .args(["compose", "-p", &other.0, "ps"])
        .status(0)
        .run();
}
