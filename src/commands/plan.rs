//! `devctl plan VERB`: what the verb would run, as text or as JSON with the resolved model.

use anyhow::Result;

use serde_json::json;

use crate::cli::{Format, GlobalArgs, PlanArgs, PlanVerb};
use crate::compose::secrets::Secrets;
use crate::compose::verb_plan::SCHEMA_VERSION;
use crate::fidelity::stack::FidelityStack;
use crate::fidelity::transform::Transformed;
use crate::report::exit_status::ExitStatus;
use crate::report::failure::Failure;
use crate::report::printer::Printer;

pub fn run(args: &PlanArgs, global: &GlobalArgs, printer: &Printer) -> Result<ExitStatus> {
    let project = super::options::open(global, printer)?;
    let secrets = match args.show_secrets {
        true => Secrets::Shown,
        false => Secrets::Masked,
    };
    let plan = match &args.verb {
        Some(PlanVerb::Up(verb)) => Some(crate::compose::up_plan::plan(
            &project,
            &super::up::options(verb),
            printer,
        )?),
        Some(PlanVerb::Down(verb)) => Some(super::down::plan(&project, verb, printer)?),
        Some(PlanVerb::Logs(verb)) => Some(super::logs::plan(&project, verb, printer)?),
        Some(PlanVerb::Exec(verb)) => Some(super::exec::plan(&project, verb, printer)?),
        None if project.fidelity.is_some() => None,
        None => {
            return Err(Failure::bad_input("`devctl plan` needs a verb to show")
                .hint("e.g. `devctl plan up`, or `devctl plan --fidelity` for what the fidelity transform changes")
                .into());
        }
    };
    match args.format.resolved() {
        Format::Table => {
            if let Some(plan) = &plan {
                printer.data(plan.text());
            }
            if let Some(stack) = &project.fidelity {
                printer.data(fidelity_text(
                    stack,
                    &stack.changes(&project.profile.fidelity.environment, secrets),
                ));
            }
        }
        Format::Json => {
            let mut document = match &plan {
                Some(plan) => plan.json(&project, secrets),
                None => {
                    json!({"schema_version": SCHEMA_VERSION, "project": project.fidelity.as_ref().map(|stack| stack.transformed.project.clone())})
                }
            };
            if let Some(stack) = &project.fidelity {
                document["fidelity"] = json!({
                    "live_project": stack.live,
                    "compose_file": stack.file,
                    "changes": stack.changes(&project.profile.fidelity.environment, secrets),
                });
            }
            printer.data(format!("{document:#}\n"));
        }
    }
    Ok(ExitStatus::Success)
}

/// What the fidelity transform changed against the iteration model, service by service.
fn fidelity_text(stack: &FidelityStack, changes: &Transformed) -> String {
    let mut text = format!(
        "# fidelity stack {} (live stack {}), compose file {}\n",
        changes.project,
        stack.live,
        stack.file.display()
    );
    let services: Vec<&String> = stack
        .transformed
        .model
        .get("services")
        .and_then(serde_json::Value::as_object)
        .map(|services| services.keys().collect())
        .unwrap_or_default();
    for service in services {
        text.push_str(&format!("{service}:\n"));
        match changes.services.get(service) {
            Some(lines) => {
                for line in lines {
                    text.push_str(&format!("  {line}\n"));
                }
            }
            None => text.push_str("  unchanged\n"),
        }
    }
    if !changes.stack.is_empty() {
        text.push_str("volumes and networks:\n");
        for line in &changes.stack {
            text.push_str(&format!("  {line}\n"));
        }
    }
    text
}
