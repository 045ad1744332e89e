//! `--dry-run` and `plan`: the exact compose lines, and nothing created on the engine.

use crate::harness::{Fixture, require_engine};

#[test]
fn dry_run_prints_the_exact_lines_and_creates_nothing() {
    require_engine();
    let demo = Fixture::demo("dry");
    let up = demo.devctl().args(["--dry-run", "up"]).status(0).run();
    let expected = format!(
        "docker compose -f compose.yaml --env-file .env -p {} up --detach",
        demo.name
    );
    assert!(
        up.stdout.lines().any(|line| line == expected),
        "{}",
        up.stdout
    );
    assert!(up.stdout.contains("# then wait up to 1m"), "{}", up.stdout);
    let down = demo.devctl().args(["down", "-n"]).status(0).run();
    let expected = format!(
        "docker compose -f compose.yaml --env-file .env --profile '*' -p {} down --remove-orphans",
        demo.name
    );
    assert!(
        down.stdout.lines().any(|line| line == expected),
        "{}",
        down.stdout
    );
    demo.devctl()
        .args(["-n", "exec", "db", "ls", "-l"])
        .status(0)
        .stdout(&format!("-p {} exec -T db ls -l", demo.name))
        .run();
    demo.devctl()
        .env("DEVCTL_DRY_RUN", "1")
        .env("DEVCTL_PROFILE", "")
        .args(["up"])
        .status(0)
        .stdout("up --detach")
        .run();
    demo.devctl()
        .args(["logs", "--dry-run", "-f"])
        .status(0)
        .stdout("logs --follow")
        .run();
    assert!(demo.containers().is_empty(), "{:?}", demo.containers());
    assert!(demo.networks().is_empty(), "{:?}", demo.networks());
    assert!(demo.volumes().is_empty(), "{:?}", demo.volumes());
}

#[test]
fn plan_json_carries_the_commands_and_the_resolved_model() {
    require_engine();
    let demo = Fixture::demo("plan");
    let plan = demo
        .devctl()
        .args([
            "--profile",
            "full",
            "plan",
            "--format",
            "json",
            "up",
            "--wait-timeout",
            "5s",
        ])
        .status(0)
        .run()
        .json();
    assert_eq!(plan["schema_version"], 1);
    assert_eq!(plan["verb"], "up");
    assert_eq!(plan["profile"]["name"], "full");
    assert_eq!(plan["wait"]["timeout"], 5.0);
    let line = plan["commands"][0]["line"].as_str().unwrap();
    assert!(line.contains("--profile tools"), "{line}");
    assert_eq!(plan["model"]["name"], demo.name.as_str());
    assert!(
        plan["model"]["services"]["admin"].is_object(),
        "{:#}",
        plan["model"]
    );
    let text = demo.devctl().args(["plan", "down"]).status(0).run();
    assert!(
        text.stdout.contains("down --remove-orphans"),
        "{}",
        text.stdout
    );
    assert!(demo.containers().is_empty());
}

#[test]
fn a_dry_run_of_down_and_up_needs_no_engine_and_no_variables() {
    require_engine();
    let fixture = Fixture::new("dry-offline");
    fixture.write(
        "profiles/default.yaml",
        "compose:\n  project_name: {project}\n",
    );
    fixture.write(
        "compose.yaml",
        "services:\n  app:\n    image: {busybox}\n    environment: {MODE: '${DEVCTL_TEST_DRY_MODE}'}\n",
    );
    fixture
        .devctl()
        .args(["-n", "down"])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .status(0)
        .stdout(&format!("-p {} down --remove-orphans", fixture.name))
        .run();
    fixture
        .devctl()
        .args(["-n", "up"])
        .status(0)
        .stdout("up --detach")
        .stderr("warning: refusing to start: a required variable is unset")
        .run();
    assert!(fixture.containers().is_empty());
}

/// A project whose `.env` holds a password and a token used in a service's environment,
/// beside a harmless setting, and whose profile overrides a secret for the fidelity stack.
fn project_with_secrets(label: &str) -> Fixture {
    let fixture = Fixture::new(label);
    fixture.write(
        "profiles/default.yaml",
        "compose:\n  project_name: {project}\n  env_files: [.env]\nfidelity:\n  environment:\n    app: {SESSION_SECRET: fidelity-session-value, MODE: fidelity-mode}\n",
    );
    fixture.write(
        ".env",
        "POSTGRES_PASSWORD=hunter2-secret\nAPI_TOKEN=token-0123456789\nLOG_LEVEL=debug\n",
    );
    fixture.write(
        "compose.yaml",
        "services:\n  app:\n    image: {busybox}\n    environment:\n      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}\n      DATABASE_URL: postgres://app:${POSTGRES_PASSWORD}@db/app\n      API_TOKEN: ${API_TOKEN}\n      LOG_LEVEL: ${LOG_LEVEL}\n",
    );
    fixture
}

const SECRET_VALUES: [&str; 3] = [
    "hunter2-secret",
    "token-0123456789",
    "fidelity-session-value",
];

