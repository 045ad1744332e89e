//! The layering of devctl's source tree, checked by reading `src/`: only `src/commands/` and
//! the entry points reach `cli::` and `commands::`, no two files import each other in a
//! circle, and the guard's classifier reaches nothing that spawns a process. Each rule is
//! shown to fail on a small tree under `tests/fixtures/layering/` that breaks it.

mod check;
mod source;

use std::path::Path;

use check::Report;

fn check_tree(directory: &Path) -> Report {
    check::check(directory)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", directory.display()))
}

fn fixture(case: &str) -> Report {
    check_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/layering")
            .join(case),
    )
}

#[test]
fn source_tree_keeps_its_layers() {
    let report = check_tree(Path::new(env!("CARGO_MANIFEST_DIR")));
    for violation in &report.violations {
        eprintln!("{violation}");
    }
    eprintln!("{}", report.summary());
    assert!(report.violations.is_empty(), "{}", report.summary());
}

/// The lines a fixture's check prints, each `file: message`.
fn violations(case: &str) -> Vec<String> {
    fixture(case).lines()
}

#[test]
fn clean_tree_passes() {
    let report = fixture("clean");
    assert_eq!(report.lines(), Vec::<String>::new());
    assert!(report.cycles.is_empty());
    assert_eq!(report.files, 16);
    assert_eq!(report.summary(), "layering: 16 files, no violations");
}

#[test]
fn library_module_importing_commands_fails() {
    assert_eq!(
        violations("commands_import"),
        [
            "src/guard/step.rs:3: uses `crate::commands::Workspace`: only src/commands/ and the \
             entry points (src/lib.rs, src/main.rs) may reach commands::"
        ]
    );
}

#[test]
fn library_modules_importing_cli_fail() {
    assert_eq!(
        violations("cli_import"),
        [
            "src/project/profile_file.rs:4: uses `super::super::cli::parse_duration`: only \
             src/commands/ and the entry points (src/lib.rs, src/main.rs) may reach cli::",
            "src/report/printer.rs:3: uses `crate::cli::ColorChoice`: only src/commands/ and the \
             entry points (src/lib.rs, src/main.rs) may reach cli::",
        ]
    );
}

#[test]
fn two_files_importing_each_other_fail() {
    let report = fixture("two_file_cycle");
    assert_eq!(
        report.cycles,
        [["src/guard/checkout_owner.rs", "src/project/mod.rs"]]
    );
    assert_eq!(
        report.lines(),
        [
            "src/guard/checkout_owner.rs: import cycle of 2 files: src/guard/checkout_owner.rs, \
             src/project/mod.rs; e.g. src/guard/checkout_owner.rs:3 -> src/project/mod.rs:9 -> \
             src/guard/checkout_owner.rs"
        ]
    );
    assert_eq!(
        report.summary(),
        "layering: 4 files, 1 import cycle(s), 1 violation(s)"
    );
}

#[test]
fn three_file_cycle_fails() {
    let report = fixture("three_file_cycle");
    assert_eq!(
        report.cycles,
        [[
            "src/backup/target.rs",
            "src/compose/model.rs",
            "src/engine/service_status.rs"
        ]]
    );
    assert_eq!(
        report.lines(),
        [
            "src/backup/target.rs: import cycle of 3 files: src/backup/target.rs, \
             src/compose/model.rs, src/engine/service_status.rs; e.g. src/backup/target.rs:4 -> \
             src/compose/model.rs:3 -> src/engine/service_status.rs:3 -> src/backup/target.rs"
        ]
    );
}

#[test]
fn dispatcher_and_verb_calling_each_other_fail() {
    // `up::run` in commands/mod.rs is `self::up::run`: the parent imports its child.
    assert_eq!(
        violations("dispatch_cycle"),
        [
            "src/commands/mod.rs: import cycle of 2 files: src/commands/mod.rs, \
             src/commands/up.rs; e.g. src/commands/mod.rs:7 -> src/commands/up.rs:4 -> \
             src/commands/mod.rs"
        ]
    );
}

#[test]
fn classifier_importing_a_process_module_fails() {
    assert_eq!(
        violations("classifier_spawns"),
        [
            "src/guard/classifier.rs: reaches src/system/shell.rs, which can spawn a process \
             (`std::process` line 3, `Command::new` line 10), through src/guard/classifier.rs -> \
             src/system/shell.rs",
            "src/guard/classifier.rs:3: imports `crate::system::shell` (src/system/shell.rs): the \
             classifier may import only pure modules (report::failure, report::exit_status)",
        ]
    );
}

#[test]
fn classifier_reaching_a_process_through_a_pure_module_fails() {
    assert_eq!(
        violations("classifier_reaches_process"),
        [
            "src/guard/classifier.rs: reaches src/system/shell.rs, which can spawn a process \
             (`duct::` line 4), through src/guard/classifier.rs -> src/report/failure.rs -> \
             src/system/shell.rs"
        ]
    );
}
