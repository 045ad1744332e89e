//! `VolumeTarget`: a volume a backup or restore acts on, with the services that mount it and
//! how it is made consistent.

use std::collections::BTreeMap;

use anyhow::Result;
use bollard::models::ContainerInspectResponse;

use crate::backup::manifest::Hook;
use crate::compose::model::{ComposeModel, DeclaredVolume};
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
    let mut targets = declared_targets(model, settings);
    if anonymous {
        add_anonymous(&mut targets, containers, settings);
    }
    check_hooks(model, &targets)?;
    if requested.is_empty() {
        return Ok(targets.into_values().collect());
    }
    Ok(choose(&targets, requested)?)
}

/// The volumes the model's services mount by name, by compose key.
fn declared_targets(
    model: &ComposeModel,
    settings: &BackupSettings,
) -> BTreeMap<String, VolumeTarget> {
    let mut targets: BTreeMap<String, VolumeTarget> = BTreeMap::new();
    for service in model.service_names() {
        for mount in model.mounts(&service) {
            let (Some(key), "volume") = (mount.source, mount.kind) else {
                continue;
            };
            let target = targets
                .entry(key.to_string())
                .or_insert_with(|| declared_target(model.volume(key), settings));
            if !target.services.contains(&service) {
                target.services.push(service.clone());
            }
        }
    }
    targets
}

/// The declared volume `volume` as a target, with no service yet.
fn declared_target(volume: DeclaredVolume, settings: &BackupSettings) -> VolumeTarget {
    VolumeTarget {
        method: settings.method_of(&volume.key),
        hook: hook_of(settings, &volume.key),
        key: volume.key,
        name: volume.name,
        external: volume.external,
        anonymous: false,
        driver: volume.driver,
        driver_options: volume.driver_options,
        labels: volume.labels,
        services: Vec::new(),
    }
}

