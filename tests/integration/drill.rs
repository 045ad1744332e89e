//! Restore drills on the real engine: a good backup drills ok, a backup of a state the
//! service cannot become healthy from fails its drill, and nothing of the sibling project
//! remains either way, while the live container and its data are untouched; `backup list`
//! shows each drill; `backup prune` keeps the newest backup whose drill passed, and a
//! tampered record never makes it remove anything it would not have removed.

use std::process::Command;

use crate::backup::{backup, listed};
use crate::harness::{Fixture, require_engine};

pub const DRILL_FAILED: i32 = 76;

/// A project whose `app` service is healthy while /data/ready exists (or /data/note does not,
/// as in a new volume), with a fixed
/// container name and a published host port (which a sibling must not take).
pub fn drill_project(label: &str, profile_extra: &str) -> Fixture {
    let fixture = Fixture::new(label);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    fixture.write(
        "profiles/default.yaml",
        &format!(
            "compose:\n  project_name: {{project}}\nup:\n  wait_timeout: 30s\n{profile_extra}"
        ),
    );
    fixture.write(
        "compose.yaml",
        &format!(
            "services:\n  app:\n    image: {{busybox}}\n    init: true\n    container_name: {{project}}-app\n    command: [sleep, '600']\n    ports: ['127.0.0.1:{port}:80']\n    volumes: [data:/data]\n    healthcheck:\n      test: [CMD-SHELL, 'test -f /data/ready || test ! -e /data/note']\n      interval: 1s\n      retries: 2\nvolumes:\n  data:\n"
        ),
    );
    fixture
}

/// `docker KIND ls` of everything carrying `label`, as names.
fn labelled(kind: &[&str], label: &str) -> Vec<String> {
    let format = if kind[0] == "ps" {
        "{{.Names}}"
    } else {
        "{{.Name}}"
    };
    let output = Command::new("docker")
        .args(kind)
        .args(["--filter", &format!("label={label}"), "--format", format])
        .output()
        .unwrap();
    assert!(output.status.success());
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(String::from)
        .collect()
}

/// Every container, network and volume of any drill of `fixture`, and its helpers; with the
/// drill markers left in its state directory.
pub fn drill_leftovers(fixture: &Fixture) -> Vec<String> {
    let label = format!("dev.devctl.drill={}", fixture.name);
    let mut found = Vec::new();
    for kind in [&["ps", "-a"][..], &["network", "ls"], &["volume", "ls"]] {
        found.extend(labelled(kind, &label));
    }
    // Helper containers of a sibling carry its project name, `<project>-drill-…`.
    for helper in labelled(&["ps", "-a"], "dev.devctl.helper") {
        if helper.contains("-drill-") || helper.contains(&fixture.name) {
            found.push(helper);
        }
    }
    let output = Command::new("docker")
        .args([
            "ps",
            "-a",
            "--filter",
            "label=dev.devctl.helper",
            "--format",
            "{{.Label \"dev.devctl.project\"}}",
        ])
        .output()
        .unwrap();
    for project in String::from_utf8_lossy(&output.stdout).lines() {
        if project.starts_with(&format!("{}-drill-", fixture.name)) {
            found.push(format!("helper of {project}"));
        }
    }
    for entry in walk(&fixture.state_dir()) {
        if entry.contains("/drills/") && !entry.ends_with("/drills") {
            found.push(entry);
        }
    }
    found
}

fn walk(directory: &std::path::Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(directory).into_iter().flatten().flatten() {
        let path = entry.path();
        found.push(path.display().to_string());
        if path.is_dir() {
            found.extend(walk(&path));
        }
    }
    found
}

/// Runs `sh -c script` in the live `app` container (named `<project>-app`); its stdout.
pub fn shell(fixture: &Fixture, script: &str) -> String {
    let output = Command::new("docker")
        .args(["exec", &format!("{}-app", fixture.name), "sh", "-c", script])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "`{script}` failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn container_id(name: &str) -> String {
    let output = Command::new("docker")
        .args(["inspect", "--format", "{{.Id}}", name])
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

fn drill_of<'a>(listing: &'a [serde_json::Value], id: &str) -> &'a serde_json::Value {
    &listing
        .iter()
        .find(|backup| backup["id"] == id)
        .unwrap_or_else(|| panic!("{id} is not listed: {listing:#?}"))["drill"]
}

