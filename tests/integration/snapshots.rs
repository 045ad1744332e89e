//! Exact output, kept as snapshots in snapshots/ (exit code, stdout and stderr together):
//! the help of devctl and of every verb, `plan` of the demo as text and JSON, and `doctor` on
//! two projects in its three formats. Only what differs between machines or runs is masked.

use crate::harness::{Fixture, Test, require_engine, snapshot};

fn devctl() -> Test {
    Test::new(&std::env::temp_dir())
}

/// The verbs a help text lists under `Commands:`, but `help`.
fn verbs(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|line| *line != "Commands:")
        .skip(1)
        .take_while(|line| !line.is_empty())
        .filter_map(|line| line.strip_prefix("  "))
        .filter(|line| !line.starts_with(' '))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|verb| *verb != "help")
        .map(String::from)
        .collect()
}

/// `devctl --help`, then the `--help` of every verb and of every verb's own verbs, found from
/// the help itself, so a new verb gets a snapshot; `-h` too. `compose --help` is compose's
/// own help (devctl passes it on), so devctl's help of `compose` is `help compose`.
#[test]
fn help_of_every_verb() {
    let top = devctl().args(["--help"]).status(0).run();
    snapshot!("help", top);
    snapshot!("help_short", devctl().args(["-h"]).status(0).run());
    snapshot!(
        "help_help_compose",
        devctl().args(["help", "compose"]).status(0).run()
    );
    let mut pending: Vec<Vec<String>> = verbs(&top.stdout)
        .into_iter()
        .filter(|verb| verb != "compose")
        .map(|verb| vec![verb])
        .collect();
    assert!(pending.len() >= 13, "too few verbs in:\n{}", top.stdout);
    let mut shown = 0;
    while let Some(path) = pending.pop() {
        let arguments = path.iter().map(String::as_str).chain(["--help"]);
        let outcome = devctl().args(arguments).status(0).run();
        snapshot!(format!("help_{}", path.join("_")), outcome);
        shown += 1;
        for verb in verbs(&outcome.stdout) {
            let mut deeper = path.clone();
            deeper.push(verb);
            pending.push(deeper);
        }
    }
    // The verbs but compose, and the verbs of backup (3), profiles (1) and plan (4).
    assert!(shown >= 21, "only {shown} help texts");
}

#[test]
fn plan_of_the_demo() {
    require_engine();
    let demo = Fixture::demo("snapshot-plan");
    snapshot!("plan_up", demo.devctl().args(["plan", "up"]).run());
    snapshot!(
        "plan_up_json",
        demo.devctl().args(["plan", "--format", "json", "up"]).run()
    );
    snapshot!("plan_down", demo.devctl().args(["plan", "down"]).run());
    snapshot!(
        "plan_full_up",
        demo.devctl()
            .args(["--profile", "full", "plan", "up", "--wait-timeout", "5s"])
            .run()
    );
    snapshot!("plan_without_verb", demo.devctl().args(["plan"]).run());
}

/// doctor's environment checks in the human format: what the machine has (versions, the
/// engine's address, free space, whether buildx is installed) is masked, the rest is kept.
const HUMAN_ENVIRONMENT: [(&str, &str); 6] = [
    (r"(?m)^(  . docker CLI +).*$", "$1[DOCKER_VERSION]"),
    (r"(?m)^(  . docker context +).*$", "$1[ENDPOINT]"),
    (
        r"(?m)^(  . engine +).* at .*$",
        "$1[ENGINE_VERSION] at [ENDPOINT]",
    ),
    (r"(?m)^  . buildx .*\n(    fix: .*\n)?", "  [BUILDX]\n"),
    (r"(?m)^(  . compose +)\S+ ", "$1[COMPOSE_VERSION] "),
    (
        r"(?m)^  . (backup disk +)\S+ \S+ free in (.*)\n(    fix: .*\n)?",
        "  [STATUS] $1[FREE] free in $2\n",
    ),
];

/// The same checks in the JSON format, where each is an object of detail, fix, name and
/// status.
const JSON_ENVIRONMENT: [(&str, &str); 6] = [
    (
        r#""detail": "[^"]*"(,\s*"fix": null,\s*"name": "docker CLI")"#,
        r#""detail": "[DOCKER_VERSION]"$1"#,
    ),
    (
        r#""detail": "[^"]*"(,\s*"fix": null,\s*"name": "docker context")"#,
        r#""detail": "[ENDPOINT]"$1"#,
    ),
    (
        r#""detail": "[^"]* at [^"]*"(,\s*"fix": null,\s*"name": "engine")"#,
        r#""detail": "[ENGINE_VERSION] at [ENDPOINT]"$1"#,
    ),
    (
        r#""detail": "[^"]*"(,\s*"fix": )(?:null|"[^"]*")(,\s*"name": "buildx",\s*"status": )"\w+""#,
        r#""detail": "[BUILDX]"$1"[BUILDX]"$2"[BUILDX]""#,
    ),
    (
        r#""detail": "\S+ (\([^"]*\)"(,\s*"fix": null,\s*"name": "compose"))"#,
        r#""detail": "[COMPOSE_VERSION] $1"#,
    ),
    (
        r#""detail": "\S+ \S+ (free in [^"]*")(,\s*"fix": )(?:null|"[^"]*")(,\s*"name": "backup disk",\s*"status": )"\w+""#,
        r#""detail": "[FREE] $1$2"[FIX]"$3"[STATUS]""#,
    ),
];

/// `devctl doctor` as human text, JSON and SARIF on `fixture`, as snapshots `doctor_<name>_*`.
fn doctor_snapshots(name: &str, fixture: &Fixture) {
    let human = fixture.devctl().args(["doctor"]).run();
    let json = fixture.devctl().args(["doctor", "--format", "json"]).run();
    let sarif = fixture.devctl().args(["doctor", "--format", "sarif"]).run();
    snapshot!(format!("doctor_{name}_human"), human, HUMAN_ENVIRONMENT);
    snapshot!(format!("doctor_{name}_json"), json, JSON_ENVIRONMENT);
    snapshot!(format!("doctor_{name}_sarif"), sarif);
}

#[test]
fn doctor_on_the_demo() {
    require_engine();
    doctor_snapshots("demo", &Fixture::demo("snapshot-doctor"));
}

/// A project of the awesome-compose corpus whose findings span most compose rules and a
/// missing Dockerfile (an error: exit 1).
#[test]
fn doctor_on_nginx_golang_postgres() {
    require_engine();
    let fixture = Fixture::copy(
        "snapshot-doctor-corpus",
        "tests/fixtures/awesome-compose/nginx-golang-postgres",
    );
    doctor_snapshots("nginx_golang_postgres", &fixture);
}
