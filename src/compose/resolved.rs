//! Compose's resolved model as `config` prints it, read into a value devctl can use and write
//! back (the fidelity file): JSON (`--format json`), or YAML where the JSON cannot carry the
//! project, with what each form gets wrong repaired.
//!
//! What compose's own output gets wrong, each refused by compose when the file is read again:
//! - `build.ssh` entries that name a key file (`id=path`): `config --format json` fails
//!   (compose's `SSHKey` cannot encode itself as JSON). The YAML works, but writes each entry
//!   as `'id: path'`; the entries are given back as `id=path`.
//! - top-level `models`: the JSON leaves them out, so the services that name them are
//!   refused. Where a service names a model the JSON does not declare, the YAML is read.
//! - `blkio_config`'s per-device lists: the JSON writes Go's field names (`Path`, `Weight`,
//!   `Rate`); the keys are given back in lower case.
//! - a ulimit limit of 0 (`core: 0`, the usual way to turn core dumps off): the JSON leaves
//!   it out (`{}`); `soft` and `hard` are given back.
//!
//! And the JSON of every `deploy:` section holds a `placement: {}` the files never had, about
//! which compose then warns at each command (placement is Swarm's); it goes.

use anyhow::{Context, Result};
use serde_json::{Map, Value};

use crate::compose::program::ComposeCommand;

/// What compose's `config` call gave.
#[derive(Debug)]
pub enum Resolved {
    /// The resolved model, repaired.
    Model(Value),
    /// Compose refused the project: what it printed on stderr.
    Refused(String),
}

/// What compose prints when it cannot encode its own model as JSON (e.g. `build.ssh`).
const JSON_ENCODING_FAILURE: &str = "MarshalJSON";

/// Runs `command` (a `config … --format json` call) and reads the model it prints. Where
/// compose cannot encode the model as JSON, or its JSON leaves out what the services use,
/// asks again for YAML.
pub fn resolve(command: &ComposeCommand) -> Result<Resolved> {
    let output = command.capture()?;
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let yaml = as_yaml(command);
    if output.status.success() {
        let mut model: Value = serde_json::from_slice(&output.stdout)
            .with_context(|| format!("`{}` printed something that is not JSON", command.line()))?;
        if let Some(yaml) = yaml.filter(|_| uses_undeclared_models(&model)) {
            // The JSON stands if compose cannot print the YAML now: it ran a moment ago.
            if let Some(from_yaml) = read_yaml(&yaml)? {
                model = from_yaml;
            }
        }
        repair(&mut model);
        return Ok(Resolved::Model(model));
    }
    let Some(yaml) = yaml.filter(|_| stderr.contains(JSON_ENCODING_FAILURE)) else {
        return Ok(Resolved::Refused(stderr));
    };
    match read_yaml(&yaml)? {
        Some(mut model) => {
            repair(&mut model);
            Ok(Resolved::Model(model))
        }
        // Compose's first complaint, about the JSON, is the one to show.
        None => Ok(Resolved::Refused(stderr)),
    }
}

/// The model `yaml` (a `config … --format yaml` call) prints; `None` when compose fails.
fn read_yaml(yaml: &ComposeCommand) -> Result<Option<Value>> {
    let output = yaml.capture()?;
    if !output.status.success() {
        return Ok(None);
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let model = serde_saphyr::from_str(&text)
        .with_context(|| format!("`{}` printed something that is not YAML", yaml.line()))?;
    Ok(Some(model))
}

/// Whether a service names a model the model does not declare at the top level (compose's
/// JSON leaves `models` out).
fn uses_undeclared_models(model: &Value) -> bool {
    let declared = model.get("models").and_then(Value::as_object);
    model
        .get("services")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|services| services.values())
        .filter_map(|service| service.get("models").and_then(Value::as_object))
        .flat_map(|used| used.keys())
        .any(|name| !declared.is_some_and(|declared| declared.contains_key(name)))
}

