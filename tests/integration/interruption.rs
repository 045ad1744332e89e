//! Killed backups and restores: nothing incomplete looks complete, the next run finds out,
//! and the safety backup brings the data back. A second run meanwhile waits for the lock.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::backup::{backup, snapshot, volume_project};
use crate::harness::{Fixture, require_engine};

const LOCK_TIMEOUT: i32 = 75;
const REFUSED: i32 = 77;

fn wait_for(what: &str, limit: Duration, condition: impl Fn() -> bool) {
    let started = Instant::now();
    while !condition() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn kill(child: &mut std::process::Child) {
    // SAFETY: kill(2) on the pid of a child this test spawned.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGKILL);
    }
    child.wait().unwrap();
}

/// The largest file in any `.partial-*` directory of `directory`.
fn partial_bytes(directory: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(directory) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|entry| entry.file_name().to_string_lossy().starts_with(".partial-"))
        .flat_map(|entry| {
            std::fs::read_dir(entry.path())
                .into_iter()
                .flatten()
                .flatten()
        })
        .filter_map(|file| file.metadata().ok().map(|meta| meta.len()))
        .max()
        .unwrap_or(0)
}

fn project_state(fixture: &Fixture) -> PathBuf {
    let projects = fixture.state_dir().join("projects");
    std::fs::read_dir(&projects)
        .unwrap()
        .flatten()
        .map(|entry| entry.path())
        .find(|path| {
            path.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&fixture.name)
        })
        .unwrap()
}

fn fill(fixture: &Fixture) {
    fixture.devctl().args(["up"]).status(0).run();
    fixture.shell(
        "app",
        "dd if=/dev/urandom of=/data/big bs=1M count=250 2>/dev/null && echo original > /data/note",
    );
}

#[test]
fn a_killed_backup_never_looks_complete_and_a_second_run_waits_for_the_lock() {
    require_engine();
    let fixture = volume_project("killbackup", "");
    fill(&fixture);
    let mut child = fixture.devctl().args(["backup"]).spawn();
    wait_for("backup data on disk", Duration::from_secs(60), || {
        partial_bytes(&fixture.backup_dir()) > 1 << 20
    });

    fixture
        .devctl()
        .env("DEVCTL_LOCK_TIMEOUT", "1s")
        .args(["backup"])
        .status(LOCK_TIMEOUT)
        .stderr("still locked by another devctl run (pid")
        .stderr("backup)")
        .run();

    kill(&mut child);
    let listed = crate::backup::listed(&fixture);
    assert_eq!(
        listed,
        Vec::<serde_json::Value>::new(),
        "a killed backup is listed"
    );
    fixture.devctl().args(["backup", "verify"]).status(0).run();

    // The next run says what happened, starts the stopped service, and clears the leftovers.
    let up = fixture.devctl().args(["up"]).status(0).run();
    assert!(
        up.stderr.contains("a backup of project") && up.stderr.contains("was interrupted"),
        "{}",
        up.stderr
    );
    let id = backup(&fixture, &["--volume", "data"]);
    assert!(
        !crate::backup::directory_has_partial(&fixture.backup_dir()),
        "the partial backup was left"
    );
    let helpers = std::process::Command::new("docker")
        .args([
            "ps",
            "-aq",
            "--filter",
            &format!("label=dev.devctl.project={}", fixture.name),
        ])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&helpers.stdout).trim().is_empty(),
        "helper containers were left"
    );
    fixture
        .devctl()
        .args(["backup", "verify", &id])
        .status(0)
        .run();
}

/// The devctl command lines between backquotes in `text`.
fn quoted_commands(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|quoted| quoted.starts_with("devctl "))
        .map(String::from)
        .collect()
}

/// Starts `devctl restore ID` and kills it once it has begun replacing the volume; returns
/// the two command lines the next run gives: the one that finishes, the one that undoes.
fn killed_restore(fixture: &Fixture, id: &str) -> (String, String) {
    let mut child = fixture
        .devctl()
        .args(["restore", id, "--confirm", &fixture.name])
        .spawn();
    let journal =
        || std::fs::read_to_string(project_state(fixture).join("journal.json")).unwrap_or_default();
    wait_for(
        "the restore to replace the volume",
        Duration::from_secs(120),
        || journal().contains("\"replaced_volumes\": [\n    \"data\""),
    );
    std::thread::sleep(Duration::from_millis(300));
    kill(&mut child);
    let up = fixture
        .devctl()
        .args(["up"])
        .status(REFUSED)
        .stderr("was interrupted")
        .run();
    let commands = quoted_commands(&up.stderr);
    assert_eq!(
        commands,
        [
            format!("devctl restore {id} --confirm {}", fixture.name),
            format!("devctl restore --undo --confirm {}", fixture.name),
        ],
        "{}",
        up.stderr
    );
    (commands[0].clone(), commands[1].clone())
}

/// Runs a command line devctl printed.
fn run_printed(fixture: &Fixture, line: &str) {
    let words: Vec<&str> = line.split_whitespace().skip(1).collect();
    fixture.devctl().args(words).status(0).run();
}

#[test]
fn a_killed_restore_is_found_by_the_next_run_and_either_printed_command_works() {
    require_engine();
    let fixture = volume_project("killrestore", "");
    fill(&fixture);
    let id = backup(&fixture, &[]);
    let backed_up = snapshot(&fixture);
    fixture.shell("app", "echo changed > /data/note");
    let before_restore = snapshot(&fixture);

    let (_, undo) = killed_restore(&fixture, &id);
    fixture
        .devctl()
        .args(["backup"])
        .status(REFUSED)
        .stderr("was interrupted")
        .run();
    // Nor may the half-replaced volumes be taken down, or deleted, before that.
    for arguments in [
        vec!["down"],
        vec!["down", "-v", "--confirm", &fixture.name],
        vec!["--confirm", &fixture.name, "compose", "down", "-v"],
    ] {
        fixture
            .devctl()
            .args(arguments)
            .status(REFUSED)
            .stderr("was interrupted")
            .run();
    }
    // The second command puts back what the volume held before the restore.
    run_printed(&fixture, &undo);
    assert_eq!(snapshot(&fixture), before_restore);
    fixture.devctl().args(["up"]).status(0).run();

    // Killed again: the first command finishes the restore.
    let (finish, _) = killed_restore(&fixture, &id);
    run_printed(&fixture, &finish);
    assert_eq!(snapshot(&fixture), backed_up);
    fixture.devctl().args(["up"]).status(0).run();
}

#[test]
fn ctrl_c_during_a_backup_keeps_nothing_and_starts_what_it_stopped() {
    require_engine();
    let fixture = volume_project("sigbackup", "");
    fill(&fixture);
    let child = fixture.devctl().args(["backup"]).spawn();
    wait_for("backup data on disk", Duration::from_secs(60), || {
        partial_bytes(&fixture.backup_dir()) > 1 << 20
    });
    // SAFETY: kill(2) on the pid of a child this test spawned.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("the backup was not kept"), "{stderr}");
    assert!(crate::backup::listed(&fixture).is_empty());
    assert!(
        !crate::backup::directory_has_partial(&fixture.backup_dir()),
        "the partial backup was left"
    );
    assert!(
        fixture
            .running()
            .contains(&format!("{}-app-1", fixture.name)),
        "app was left stopped"
    );
    let up = fixture.devctl().args(["up"]).status(0).run();
    assert!(
        !up.stderr.contains("interrupted"),
        "a finished run left a journal: {}",
        up.stderr
    );
}
