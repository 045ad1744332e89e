//! Volumes compose would delete and create afresh: those whose declaration changed.
//!
//! When a volume that compose created (it carries compose's `config-hash` label) no longer
//! matches its declaration — another driver, other driver options or other labels — compose's
//! `up` and `create` ask "Recreate (data will be lost)?", and with `-y`/`--yes` delete it
//! without asking. devctl compares each declared volume with the existing one before such a
//! command runs, so that the guard can list, confirm and back up what would go.

use std::collections::BTreeMap;

use anyhow::Result;

use crate::compose::labels::{
    CONFIG_HASH as CONFIG_HASH_LABEL, PREFIX as COMPOSE_LABELS, PROJECT as PROJECT_LABEL,
};
use crate::compose::model::{ComposeModel, DeclaredVolume};
use crate::engine::api::Engine;

/// A declared volume whose existing volume no longer matches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recreation {
    /// Its key in the compose files.
    pub key: String,
    /// The engine's name for it.
    pub name: String,
    /// What differs, one phrase each (`label tier: "1" → "2"`).
    pub differences: Vec<String>,
}

impl Recreation {
    /// `name (what differs)`.
    pub fn line(&self) -> String {
        format!("{} ({})", self.name, self.differences.join("; "))
    }
}

/// What an existing volume is, as the engine reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExistingVolume {
    pub driver: String,
    pub options: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
}

impl From<bollard::models::Volume> for ExistingVolume {
    fn from(volume: bollard::models::Volume) -> ExistingVolume {
        ExistingVolume {
            driver: volume.driver,
            options: volume.options.into_iter().collect(),
            labels: volume.labels.into_iter().collect(),
        }
    }
}

/// What differs between `declared` and `existing`, when compose would recreate the volume
/// for `project`: empty when it matches, or when compose did not create it for this project
/// (no config hash, or another project's label: compose only warns then) or never touches it
/// (external).
pub fn differences(
    project: &str,
    declared: &DeclaredVolume,
    existing: &ExistingVolume,
) -> Vec<String> {
    let created_here = existing.labels.contains_key(CONFIG_HASH_LABEL)
        && existing.labels.get(PROJECT_LABEL).map(String::as_str) == Some(project);
    if declared.external || !created_here {
        return Vec::new();
    }
    let mut found = Vec::new();
    if declared.driver != existing.driver {
        found.push(format!(
            "driver: {} → {}",
            quoted(Some(&existing.driver)),
            quoted(Some(&declared.driver))
        ));
    }
    found.extend(map_differences(
        "driver option",
        &declared.driver_options,
        &existing.options,
    ));
    let existing_labels: BTreeMap<String, String> = existing
        .labels
        .iter()
        .filter(|(name, _)| !name.starts_with(COMPOSE_LABELS))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    found.extend(map_differences("label", &declared.labels, &existing_labels));
    found
}

/// `what NAME: "old" → "new"` for each entry that differs, was added or went.
fn map_differences(
    what: &str,
    declared: &BTreeMap<String, String>,
    existing: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut names: Vec<&String> = declared.keys().chain(existing.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|name| declared.get(*name) != existing.get(*name))
        .map(|name| {
            format!(
                "{what} {name}: {} → {}",
                quoted(existing.get(name)),
                quoted(declared.get(name))
            )
        })
        .collect()
}

fn quoted(value: Option<&String>) -> String {
    match value {
        Some(value) => format!("{value:?}"),
        None => "unset".into(),
    }
}

