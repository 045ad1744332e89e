//! `Printer`: decides colour, quiet and verbose output for every command.
//!
//! Human output goes to stderr; data (tables, JSON) goes to stdout through `data`.

use std::io::{IsTerminal, Write};

use console::{Style, style};

/// When to colour the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Colors {
    /// On a terminal, unless `NO_COLOR` is set or `TERM` is `dumb`.
    Auto,
    Always,
    Never,
}

/// Where and how a command speaks to the person.
#[derive(Debug, Clone)]
pub struct Printer {
    quiet: bool,
    verbose: bool,
}

impl Printer {
    pub fn new(quiet: bool, verbose: bool, color: Colors) -> Self {
        let enabled = match color {
            Colors::Always => true,
            Colors::Never => false,
            Colors::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
                    && std::env::var("TERM").map_or(true, |term| term != "dumb")
            }
        };
        console::set_colors_enabled(
            enabled && std::io::stdout().is_terminal() || color == Colors::Always,
        );
        console::set_colors_enabled_stderr(
            enabled && std::io::stderr().is_terminal() || color == Colors::Always,
        );
        Printer { quiet, verbose }
    }

    /// A progress or result line for the person (stderr); silent under `--quiet`.
    pub fn info(&self, message: impl AsRef<str>) {
        if !self.quiet {
            human(message.as_ref());
        }
    }

    /// A warning (stderr); shown even under `--quiet`.
    pub fn warn(&self, message: impl AsRef<str>) {
        human(&format!(
            "{} {}",
            style("warning:").yellow().bold(),
            message.as_ref()
        ));
    }

    /// A line of a failure report (stderr); shown even under `--quiet`.
    pub fn report(&self, message: impl AsRef<str>) {
        human(message.as_ref());
    }

    /// Detail shown only with `--verbose`.
    pub fn detail(&self, message: impl AsRef<str>) {
        if self.verbose {
            human(&style(message.as_ref()).dim().to_string());
        }
    }

    /// Progress bars for byte streams, drawn on stderr when it is a terminal and not
    /// `--quiet`; hidden otherwise.
    pub fn progress(&self) -> indicatif::MultiProgress {
        if !self.quiet && std::io::stderr().is_terminal() {
            indicatif::MultiProgress::new()
        } else {
            indicatif::MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::hidden())
        }
    }

    pub fn is_verbose(&self) -> bool {
        self.verbose
    }

    /// Data for programs and pipes (stdout).
    pub fn data(&self, text: impl AsRef<str>) {
        let mut stdout = std::io::stdout().lock();
        // A closed pipe (`devctl status | head`) is not an error worth reporting.
        let _ = stdout.write_all(text.as_ref().as_bytes());
        let _ = stdout.flush();
    }

    /// The style for a headline word (`error:`, service names, …).
    pub fn bold() -> Style {
        Style::new().bold()
    }
}

/// Writes one line for the person to stderr. A closed stderr (`devctl … 2>&1 | head -1`) is
/// no reason to fail, let alone to panic: the line is dropped.
pub fn human(line: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{line}");
}
