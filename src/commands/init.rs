//! `devctl init`: sets up the compose project in the working directory (or `--project-dir`);
//! `-n` prints what it would write. The work is `crate::init::run`.

use anyhow::Result;

use crate::cli::{GlobalArgs, InitArgs};
use crate::report::exit_status::ExitStatus;
use crate::report::printer::Printer;

pub fn run(_args: &InitArgs, global: &GlobalArgs, printer: &Printer) -> Result<ExitStatus> {
    let options = crate::init::Options {
        directory: global.project_dir.clone(),
        dry_run: global.dry_run,
    };
    crate::init::run(&options, printer)
}