/// The volumes that `services` of `model` mount (every service's when none is named, with
/// their dependencies when some are) which compose would delete and recreate, asking
/// `engine` how each existing one is. Compose ensures only the volumes of the services it
/// runs.
pub fn find(model: &ComposeModel, engine: &Engine, services: &[String]) -> Result<Vec<Recreation>> {
    let running = match services.is_empty() {
        true => model.service_names(),
        false => model.with_dependencies(services),
    };
    let mounted: std::collections::BTreeSet<String> = running
        .iter()
        .flat_map(|service| model.mounts(service))
        .filter(|mount| mount.kind == "volume")
        .filter_map(|mount| mount.source.map(String::from))
        .collect();
    let mut found = Vec::new();
    for declared in model.volumes() {
        if declared.external || !mounted.contains(&declared.key) {
            continue;
        }
        let Some(existing) = engine.volume(&declared.name)? else {
            continue;
        };
        let differences = differences(model.name(), &declared, &ExistingVolume::from(existing));
        if !differences.is_empty() {
            found.push(Recreation {
                key: declared.key,
                name: declared.name,
                differences,
            });
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(entries: &[(&str, &str)]) -> BTreeMap<String, String> {
        entries
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect()
    }

    fn declared(labels: &[(&str, &str)], options: &[(&str, &str)]) -> DeclaredVolume {
        DeclaredVolume {
            key: "data".into(),
            name: "shop_data".into(),
            external: false,
            driver: "local".into(),
            driver_options: map(options),
            labels: map(labels),
        }
    }

    fn existing(labels: &[(&str, &str)], options: &[(&str, &str)]) -> ExistingVolume {
        let mut all = map(&[
            (CONFIG_HASH_LABEL, "abc"),
            ("com.docker.compose.project", "shop"),
            ("com.docker.compose.volume", "data"),
            ("com.docker.compose.version", "5.6.1"),
        ]);
        all.extend(map(labels));
        ExistingVolume {
            driver: "local".into(),
            options: map(options),
            labels: all,
        }
    }

    #[test]
    fn a_matching_volume_is_not_recreated() {
        assert!(differences("shop", &declared(&[], &[]), &existing(&[], &[])).is_empty());
        assert!(
            differences(
                "shop",
                &declared(&[("tier", "1")], &[("type", "tmpfs")]),
                &existing(&[("tier", "1")], &[("type", "tmpfs")])
            )
            .is_empty()
        );
    }

    #[test]
    fn changed_added_and_removed_labels_and_options_are_named() {
        assert_eq!(
            differences(
                "shop",
                &declared(&[("tier", "2")], &[]),
                &existing(&[("tier", "1")], &[])
            ),
            ["label tier: \"1\" → \"2\""]
        );
        assert_eq!(
            differences("shop", &declared(&[("new", "x")], &[]), &existing(&[], &[])),
            ["label new: unset → \"x\""]
        );
        assert_eq!(
            differences("shop", &declared(&[], &[]), &existing(&[("old", "y")], &[])),
            ["label old: \"y\" → unset"]
        );
        assert_eq!(
            differences(
                "shop",
                &declared(&[], &[("type", "tmpfs"), ("device", "tmpfs")]),
                &existing(&[], &[("type", "tmpfs")])
            ),
            ["driver option device: unset → \"tmpfs\""]
        );
        let mut other_driver = declared(&[], &[]);
        other_driver.driver = "nfs".into();
        assert_eq!(
            differences("shop", &other_driver, &existing(&[], &[])),
            ["driver: \"local\" → \"nfs\""]
        );
    }

    #[test]
    fn volumes_compose_did_not_create_or_never_touches_are_left_alone() {
        let mut foreign = existing(&[("tier", "1")], &[]);
        foreign.labels.remove(CONFIG_HASH_LABEL);
        assert!(differences("shop", &declared(&[("tier", "2")], &[]), &foreign).is_empty());
        // A fixed `name:` another project created: compose warns and leaves it.
        let mut theirs = existing(&[("tier", "1")], &[]);
        theirs.labels.insert(PROJECT_LABEL.into(), "blog".into());
        assert!(differences("shop", &declared(&[("tier", "2")], &[]), &theirs).is_empty());
        let mut external = declared(&[("tier", "2")], &[]);
        external.external = true;
        assert!(differences("shop", &external, &existing(&[("tier", "1")], &[])).is_empty());
    }
}
