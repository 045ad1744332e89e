//! `devctl doctor`: the environment (docker, engine, compose, buildx, disk, context), the
//! project's rules over its compose files, Dockerfiles and env files, and with `--images` the
//! runtime contract of its built images — as grouped human output, JSON or SARIF. Exit 1 when
//! anything is an error (with `--strict`, a warning too). The work is `crate::doctor::run`.

use anyhow::Result;

use crate::cli::{DoctorArgs, DoctorFormat, GlobalArgs};
use crate::doctor::{Format, Options};
use crate::report::exit_status::ExitStatus;
use crate::report::printer::Printer;

pub fn run(args: &DoctorArgs, global: &GlobalArgs, printer: &Printer) -> Result<ExitStatus> {
    let options = Options {
        format: match args.format {
            DoctorFormat::Human => Format::Human,
            DoctorFormat::Json => Format::Json,
            DoctorFormat::Sarif => Format::Sarif,
        },
        strict: args.strict,
        images: args.images,
        context: global.context_name(),
    };
    crate::doctor::run(&options, || super::options::open(global, printer), printer)
}
