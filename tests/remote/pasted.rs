//! The devctl command lines devctl prints for the user to run next (a refusal's hint, the
//! restore line after a backup), pasted as printed after a run with `--context`: they name
//! the same context, so they act on the engine they came from and never on the local one.

use crate::engine::TLS;
use crate::fixture::{Remote, resources, source_mounted_project};
use crate::harness::Outcome;

/// The text between the backquotes that follow `before` in `text`.
fn quoted_after(text: &str, before: &str) -> String {
    let start = text
        .find(before)
        .unwrap_or_else(|| panic!("no {before:?} in:\n{text}"))
        + before.len();
    let rest = &text[start..];
    let rest = &rest[rest
        .find('`')
        .unwrap_or_else(|| panic!("no command in:\n{text}"))
        + 1..];
    rest[..rest.find('`').unwrap()].to_string()
}

/// The rest of the line of `text` that starts with `prefix`.
fn line_after(text: &str, prefix: &str) -> String {
    text.lines()
        .find_map(|line| line.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no line starting {prefix:?} in:\n{text}"))
        .to_string()
}

/// Runs `line` (`devctl ARGUMENTS…`) in the project's folder, as pasted into its shell.
fn paste(remote: &Remote, line: &str) -> Outcome {
    let mut words = line.split_whitespace();
    assert_eq!(words.next(), Some("devctl"), "not a devctl command: {line}");
    remote.fixture.devctl().args(words).status(0).run()
}

pub fn printed_commands_act_on_the_engine_they_came_from() {
    let remote = Remote::new(source_mounted_project("pasted", "data"), TLS);
    let fidelity = format!("{}-fidelity", remote.name());

    let refused = remote.devctl().args(["up"]).status(77).run();
    let suggested = quoted_after(&refused.stderr, "hint: run ");
    assert_eq!(suggested, format!("devctl --context {TLS} up --fidelity"));
    paste(&remote, &suggested);
    assert_ne!(resources(Some(TLS), &fidelity), Vec::<String>::new());
    assert_eq!(resources(None, &fidelity), Vec::<String>::new());

    let backup = remote
        .devctl()
        .args(["backup", "--fidelity"])
        .status(0)
        .run();
    let restore = line_after(&backup.stderr, "restore it with: ");
    assert!(
        restore.starts_with(&format!("devctl --context {TLS} restore ")),
        "{restore}"
    );
    let restored = paste(&remote, &restore);
    assert!(
        !restored.stderr.contains("restoring into engine"),
        "the pasted restore went to another engine:\n{}",
        restored.stderr
    );
    let undo = line_after(&restored.stderr, "undo it with: ");
    assert!(
        undo.starts_with(&format!("devctl --context {TLS} restore ")),
        "{undo}"
    );
    assert_eq!(resources(None, &fidelity), Vec::<String>::new());

    // A bundle goes to another engine: its import line names no context of this run.
    let bundle = remote.fixture.root().join("shop.bundle");
    let exported = remote
        .devctl()
        .args(["backup", "export", "--latest", "--fidelity", "-o"])
        .args([&bundle])
        .status(0)
        .run();
    let import = line_after(&exported.stderr, "import it where it goes with: ");
    assert!(import.starts_with("devctl backup import "), "{import}");
}
