//! `ComposeModel`: the project as compose resolved it (`config --format json`).
//!
//! devctl never re-implements compose's merge, interpolation or path rules; it reads this
//! model for the few facts it needs, through typed accessors: the project name, services,
//! their mounts, and the declared volumes with their engine names.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::report::failure::Failure;

/// A port entry's published host port (`8080`, or a range `8000-8010`), as compose writes it
/// (a string, or a number in files as written); `None` when it publishes none.
pub fn published_port(port: &Value) -> Option<String> {
    match port.get("published")? {
        Value::String(published) if !published.is_empty() => Some(published.clone()),
        Value::Number(published) => Some(published.to_string()),
        _ => None,
    }
}

/// A string field of a compose object, or "".
pub(crate) fn text<'a>(value: &'a Value, field: &str) -> &'a str {
    value.get(field).and_then(Value::as_str).unwrap_or_default()
}

/// The items of a list field of a compose object (none when it is absent).
pub(crate) fn items<'a>(value: &'a Value, field: &str) -> impl Iterator<Item = &'a Value> {
    value
        .get(field)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// The entries of a map field of a compose object (none when it is absent).
pub(crate) fn entries<'a>(
    value: &'a Value,
    field: &str,
) -> impl Iterator<Item = (&'a String, &'a Value)> {
    value
        .get(field)
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
}

/// A volume as the model declares it at the top level (`volumes:`), or as compose would
/// create it when a service mounts a key the top level does not declare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredVolume {
    /// Its key in the compose files.
    pub key: String,
    /// The engine's name for it: the declared `name`, else `<project>_<key>`.
    pub name: String,
    /// `external: true`: compose neither creates nor deletes it.
    pub external: bool,
    /// `driver`, else `local`.
    pub driver: String,
    pub driver_options: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
}

impl DeclaredVolume {
    /// Whether a `guard.protected_volumes` entry names it, by key or by engine name.
    pub fn is_protected(&self, protected: &[String]) -> bool {
        protected
            .iter()
            .any(|entry| *entry == self.key || *entry == self.name)
    }
}

/// One mount of a service, as compose resolves `volumes:` (always the long syntax).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mount<'a> {
    /// `volume`, `bind`, `tmpfs`, …
    pub kind: &'a str,
    /// The volume's key or the host path; none for an anonymous volume or a tmpfs.
    pub source: Option<&'a str>,
    /// The path in the container.
    pub target: &'a str,
}

#[derive(Debug, Clone)]
pub struct ComposeModel {
    value: Value,
}

impl ComposeModel {
    pub fn new(value: Value) -> Result<ComposeModel, Failure> {
        if value.get("name").and_then(Value::as_str).is_none() {
            return Err(Failure::new(
                crate::report::exit_status::ExitStatus::Internal,
                "compose's resolved model has no project name",
            ));
        }
        Ok(ComposeModel { value })
    }

    /// The project name compose settled on.
    pub fn name(&self) -> &str {
        self.value["name"].as_str().unwrap_or_default()
    }