/// The same call, asking for YAML (`--format yaml`); `None` when it asks for no JSON.
fn as_yaml(command: &ComposeCommand) -> Option<ComposeCommand> {
    let position = command
        .argv
        .windows(2)
        .position(|pair| pair[0] == "--format" && pair[1] == "json")?;
    let mut yaml = command.clone();
    yaml.argv[position + 1] = "yaml".into();
    Some(yaml)
}

/// The per-device lists of `blkio_config`.
const BLKIO_DEVICE_LISTS: [&str; 5] = [
    "weight_device",
    "device_read_bps",
    "device_read_iops",
    "device_write_bps",
    "device_write_iops",
];

/// Gives back, in every service, the forms compose reads: `build.ssh` entries as `id=path`,
/// the keys of `blkio_config`'s per-device entries in lower case, and both limits of every
/// ulimit (of the service and of its build) given as a pair; an empty `deploy.placement` goes.
fn repair(model: &mut Value) {
    let Some(services) = model.get_mut("services").and_then(Value::as_object_mut) else {
        return;
    };
    for service in services.values_mut() {
        if let Some(deploy) = service.get_mut("deploy").and_then(Value::as_object_mut)
            && deploy
                .get("placement")
                .and_then(Value::as_object)
                .is_some_and(Map::is_empty)
        {
            deploy.remove("placement");
        }
        for ulimits in ["/ulimits", "/build/ulimits"] {
            if let Some(ulimits) = service.pointer_mut(ulimits).and_then(Value::as_object_mut) {
                ulimits.values_mut().for_each(complete_ulimit);
            }
        }
        if let Some(ssh) = service
            .pointer_mut("/build/ssh")
            .and_then(Value::as_array_mut)
        {
            for entry in ssh {
                if let Some(repaired) = entry.as_str().and_then(ssh_entry) {
                    *entry = Value::String(repaired);
                }
            }
        }
        let Some(blkio) = service
            .get_mut("blkio_config")
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        for list in BLKIO_DEVICE_LISTS {
            for entry in blkio
                .get_mut(list)
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if let Some(fields) = entry.as_object_mut() {
                    *fields = lower_case_keys(std::mem::take(fields));
                }
            }
        }
    }
}

/// `id: path` (compose's YAML form of an ssh entry) as `id=path`; `None` for an entry that
/// is already in a form compose reads (`id=path`, or `id` alone).
fn ssh_entry(entry: &str) -> Option<String> {
    let (id, path) = entry.split_once(": ")?;
    if id.contains('=') || id.is_empty() {
        return None;
    }
    Some(format!("{id}={path}"))
}

/// A ulimit given as a pair (`{soft, hard}`) with the limit compose's JSON left out because
/// it is 0 put back; a single number is left as it is.
fn complete_ulimit(ulimit: &mut Value) {
    if let Some(pair) = ulimit.as_object_mut() {
        for limit in ["soft", "hard"] {
            pair.entry(limit).or_insert(Value::from(0));
        }
    }
}

