//! `up` waits for health: failures print health output and log tails; one-shot jobs succeed.

use std::time::{Duration, Instant};

use crate::harness::{Fixture, require_engine, service_row};

/// devctl's exit code for services that are not healthy.
const UNHEALTHY: i32 = 79;

fn profile(fixture: &Fixture, timeout: &str) {
    fixture.write(
        "profiles/default.yaml",
        &format!("compose:\n  project_name: {{project}}\nup:\n  wait_timeout: {timeout}\n"),
    );
}

#[test]
fn a_healthcheck_that_never_passes_fails_within_the_timeout() {
    require_engine();
    let fixture = Fixture::new("never");
    profile(&fixture, "4s");
    fixture.write(
        "compose.yaml",
        "services:\n  stuck:\n    image: {busybox}\n    init: true\n    command: [sh, -c, 'echo stuck-log-line; sleep 600']\n    healthcheck:\n      test: [CMD-SHELL, 'echo probe-said-no; exit 1']\n      interval: 1s\n      retries: 1000\n  fine:\n    image: {busybox}\n    init: true\n    command: [sleep, '600']\n",
    );
    let started = Instant::now();
    let outcome = fixture.devctl().args(["up"]).status(UNHEALTHY).run();
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(60),
        "up took {took:?} with a 4s timeout"
    );
    let stderr = &outcome.stderr;
    assert!(stderr.contains("stuck: not healthy after 4s"), "{stderr}");
    assert!(
        stderr.contains("probe-said-no"),
        "health output missing:\n{stderr}"
    );
    assert!(
        stderr.contains("stuck-log-line"),
        "log tail missing:\n{stderr}"
    );
    assert!(
        stderr.contains("hint:") && stderr.contains("--wait-timeout"),
        "{stderr}"
    );
    assert!(
        stderr.contains("fine") && stderr.contains("running (no healthcheck)"),
        "{stderr}"
    );
}

#[test]
fn wait_timeout_flag_overrides_the_profile() {
    require_engine();
    let fixture = Fixture::new("flag");
    profile(&fixture, "10m");
    fixture.write(
        "compose.yaml",
        "services:\n  stuck:\n    image: {busybox}\n    init: true\n    command: [sleep, '600']\n    healthcheck:\n      test: [CMD, 'false']\n      interval: 1s\n      retries: 1000\n",
    );
    fixture
        .devctl()
        .args(["up", "--wait-timeout", "2s"])
        .status(UNHEALTHY)
        .stderr("not healthy after 2s")
        .run();
}

#[test]
fn an_unhealthy_or_crashed_service_fails_at_once() {
    require_engine();
    let fixture = Fixture::new("crash");
    profile(&fixture, "5m");
    fixture.write(
        "compose.yaml",
        "services:\n  sick:\n    image: {busybox}\n    init: true\n    command: [sleep, '600']\n    healthcheck:\n      test: [CMD-SHELL, 'echo sick-probe; exit 1']\n      interval: 1s\n      retries: 2\n  crash:\n    image: {busybox}\n    command: [sh, -c, 'echo crash-says-bye; exit 4']\n",
    );
    let started = Instant::now();
    let outcome = fixture.devctl().args(["up"]).status(UNHEALTHY).run();
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "waited for the 5m timeout"
    );
    assert!(
        outcome.stderr.contains("exited with code 4"),
        "{}",
        outcome.stderr
    );
    assert!(
        outcome.stderr.contains("crash: crashed (exit 4)"),
        "{}",
        outcome.stderr
    );
    assert!(
        outcome.stderr.contains("crash-says-bye"),
        "{}",
        outcome.stderr
    );
}

#[test]
fn a_crash_loop_fails_as_a_crash_not_a_timeout() {
    require_engine();
    let fixture = Fixture::new("crashloop");
    profile(&fixture, "10m");
    fixture.write(
        "compose.yaml",
        "services:\n  app:\n    image: {busybox}\n    init: true\n    restart: unless-stopped\n    command: [sh, -c, 'echo boom >&2; exit 3']\n  setup:\n    image: {busybox}\n    init: true\n    command: [sh, -c, 'echo set-up']\n",
    );
    let outcome = fixture
        .devctl()
        .args(["up", "--wait-timeout", "120s"])
        .status(UNHEALTHY)
        .run();
    let stderr = &outcome.stderr;
    // The wait ended on the crash: its message, not the timeout's.
    assert!(
        stderr.contains("error: app: crashed (exit 3, restarted "),
        "{stderr}"
    );
    assert!(!stderr.contains("not healthy after"), "{stderr}");
    assert!(
        stderr.contains("crashed: exited with code 3, restarted "),
        "{stderr}"
    );
    assert!(stderr.contains("boom"), "log tail missing:\n{stderr}");
    assert!(
        stderr
            .lines()
            .any(|line| line.contains("setup") && line.contains("completed (exit 0)")),
        "the one-shot service did not complete:\n{stderr}"
    );
    assert!(
        stderr.contains("hint:") && !stderr.contains("--wait-timeout"),
        "{stderr}"
    );

    let app = service_row(&fixture.status(), "app");
    assert!(
        app["restarts"]
            .as_i64()
            .is_some_and(|restarts| restarts >= 1),
        "{app:#}"
    );
    let setup = service_row(&fixture.status(), "setup");
    assert_eq!(setup["restarts"], 0, "{setup:#}");
    assert_eq!(setup["exit_code"], 0, "{setup:#}");
}

#[test]
fn up_of_named_services_waits_for_them_and_their_dependencies_only() {
    require_engine();
    let fixture = Fixture::new("named");
    profile(&fixture, "60s");
    fixture.write(
        "compose.yaml",
        "services:\n  base:\n    image: {busybox}\n    init: true\n    command: [sleep, '600']\n  app:\n    image: {busybox}\n    init: true\n    command: [sleep, '600']\n    depends_on: [base]\n  broken:\n    image: {busybox}\n    command: [sh, -c, 'exit 9']\n",
    );
    // `broken` exists from an earlier run and has failed; `up app` is not about it.
    fixture.devctl().args(["up"]).status(UNHEALTHY).run();
    let outcome = fixture.devctl().args(["up", "app"]).status(0).run();
    assert!(
        outcome.stderr.contains("base") && !outcome.stderr.contains("broken"),
        "{}",
        outcome.stderr
    );
    fixture
        .devctl()
        .args(["up", "nosuch"])
        .status(64)
        .stderr("service `nosuch` is not in profile `default`")
        .stderr("services: app, base, broken")
        .run();
}

#[test]
fn a_one_shot_job_that_exits_zero_is_a_success() {
    require_engine();
    let fixture = Fixture::new("oneshot");
    profile(&fixture, "60s");
    fixture.write(
        "compose.yaml",
        "services:\n  init:\n    image: {busybox}\n    command: [sh, -c, 'echo initialised']\n  app:\n    image: {busybox}\n    init: true\n    command: [sleep, '600']\n    healthcheck:\n      test: [CMD, 'true']\n      interval: 1s\n",
    );
    let outcome = fixture.devctl().args(["up"]).status(0).run();
    assert!(
        outcome.stderr.contains("completed (exit 0)"),
        "{}",
        outcome.stderr
    );
    assert!(
        outcome
            .stderr
            .lines()
            .any(|line| line.contains("app") && line.contains("healthy after")),
        "time to healthy not reported:\n{}",
        outcome.stderr
    );
    let quiet = fixture.devctl().args(["--quiet", "up"]).status(0).run();
    assert_eq!(quiet.stderr, "", "--quiet printed something");
}