#[test]
fn a_good_backup_drills_ok_an_unhealthy_state_fails_and_nothing_of_either_remains() {
    require_engine();
    let fixture = drill_project("drill", "");
    fixture.devctl().args(["up"]).status(0).run();
    shell(&fixture, "touch /data/ready && echo original > /data/note");
    let good = backup(&fixture, &["--label", "good"]);
    // A consistent backup of a state the service cannot become healthy from.
    shell(&fixture, "rm /data/ready");
    let broken = backup(&fixture, &["--label", "broken"]);
    shell(&fixture, "touch /data/ready");
    fixture.devctl().args(["up"]).status(0).run();
    let live = format!("{}-app", fixture.name);
    let live_id = container_id(&live);
    let listing = listed(&fixture);
    assert_eq!(drill_of(&listing, &good)["result"], "never");

    let passed = fixture
        .devctl()
        .args(["backup", "drill", &good, "--wait-timeout", "30s"])
        .status(0)
        .stderr(&format!("drill of backup {good} passed"))
        .stderr("the profile sets no backup.drill.checks")
        .stderr("removed the sibling project")
        .run();
    assert_eq!(
        drill_leftovers(&fixture),
        Vec::<String>::new(),
        "{}",
        passed.stderr
    );

    let failed = fixture
        .devctl()
        .args(["backup", "drill", &broken, "--wait-timeout", "30s"])
        .status(DRILL_FAILED)
        .stderr(&format!("the drill of backup {broken} failed"))
        .stderr("app")
        .run();
    assert!(failed.stderr.contains("unhealthy"), "{}", failed.stderr);
    assert_eq!(
        drill_leftovers(&fixture),
        Vec::<String>::new(),
        "{}",
        failed.stderr
    );

    // The live stack: the same container, its data as it was, still running.
    assert_eq!(container_id(&live), live_id);
    assert_eq!(shell(&fixture, "cat /data/note").trim(), "original");
    assert_eq!(shell(&fixture, "ls /data").split_whitespace().count(), 2);

    let listing = listed(&fixture);
    assert_eq!(drill_of(&listing, &good)["result"], "ok");
    assert!(
        drill_of(&listing, &good)["when"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert_eq!(drill_of(&listing, &broken)["result"], "failed");
    let table = fixture.devctl().args(["backup", "list"]).status(0).run();
    assert!(table.stdout.contains("DRILL"), "{}", table.stdout);
    let good_row = table
        .stdout
        .lines()
        .find(|line| line.starts_with(&good))
        .unwrap();
    assert!(good_row.contains(" ok 20"), "{good_row}");
    let broken_row = table
        .stdout
        .lines()
        .find(|line| line.starts_with(&broken))
        .unwrap();
    assert!(broken_row.contains(" failed 20"), "{broken_row}");
    let record = fixture.backup_dir().join(&good).join("drill.json");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&record).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&record).unwrap()).unwrap();
    assert_eq!(record["services"], serde_json::json!(["app"]));
    // The record is outside the hashed manifest: the backup still verifies.
    fixture.devctl().args(["backup", "verify"]).status(0).run();
}

