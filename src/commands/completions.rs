//! `devctl completions SHELL`: a completion script on stdout.

use anyhow::Result;
use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};

pub fn run(args: &CompletionsArgs) -> Result<u8> {
    clap_complete::generate(
        args.shell,
        &mut Cli::command(),
        "devctl",
        &mut std::io::stdout(),
    );
    Ok(0)
}
