//! `devctl ls`: every compose project on the engine, from its containers' labels — the
//! checkout it was started from, its services up, whether it is a fidelity stack, whether
//! the checkout has devctl profiles, and its newest backup. Like `compose ls`, for the
//! questions a person with several checkouts asks.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::json;

use crate::backup::store::BackupStore;
use crate::cli::{Format, GlobalArgs, LsArgs};
use crate::compose::verb_plan::SCHEMA_VERSION;
use crate::engine::api::Engine;
use crate::engine::endpoint::Endpoint;
use crate::engine::project_list::group;
use crate::report::command_line::Stack;
use crate::report::exit_status::ExitStatus;
use crate::report::printer::Printer;

/// Where devctl keeps backups when no profile says otherwise: `DEVCTL_BACKUP_DIR`, else the
/// user's data directory.
fn backup_root() -> Result<Option<PathBuf>> {
    if let Some(value) = std::env::var_os("DEVCTL_BACKUP_DIR").filter(|value| !value.is_empty()) {
        let current = std::env::current_dir().context("cannot read the working directory")?;
        return Ok(Some(current.join(value)));
    }
    Ok(dirs::data_dir().map(|dir| dir.join("devctl").join("backups")))
}

pub fn run(args: &LsArgs, global: &GlobalArgs, printer: &Printer) -> Result<ExitStatus> {
    let engine = Engine::connect(&Endpoint::resolve(global.context_name().as_deref())?)?;
    let mut projects = group(&engine.compose_containers()?);
    let root = backup_root()?;
    for listed in &mut projects {
        listed.devctl_profiles = listed
            .checkout
            .as_deref()
            .is_some_and(|checkout| Path::new(checkout).join("profiles").is_dir());
        listed.newest_backup = root.as_ref().and_then(|root| {
            BackupStore::new(root.join(&listed.project), Stack::live())
                .latest()
                .ok()
                .map(|backup| backup.manifest.id)
        });
    }
    match args.format.resolved() {
        Format::Json => {
            let document = json!({
                "schema_version": SCHEMA_VERSION,
                "engine": engine.host(),
                "projects": projects,
            });
            printer.data(format!("{document:#}\n"));
        }
        Format::Table => {
            if projects.is_empty() {
                printer.info(format!("no compose project on {}", engine.host()));
                return Ok(ExitStatus::Success);
            }
            let rows: Vec<Vec<String>> = projects
                .iter()
                .map(|listed| {
                    vec![
                        listed.project.clone(),
                        format!("{}/{}", listed.services_up, listed.services),
                        match listed.fidelity {
                            true => "fidelity".into(),
                            false => "live".into(),
                        },
                        match listed.devctl_profiles {
                            true => "yes".into(),
                            false => "no".into(),
                        },
                        listed.newest_backup.clone().unwrap_or_else(|| "-".into()),
                        listed.checkout.clone().unwrap_or_else(|| "-".into()),
                    ]
                })
                .collect();
            printer.data(crate::report::table::render(
                &[
                    "PROJECT",
                    "UP",
                    "STACK",
                    "PROFILES",
                    "NEWEST BACKUP",
                    "CHECKOUT",
                ],
                &rows,
            ));
        }
    }
    Ok(ExitStatus::Success)
}
