//! devctl: a safe dev-control CLI around `docker compose`.
//!
//! `run` parses the command line, dispatches to one command module per verb, and prints any
//! error once: `error:`, the chain of causes, and a `hint:`.

pub mod backup;
pub mod cli;
pub mod commands;
pub mod compose;
pub mod doctor;
pub mod engine;
pub mod fidelity;
pub mod guard;
pub mod init;
pub mod project;
pub mod report;
pub mod system;

use std::process::ExitCode;

use console::style;

use crate::report::exit_status::ExitStatus;

/// Runs devctl with the process's arguments and returns its exit code.
pub fn run() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        report::printer::human(&format!(
            "{} devctl hit a bug: {info}\n{} please report it, with the command you ran",
            style("error:").red().bold(),
            style("hint:").cyan().bold()
        ));
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
    let printer = report::printer::Printer::new(
        cli.global.quiet,
        cli.global.verbose,
        colors(cli.global.color),
    );
    match commands::dispatch(&cli, &printer) {
        Ok(status) => ExitCode::from(status.code()),
        Err(error) => ExitCode::from(report(&error)),
    }
}

/// The printer's colour setting for `--color`.
fn colors(choice: cli::ColorChoice) -> report::printer::Colors {
    match choice {
        cli::ColorChoice::Auto => report::printer::Colors::Auto,
        cli::ColorChoice::Always => report::printer::Colors::Always,
        cli::ColorChoice::Never => report::printer::Colors::Never,
    }
}

/// Prints an error once and returns the exit code it calls for.
fn report(error: &anyhow::Error) -> u8 {
    let failure = report::failure::find(error);
    let human = report::printer::human;
    human(&format!("{} {error}", style("error:").red().bold()));
    let causes: Vec<String> = error
        .chain()
        .skip(1)
        .map(|cause| cause.to_string())
        .collect();
    if !causes.is_empty() {
        human(&format!("\n{}", style("Caused by:").bold()));
        for cause in causes {
            for (index, line) in cause.lines().enumerate() {
                let lead = if index == 0 { "  " } else { "    " };
                human(&format!("{lead}{line}"));
            }
        }
    }
    if let Some(hint) = failure.and_then(|failure| failure.hint.as_deref()) {
        human(&format!("\n{} {hint}", style("hint:").cyan().bold()));
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