#[test]
fn postgres_stop_and_dump_backups_drill_ok_with_a_row_count_check_and_a_failing_check_fails() {
    require_engine();
    let fixture = Fixture::new("pg-drill");
    let compose = std::fs::read_to_string(
        crate::harness::repository().join("tests/fixtures/postgres/compose.yaml"),
    )
    .unwrap();
    fixture.write("compose.yaml", &compose);
    let count = "psql -U postgres -d app -tAc 'select count(*) from items'";
    fixture.write(
        "profiles/default.yaml",
        &format!(
            "compose:\n  project_name: {{project}}\nup:\n  wait_timeout: 2m\nbackup:\n  drill:\n    checks:\n      - service: db\n        command: \"{count}\"\n        expect: '1000'\n"
        ),
    );
    fixture.write(
        "profiles/dump.yaml",
        "extends: default\nbackup:\n  volumes:\n    pg-data:\n      method: hook\n      service: db\n      command: [pg_dump, -U, postgres, --clean, --if-exists, app]\n      restore: [psql, -U, postgres, -v, ON_ERROR_STOP=1, -q, -d, app]\n",
    );
    fixture.write(
        "profiles/strict.yaml",
        &format!(
            "extends: default\nbackup:\n  drill:\n    checks:\n      - service: db\n        command: \"{count}\"\n        expect: '1001'\n"
        ),
    );
    fixture.devctl().args(["up"]).status(0).run();
    fixture.shell(
        "db",
        "psql -U postgres -d app -v ON_ERROR_STOP=1 -c \"create table items(id int primary key, name text); insert into items select g, 'item ' || g from generate_series(1, 1000) g;\"",
    );
    let live_id = container_id(&format!("{}-db-1", fixture.name));

    // A `stop` backup, drilled as it is taken.
    let stopped = fixture
        .devctl()
        .args(["backup", "--label", "stop", "--drill"])
        .status(0)
        .stderr("drill: running check in db")
        .stderr("1 check passed")
        .run();
    let stopped = stopped.stdout.trim().to_string();
    let dumped = fixture
        .devctl()
        .args(["--profile", "dump", "backup", "--label", "dump"])
        .status(0)
        .run()
        .stdout
        .trim()
        .to_string();
    fixture
        .devctl()
        .args(["--profile", "dump", "backup", "drill", "--latest"])
        .status(0)
        .stderr("drill: restoring the dump of volume pg-data through `psql")
        .stderr(&format!("drill of backup {dumped} passed"))
        .run();
    assert_eq!(drill_leftovers(&fixture), Vec::<String>::new());

    // A check that does not pass fails the drill, and the record says which.
    let failed = fixture
        .devctl()
        .args(["--profile", "strict", "backup", "drill", &stopped])
        .status(DRILL_FAILED)
        .stderr("printed no `1001`")
        .run();
    assert_eq!(
        drill_leftovers(&fixture),
        Vec::<String>::new(),
        "{}",
        failed.stderr
    );
    let record: serde_json::Value = serde_json::from_slice(
        &std::fs::read(fixture.backup_dir().join(&stopped).join("drill.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(record["result"], "failed");
    assert_eq!(record["checks"][0]["output"], "1000");
    assert_eq!(record["checks"][0]["passed"], false);
    let listing = listed(&fixture);
    assert_eq!(drill_of(&listing, &dumped)["result"], "ok");
    assert_eq!(drill_of(&listing, &stopped)["result"], "failed");

    // The live database: same container, same rows.
    assert_eq!(container_id(&format!("{}-db-1", fixture.name)), live_id);
    let rows = fixture.shell("db", count);
    assert_eq!(rows.trim(), "1000");
}

#[test]
fn prune_keeps_the_newest_drilled_ok_backup_and_a_tampered_record_never_makes_it_remove_more() {
    require_engine();
    let fixture = drill_project("drill-prune", "");
    fixture.devctl().args(["up"]).status(0).run();
    shell(&fixture, "touch /data/ready && echo original > /data/note");
    let drilled = backup(&fixture, &["--label", "drilled"]);
    fixture
        .devctl()
        .args(["backup", "drill", &drilled])
        .status(0)
        .run();
    let ids: Vec<String> = ["b", "c", "d", "e"]
        .iter()
        .map(|label| backup(&fixture, &["--label", label]))
        .collect();
    let folder = |id: &str| fixture.backup_dir().join(id);
    let record = folder(&drilled).join("drill.json");
    // b: the drilled backup's record copied in (it names another backup); c: a link to it;
    // d: a record of its own saying it failed; e: something far too large to be a record.
    std::fs::copy(&record, folder(&ids[0]).join("drill.json")).unwrap();
    std::os::unix::fs::symlink(&record, folder(&ids[1]).join("drill.json")).unwrap();
    let mut failed: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&record).unwrap()).unwrap();
    failed["backup"] = ids[2].clone().into();
    failed["result"] = "failed".into();
    std::fs::write(
        folder(&ids[2]).join("drill.json"),
        serde_json::to_vec(&failed).unwrap(),
    )
    .unwrap();
    std::fs::write(folder(&ids[3]).join("drill.json"), vec![b'{'; 1 << 20]).unwrap();

    let listing = listed(&fixture);
    let results: Vec<&str> = listing
        .iter()
        .map(|backup| backup["drill"]["result"].as_str().unwrap())
        .collect();
    assert_eq!(
        results,
        ["ok", "unreadable", "unreadable", "failed", "unreadable"]
    );

    // Without records, --keep 2 removes the drilled backup, b and c: the drilled one stays.
    let pruned = fixture
        .devctl()
        .args(["backup", "prune", "--keep", "2", "--confirm", &fixture.name])
        .status(0)
        .stderr(&format!(
            "keeping backup {drilled}: it is the newest backup whose drill passed"
        ))
        .run();
    let left: Vec<String> = listed(&fixture)
        .iter()
        .map(|backup| backup["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        left,
        [drilled.clone(), ids[2].clone(), ids[3].clone()],
        "{}",
        pruned.stderr
    );

    // Once a newer backup's drill passed, the older one is no longer spared.
    fixture
        .devctl()
        .args(["backup", "drill", &ids[3]])
        .status(0)
        .run();
    fixture
        .devctl()
        .args(["backup", "prune", "--keep", "1", "--confirm", &fixture.name])
        .status(0)
        .stderr_absent("keeping backup")
        .run();
    let left: Vec<String> = listed(&fixture)
        .iter()
        .map(|backup| backup["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(left, [ids[3].clone()]);
}

/// Starts `test`, and SIGKILLs it as soon as its stderr has a line containing `text`;
/// returns what it printed until then.
fn kill_when(test: crate::harness::Test, text: &str) -> String {
    use std::io::BufRead;
    let mut child = test.spawn();
    let stderr = child.stderr.take().unwrap();
    let (lines, received) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut printed = String::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match received.recv_timeout(left) {
            Ok(line) => {
                printed.push_str(&line);
                printed.push('\n');
                if line.contains(text) {
                    break;
                }
            }
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("devctl never printed {text:?}:\n{printed}");
            }
        }
    }
    // SAFETY: kill(2) on the pid of a child this test spawned.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGKILL);
    }
    child.wait().unwrap();
    printed
}

/// A step to kill a drill at: the backup it drills, what devctl prints there, the
/// `DEVCTL_TEST_PAUSE_AT` that holds it there (when no slow command does), the next run.
struct KillStep<'a> {
    step: &'a str,
    backup: &'a str,
    printed: &'a str,
    pause: Option<&'a str>,
    next: &'a [&'a str],
}

