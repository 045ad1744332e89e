//! Ctrl-C: devctl exits 130 and leaves no compose process behind.

use std::time::{Duration, Instant};

use crate::harness::{Fixture, require_engine};

/// Processes whose command line mentions `needle` (compose is run with `-p <project>`).
fn processes_mentioning(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(raw) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let line = String::from_utf8_lossy(&raw).replace('\0', " ");
        if line.contains(needle) {
            found.push(format!("{}: {line}", entry.file_name().to_string_lossy()));
        }
    }
    found
}

fn wait_for(condition: impl Fn() -> bool, limit: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// Sends SIGINT to devctl alone (as `kill -INT` would) and expects exit code 130.
fn interrupt_and_expect_130(child: std::process::Child) {
    std::thread::sleep(Duration::from_millis(500));
    // SAFETY: kill(2) on the pid of a child this test spawned.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(130),
        "stderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn slow_fixture(label: &str) -> Fixture {
    let fixture = Fixture::new(label);
    fixture.write(
        "profiles/default.yaml",
        "compose:\n  project_name: {project}\nup:\n  wait_timeout: 5m\n",
    );
    // `app` waits for `slow`, whose healthcheck never passes, so compose's own `up` blocks.
    fixture.write(
        "compose.yaml",
        "services:\n  slow:\n    image: {busybox}\n    init: true\n    command: [sleep, '600']\n    healthcheck:\n      test: [CMD, 'false']\n      interval: 1s\n      retries: 1000\n  app:\n    image: {busybox}\n    init: true\n    command: [sleep, '600']\n    depends_on:\n      slow:\n        condition: service_healthy\n",
    );
    fixture
}

#[test]
fn ctrl_c_while_compose_runs_exits_130_and_leaves_no_compose_behind() {
    require_engine();
    let fixture = slow_fixture("sigint");
    let child = fixture.devctl().args(["up"]).spawn();
    let needle = format!("-p {} up", fixture.name);
    assert!(
        wait_for(
            || processes_mentioning(&needle).len() >= 2,
            Duration::from_secs(60)
        ),
        "compose never started: {:?}",
        processes_mentioning(&needle)
    );
    interrupt_and_expect_130(child);
    assert!(
        wait_for(
            || processes_mentioning(&fixture.name).is_empty(),
            Duration::from_secs(20)
        ),
        "left behind: {:?}",
        processes_mentioning(&fixture.name)
    );
}

#[test]
fn ctrl_c_while_devctl_waits_for_health_exits_130() {
    require_engine();
    let fixture = slow_fixture("sigwait");
    // Only `slow`: compose returns at once and devctl itself waits for its health.
    let child = fixture.devctl().args(["up", "slow"]).spawn();
    let name = format!("{}-slow-1", fixture.name);
    assert!(
        wait_for(
            || fixture.running().contains(&name),
            Duration::from_secs(60)
        ),
        "never started"
    );
    interrupt_and_expect_130(child);
    assert!(processes_mentioning(&fixture.name).is_empty());
}
