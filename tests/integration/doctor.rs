//! `devctl doctor`: every rule has a project that triggers it and one that does not; SARIF
//! output is valid SARIF 2.1.0; the image contract passes and fails on images built here;
//! `up` refuses with a required variable unset; the demo passes; the corpus runs.

use std::path::PathBuf;

use crate::harness::{BUSYBOX, Fixture, repository, require_engine};

const SERVICE: &str = "services:\n  app:\n    image: {busybox}\n    healthcheck: {test: [CMD, 'true'], start_period: 5s}\n";
const BUILT: &str = "services:\n  app:\n    build: ./app\n    healthcheck: {test: [CMD, 'true'], start_period: 5s}\n";
const DOCKERFILE: &str = "FROM {busybox}\nUSER 1000\nCMD [\"true\"]\n";

/// One rule's pair of projects: files (path, text) that trigger it, and files that do not.
struct Case {
    rule: &'static str,
    bad: Vec<(&'static str, String)>,
    good: Vec<(&'static str, String)>,
}

fn compose(extra: &str) -> String {
    format!("name: doctor\n{SERVICE}{extra}")
}

fn built(dockerfile: &str) -> Vec<(&'static str, String)> {
    vec![
        ("compose.yaml", format!("name: doctor\n{BUILT}")),
        ("app/Dockerfile", dockerfile.to_string()),
    ]
}

fn cases() -> Vec<Case> {
    let one = |rule, bad: String, good: String| Case {
        rule,
        bad: vec![("compose.yaml", bad)],
        good: vec![("compose.yaml", good)],
    };
    let dockerfile = |rule, bad: &str, good: &str| Case {
        rule,
        bad: built(bad),
        good: built(good),
    };
    vec![
        one(
            "compose-invalid",
            "name: doctor\nservices:\n  app:\n    image: {busybox}\n    ports: {not: a-list}\n".into(),
            compose(""),
        ),
        Case {
            rule: "data-volume-unprotected",
            bad: vec![("compose.yaml", compose("    volumes: [data:/data]\nvolumes:\n  data: {}\n"))],
            good: vec![
                ("compose.yaml", compose("    volumes: [data:/data]\nvolumes:\n  data: {}\n")),
                ("profiles/default.yaml", "guard:\n  protected_volumes: [data]\n".into()),
            ],
        },
        one("no-healthcheck", "name: doctor\nservices:\n  app:\n    image: {busybox}\n".into(), compose("")),
        one(
            "healthcheck-no-start-period",
            "name: doctor\nservices:\n  app:\n    image: {busybox}\n    healthcheck: {test: [CMD, 'true']}\n".into(),
            compose(""),
        ),
        dockerfile(
            "healthcheck-not-shipped",
            DOCKERFILE,
            "FROM {busybox}\nUSER 1000\nHEALTHCHECK CMD [\"true\"]\nCMD [\"true\"]\n",
        ),
        Case {
            rule: "literal-secret",
            bad: vec![("compose.yaml", compose("    environment: {DB_PASSWORD: hunter2}\n"))],
            good: vec![
                ("compose.yaml", compose("    environment: {DB_PASSWORD: '${DB_PASSWORD}', DB_PASSWORD_FILE: /run/secrets/db, MYSQL_ALLOW_EMPTY_PASSWORD: 'yes', PASSWORD_MIN_LENGTH: '12'}\n")),
                (".env", "DB_PASSWORD=from-the-env-file\n".into()),
            ],
        },
        one(
            "image-unpinned",
            "name: doctor\nservices:\n  app:\n    image: nginx\n    healthcheck: {test: [CMD, 'true'], start_period: 5s}\n".into(),
            "name: doctor\nservices:\n  app:\n    image: nginx:1.27\n    healthcheck: {test: [CMD, 'true'], start_period: 5s}\n".into(),
        ),
        one("port-all-interfaces", compose("    ports: ['8080:80']\n"), compose("    ports: ['127.0.0.1:8080:80']\n")),
        one("docker-socket", compose("    volumes: ['/var/run/docker.sock:/var/run/docker.sock']\n"), compose("    volumes: ['./data:/data']\n")),
        one("privileged", compose("    privileged: true\n"), compose("    privileged: false\n")),
        one("host-network", compose("    network_mode: host\n"), compose("    network_mode: bridge\n")),
        one("host-namespace", compose("    pid: host\n"), compose("")),
        one("sensitive-host-path", compose("    volumes: ['/etc:/host-etc:ro']\n"), compose("    volumes: ['/etc/localtime:/etc/localtime:ro']\n")),
        one("dangerous-capability", compose("    cap_add: [SYS_ADMIN]\n"), compose("    cap_add: [NET_BIND_SERVICE]\n")),
        one(
            "duplicate-host-port",
            compose("    ports: ['127.0.0.1:8080:80']\n  other:\n    image: {busybox}\n    ports: ['127.0.0.1:8080:80']\n"),
            compose("    ports: ['127.0.0.1:8080:80']\n  other:\n    image: {busybox}\n    ports: ['127.0.0.1:8081:80']\n"),
        ),
        one(
            "duplicate-container-name",
            compose("    container_name: same\n  other:\n    image: {busybox}\n    container_name: same\n"),
            compose("    container_name: one\n  other:\n    image: {busybox}\n    container_name: two\n"),
        ),
        Case {
            rule: "no-project-name",
            bad: vec![
                ("compose.yaml", SERVICE.to_string()),
                ("profiles/default.yaml", "description: no name\n".into()),
            ],
            good: vec![("compose.yaml", compose(""))],
        },
        one("obsolete-version", format!("version: '3.8'\n{}", compose("")), compose("")),
        Case {
            rule: "build-and-image",
            bad: vec![
                ("compose.yaml", format!("name: doctor\n{BUILT}    image: doctor/app:dev\n")),
                ("app/Dockerfile", DOCKERFILE.into()),
            ],
            good: built(DOCKERFILE),
        },
        one(
            "depends-on-without-health",
            compose("  web:\n    image: {busybox}\n    healthcheck: {test: [CMD, 'true'], start_period: 5s}\n    depends_on: [app]\n"),
            compose("  web:\n    image: {busybox}\n    healthcheck: {test: [CMD, 'true'], start_period: 5s}\n    depends_on: {app: {condition: service_healthy}}\n"),
        ),
        one("root-user", compose("    user: root\n"), compose("    user: '1000'\n")),
        one(
            "required-variable-unset",
            compose("    environment: {MODE: '${DOCTOR_UNSET_VARIABLE}'}\n"),
            compose("    environment: {MODE: '${DOCTOR_UNSET_VARIABLE:-dev}'}\n"),
        ),
        Case {
            rule: "dockerfile-missing",
            bad: vec![("compose.yaml", format!("name: doctor\n{BUILT}")), ("app/README", "no Dockerfile\n".into())],
            good: built(DOCKERFILE),
        },
        dockerfile(
            "dockerfile-root",
            "FROM {busybox}\nCMD [\"true\"]\n",
            // The user is inherited from the stage it is built FROM.
            "FROM {busybox} AS base\nUSER 1000\nFROM base\nCMD [\"true\"]\n",
        ),
        dockerfile(
            "dockerfile-secret",
            "FROM {busybox}\nENV API_TOKEN=abc123\nUSER 1000\n",
            "FROM {busybox}\nENV API_TOKEN_FILE=/run/secrets/token\nARG NODE_VERSION=20\nUSER 1000\n",
        ),
        dockerfile(
            "copy-before-install",
            "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nUSER node\n",
            "FROM node:20\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\nUSER node\n",
        ),
        dockerfile(
            "unfrozen-install",
            "FROM node:20\nCOPY package.json ./\nRUN --mount=type=cache,target=/root/.npm NODE_ENV=production npm install\nUSER node\n",
            "FROM node:20\nCOPY package.json package-lock.json ./\nRUN npm ci\nUSER node\n",
        ),
        dockerfile("base-image-unpinned", "FROM node\nUSER node\n", "FROM node:20 AS build\nFROM build\nUSER node\n"),
        dockerfile(
            "package-cache-left",
            "FROM debian:12\nRUN apt-get update && apt-get install -y curl\nUSER 1000\n",
            "FROM debian:12\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\nUSER 1000\n",
        ),
        dockerfile(
            "add-local-file",
            "FROM {busybox}\nADD app.sh /app/\nUSER 1000\n",
            "FROM {busybox}\nADD rootfs.tar.gz /\nCOPY app.sh /app/\nUSER 1000\n",
        ),
        dockerfile(
            "shell-form-command",
            "FROM {busybox}\nUSER 1000\nCMD httpd -f\n",
            "FROM {busybox}\nUSER 1000\nCMD [\"httpd\", \"-f\"]\n",
        ),
        dockerfile(
            "pipe-without-pipefail",
            "FROM {busybox}\nRUN wget -O - http://example.invalid/install | sh\nUSER 1000\n",
            "FROM {busybox}\nRUN set -o pipefail && wget -O - http://example.invalid/install | sh\nUSER 1000\n",
        ),
        dockerfile(
            "os-package-unpinned",
            "FROM debian:12\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\nUSER 1000\n",
            "FROM debian:12\nRUN apt-get update && apt-get install -y curl=7.88.1-10+deb12u8 && rm -rf /var/lib/apt/lists/*\nUSER 1000\n",
        ),
        dockerfile(
            "gem-unpinned",
            "FROM ruby:3.3\nRUN gem install bundler\nUSER 1000\n",
            "FROM ruby:3.3\nRUN gem install bundler -v 2.5.22\nUSER 1000\n",
        ),
        dockerfile(
            "go-install-unpinned",
            "FROM golang:1.23\nRUN go install golang.org/x/tools/gopls@latest\nUSER 1000\n",
            "FROM golang:1.23\nRUN go install golang.org/x/tools/gopls@v0.16.2 && go install ./cmd/app\nUSER 1000\n",
        ),
        dockerfile(
            "sudo-in-run",
            "FROM {busybox}\nUSER 1000\nRUN sudo mkdir /data\n",
            "FROM {busybox}\nRUN mkdir /data\nUSER 1000\n",
        ),
        Case {
            rule: "env-not-dockerignored",
            bad: [built(DOCKERFILE), vec![("app/.env", "SECRET=1\n".into())]].concat(),
            good: [
                built(DOCKERFILE),
                vec![("app/.env", "SECRET=1\n".into()), ("app/.dockerignore", "node_modules\n.env\n".into())],
            ]
            .concat(),
        },
        Case {
            rule: "env-example-missing",
            bad: vec![
                ("compose.yaml", compose("    environment: {MODE: '${MODE:-dev}'}\n")),
                (".env.example", "OTHER=x\n".into()),
            ],
            good: vec![
                ("compose.yaml", compose("    environment: {MODE: '${MODE:-dev}'}\n")),
                (".env.example", "MODE=dev\n".into()),
            ],
        },
        Case {
            rule: "env-example-unused",
            bad: vec![
                ("compose.yaml", compose("    environment: {MODE: '${MODE:-dev}'}\n")),
                (".env.example", "MODE=dev\nSTALE=1\n".into()),
            ],
            good: vec![
                ("compose.yaml", compose("    environment: {MODE: '${MODE:-dev}'}\n")),
                (".env.example", "MODE=dev\n".into()),
            ],
        },
        Case {
            rule: "no-env-example",
            bad: vec![("compose.yaml", compose("    environment: {MODE: '${MODE:-dev}'}\n"))],
            good: vec![
                ("compose.yaml", compose("    environment: {MODE: '${MODE:-dev}'}\n")),
                (".env.example", "MODE=dev\n".into()),
            ],
        },
    ]
}

/// The rule ids `devctl doctor --format json` reports for a project made of `files`.
fn reported(label: &str, files: &[(&str, String)]) -> Vec<String> {
    let fixture = Fixture::new(label);
    if !files
        .iter()
        .any(|(path, _)| *path == "profiles/default.yaml")
    {
        fixture.write("profiles/default.yaml", "description: a doctor fixture\n");
    }
    for (path, text) in files {
        fixture.write(path, text);
    }
    let outcome = fixture.devctl().args(["doctor", "--format", "json"]).run();
    let code = outcome.code;
    assert!(
        code == Some(0) || code == Some(1),
        "{label}: exit {code:?}\n{}",
        outcome.stderr
    );
    outcome.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|finding| finding["rule"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_rule_has_a_project_that_triggers_it_and_one_that_does_not() {
    require_engine();
    let cases = cases();
    let covered: Vec<&str> = cases.iter().map(|case| case.rule).collect();
    // The image rules need built images: the contract's own test below, compose against
    // the image in doctor_images.rs.
    for rule in devctl::doctor::rules::RULES {
        let rule = rule.id.as_str();
        assert!(
            covered.contains(&rule)
                || rule == "image-contract"
                || crate::doctor_images::RULES.contains(&rule),
            "no fixture for rule {rule}"
        );
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = cases
            .iter()
            .map(|case| {
                scope.spawn(move || {
                    let bad = reported(&format!("bad-{}", case.rule), &case.bad);
                    let good = reported(&format!("good-{}", case.rule), &case.good);
                    assert!(
                        bad.iter().any(|rule| rule == case.rule),
                        "{} not triggered: {bad:?}",
                        case.rule
                    );
                    assert!(
                        !good.iter().any(|rule| rule == case.rule),
                        "{} triggered on the good project: {good:?}",
                        case.rule
                    );
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
    });
}

#[test]
fn findings_point_at_file_line_and_column_and_the_profile_can_change_severities() {
    let fixture = doctor_project(
        "doctor-locations",
        "name: doctor\nservices:\n  app:\n    image: {busybox}\n    healthcheck: {test: [CMD, 'true'], start_period: 5s}\n    ports:\n      - '127.0.0.1:8080:80'\n      - '9090:90'\n",
    );
    let report = fixture
        .devctl()
        .args(["doctor", "--format", "json"])
        .status(0)
        .run()
        .json();
    let port = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|finding| finding["rule"] == "port-all-interfaces")
        .unwrap()
        .clone();
    assert_eq!(port["location"]["file"], "compose.yaml");
    assert_eq!(port["location"]["line"], 8);
    assert_eq!(port["location"]["column"], 9);
    assert_eq!(port["severity"], "warning");
    // A warning fails only under --strict.
    fixture
        .devctl()
        .args(["doctor", "--strict"])
        .status(1)
        .stdout("port-all-interfaces")
        .run();
    fixture.write(
        "profiles/default.yaml",
        "doctor:\n  rules:\n    port-all-interfaces: error\n",
    );
    fixture
        .devctl()
        .args(["doctor"])
        .status(1)
        .stdout("error")
        .run();
    fixture.write(
        "profiles/default.yaml",
        "doctor:\n  rules:\n    port-all-interfaces: off\n",
    );
    let report = fixture
        .devctl()
        .args(["doctor", "--format", "json", "--strict"])
        .run()
        .json();
    assert!(
        !report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "port-all-interfaces")
    );
    fixture.write(
        "profiles/default.yaml",
        "doctor:\n  rules:\n    port-on-all: off\n",
    );
    fixture
        .devctl()
        .args(["doctor"])
        .status(64)
        .stderr("doctor.rules names `port-on-all`, which is not a rule")
        .stderr("did you mean `port-all-interfaces`?")
        .run();
}

#[test]
fn sarif_output_is_valid_sarif_2_1_0() {
    require_engine();
    let fixture = Fixture::new("doctor-sarif");
    fixture.write("profiles/default.yaml", "description: x\n");
    for (path, text) in built("FROM node\nCOPY . .\nRUN npm install\nCMD node server.js\n") {
        fixture.write(path, &text);
    }
    fixture.write(
        "compose.yaml",
        &format!("version: '3'\nname: doctor\n{BUILT}    ports: ['8080:80']\n    environment: {{API_TOKEN: literal}}\n    volumes: ['/var/run/docker.sock:/var/run/docker.sock']\n"),
    );
    let outcome = fixture
        .devctl()
        .args(["doctor", "--format", "sarif"])
        .status(1)
        .run();
    let log = outcome.json();
    // The published schema's `run.language` pattern ends in `[a-zA-Z]{2}]?$`: ECMA-262 reads
    // the stray `]` as a literal, Rust's regex engine refuses it. Escaping it keeps its meaning.
    let text = std::fs::read_to_string(repository().join("tests/fixtures/sarif-schema-2.1.0.json"))
        .unwrap()
        .replace("[a-zA-Z]{2}]?$", r"[a-zA-Z]{2}\\]?$");
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|error| format!("{error} at {}", error.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert!(results.len() >= 6, "{results:#?}");
    let rules: Vec<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    for rule in [
        "docker-socket",
        "literal-secret",
        "copy-before-install",
        "unfrozen-install",
        "obsolete-version",
    ] {
        assert!(rules.contains(&rule), "{rule}: {rules:?}");
    }
    let socket = results
        .iter()
        .find(|r| r["ruleId"] == "docker-socket")
        .unwrap();
    assert_eq!(socket["level"], "error");
    assert_eq!(
        socket["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "compose.yaml"
    );
    assert!(
        socket["locations"][0]["physicalLocation"]["region"]["startLine"]
            .as_u64()
            .unwrap()
            > 1
    );
    // A broken log fails the same validation: the check can fail.
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["level"] = serde_json::json!("fatal");
    assert!(validator.iter_errors(&broken).next().is_some());
}

/// Builds `dockerfile` (`{busybox}` replaced) as image `tag`, in `directory`.
pub(crate) fn docker_build(tag: &str, directory: &std::path::Path, dockerfile: &str) {
    std::fs::create_dir_all(directory).unwrap();
    std::fs::write(
        directory.join("Dockerfile"),
        dockerfile.replace("{busybox}", BUSYBOX),
    )
    .unwrap();
    let output = std::process::Command::new("docker")
        .args(["build", "-q", "-t", tag])
        .arg(directory)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_image_contract_passes_a_compliant_image_and_names_what_breaks_it() {
    require_engine();
    let fixture = Fixture::new("contract");
    let good = format!("{}-good", fixture.name);
    let bad = format!("{}-bad", fixture.name);
    docker_build(
        &good,
        &fixture.root().join("../good"),
        "FROM {busybox}\nENV APP_ENV=production\nEXPOSE 8080\nHEALTHCHECK CMD wget -q -O /dev/null http://127.0.0.1:8080/ || exit 1\nUSER 1000\nCMD [\"httpd\", \"-f\", \"-p\", \"8080\"]\n",
    );
    docker_build(
        &bad,
        &fixture.root().join("../bad"),
        "FROM {busybox}\nRUN mkdir -p /usr/bin && touch /usr/bin/gcc\nCMD [\"httpd\", \"-f\", \"-p\", \"8080\"]\n",
    );
    let contract = |image: &str| {
        format!(
            "doctor:\n  images:\n    app:\n      image: {image}\n      cmd: [httpd, -f, -p, '8080']\n      exposed_ports: ['8080']\n      non_root: true\n      healthcheck: true\n      environment: [APP_ENV]\n      forbidden_paths: [/usr/bin/gcc, /usr/bin/git, /usr/lib/node_modules/npm]\n      max_size: 50MiB\n"
        )
    };
    fixture.write("compose.yaml", &compose(""));
    fixture.write("profiles/default.yaml", &contract(&good));
    let report = fixture
        .devctl()
        .args(["doctor", "--images", "--format", "json"])
        .status(0)
        .run()
        .json();
    let contract_findings = |report: &serde_json::Value| -> Vec<String> {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "image-contract")
            .map(|f| f["message"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(contract_findings(&report), Vec::<String>::new());
    fixture.write("profiles/default.yaml", &contract(&bad));
    let report = fixture
        .devctl()
        .args(["doctor", "--images", "--format", "json"])
        .status(1)
        .run()
        .json();
    let broken = contract_findings(&report);
    for reason in [
        "contains /usr/bin/gcc",
        "runs as root",
        "has no HEALTHCHECK",
        "does not expose 8080/tcp",
        "does not set APP_ENV",
    ] {
        assert!(
            broken.iter().any(|message| message.contains(reason)),
            "{reason}: {broken:#?}"
        );
    }
    // The inspection containers are gone.
    let left = std::process::Command::new("docker")
        .args(["ps", "-aq", "--filter", &format!("ancestor={bad}")])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&left.stdout).trim().is_empty());
}

#[test]
fn up_refuses_before_starting_anything_when_a_required_variable_is_unset() {
    require_engine();
    let fixture = Fixture::new("envcheck");
    fixture.write(
        "profiles/default.yaml",
        "compose:\n  project_name: {project}\n",
    );
    fixture.write(
        "compose.yaml",
        "services:\n  app:\n    image: {busybox}\n    init: true\n    command: [sleep, '600']\n    environment:\n      MODE: ${DEVCTL_TEST_MODE}\n      LEVEL: ${DEVCTL_TEST_LEVEL:-info}\n      TOKEN: ${DEVCTL_TEST_TOKEN:?set the token}\n",
    );
    let outcome = fixture
        .devctl()
        .args(["up"])
        .status(64)
        .stderr("refusing to start")
        .stderr("DEVCTL_TEST_MODE (used at compose.yaml:7:13)")
        .stderr("DEVCTL_TEST_TOKEN (used at compose.yaml:9:14)")
        .stderr("--skip-env-check")
        .run();
    assert!(
        !outcome.stderr.contains("DEVCTL_TEST_LEVEL"),
        "{}",
        outcome.stderr
    );
    assert!(fixture.containers().is_empty());
    assert!(fixture.networks().is_empty());
    // `${VAR:?}` refuses an empty value too, as compose does.
    fixture.write(".env", "DEVCTL_TEST_MODE=dev\nDEVCTL_TEST_TOKEN=\n");
    fixture
        .devctl()
        .args(["up"])
        .status(64)
        .stderr("DEVCTL_TEST_TOKEN (used at compose.yaml:9:14)")
        .stderr_absent("DEVCTL_TEST_MODE")
        .run();
    // Set in an env file, they pass.
    fixture.write(".env", "DEVCTL_TEST_MODE=dev\nDEVCTL_TEST_TOKEN=t\n");
    fixture.devctl().args(["up", "--no-wait"]).status(0).run();
    fixture.devctl().args(["down"]).status(0).run();
    std::fs::remove_file(fixture.root().join(".env")).unwrap();
    // The check can be skipped; then compose itself has the last word (`:?` is its error).
    fixture
        .devctl()
        .args(["up", "--skip-env-check"])
        .env("DEVCTL_TEST_TOKEN", "t")
        .status(0)
        .run();
    // A JSON Schema for the env, named by the profile, is checked too.
    fixture.write(
        "profiles/default.yaml",
        "compose:\n  project_name: {project}\ndoctor:\n  env_schema: env.schema.json\n",
    );
    fixture.write(
        "env.schema.json",
        r#"{"type": "object", "properties": {"DEVCTL_TEST_MODE": {"enum": ["dev", "production"]}}}"#,
    );
    fixture
        .devctl()
        .args(["up"])
        .env("DEVCTL_TEST_MODE", "staging")
        .env("DEVCTL_TEST_TOKEN", "t")
        .status(64)
        .stderr("env.schema.json")
        .run();
}

#[test]
fn the_env_check_reads_yaml_as_compose_does_and_follows_includes() {
    require_engine();
    let fixture = Fixture::new("envcheck-yaml");
    fixture.write(
        "profiles/default.yaml",
        "compose:\n  project_name: {project}\n",
    );
    fixture.write(
        "compose.yaml",
        "include: [extra.yaml]\nservices:\n  app:\n    image: {busybox}\n    init: true\n    command: [sleep, '600']\n    environment:\n      GREETING: it's ${DEVCTL_TEST_NAME:-x} # was ${DEVCTL_TEST_OLD}\n",
    );
    fixture.write(
        "extra.yaml",
        "services:\n  other:\n    image: {busybox}\n    command: [sh, -c, 'echo ${DEVCTL_TEST_INCLUDED:?needed}']\n",
    );
    let outcome = fixture
        .devctl()
        .args(["up"])
        .status(64)
        .stderr("DEVCTL_TEST_INCLUDED (used at extra.yaml:4:")
        .run();
    assert!(
        !outcome.stderr.contains("DEVCTL_TEST_OLD"),
        "a comment is not a use: {}",
        outcome.stderr
    );
    assert!(fixture.containers().is_empty());
}

#[test]
fn the_demo_passes_with_no_errors_and_no_rule_disabled() {
    require_engine();
    let demo = repository().join("examples/demo");
    for profile in ["default", "full"] {
        let text = std::fs::read_to_string(demo.join(format!("profiles/{profile}.yaml"))).unwrap();
        assert!(
            !text.contains("doctor:"),
            "the demo's {profile} profile configures doctor"
        );
    }
    let state = tempfile::tempdir().unwrap();
    let report = crate::harness::Test::new(&demo)
        .env("DEVCTL_STATE_DIR", state.path())
        .args(["doctor", "--format", "json"])
        .status(0)
        .run()
        .json();
    let errors: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(report["passed"], true);
}

#[test]
fn doctor_reads_every_corpus_project_and_flags_the_docker_socket_mounts() {
    require_engine();
    let corpus = repository().join("tests/fixtures/awesome-compose");
    let mut projects: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            [
                "compose.yaml",
                "compose.yml",
                "docker-compose.yml",
                "docker-compose.yaml",
            ]
            .iter()
            .any(|name| path.join(name).is_file())
        })
        .collect();
    projects.sort();
    assert!(projects.len() >= 30, "{}", projects.len());
    let state = tempfile::tempdir().unwrap();
    let mut socket_flagged = Vec::new();
    for project in &projects {
        let outcome = crate::harness::Test::new(project)
            .env("DEVCTL_STATE_DIR", state.path())
            .args(["doctor", "--format", "json"])
            .run();
        assert!(
            outcome.code == Some(0) || outcome.code == Some(1),
            "{}: exit {:?}\n{}",
            project.display(),
            outcome.code,
            outcome.stderr
        );
        let report = outcome.json();
        if report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "docker-socket")
        {
            socket_flagged.push(project.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    let mut mounting: Vec<String> = projects
        .iter()
        .filter(|project| {
            std::fs::read_dir(project).unwrap().any(|entry| {
                let path = entry.unwrap().path();
                path.is_file()
                    && std::fs::read_to_string(&path)
                        .is_ok_and(|text| text.contains("/var/run/docker.sock"))
            })
        })
        .map(|project| project.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    mounting.sort();
    assert!(!mounting.is_empty());
    assert_eq!(socket_flagged, mounting);
}

#[test]
fn list_items_are_located_by_content_across_several_compose_files() {
    let fixture = doctor_project(
        "doctor-override",
        "name: doctor\nservices:\n  app:\n    image: {busybox}\n    healthcheck: {test: [CMD, 'true'], start_period: 5s}\n    ports: ['127.0.0.1:1000:80']\n",
    );
    fixture.write(
        "compose.override.yaml",
        "services:\n  app:\n    ports:\n      - '2000:81'\n      - '127.0.0.1:3000:82'\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n      - /etc:/host-etc:ro\n",
    );
    let report = fixture
        .devctl()
        .args(["doctor", "--format", "json"])
        .status(1)
        .run()
        .json();
    let at = |rule: &str| {
        let finding = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|finding| finding["rule"] == rule)
            .unwrap_or_else(|| panic!("no {rule}: {report:#}"));
        (
            finding["location"]["file"].as_str().unwrap().to_string(),
            finding["location"]["line"].as_u64().unwrap(),
        )
    };
    assert_eq!(
        at("port-all-interfaces"),
        ("compose.override.yaml".into(), 4)
    );
    assert_eq!(at("docker-socket"), ("compose.override.yaml".into(), 7));
    assert_eq!(
        at("sensitive-host-path"),
        ("compose.override.yaml".into(), 8)
    );
}

/// A project of one compose file, `compose` (`{busybox}` replaced), and a profile that sets
/// nothing else.
fn doctor_project(label: &str, compose: &str) -> Fixture {
    require_engine();
    let fixture = Fixture::new(label);
    fixture.write("profiles/default.yaml", "description: x\n");
    fixture.write("compose.yaml", compose);
    fixture
}

/// The (rule, message) pairs of a JSON report.
pub(crate) fn findings_in(report: &serde_json::Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|finding| {
            (
                finding["rule"].as_str().unwrap().to_string(),
                finding["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The (rule, message) pairs of `devctl [--fidelity] doctor --format json` in `fixture`.
fn findings_of(fixture: &Fixture, fidelity: bool) -> Vec<(String, String)> {
    let mut arguments = vec!["doctor", "--format", "json"];
    if fidelity {
        arguments.insert(0, "--fidelity");
    }
    let outcome = fixture.devctl().args(&arguments).run();
    assert!(
        matches!(outcome.code, Some(0) | Some(1)),
        "exit {:?}\n{}",
        outcome.code,
        outcome.stderr
    );
    findings_in(&outcome.json())
}

#[test]
fn on_the_fidelity_stack_an_interpolated_secret_is_not_a_literal_one() {
    let fixture = Fixture::new("fidelity-secret");
    fixture.write(
        "profiles/default.yaml",
        "compose:\n  project_name: {project}\n",
    );
    fixture.write(".env", "POSTGRES_PASSWORD=from-the-env-file\n");
    fixture.write("app/Dockerfile", DOCKERFILE);
    fixture.write(
        "compose.yaml",
        "services:\n  db:\n    image: {busybox}\n    environment:\n      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?}\n      API_TOKEN: written-in-the-file\n  app:\n    build: ./app\n",
    );
    for fidelity in [false, true] {
        let findings = findings_of(&fixture, fidelity);
        let about = |rule: &str| -> Vec<&String> {
            findings
                .iter()
                .filter(|(id, _)| id == rule)
                .map(|(_, message)| message)
                .collect()
        };
        assert_eq!(
            about("literal-secret"),
            ["service `db` sets API_TOKEN to a literal value"],
            "fidelity: {fidelity}: {findings:#?}"
        );
        // The image name the fidelity stack gives its build is not the file's `image:`.
        assert!(
            about("build-and-image").is_empty(),
            "fidelity: {fidelity}: {findings:#?}"
        );
    }
}

/// A credential in a URL a Dockerfile installs from is masked in every report: the human
/// text, JSON and SARIF.
#[test]
fn credentials_in_a_finding_are_masked_in_every_format() {
    require_engine();
    let fixture = Fixture::new("doctor-masked");
    fixture.write("profiles/default.yaml", "description: masked credentials\n");
    fixture.write("compose.yaml", &format!("name: doctor\n{BUILT}"));
    fixture.write(
        "app/Dockerfile",
        "FROM {busybox}\nRUN pip install git+https://deploy:s3cr3t-token@git.example.com/team/app.git\nUSER 1000\n",
    );
    for format in ["human", "json", "sarif"] {
        let outcome = fixture.devctl().args(["doctor", "--format", format]).run();
        let report = format!("{}{}", outcome.stdout, outcome.stderr);
        assert!(
            !report.contains("s3cr3t-token") && !report.contains("deploy:"),
            "{format}: {report}"
        );
        assert!(
            report
                .contains("`pip install` of unpinned git+https://***@git.example.com/team/app.git"),
            "{format}: {report}"
        );
    }
}

#[test]
fn compose_invalid_quotes_compose_s_error_not_a_warning_printed_before_it() {
    require_engine();
    let fixture = Fixture::new("doctor-invalid-warning");
    fixture.write("profiles/default.yaml", "description: x\n");
    // Compose warns that the variable is unset, then fails on the range it leaves.
    fixture.write(
        "compose.yaml",
        "name: doctor\nservices:\n  app:\n    image: {busybox}\n    ports:\n      - '$DOCTOR_UNSET_WEB_PORT-9000:80-81'\n",
    );
    let findings = findings_of(&fixture, false);
    let invalid: Vec<&String> = findings
        .iter()
        .filter(|(rule, _)| rule == "compose-invalid")
        .map(|(_, message)| message)
        .collect();
    assert_eq!(
        invalid,
        ["compose cannot read the project: invalid hostPort: -9000"],
        "{findings:#?}"
    );
}

#[test]
fn a_from_naming_an_image_another_service_builds_is_not_unpinned() {
    let fixture = doctor_project(
        "doctor-built-base",
        "name: doctor\nservices:\n  base:\n    build: ./base\n    image: doctor/base:latest\n  app:\n    build: ./app\n",
    );
    fixture.write("base/Dockerfile", DOCKERFILE);
    fixture.write(
        "app/Dockerfile",
        "FROM doctor/base:latest\nFROM doctor/other:latest\nUSER 1000\n",
    );
    let unpinned: Vec<String> = findings_of(&fixture, false)
        .into_iter()
        .filter(|(rule, _)| rule == "base-image-unpinned")
        .map(|(_, message)| message)
        .collect();
    assert_eq!(
        unpinned,
        ["FROM doctor/other:latest has the floating tag `latest`"]
    );
}

/// A project compose resolves, but cannot read without interpolation (a variable where its
/// schema wants a fixed word), is still checked: the files as written stand in for that model.
#[test]
fn a_project_compose_reads_only_interpolated_is_still_checked() {
    let fixture = doctor_project(
        "doctor-interpolated-only",
        "name: doctor\nservices:\n  app:\n    image: {busybox}\n    pull_policy: ${DOCTOR_PULL_POLICY:-never}\n    environment:\n      DB_PASSWORD: ${DOCTOR_DB_PASSWORD:-x}\n      API_TOKEN: literal123\n",
    );
    let outcome = fixture.devctl().args(["doctor", "--format", "json"]).run();
    assert_eq!(outcome.code, Some(1), "{}", outcome.stderr);
    assert!(
        outcome
            .stderr
            .contains("cannot read the project without interpolation"),
        "{}",
        outcome.stderr
    );
    let secrets: Vec<String> = outcome.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|finding| finding["rule"] == "literal-secret")
        .map(|finding| finding["message"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        secrets,
        ["service `app` sets API_TOKEN to a literal value"],
        "{}",
        outcome.stdout
    );
}

/// A Dockerfile that is a FIFO, a directory or not UTF-8 neither blocks nor misleads doctor:
/// the first two cannot be read as one, and the last is read with its bad bytes replaced.
#[test]
fn a_dockerfile_that_is_no_regular_file_is_named_as_such_and_never_blocks() {
    let fixture = doctor_project(
        "doctor-odd-dockerfile",
        "name: doctor\nservices:\n  fifo:\n    build: {context: ., dockerfile: fifo}\n  folder:\n    build: {context: ., dockerfile: folder}\n  latin:\n    build: {context: ., dockerfile: latin.Dockerfile}\n",
    );
    let fifo = fixture.root().join("fifo");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::create_dir(fixture.root().join("folder")).unwrap();
    std::fs::write(
        fixture.root().join("latin.Dockerfile"),
        b"# caf\xe9\nFROM debian:latest\nUSER app\n",
    )
    .unwrap();
    let findings = findings_of(&fixture, false);
    let about = |rule: &str| -> Vec<&String> {
        findings
            .iter()
            .filter(|(id, _)| id == rule)
            .map(|(_, message)| message)
            .collect()
    };
    assert_eq!(
        about("dockerfile-missing"),
        [
            "service `fifo` builds with fifo, which is not a regular file",
            "service `folder` builds with folder, which is not a regular file",
        ],
        "{findings:#?}"
    );
    assert_eq!(
        about("base-image-unpinned"),
        ["FROM debian:latest has the floating tag `latest`"],
        "{findings:#?}"
    );
}