#[test]
fn a_drill_killed_at_each_step_leaves_nothing_after_the_next_run() {
    require_engine();
    let fixture = drill_project(
        "drill-kill",
        "backup:\n  drill:\n    checks:\n      - service: app\n        command: sleep 120\n",
    );
    fixture.devctl().args(["up"]).status(0).run();
    shell(&fixture, "touch /data/ready && echo original > /data/note");
    let good = backup(&fixture, &["--label", "good"]);
    shell(&fixture, "rm /data/ready");
    let broken = backup(&fixture, &["--label", "broken"]);
    shell(&fixture, "touch /data/ready");
    let live_id = container_id(&format!("{}-app", fixture.name));

    let steps = [
        KillStep {
            step: "sibling created",
            backup: &good,
            printed: "paused at created",
            pause: Some("created"),
            next: &["up"],
        },
        KillStep {
            step: "data being restored",
            backup: &good,
            printed: "paused at restoring",
            pause: Some("restoring"),
            next: &["backup"],
        },
        KillStep {
            step: "waiting for health",
            backup: &broken,
            printed: "drill: waiting for",
            pause: None,
            next: &["backup", "drill", &good, "--wait-timeout", "1s"],
        },
        KillStep {
            step: "running checks",
            backup: &good,
            printed: "drill: running check in app",
            pause: None,
            next: &["up"],
        },
    ];
    for KillStep {
        step,
        backup: id,
        printed: text,
        pause,
        next,
    } in steps
    {
        let mut test = fixture.devctl().args(["backup", "drill", id]);
        if let Some(pause) = pause {
            test = test.env("DEVCTL_TEST_PAUSE_AT", pause);
        }
        let printed = kill_when(test, text);
        let left = drill_leftovers(&fixture);
        assert!(
            left.iter().any(|entry| entry.ends_with(".json")),
            "{step}: no marker left: {left:?}\n{printed}"
        );
        assert!(
            left.iter()
                .any(|entry| entry.contains("-drill-") && !entry.contains('/')),
            "{step}: nothing of the sibling on the engine: {left:?}\n{printed}"
        );
        let cleaned = fixture.devctl().args(next).run();
        assert!(
            cleaned.stderr.contains("of an interrupted drill"),
            "{step}: {}",
            cleaned.stderr
        );
        assert_eq!(
            drill_leftovers(&fixture),
            Vec::<String>::new(),
            "{step}: left after `devctl {}`\n{}",
            next.join(" "),
            cleaned.stderr
        );
    }
    assert_eq!(container_id(&format!("{}-app", fixture.name)), live_id);
    assert_eq!(shell(&fixture, "cat /data/note").trim(), "original");
}

#[test]
fn a_drill_stopped_by_sigint_removes_its_sibling_itself_and_records_nothing() {
    require_engine();
    let fixture = drill_project(
        "drill-int",
        "backup:\n  drill:\n    checks:\n      - service: app\n        command: sleep 120\n",
    );
    fixture.devctl().args(["up"]).status(0).run();
    shell(&fixture, "touch /data/ready && echo original > /data/note");
    let good = backup(&fixture, &["--label", "good"]);
    let mut child = fixture.devctl().args(["backup", "drill", &good]).spawn();
    let stderr = child.stderr.take().unwrap();
    let id = child.id();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut printed = String::new();
        let mut pid = Some(id);
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            printed.push_str(&line);
            printed.push('\n');
            if line.contains("drill: running check in app")
                && let Some(id) = pid.take()
            {
                // SAFETY: kill(2) on the pid of a child this test spawned.
                unsafe {
                    libc::kill(id as i32, libc::SIGINT);
                }
            }
        }
        printed
    });
    let status = child.wait().unwrap();
    let printed = reader.join().unwrap();
    assert_eq!(status.code(), Some(130), "{printed}");
    assert!(printed.contains("removed the sibling project"), "{printed}");
    assert_eq!(drill_leftovers(&fixture), Vec::<String>::new(), "{printed}");
    assert!(!fixture.backup_dir().join(&good).join("drill.json").exists());
}
