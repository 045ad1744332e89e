//! `VolumeTarget`: a volume a backup or restore acts on, with the services that mount it and
//! how it is made consistent.

use std::collections::BTreeMap;

use anyhow::Result;
use bollard::models::ContainerInspectResponse;
use serde_json::Value;

use crate::backup::manifest::Hook;
use crate::compose::model::ComposeModel;
use crate::engine::service_status::{is_engine_generated, service_of};
use crate::project::profile::BackupSettings;
use crate::project::profile_file::BackupMethod;
use crate::report::failure::Failure;

#[derive(Debug, Clone)]
pub struct VolumeTarget {
    /// The compose key (`db-data`), or `service:/path` for an anonymous volume.
    pub key: String,
    /// The engine's name for it in this project.
    pub name: String,
    pub external: bool,
    pub anonymous: bool,
    /// Driver, options and labels as the compose model declares them.
    pub driver: String,
    pub driver_options: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    /// Services of the model that mount it.
    pub services: Vec<String>,
    pub method: BackupMethod,
    pub hook: Option<Hook>,
}

/// The volumes the model's services use: named and external ones, and anonymous ones of
/// existing containers when `anonymous` is set; only `requested` ones (by key or name) when
/// any are named.
pub fn select(
    model: &ComposeModel,
    containers: &[ContainerInspectResponse],
    settings: &BackupSettings,
    requested: &[String],
    anonymous: bool,
) -> Result<Vec<VolumeTarget>> {
    let mut targets: BTreeMap<String, VolumeTarget> = BTreeMap::new();
    let declared = model.value().get("volumes").and_then(Value::as_object);
    for service in model.service_names() {
        let mounts = model
            .service(&service)
            .and_then(|definition| definition.get("volumes"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for mount in mounts {
            if mount.get("type").and_then(Value::as_str) != Some("volume") {
                continue;
            }
            let Some(key) = mount.get("source").and_then(Value::as_str) else {
                continue;
            };
            let declaration = declared.and_then(|volumes| volumes.get(key));
            let target = targets.entry(key.to_string()).or_insert_with(|| {
                let string = |field: &str| {
                    declaration
                        .and_then(|d| d.get(field))
                        .and_then(Value::as_str)
                        .map(String::from)
                };
                let map = |field: &str| {
                    declaration
                        .and_then(|d| d.get(field))
                        .and_then(Value::as_object)
                        .map(|object| {
                            object
                                .iter()
                                .map(|(k, v)| {
                                    (k.clone(), v.as_str().unwrap_or_default().to_string())
                                })
                                .collect()
                        })
                        .unwrap_or_default()
                };
                VolumeTarget {
                    key: key.to_string(),
                    name: string("name").unwrap_or_else(|| format!("{}_{key}", model.name())),
                    external: declaration
                        .and_then(|d| d.get("external"))
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                    anonymous: false,
                    driver: string("driver").unwrap_or_else(|| "local".into()),
                    driver_options: map("driver_opts"),
                    labels: map("labels"),
                    services: Vec::new(),
                    method: settings.method_of(key),
                    hook: hook_of(settings, key),
                }
            });
            if !target.services.contains(&service) {
                target.services.push(service.clone());
            }
        }
    }
    if anonymous {
        let named: Vec<String> = targets.values().map(|target| target.name.clone()).collect();
        for container in containers {
            let Some(service) = service_of(container) else {
                continue;
            };
            for mount in container.mounts.iter().flatten() {
                let name = mount.name.clone().unwrap_or_default();
                if mount.typ.as_deref() != Some("volume")
                    || named.contains(&name)
                    || !is_engine_generated(&name)
                {
                    continue;
                }
                let destination = mount.destination.clone().unwrap_or_default();
                let mut key = format!("{service}:{destination}");
                // Replicas (and one-off containers) of a service each have their own: the
                // second and later are keyed by container name.
                if targets.get(&key).is_some_and(|target| target.name != name) {
                    let container_name = container
                        .name
                        .clone()
                        .unwrap_or_default()
                        .trim_start_matches('/')
                        .to_string();
                    key = format!("{container_name}:{destination}");
                }
                targets.entry(key.clone()).or_insert_with(|| VolumeTarget {
                    key: key.clone(),
                    name,
                    external: false,
                    anonymous: true,
                    driver: mount.driver.clone().unwrap_or_else(|| "local".into()),
                    driver_options: BTreeMap::new(),
                    labels: BTreeMap::new(),
                    services: vec![service.clone()],
                    method: settings.method_of(&key),
                    hook: None,
                });
            }
        }
    }
    for target in targets.values() {
        if let Some(hook) = &target.hook
            && model.service(&hook.service).is_none()
        {
            return Err(Failure::bad_input(format!(
                "backup.volumes.{}: hook service `{}` is not in this profile's compose model",
                target.key, hook.service
            ))
            .hint(format!("services: {}", model.service_names().join(", ")))
            .into());
        }
    }
    if requested.is_empty() {
        return Ok(targets.into_values().collect());
    }
    let mut chosen = Vec::new();
    for wanted in requested {
        let found = targets
            .values()
            .find(|target| &target.key == wanted || &target.name == wanted)
            .ok_or_else(|| {
                let keys: Vec<&str> = targets.keys().map(String::as_str).collect();
                Failure::bad_input(format!(
                    "volume `{wanted}` is not used by this profile's services"
                ))
                .hint(if keys.is_empty() {
                    "this profile's services use no volumes".to_string()
                } else {
                    format!("volumes: {}", keys.join(", "))
                })
            })?;
        if !chosen
            .iter()
            .any(|target: &VolumeTarget| target.key == found.key)
        {
            chosen.push(found.clone());
        }
    }
    Ok(chosen)
}

fn hook_of(settings: &BackupSettings, key: &str) -> Option<Hook> {
    let volume = settings.volumes.get(key)?;
    if volume.method != Some(BackupMethod::Hook) {
        return None;
    }
    Some(Hook {
        service: volume.service.clone()?,
        command: volume.command.clone()?,
        restore: volume.restore.clone()?,
    })
}
