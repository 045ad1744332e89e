//! The sibling stack a drill restores into: compose's resolved model of the live stack, cut
//! down to the services that mount the restored volumes (and what they depend on) and made
//! unable to touch the live stack.
//!
//! It is a pure function of the model. The sibling gets its own project name; its named
//! volumes and networks are its own (`<sibling>_<key>`, plain local volumes: no external
//! volume, no driver options that could point at the live data); bind mounts are read-only;
//! no host port is published; fixed container names, `build:` and links to outside containers
//! go; every service runs the live stack's image, never pulled; and everything carries the
//! drill label naming the live project, so that it is found and removed by its labels.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::backup::drill_leftovers::DRILL_LABEL;
use crate::compose::model::entries;
use crate::report::failure::Failure;

/// The sibling's model and what it runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Sibling {
    /// The sibling's compose project name.
    pub project: String,
    /// The generated compose model.
    pub model: Value,
    /// The services it runs, sorted: those that mount a restored volume, the hook services,
    /// and every service they depend on.
    pub services: Vec<String>,
    /// The image each service runs (the live stack's), by service.
    pub images: BTreeMap<String, String>,
    /// The engine name of each restored volume in the sibling, by compose key.
    pub volumes: BTreeMap<String, String>,
}

/// Builds the sibling of `live` (compose's resolved model, whose project is `live_name`)
/// named `project`, for the volumes `keys` and the services `also` (hook services).
pub fn sibling(
    live: &Value,
    live_name: &str,
    project: &str,
    keys: &[String],
    also: &[String],
) -> Result<Sibling, Failure> {
    let services = services_to_run(live, keys, also)?;
    let mut model = Map::new();
    model.insert("name".into(), json!(project));
    let label = json!({ DRILL_LABEL: live_name });
    let mut used_volumes = BTreeSet::new();
    let mut used_networks = BTreeSet::new();
    let mut images = BTreeMap::new();
    let mut definitions = Map::new();
    for (name, definition) in entries(live, "services") {
        if !services.contains(name) {
            continue;
        }
        let mut definition = definition.as_object().cloned().unwrap_or_default();
        for key in [
            "build",
            "ports",
            "container_name",
            "develop",
            "profiles",
            "external_links",
            "extends",
        ] {
            definition.remove(key);
        }
        let image = definition
            .get("image")
            .and_then(Value::as_str)
            .map(String::from)
            // The name compose gives the image it builds for a service without one.
            .unwrap_or_else(|| format!("{live_name}-{name}"));
        definition.insert("image".into(), json!(image));
        definition.insert("pull_policy".into(), json!("never"));
        images.insert(name.clone(), image);
        let labels = definition
            .entry("labels")
            .or_insert_with(|| json!({}))
            .as_object_mut();
        if let Some(labels) = labels {
            labels.insert(DRILL_LABEL.into(), json!(live_name));
        }
        for mount in definition
            .get_mut("volumes")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            match mount.get("type").and_then(Value::as_str) {
                Some("bind") => mount["read_only"] = json!(true),
                Some("volume") => {
                    if let Some(source) = mount.get("source").and_then(Value::as_str) {
                        used_volumes.insert(source.to_string());
                    }
                }
                _ => {}
            }
        }
        match definition.get("networks") {
            Some(Value::Object(networks)) => used_networks.extend(networks.keys().cloned()),
            Some(Value::Array(networks)) => {
                used_networks.extend(networks.iter().filter_map(Value::as_str).map(String::from))
            }
            _ => {
                if definition.get("network_mode").is_none() {
                    used_networks.insert("default".into());
                }
            }
        }
        definitions.insert(name.clone(), Value::Object(definition));
    }
    model.insert("services".into(), Value::Object(definitions));
    let mut volumes = Map::new();
    let mut names = BTreeMap::new();
    for key in &used_volumes {
        let name = format!("{project}_{key}");
        names.insert(key.clone(), name.clone());
        volumes.insert(
            key.clone(),
            json!({ "name": name, "labels": label.clone() }),
        );
    }
    model.insert("volumes".into(), Value::Object(volumes));
    let mut networks = Map::new();
    for key in &used_networks {
        let declared = live.pointer(&format!("/networks/{}", pointer_escape(key)));
        let mut network = json!({ "name": format!("{project}_{key}"), "labels": label.clone() });
        for kept in ["driver", "internal"] {
            if let Some(value) = declared.and_then(|declared| declared.get(kept))
                && !declared
                    .and_then(|d| d.get("external"))
                    .is_some_and(is_true)
            {
                network[kept] = value.clone();
            }
        }
        networks.insert(key.clone(), network);
    }
    model.insert("networks".into(), Value::Object(networks));
    for section in ["secrets", "configs"] {
        if let Some(value) = live.get(section) {
            model.insert(section.into(), value.clone());
        }
    }
    let restored = keys
        .iter()
        .filter_map(|key| names.get(key).map(|name| (key.clone(), name.clone())))
        .collect();
    Ok(Sibling {
        project: project.to_string(),
        model: Value::Object(model),
        services: services.into_iter().collect(),
        images,
        volumes: restored,
    })
}

