//! `devctl plan VERB`: what the verb would run, as text or as JSON with the resolved model.

use anyhow::Result;

use crate::cli::{Format, GlobalArgs, PlanArgs, PlanVerb};
use crate::printer::Printer;

pub fn run(args: &PlanArgs, global: &GlobalArgs, printer: &Printer) -> Result<u8> {
    let project = super::open(global, printer)?;
    let plan = match &args.verb {
        PlanVerb::Up(verb) => super::up::plan(&project, verb, printer)?,
        PlanVerb::Down(verb) => super::down::plan(&project, verb, printer)?,
        PlanVerb::Logs(verb) => super::logs::plan(&project, verb, printer)?,
        PlanVerb::Exec(verb) => super::exec::plan(&project, verb, printer)?,
    };
    match args.format.resolved() {
        Format::Table => printer.data(plan.text()),
        Format::Json => printer.data(format!("{:#}\n", plan.json(&project))),
    }
    Ok(0)
}
