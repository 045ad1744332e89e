//! `devctl ls`: every compose project on the engine, from its containers' labels — the
//! checkout it was started from, its services up, whether it is a fidelity stack, whether
//! the checkout has devctl profiles, and its newest backup. Like `compose ls`, for the
//! questions a person with several checkouts asks.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::json;

use crate::backup::store::BackupStore;
use crate::cli::{Format, GlobalArgs, LsArgs};
use crate::compose::verb_plan::SCHEMA_VERSION;
use crate::engine::api::Engine;
use crate::report::command_line::Stack;
use crate::report::exit_status::ExitStatus;
use crate::report::printer::Printer;

const PROJECT: &str = "com.docker.compose.project";
const SERVICE: &str = "com.docker.compose.service";
const WORKING_DIR: &str = "com.docker.compose.project.working_dir";
const CONFIG_FILES: &str = "com.docker.compose.project.config_files";
const ONE_OFF: &str = "com.docker.compose.oneoff";

/// One compose project on the engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListedProject {
    pub project: String,
    /// The working directory compose recorded (the checkout); none when unlabelled.
    pub checkout: Option<String>,
    pub services_up: usize,
    pub services: usize,
    /// Started by devctl from a generated fidelity compose file.
    pub fidelity: bool,
    /// The checkout (when it is on this machine) has a `profiles/` folder.
    pub devctl_profiles: bool,
    /// The id of its newest backup (manual or pre-delete) in devctl's backup root.
    pub newest_backup: Option<String>,
}

/// Groups `containers` by project (one-off `run` containers left out of the service count).
pub fn group(containers: &[bollard::models::ContainerSummary]) -> Vec<ListedProject> {
    let mut projects: BTreeMap<String, (ListedProject, BTreeMap<String, bool>)> = BTreeMap::new();
    for container in containers {
        let labels = container.labels.clone().unwrap_or_default();
        let Some(name) = labels.get(PROJECT) else {
            continue;
        };
        let (listed, services) = projects.entry(name.clone()).or_insert_with(|| {
            (
                ListedProject {
                    project: name.clone(),
                    checkout: None,
                    services_up: 0,
                    services: 0,
                    fidelity: false,
                    devctl_profiles: false,
                    newest_backup: None,
                },
                BTreeMap::new(),
            )
        });
        if listed.checkout.is_none() {
            listed.checkout = labels.get(WORKING_DIR).cloned();
        }
        if labels
            .get(CONFIG_FILES)
            .is_some_and(|files| files.ends_with("/fidelity/compose.json"))
        {
            listed.fidelity = true;
        }
        if labels.get(ONE_OFF).is_some_and(|value| value == "True") {
            continue;
        }
        let running = container
            .state
            .as_ref()
            .is_some_and(|state| state.to_string() == "running");
        if let Some(service) = labels.get(SERVICE) {
            let up = services.entry(service.clone()).or_insert(false);
            *up |= running;
        }
    }
    projects
        .into_values()
        .map(|(mut listed, services)| {
            listed.services = services.len();
            listed.services_up = services.values().filter(|up| **up).count();
            listed
        })
        .collect()
}

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
    let engine = Engine::connect(global.context_name().as_deref())?;
    let mut projects = group(&engine.compose_containers()?);
    let root = backup_root()?;
    for listed in &mut projects {
        listed.devctl_profiles = listed
            .checkout
            .as_deref()
            .is_some_and(|checkout| Path::new(checkout).join("profiles").is_dir());
        listed.newest_backup = root.as_ref().and_then(|root| {
            BackupStore::new(root.join(&listed.project), Stack::Live)
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

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{ContainerSummary, ContainerSummaryStateEnum};
    use std::collections::HashMap;

    fn container(labels: &[(&str, &str)], running: bool) -> ContainerSummary {
        ContainerSummary {
            labels: Some(
                labels
                    .iter()
                    .map(|(key, value)| (key.to_string(), value.to_string()))
                    .collect::<HashMap<_, _>>(),
            ),
            state: Some(match running {
                true => ContainerSummaryStateEnum::RUNNING,
                false => ContainerSummaryStateEnum::EXITED,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn containers_group_into_projects_with_their_checkout_and_services_up() {
        let listed = group(&[
            container(
                &[
                    (PROJECT, "shop"),
                    (SERVICE, "db"),
                    (WORKING_DIR, "/src/shop"),
                ],
                true,
            ),
            container(&[(PROJECT, "shop"), (SERVICE, "web")], false),
            container(
                &[(PROJECT, "shop"), (SERVICE, "web"), (ONE_OFF, "True")],
                true,
            ),
            container(
                &[
                    (PROJECT, "shop-fidelity"),
                    (SERVICE, "web"),
                    (WORKING_DIR, "/src/shop"),
                    (
                        CONFIG_FILES,
                        "/home/me/.local/state/devctl/projects/shop-1/fidelity/compose.json",
                    ),
                ],
                true,
            ),
        ]);
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].project, "shop");
        assert_eq!(listed[0].checkout.as_deref(), Some("/src/shop"));
        assert_eq!((listed[0].services_up, listed[0].services), (1, 2));
        assert!(!listed[0].fidelity);
        assert!(listed[1].fidelity);
        assert_eq!((listed[1].services_up, listed[1].services), (1, 1));
    }
}