fn lower_case_keys(fields: Map<String, Value>) -> Map<String, Value> {
    fields
        .into_iter()
        .map(|(key, value)| (key.to_lowercase(), value))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ssh_entries_in_compose_s_yaml_form_are_given_back_as_id_equals_path() {
        let mut model = json!({"services": {"app": {"build": {"ssh": [
            "deploy: /src/keys/deploy",
            "default",
            "other=/src/keys/other",
            "spaced: /src/my keys/a: b",
        ]}}}});
        repair(&mut model);
        assert_eq!(
            model["services"]["app"]["build"]["ssh"],
            json!([
                "deploy=/src/keys/deploy",
                "default",
                "other=/src/keys/other",
                "spaced=/src/my keys/a: b",
            ])
        );
    }

    #[test]
    fn blkio_device_entries_get_the_keys_compose_s_schema_reads() {
        let mut model = json!({"services": {
            "app": {"blkio_config": {
                "weight": 300,
                "weight_device": [{"Path": "/dev/sda", "Weight": 400}],
                "device_read_bps": [{"Path": "/dev/sda", "Rate": "12582912"}],
                "device_read_iops": [{"Path": "/dev/sda", "Rate": "120"}],
                "device_write_bps": [{"path": "/dev/sdb", "rate": "1024"}],
                "device_write_iops": [{"Path": "/dev/sda", "Rate": "30"}],
            }},
            "plain": {"image": "x"},
        }});
        repair(&mut model);
        assert_eq!(
            model["services"]["app"]["blkio_config"],
            json!({
                "weight": 300,
                "weight_device": [{"path": "/dev/sda", "weight": 400}],
                "device_read_bps": [{"path": "/dev/sda", "rate": "12582912"}],
                "device_read_iops": [{"path": "/dev/sda", "rate": "120"}],
                "device_write_bps": [{"path": "/dev/sdb", "rate": "1024"}],
                "device_write_iops": [{"path": "/dev/sda", "rate": "30"}],
            })
        );
        assert_eq!(model["services"]["plain"], json!({"image": "x"}));
    }

    #[test]
    fn models_services_name_but_the_json_leaves_out_send_for_the_yaml() {
        let json_form = json!({"services": {
            "chat": {"models": {"llm": {"endpoint_var": "URL"}}},
            "plain": {"image": "x"},
        }});
        assert!(uses_undeclared_models(&json_form));
        let yaml_form = json!({
            "services": {"chat": {"models": {"llm": {"endpoint_var": "URL"}}}},
            "models": {"llm": {"model": "ai/smollm2"}},
        });
        assert!(!uses_undeclared_models(&yaml_form));
        assert!(!uses_undeclared_models(
            &json!({"services": {"plain": {"image": "x"}}})
        ));
    }

    #[test]
    fn ulimits_get_back_the_zero_limits_compose_s_json_leaves_out() {
        let mut model = json!({"services": {"app": {
            "ulimits": {"core": {}, "memlock": {"hard": 65536}, "nproc": 65535,
                        "nofile": {"soft": 1024, "hard": 2048}},
            "build": {"context": ".", "ulimits": {"core": {}}},
        }}});
        repair(&mut model);
        assert_eq!(
            model["services"]["app"]["ulimits"],
            json!({"core": {"soft": 0, "hard": 0}, "memlock": {"soft": 0, "hard": 65536},
                   "nproc": 65535, "nofile": {"soft": 1024, "hard": 2048}})
        );
        assert_eq!(
            model["services"]["app"]["build"]["ulimits"],
            json!({"core": {"soft": 0, "hard": 0}})
        );
    }

    #[test]
    fn an_empty_placement_goes_and_a_placement_with_constraints_stays() {
        let mut model = json!({"services": {
            "app": {"deploy": {"resources": {"limits": {"cpus": "1"}}, "placement": {}}},
            "pinned": {"deploy": {"placement": {"constraints": ["node.role==manager"]}}},
        }});
        repair(&mut model);
        assert_eq!(
            model["services"]["app"]["deploy"],
            json!({"resources": {"limits": {"cpus": "1"}}})
        );
        assert_eq!(
            model["services"]["pinned"]["deploy"],
            json!({"placement": {"constraints": ["node.role==manager"]}})
        );
    }

    #[test]
    fn a_model_without_services_is_left_alone() {
        let mut model = json!({"name": "x"});
        repair(&mut model);
        assert_eq!(model, json!({"name": "x"}));
    }

    #[test]
    fn the_yaml_call_is_the_json_call_with_another_format() {
        let command = ComposeCommand {
            argv: [
                "docker", "compose", "-p", "json", "config", "--format", "json",
            ]
            .map(String::from)
            .to_vec(),
            directory: "/src".into(),
            env: Default::default(),
        };
        assert_eq!(
            as_yaml(&command).unwrap().argv,
            [
                "docker", "compose", "-p", "json", "config", "--format", "yaml"
            ]
        );
        let other = ComposeCommand {
            argv: vec!["docker".into(), "compose".into(), "config".into()],
            ..command
        };
        assert!(as_yaml(&other).is_none());
    }
}
