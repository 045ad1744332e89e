//! The compose projects on an engine, from their containers' labels: the checkout each was
//! started from, its services up, and whether it is a fidelity stack.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::compose::labels::{CONFIG_FILES, ONE_OFF, PROJECT, SERVICE, WORKING_DIR};

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