fn is_true(value: &Value) -> bool {
    value.as_bool() == Some(true) || value.is_object()
}

/// `key` escaped for a JSON pointer.
fn pointer_escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The services that mount one of `keys`, `also`, and every service they depend on
/// (`depends_on`, `links`, `volumes_from`, `network_mode: service:`).
fn services_to_run(
    live: &Value,
    keys: &[String],
    also: &[String],
) -> Result<BTreeSet<String>, Failure> {
    let mut pending: Vec<String> = also.to_vec();
    for (name, definition) in entries(live, "services") {
        let mounts = definition
            .get("volumes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten();
        let mut mounts_a_key = false;
        for mount in mounts {
            if mount.get("type").and_then(Value::as_str) == Some("volume")
                && let Some(source) = mount.get("source").and_then(Value::as_str)
            {
                mounts_a_key |= keys.iter().any(|key| key == source);
            }
        }
        if mounts_a_key {
            pending.push(name.clone());
        }
    }
    let mut services = BTreeSet::new();
    while let Some(name) = pending.pop() {
        if services.contains(&name) {
            continue;
        }
        let Some(definition) = live
            .get("services")
            .and_then(|services| services.get(&name))
        else {
            return Err(Failure::bad_input(format!(
                "service `{name}` is not in the compose model, so the drill cannot run it"
            ))
            .hint("a backup's hook names the service its restore runs in: drill it with the profile it was made with (--profile)"));
        };
        pending.extend(dependencies(&name, definition)?);
        services.insert(name);
    }
    Ok(services)
}

/// The services `definition` (of service `name`) needs running beside it.
fn dependencies(name: &str, definition: &Value) -> Result<Vec<String>, Failure> {
    let mut needed: Vec<String> = Vec::new();
    match definition.get("depends_on") {
        Some(Value::Object(map)) => needed.extend(map.keys().cloned()),
        Some(Value::Array(list)) => {
            needed.extend(list.iter().filter_map(Value::as_str).map(String::from))
        }
        _ => {}
    }
    for link in definition
        .get("links")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        needed.push(link.split(':').next().unwrap_or(link).to_string());
    }
    let outside = |what: &str| {
        Failure::bad_input(format!(
            "service `{name}` uses {what}, a container outside the project; a drill never shares anything with the live stack"
        ))
        .hint("drill a backup of volumes whose services use only the project's own services")
    };
    for source in definition
        .get("volumes_from")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if source.starts_with("container:") {
            return Err(outside(&format!("volumes_from `{source}`")));
        }
        needed.push(source.split(':').next().unwrap_or(source).to_string());
    }
    if let Some(mode) = definition.get("network_mode").and_then(Value::as_str) {
        if let Some(service) = mode.strip_prefix("service:") {
            needed.push(service.to_string());
        } else if mode.starts_with("container:") {
            return Err(outside(&format!("network_mode `{mode}`")));
        }
    }
    Ok(needed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live() -> Value {
        json!({
            "name": "shop",
            "services": {
                "db": {
                    "image": "postgres:15",
                    "container_name": "shop-db",
                    "ports": [{"target": 5432, "published": "5432"}],
                    "volumes": [
                        {"type": "volume", "source": "pg", "target": "/var/lib/postgresql/data"},
                        {"type": "bind", "source": "/src/init", "target": "/docker-entrypoint-initdb.d"}
                    ],
                    "networks": {"back": null},
                    "profiles": ["data"],
                    "labels": {"team": "a"}
                },
                "app": {
                    "build": {"context": "."},
                    "depends_on": {"cache": {"condition": "service_started"}},
                    "volumes": [{"type": "volume", "source": "uploads", "target": "/up"}],
                    "networks": {"default": null, "back": null}
                },
                "cache": {"image": "redis", "networks": {"default": null}},
                "web": {"image": "nginx", "depends_on": {"app": {}}, "ports": [{"target": 80}]}
            },
            "volumes": {
                "pg": {"name": "shop_pg", "external": true},
                "uploads": {"name": "shop_uploads", "driver_opts": {"type": "none", "o": "bind", "device": "/live"}}
            },
            "networks": {
                "default": {"name": "shop_default"},
                "back": {"name": "shared", "external": true, "driver": "overlay"}
            }
        })
    }

    #[test]
    fn only_the_restored_volumes_users_and_their_dependencies_run() {
        let sibling = sibling(&live(), "shop", "shop-drill-1", &["uploads".into()], &[]).unwrap();
        assert_eq!(sibling.services, vec!["app", "cache"]);
        assert_eq!(sibling.images["app"], "shop-app");
        assert_eq!(sibling.volumes["uploads"], "shop-drill-1_uploads");
        let model = &sibling.model;
        assert_eq!(model["name"], "shop-drill-1");
        assert!(model["services"].get("web").is_none());
        assert!(model["services"]["app"].get("build").is_none());
        assert_eq!(model["services"]["app"]["pull_policy"], "never");
        assert_eq!(
            model["services"]["app"]["labels"][DRILL_LABEL], "shop",
            "{model:#}"
        );
        // The sibling's volume is its own plain volume: no bind through driver options.
        assert_eq!(
            model["volumes"]["uploads"],
            json!({"name": "shop-drill-1_uploads", "labels": {DRILL_LABEL: "shop"}})
        );
        assert_eq!(model["networks"]["default"]["name"], "shop-drill-1_default");
        // An external network is replaced by one of the sibling's own.
        assert_eq!(
            model["networks"]["back"],
            json!({"name": "shop-drill-1_back", "labels": {DRILL_LABEL: "shop"}})
        );
    }

    #[test]
    fn a_database_sibling_publishes_nothing_and_mounts_binds_read_only() {
        let sibling = sibling(&live(), "shop", "shop-drill-2", &["pg".into()], &[]).unwrap();
        assert_eq!(sibling.services, vec!["db"]);
        let db = &sibling.model["services"]["db"];
        assert!(db.get("ports").is_none());
        assert!(db.get("container_name").is_none());
        assert!(db.get("profiles").is_none());
        assert_eq!(db["labels"]["team"], "a");
        assert_eq!(db["volumes"][1]["read_only"], true);
        assert_eq!(
            sibling.model["volumes"]["pg"]["name"], "shop-drill-2_pg",
            "the live external volume is never used"
        );
    }

    #[test]
    fn hook_services_run_and_unknown_or_outside_ones_are_refused() {
        let sibling = sibling(&live(), "shop", "shop-drill-3", &[], &["web".into()]).unwrap();
        assert_eq!(sibling.services, vec!["app", "cache", "web"]);
        let missing = super::sibling(&live(), "shop", "s", &[], &["gone".into()]).unwrap_err();
        assert!(missing.message.contains("`gone`"), "{}", missing.message);
        let mut model = live();
        model["services"]["cache"]["volumes_from"] = json!(["container:live-one"]);
        let outside = super::sibling(&model, "shop", "s", &["uploads".into()], &[]).unwrap_err();
        assert!(
            outside.message.contains("container:live-one"),
            "{}",
            outside.message
        );
    }
}