#[test]
fn plan_masks_secret_values_unless_shown() {
    require_engine();
    let fixture = project_with_secrets("plan-secrets");
    let runs = [
        vec!["plan", "up"],
        vec!["plan", "--format", "json", "up"],
        vec!["plan", "--json", "down"],
        vec!["plan", "--fidelity"],
        vec!["plan", "--fidelity", "--json", "up"],
    ];
    for arguments in &runs {
        let outcome = fixture.devctl().args(arguments).status(0).run();
        for secret in SECRET_VALUES {
            assert!(
                !outcome.stdout.contains(secret) && !outcome.stderr.contains(secret),
                "{arguments:?} shows {secret}\n{}\n{}",
                outcome.stdout,
                outcome.stderr
            );
        }
    }
    let plan = fixture
        .devctl()
        .args(["plan", "--format", "json", "up"])
        .status(0)
        .run()
        .json();
    assert_eq!(
        plan["model"]["services"]["app"]["environment"],
        serde_json::json!({
            "POSTGRES_PASSWORD": "********",
            "DATABASE_URL": "postgres://app:********@db/app",
            "API_TOKEN": "********",
            "LOG_LEVEL": "debug",
        })
    );
    assert_eq!(
        plan["profile"]["fidelity"]["environment"]["app"],
        serde_json::json!({"SESSION_SECRET": "********", "MODE": "fidelity-mode"})
    );
    fixture
        .devctl()
        .args(["plan", "--fidelity"])
        .status(0)
        .stdout("environment SESSION_SECRET=********\n")
        .stdout("environment MODE=fidelity-mode\n")
        .run();

    let shown = fixture
        .devctl()
        .args(["plan", "--show-secrets", "--format", "json", "up"])
        .status(0)
        .run()
        .json();
    assert_eq!(
        shown["model"]["services"]["app"]["environment"],
        serde_json::json!({
            "POSTGRES_PASSWORD": "hunter2-secret",
            "DATABASE_URL": "postgres://app:hunter2-secret@db/app",
            "API_TOKEN": "token-0123456789",
            "LOG_LEVEL": "debug",
        })
    );
    assert_eq!(
        shown["profile"]["fidelity"]["environment"]["app"]["SESSION_SECRET"],
        "fidelity-session-value"
    );
    fixture
        .devctl()
        .args(["plan", "--show-secrets", "--fidelity", "--json"])
        .status(0)
        .stdout("environment SESSION_SECRET=fidelity-session-value")
        .run();
    fixture
        .devctl()
        .args(["plan", "--show-secrets", "--fidelity"])
        .status(0)
        .stdout("environment SESSION_SECRET=fidelity-session-value\n")
        .run();
    assert!(fixture.containers().is_empty());
}

#[test]
fn plan_masks_a_secret_from_the_env_file_in_commands_healthchecks_labels_and_build_args() {
    require_engine();
    let fixture = Fixture::new("plan-secret-places");
    fixture.write(
        "profiles/default.yaml",
        "compose:\n  project_name: {project}\n",
    );
    // DB_PASSWORD is secret by its name and set in no service's environment; PGPASS by the
    // secret-named variable that holds it.
    fixture.write(
        ".env",
        "DB_PASSWORD=pw-from-env-file-7731\nPGPASS=pg-known-secret-4410\n",
    );
    fixture.write("app/Dockerfile", "FROM {busybox}\n");
    fixture.write(
        "compose.yaml",
        "services:\n  app:\n    image: {busybox}\n    environment:\n      POSTGRES_PASSWORD: ${PGPASS}\n    entrypoint: [sh, -c, 'export PGPASSWORD=${PGPASS}; exec \"$$@\"', --]\n    command: [sh, -c, 'connect --password=${DB_PASSWORD} && sleep 600']\n    labels:\n      probe.login: 'app:${DB_PASSWORD}'\n      probe.port: '80'\n    healthcheck:\n      test: [CMD-SHELL, 'wget -q --password=${DB_PASSWORD} http://127.0.0.1/ || exit 1']\n  built:\n    build:\n      context: ./app\n      args: {PROBE_ARGUMENT: 'x-${DB_PASSWORD}'}\n",
    );
    let secrets = ["pw-from-env-file-7731", "pg-known-secret-4410"];
    for arguments in [
        vec!["plan", "up"],
        vec!["plan", "--format", "json", "up"],
        vec!["plan", "--fidelity"],
        vec!["plan", "--fidelity", "--format", "json", "up"],
    ] {
        let outcome = fixture.devctl().args(&arguments).status(0).run();
        for secret in secrets {
            assert!(
                !outcome.stdout.contains(secret) && !outcome.stderr.contains(secret),
                "{arguments:?} shows {secret}\n{}\n{}",
                outcome.stdout,
                outcome.stderr
            );
        }
    }
    let masked = fixture
        .devctl()
        .args(["plan", "--format", "json", "up"])
        .status(0)
        .run()
        .json();
    let app = &masked["model"]["services"]["app"];
    // A text that holds a secret is masked whole, as environment values are.
    assert_eq!(app["command"], serde_json::json!(["sh", "-c", "********"]));
    assert_eq!(app["entrypoint"][2], "********");
    assert_eq!(app["entrypoint"][3], "--");
    assert_eq!(app["healthcheck"]["test"][0], "CMD-SHELL");
    assert_eq!(app["healthcheck"]["test"][1], "********");
    assert_eq!(
        app["labels"],
        serde_json::json!({"probe.login": "********", "probe.port": "80"})
    );
    assert_eq!(
        masked["model"]["services"]["built"]["build"]["args"]["PROBE_ARGUMENT"],
        "********"
    );
    let shown = fixture
        .devctl()
        .args(["plan", "--show-secrets", "--format", "json", "up"])
        .status(0)
        .run();
    for secret in secrets {
        assert!(shown.stdout.contains(secret), "{secret}\n{}", shown.stdout);
    }
    let shown = shown.json();
    assert_eq!(
        shown["model"]["services"]["app"]["healthcheck"]["test"][1],
        "wget -q --password=pw-from-env-file-7731 http://127.0.0.1/ || exit 1"
    );
    assert!(fixture.containers().is_empty());
}
