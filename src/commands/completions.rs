//! `devctl completions SHELL`: a completion script on stdout.

use anyhow::Result;
use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::report::exit_status::ExitStatus;

pub fn run(args: &CompletionsArgs) -> Result<ExitStatus> {
    clap_complete::generate(
        args.shell,
        &mut Cli::command(),
        "devctl",
        &mut std::io::stdout(),
    );
    Ok(ExitStatus::Success)
}