    /// Service names, sorted.
    pub fn service_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .value
            .get("services")
            .and_then(Value::as_object)
            .map(|services| services.keys().cloned().collect())
            .unwrap_or_default();
        names.sort();
        names
    }

    /// One service's resolved definition.
    pub fn service(&self, name: &str) -> Option<&Value> {
        self.value.get("services")?.get(name)
    }

    /// The engine names of the project's declared volumes.
    pub fn volume_names(&self) -> Vec<String> {
        self.volumes()
            .into_iter()
            .map(|volume| volume.name)
            .collect()
    }

    /// The volumes the model declares at the top level, by key.
    pub fn volumes(&self) -> Vec<DeclaredVolume> {
        self.value
            .get("volumes")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(key, declaration)| self.declared_volume(key, Some(declaration)))
            .collect()
    }

    /// The volume `key`: as declared, or as compose creates an undeclared one.
    pub fn volume(&self, key: &str) -> DeclaredVolume {
        let declaration = self
            .value
            .get("volumes")
            .and_then(|volumes| volumes.get(key));
        self.declared_volume(key, declaration)
    }

    fn declared_volume(&self, key: &str, declaration: Option<&Value>) -> DeclaredVolume {
        let string = |field: &str| {
            declaration
                .and_then(|declaration| declaration.get(field))
                .and_then(Value::as_str)
                .map(String::from)
        };
        let map = |field: &str| -> BTreeMap<String, String> {
            declaration
                .and_then(|declaration| declaration.get(field))
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(name, value)| {
                    let value = value.as_str().unwrap_or_default().to_string();
                    (name.clone(), value)
                })
                .collect()
        };
        DeclaredVolume {
            key: key.to_string(),
            name: string("name").unwrap_or_else(|| format!("{}_{key}", self.name())),
            external: declaration
                .and_then(|declaration| declaration.get("external"))
                .and_then(Value::as_bool)
                .unwrap_or(false),
            driver: string("driver").unwrap_or_else(|| "local".into()),
            driver_options: map("driver_opts"),
            labels: map("labels"),
        }
    }

    /// The mounts of `service` (none when it has none, or is not in the model).
    pub fn mounts(&self, service: &str) -> Vec<Mount<'_>> {
        self.service(service)
            .and_then(|definition| definition.get("volumes"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|mount| Mount {
                kind: mount
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
                source: mount
                    .get("source")
                    .and_then(Value::as_str)
                    .filter(|source| !source.is_empty()),
                target: mount
                    .get("target")
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
            })
            .collect()
    }

    /// `services` and everything they depend on, transitively, sorted.
    pub fn with_dependencies(&self, services: &[String]) -> Vec<String> {
        let mut found: Vec<String> = Vec::new();
        let mut pending: Vec<String> = services.to_vec();
        while let Some(service) = pending.pop() {
            if found.contains(&service) {
                continue;
            }
            if let Some(depends_on) = self
                .service(&service)
                .and_then(|definition| definition.get("depends_on"))
                .and_then(Value::as_object)
            {
                pending.extend(depends_on.keys().cloned());
            }
            found.push(service);
        }
        found.sort();
        found
    }

    pub fn value(&self) -> &Value {
        &self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn model() -> ComposeModel {
        ComposeModel::new(json!({
            "name": "shop",
            "services": {
                "db": {"volumes": [
                    {"type": "volume", "source": "data", "target": "/var/lib/data"},
                    {"type": "bind", "source": "/src/app", "target": "/app"},
                    {"type": "volume", "target": "/cache"},
                ]},
                "web": {},
            },
            "volumes": {
                "data": {"name": "shop_data", "driver_opts": {"type": "none"}, "labels": {"team": "a"}},
                "shared": {"name": "company-shared", "external": true},
            },
        }))
        .unwrap()
    }

    #[test]
    fn declared_volumes_have_their_engine_names_and_settings() {
        let model = model();
        let volumes = model.volumes();
        assert_eq!(
            volumes
                .iter()
                .map(|volume| volume.name.as_str())
                .collect::<Vec<_>>(),
            ["shop_data", "company-shared"]
        );
        assert!(volumes[1].external && !volumes[0].external);
        assert_eq!(volumes[0].driver, "local");
        assert_eq!(volumes[0].driver_options["type"], "none");
        assert_eq!(volumes[0].labels["team"], "a");
        assert_eq!(model.volume_names(), ["shop_data", "company-shared"]);
        let undeclared = model.volume("logs");
        assert_eq!(undeclared.name, "shop_logs");
        assert!(!undeclared.external && undeclared.labels.is_empty());
    }

    #[test]
    fn protection_names_a_volume_by_key_or_engine_name() {
        let data = model().volume("data");
        assert!(data.is_protected(&["data".into()]));
        assert!(data.is_protected(&["shop_data".into()]));
        assert!(!data.is_protected(&["shop".into(), "db".into()]));
    }

    #[test]
    fn mounts_are_read_as_compose_resolves_them() {
        let model = model();
        let mounts = model.mounts("db");
        assert_eq!(
            mounts,
            [
                Mount {
                    kind: "volume",
                    source: Some("data"),
                    target: "/var/lib/data"
                },
                Mount {
                    kind: "bind",
                    source: Some("/src/app"),
                    target: "/app"
                },
                Mount {
                    kind: "volume",
                    source: None,
                    target: "/cache"
                },
            ]
        );
        assert!(model.mounts("web").is_empty());
        assert!(model.mounts("missing").is_empty());
    }
}
