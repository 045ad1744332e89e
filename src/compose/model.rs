//! `ComposeModel`: the project as compose resolved it (`config --format json`).
//!
//! devctl never re-implements compose's merge, interpolation or path rules; it reads this
//! model for the few facts it needs (project name, services, volumes).

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

    /// The engine names of the project's declared volumes (`name:` as resolved by compose).
    pub fn volume_names(&self) -> Vec<String> {
        self.value
            .get("volumes")
            .and_then(Value::as_object)
            .map(|volumes| {
                volumes
                    .values()
                    .filter_map(|volume| volume.get("name").and_then(Value::as_str))
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
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
