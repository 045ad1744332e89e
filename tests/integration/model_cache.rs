//! The resolved-model cache: a no-op `up` makes no `config` call; changed inputs resolve again.

use crate::harness::{Fixture, require_engine, script};

fn config_calls(log: &std::path::Path) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|line| line.split(' ').any(|word| word == "config"))
        .count()
}

#[test]
fn a_second_up_asks_compose_for_no_config_until_an_input_changes() {
    require_engine();
    let fixture = Fixture::new("cache");
    fixture.write(
        "profiles/default.yaml",
        "compose:\n  project_name: {project}\n  env_files: [dev.env]\n",
    );
    fixture.write("dev.env", "GREETING=one\n");
    fixture.write("compose.yaml", "include:\n  - extra.yaml\nservices:\n  app:\n    image: {busybox}\n    init: true\n    command: [sleep, '600']\n    environment:\n      GREETING: ${GREETING}\n");
    fixture.write(
        "extra.yaml",
        "services:\n  side:\n    image: {busybox}\n    init: true\n    command: [sleep, '600']\n",
    );
    let log = fixture.root().join("../compose-calls.log");
    let wrapper = fixture.root().join("../bin/counting-compose");
    script(
        &wrapper,
        &format!(
            "echo \"$*\" >> {}\nexec docker compose \"$@\"",
            log.display()
        ),
    );
    let up = || {
        fixture
            .devctl()
            .env("DEVCTL_COMPOSE", &wrapper)
            .args(["up"])
            .status(0)
            .run()
    };

    up();
    assert_eq!(config_calls(&log), 1);
    let cache = fixture.state_dir().join("cache");
    assert!(
        cache.is_dir(),
        "the model cache is not under DEVCTL_STATE_DIR"
    );
    assert!(fixture.state_dir().join("compose-probe.json").is_file());
    up();
    assert_eq!(config_calls(&log), 1, "a no-op up resolved the model again");
    fixture
        .devctl()
        .env("DEVCTL_COMPOSE", &wrapper)
        .args(["status"])
        .status(0)
        .run();
    assert_eq!(config_calls(&log), 1, "status resolved the model again");

    fixture.write("dev.env", "GREETING=two\n");
    up();
    assert_eq!(
        config_calls(&log),
        2,
        "a changed env file did not resolve again"
    );
    let inspect = std::process::Command::new("docker")
        .args([
            "inspect",
            "--format",
            "{{json .Config.Env}}",
            &format!("{}-app-1", fixture.name),
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&inspect.stdout).contains("GREETING=two"));

    fixture.write(
        "extra.yaml",
        "services:\n  side:\n    image: {busybox}\n    init: true\n    command: [sleep, '601']\n",
    );
    up();
    assert_eq!(
        config_calls(&log),
        3,
        "a changed included file did not resolve again"
    );

    // The same content, touched: a newer modification time also resolves again.
    std::thread::sleep(std::time::Duration::from_millis(20));
    fixture.write(
        "extra.yaml",
        "services:\n  side:\n    image: {busybox}\n    init: true\n    command: [sleep, '601']\n",
    );
    up();
    assert_eq!(
        config_calls(&log),
        4,
        "a touched included file did not resolve again"
    );

    up();
    assert_eq!(config_calls(&log), 4);
    // Destructive commands always resolve afresh.
    fixture
        .devctl()
        .env("DEVCTL_COMPOSE", &wrapper)
        .args(["down"])
        .status(0)
        .run();
    assert_eq!(config_calls(&log), 5);
}

#[test]
fn an_interpolated_variable_from_the_shell_is_an_input() {
    require_engine();
    let fixture = Fixture::new("cachevar");
    fixture.write("compose.yaml", "name: {project}\nservices:\n  app:\n    image: {busybox}\n    command: [echo, '${MESSAGE:-none}']\n");
    let plan = |value: &str| {
        fixture
            .devctl()
            .env("MESSAGE", value)
            .args(["plan", "--format", "json", "up"])
            .status(0)
            .run()
            .json()
    };
    assert_eq!(
        plan("first")["model"]["services"]["app"]["command"][1],
        "first"
    );
    assert_eq!(
        plan("second")["model"]["services"]["app"]["command"][1],
        "second"
    );
}
