//! The command line itself: help, version, completions, usage errors.

use crate::harness::{Test, snapshot};

fn devctl() -> Test {
    Test::new(&std::env::temp_dir())
}

#[test]
fn version_and_help() {
    devctl()
        .args(["--version"])
        .status(0)
        .stdout(concat!("devctl ", env!("CARGO_PKG_VERSION")))
        .run();
    let help = devctl().args(["--help"]).status(0).run();
    for verb in [
        "up",
        "down",
        "status",
        "logs",
        "exec",
        "profiles",
        "plan",
        "completions",
    ] {
        assert!(
            help.stdout.contains(&format!("  {verb} ")),
            "{verb} missing from help:\n{}",
            help.stdout
        );
    }
    assert!(
        help.stdout.contains("--dry-run") && help.stdout.contains("not a compose profile"),
        "{}",
        help.stdout
    );
    devctl()
        .args(["up", "--help"])
        .status(0)
        .stdout("--wait-timeout")
        .run();
}

#[test]
fn there_is_no_short_v_flag() {
    snapshot!("short_v", devctl().args(["-v", "up"]).status(64).run());
    snapshot!(
        "verbose_and_quiet",
        devctl()
            .args(["--verbose", "--quiet", "profiles"])
            .status(64)
            .run()
    );
}

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let outcome = devctl().args(["completions", shell]).status(0).run();
        assert!(outcome.stdout.contains("devctl"), "{shell}");
    }
    snapshot!(
        "completions_unknown_shell",
        devctl().args(["completions", "tcsh"]).status(64).run()
    );
}

#[test]
fn unknown_verbs_are_usage_errors() {
    snapshot!("unknown_verb", devctl().args(["launch"]).status(64).run());
}
