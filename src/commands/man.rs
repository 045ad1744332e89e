//! `devctl man [VERB]`: devctl's manual pages, made from its command line's own help; with
//! `--directory DIR`, every page written there (what `make install` installs).

use std::path::Path;

use anyhow::{Context, Result};
use clap::CommandFactory;

use crate::cli::{Cli, ManArgs};
use crate::report::exit_status::ExitStatus;
use crate::report::failure::Failure;
use crate::report::printer::Printer;

pub fn run(args: &ManArgs, printer: &Printer) -> Result<ExitStatus> {
    let command = Cli::command().name("devctl");
    if let Some(directory) = &args.directory {
        let written = write_all(&command, directory)?;
        printer.info(format!(
            "wrote {written} manual page(s) into {}",
            directory.display()
        ));
        return Ok(ExitStatus::Success);
    }
    let page = match &args.verb {
        None => command,
        Some(verb) => {
            let verbs: Vec<String> = command
                .get_subcommands()
                .map(|sub| sub.get_name().to_string())
                .collect();
            command
                .find_subcommand(verb)
                .cloned()
                .map(|sub| page_of(sub, verb))
                .ok_or_else(|| {
                    Failure::bad_input(format!("`{verb}` is not a devctl verb"))
                        .hint(format!("verbs: {}", verbs.join(", ")))
                })?
        }
    };
    let mut text = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut text)
        .context("cannot render the manual page")?;
    printer.data(String::from_utf8_lossy(&text));
    Ok(ExitStatus::Success)
}

/// Writes `devctl.1` and `devctl-VERB.1` for each verb into `directory`; returns how many.
fn write_all(command: &clap::Command, directory: &Path) -> Result<usize> {
    std::fs::create_dir_all(directory)
        .with_context(|| format!("cannot create {}", directory.display()))?;
    let mut pages = vec![command.clone()];
    for sub in command
        .get_subcommands()
        .filter(|sub| sub.get_name() != "help")
    {
        pages.push(page_of(sub.clone(), sub.get_name()));
    }
    for page in &pages {
        let path = directory.join(format!("{}.1", page.get_name()));
        let mut text = Vec::new();
        clap_mangen::Man::new(page.clone())
            .render(&mut text)
            .context("cannot render the manual page")?;
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(pages.len())
}

/// The page of `verb`: named `devctl-VERB`, with devctl's version.
fn page_of(command: clap::Command, verb: &str) -> clap::Command {
    command
        .name(format!("devctl-{verb}"))
        .version(env!("CARGO_PKG_VERSION"))
}
