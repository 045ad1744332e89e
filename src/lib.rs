//! devctl: a safe dev-control CLI around `docker compose`.
//!
//! `run` parses the command line, dispatches to one command module per verb, and prints any
//! error once: `error:`, the chain of causes, and a `hint:`.

pub mod audit_log;
pub mod backup_manifest;
pub mod backup_run;
pub mod backup_store;
pub mod checkout_owner;
pub mod cli;
pub mod commands;
pub mod compose;
pub mod compose_inputs;
pub mod compose_model;
pub mod compose_variables;
pub mod confirmation;
pub mod deletion_plan;
pub mod dockerfile;
pub mod engine;
pub mod exit_status;
pub mod failure;
pub mod fidelity_check;
pub mod fidelity_transform;
pub mod files;
pub mod finding;
pub mod guard;
pub mod guarded_step;
pub mod health_wait;
pub mod image_contract;
pub mod journal;
pub mod lint_rule;
pub mod model_cache;
pub mod printer;
pub mod profile;
pub mod profile_file;
pub mod profile_set;
pub mod project;
pub mod project_lint;
pub mod project_lock;
pub mod project_root;
pub mod restore_run;
pub mod sarif;
pub mod service_status;
pub mod signals;
pub mod state_layout;
pub mod table;
pub mod verb_plan;
pub mod volume_archive;
pub mod volume_target;
pub mod yaml_positions;

use std::process::ExitCode;

use console::style;

use crate::exit_status::ExitStatus;

/// Runs devctl with the process's arguments and returns its exit code.
pub fn run() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        eprintln!(
            "{} devctl hit a bug: {info}\n{} please report it, with the command you ran",
            style("error:").red().bold(),
            style("hint:").cyan().bold()
        );
        std::process::exit(ExitStatus::Internal.code().into());
    }));
    let arguments = cli::separate_passthrough(std::env::args_os().collect());
    let cli = match <cli::Cli as clap::Parser>::try_parse_from(arguments) {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() {
                ExitStatus::BadInput.code()
            } else {
                0
            });
        }
    };
    let printer = printer::Printer::new(cli.global.quiet, cli.global.verbose, cli.global.color);
    match commands::dispatch(&cli, &printer) {
        Ok(code) => ExitCode::from(code),
        Err(error) => ExitCode::from(report(&error)),
    }
}

/// Prints an error once and returns the exit code it calls for.
fn report(error: &anyhow::Error) -> u8 {
    let failure = failure::find(error);
    eprintln!("{} {error}", style("error:").red().bold());
    let causes: Vec<String> = error
        .chain()
        .skip(1)
        .map(|cause| cause.to_string())
        .collect();
    if !causes.is_empty() {
        eprintln!("\n{}", style("Caused by:").bold());
        for cause in causes {
            for (index, line) in cause.lines().enumerate() {
                let lead = if index == 0 { "  " } else { "    " };
                eprintln!("{lead}{line}");
            }
        }
    }
    if let Some(hint) = failure.and_then(|failure| failure.hint.as_deref()) {
        eprintln!("\n{} {hint}", style("hint:").cyan().bold());
    }
    let status = match failure {
        Some(failure) => failure.status,
        None if error
            .chain()
            .any(|cause| cause.downcast_ref::<std::io::Error>().is_some()) =>
        {
            ExitStatus::Io
        }
        None => ExitStatus::StepFailed,
    };
    status.code()
}
