//! `devctl shell SERVICE`: a shell in the service's running container — bash when the image
//! has it, else sh — with the profile applied.

use anyhow::Result;

use crate::cli::{ExecArgs, GlobalArgs, ShellArgs};
use crate::report::exit_status::ExitStatus;
use crate::report::printer::Printer;

/// Runs bash where the image has it, else sh; either replaces the wrapper.
const SHELL: &str = "if command -v bash >/dev/null 2>&1; then exec bash; else exec sh; fi";

pub fn run(args: &ShellArgs, global: &GlobalArgs, printer: &Printer) -> Result<ExitStatus> {
    let exec = ExecArgs {
        no_tty: false,
        service: args.service.clone(),
        command: vec!["sh".into(), "-c".into(), SHELL.into()],
    };
    let project = super::options::open(global, printer)?;
    super::exec::plan(&project, &exec, printer)?.execute(global.dry_run, printer)
}