/// Adds the anonymous volumes `containers` mount, keyed `service:/path`.
fn add_anonymous(
    targets: &mut BTreeMap<String, VolumeTarget>,
    containers: &[ContainerInspectResponse],
    settings: &BackupSettings,
) {
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

/// Refuses a backup hook whose service is not in the model.
fn check_hooks(model: &ComposeModel, targets: &BTreeMap<String, VolumeTarget>) -> Result<()> {
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
    Ok(())
}

/// The `requested` targets (by key or name), each once, in the order asked.
fn choose(
    targets: &BTreeMap<String, VolumeTarget>,
    requested: &[String],
) -> Result<Vec<VolumeTarget>, Failure> {
    let mut chosen: Vec<VolumeTarget> = Vec::new();
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
        if !chosen.iter().any(|target| target.key == found.key) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{ContainerConfig, MountPoint};
    use std::collections::HashMap;

    use crate::project::profile_file::VolumeBackup;

    fn model() -> ComposeModel {
        ComposeModel::new(serde_json::json!({
            "name": "shop",
            "services": {
                "db": {"volumes": [
                    {"type": "volume", "source": "db-data", "target": "/var/lib/db"},
                    {"type": "bind", "source": "/etc", "target": "/host"},
                ]},
                "app": {"volumes": [
                    {"type": "volume", "source": "db-data", "target": "/data"},
                    {"type": "volume", "source": "shared", "target": "/shared"},
                ]},
            },
            "volumes": {
                "db-data": {"driver_opts": {"type": "tmpfs"}, "labels": {"tier": "data"}},
                "shared": {"external": true, "name": "company-shared"},
            },
        }))
        .unwrap()
    }

    fn settings(volumes: BTreeMap<String, VolumeBackup>) -> BackupSettings {
        BackupSettings {
            method: BackupMethod::Stop,
            anonymous: false,
            compression_level: 3,
            volumes,
            drill_checks: Vec::new(),
        }
    }

    fn container(
        service: &str,
        name: &str,
        volume: &str,
        destination: &str,
    ) -> ContainerInspectResponse {
        ContainerInspectResponse {
            name: Some(format!("/{name}")),
            config: Some(ContainerConfig {
                labels: Some(HashMap::from([(
                    "com.docker.compose.service".to_string(),
                    service.to_string(),
                )])),
                ..Default::default()
            }),
            mounts: Some(vec![MountPoint {
                typ: Some("volume".into()),
                name: Some(volume.into()),
                destination: Some(destination.into()),
                ..Default::default()
            }]),
            ..Default::default()
        }
    }

    fn keys(targets: &[VolumeTarget]) -> Vec<&str> {
        targets.iter().map(|target| target.key.as_str()).collect()
    }

    #[test]
    fn named_volumes_carry_their_declaration_and_every_service_that_mounts_them() {
        let targets = select(&model(), &[], &settings(BTreeMap::new()), &[], false).unwrap();
        assert_eq!(keys(&targets), ["db-data", "shared"]);
        let data = &targets[0];
        assert_eq!(data.name, "shop_db-data");
        assert_eq!(data.services, ["app", "db"]);
        assert_eq!(data.driver, "local");
        assert_eq!(data.driver_options["type"], "tmpfs");
        assert_eq!(data.labels["tier"], "data");
        assert!(!data.external && !data.anonymous);
        assert_eq!(targets[1].name, "company-shared");
        assert!(targets[1].external);
    }

    #[test]
    fn anonymous_volumes_are_added_on_request_and_replicas_keyed_by_container() {
        let first = "a".repeat(64);
        let second = "b".repeat(64);
        let containers = [
            container("app", "shop-app-1", &first, "/cache"),
            container("app", "shop-app-2", &second, "/cache"),
            container("app", "shop-app-1", "shop_db-data", "/data"),
        ];
        let settings = settings(BTreeMap::new());
        let without = select(&model(), &containers, &settings, &[], false).unwrap();
        assert_eq!(keys(&without), ["db-data", "shared"]);
        let with = select(&model(), &containers, &settings, &[], true).unwrap();
        assert_eq!(
            keys(&with),
            ["app:/cache", "db-data", "shared", "shop-app-2:/cache"]
        );
        assert!(with[0].anonymous);
        assert_eq!(with[0].name, first);
        assert_eq!(with[3].name, second);
    }

    #[test]
    fn requested_volumes_by_key_or_name_each_once_in_the_order_asked() {
        let settings = settings(BTreeMap::new());
        let requested = [
            "company-shared".to_string(),
            "db-data".into(),
            "shared".into(),
        ];
        let targets = select(&model(), &[], &settings, &requested, false).unwrap();
        assert_eq!(keys(&targets), ["shared", "db-data"]);
        let error = select(&model(), &[], &settings, &["logs".into()], false).unwrap_err();
        let failure = crate::report::failure::find(&error).unwrap();
        assert!(failure.message.contains("`logs`"), "{}", failure.message);
        assert_eq!(failure.hint.as_deref(), Some("volumes: db-data, shared"));
    }

    #[test]
    fn a_hook_must_run_in_a_service_of_the_model() {
        let hook = |service: &str| VolumeBackup {
            method: Some(BackupMethod::Hook),
            service: Some(service.into()),
            command: Some(vec!["dump".into()]),
            restore: Some(vec!["load".into()]),
        };
        let fine = settings(BTreeMap::from([("db-data".to_string(), hook("db"))]));
        let targets = select(&model(), &[], &fine, &[], false).unwrap();
        assert_eq!(targets[0].method, BackupMethod::Hook);
        assert_eq!(targets[0].hook.as_ref().unwrap().service, "db");
        let wrong = settings(BTreeMap::from([("db-data".to_string(), hook("worker"))]));
        let error = select(&model(), &[], &wrong, &[], false).unwrap_err();
        let failure = crate::report::failure::find(&error).unwrap();
        assert!(failure.message.contains("`worker`"), "{}", failure.message);
    }
}
