//! `devctl status`: each service's state, health, restarts, published ports, mounts and image.

use anyhow::Result;
use serde_json::json;

use crate::cli::{Format, GlobalArgs, StatusArgs};
use crate::compose::verb_plan::SCHEMA_VERSION;
use crate::engine::api::Engine;
use crate::engine::service_status::ServiceStatus;
use crate::project::ServiceScope;
use crate::report::exit_status::ExitStatus;
use crate::report::printer::Printer;

pub fn run(args: &StatusArgs, global: &GlobalArgs, printer: &Printer) -> Result<ExitStatus> {
    let project = super::options::open(global, printer)?;
    let model = project.model(ServiceScope::Profile, false, printer)?;
    let engine = Engine::connect(&project.endpoint)?;
    let containers = engine.project_containers(model.name())?;
    let rows = ServiceStatus::with_urls(ServiceStatus::collect(&model, &containers), engine.host());
    match args.format.resolved() {
        Format::Json => {
            let document = json!({
                "schema_version": SCHEMA_VERSION,
                "project": model.name(),
                "profile": project.profile.name,
                "engine": engine.host(),
                "services": rows,
            });
            printer.data(format!("{document:#}\n"));
        }
        Format::Table => {
            let table_rows: Vec<Vec<String>> = rows.iter().map(table_row).collect();
            printer.data(crate::report::table::render(
                &[
                    "SERVICE", "STATE", "HEALTH", "RESTARTS", "URLS", "PORTS", "MOUNTS", "IMAGE",
                ],
                &table_rows,
            ));
        }
    }
    // The fidelity stack is checked again as it runs now, against the profile as it is now.
    if let (Some(stack), false) = (&project.fidelity, containers.is_empty()) {
        let verified = crate::fidelity::check::verify(&engine, &project, stack)?;
        printer.info(verified.summary());
    }
    Ok(ExitStatus::Success)
}

fn table_row(row: &ServiceStatus) -> Vec<String> {
    let mut service = row.service.clone();
    if !row.in_profile {
        service.push_str(" (not in profile)");
    }
    let state = match row.exit_code {
        Some(code) => format!("{} ({code})", row.state),
        None => row.state.clone(),
    };
    let mounts = row
        .mounts
        .iter()
        .map(|mount| format!("{}:{}→{}", mount.kind, mount.source, mount.target))
        .collect::<Vec<_>>()
        .join(", ");
    vec![
        service,
        state,
        row.health.clone().unwrap_or_else(|| "-".into()),
        row.restarts
            .map_or_else(|| "-".into(), |restarts| restarts.to_string()),
        if row.urls.is_empty() {
            "-".into()
        } else {
            row.urls.join(", ")
        },
        if row.ports.is_empty() {
            "-".into()
        } else {
            row.ports.join(", ")
        },
        if mounts.is_empty() {
            "-".into()
        } else {
            mounts
        },
        row.image.clone().unwrap_or_else(|| "-".into()),
    ]
}
