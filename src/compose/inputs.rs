//! `ComposeInputs`: every file and variable a `docker compose config` result depends on.
//!
//! Starting from the compose files and env files compose will read, it follows `include`,
//! `extends.file` and `env_file` entries, and collects the variables the files interpolate
//! (`$NAME`, `${NAME…}`) or pass through (`environment: [NAME]`). compose still does all the
//! merging; this only tells the model cache what to watch. Anything it cannot follow (a file
//! that is not YAML, a remote include) makes the inputs uncacheable rather than wrong.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::project::root::{COMPOSE_FILE_NAMES, COMPOSE_OVERRIDE_NAMES};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ComposeInputs {
    /// Files whose content the result depends on (some may not exist: that is a state too).
    pub files: BTreeSet<PathBuf>,
    /// Environment variables whose values the result depends on.
    pub variables: BTreeSet<String>,
    /// Why these inputs cannot be trusted for caching, if they cannot.
    pub uncacheable: Option<String>,
}

impl ComposeInputs {
    /// Collects the inputs of a compose call run in `directory` with these `-f` and
    /// `--env-file` arguments (empty: compose's defaults).
    pub fn collect(
        directory: &Path,
        compose_files: &[String],
        env_files: &[String],
    ) -> ComposeInputs {
        let mut inputs = ComposeInputs::default();
        let start: Vec<PathBuf> = if !compose_files.is_empty() {
            compose_files
                .iter()
                .map(|file| directory.join(file))
                .collect()
        } else if let Some(list) = std::env::var_os("COMPOSE_FILE") {
            let separator = std::env::var("COMPOSE_PATH_SEPARATOR").unwrap_or_else(|_| ":".into());
            list.to_string_lossy()
                .split(separator.as_str())
                .map(|file| directory.join(file))
                .collect()
        } else {
            COMPOSE_FILE_NAMES
                .iter()
                .chain(COMPOSE_OVERRIDE_NAMES.iter())
                .map(|name| directory.join(name))
                .collect()
        };
        if env_files.is_empty() {
            inputs.add_text_file(&directory.join(".env"));
        }
        for env_file in env_files {
            inputs.add_text_file(&directory.join(env_file));
        }
        for file in start {
            inputs.add_compose_file(&file);
        }
        inputs
    }

    /// A file read as text: its content matters and it may interpolate variables.
    fn add_text_file(&mut self, path: &Path) {
        if !self.files.insert(path.to_path_buf()) {
            return;
        }
        if let Ok(text) = std::fs::read_to_string(path) {
            self.variables.extend(referenced_variables(&text));
        }
    }

    fn add_compose_file(&mut self, path: &Path) {
        if self.files.contains(path) {
            return;
        }
        self.add_text_file(path);
        let Ok(text) = std::fs::read_to_string(path) else {
            return;
        };
        let base = path.parent().unwrap_or(Path::new("."));
        let document: Value = match crate::compose::yaml::from_str(&text) {
            Ok(document) => document,
            Err(_) => {
                self.uncacheable = Some(format!("{} could not be followed", path.display()));
                return;
            }
        };
        if let Some(includes) = document.get("include") {
            for include in as_list(includes) {
                let paths = match include {
                    Value::String(path) => vec![path.clone()],
                    Value::Object(map) => {
                        for env_file in map.get("env_file").map(strings).unwrap_or_default() {
                            self.add_text_file(&base.join(env_file));
                        }
                        map.get("path").map(strings).unwrap_or_default()
                    }
                    _ => Vec::new(),
                };
                for included in paths {
                    if included.contains("://") {
                        self.uncacheable = Some(format!("remote include `{included}`"));
                        continue;
                    }
                    self.add_compose_file(&base.join(included));
                }
            }
        }
        let services = document.get("services").and_then(Value::as_object);
        for service in services.into_iter().flat_map(|map| map.values()) {
            if let Some(file) = service.pointer("/extends/file").and_then(Value::as_str) {
                self.add_compose_file(&base.join(file));
            }
            for entry in service.get("env_file").map(as_list).unwrap_or_default() {
                let file = match entry {
                    Value::String(file) => Some(file.as_str()),
                    Value::Object(map) => map.get("path").and_then(Value::as_str),
                    _ => None,
                };
                if let Some(file) = file {
                    self.add_text_file(&base.join(file));
                }
            }
            for section in [service.get("environment"), service.pointer("/build/args")] {
                self.variables.extend(pass_through_variables(section));
            }
        }
    }
}

fn as_list(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

fn strings(value: &Value) -> Vec<String> {
    as_list(value)
        .into_iter()
        .filter_map(|item| item.as_str().map(String::from))
        .collect()
}

/// Names used without a value (`- NAME` or `NAME:`), which compose takes from the environment.
fn pass_through_variables(section: Option<&Value>) -> Vec<String> {
    match section {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .filter(|item| !item.contains('='))
            .map(String::from)
            .collect(),
        Some(Value::Object(map)) => map
            .iter()
            .filter(|(_, value)| value.is_null())
            .map(|(key, _)| key.clone())
            .collect(),
        _ => Vec::new(),
    }
}

/// The variable names `text` interpolates: `$NAME` and `${NAME…}` (over-approximating `$$`).
pub fn referenced_variables(text: &str) -> BTreeSet<String> {
    let bytes = text.as_bytes();
    let mut names = BTreeSet::new();
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'$' {
            let mut start = index + 1;
            if bytes.get(start) == Some(&b'{') {
                start += 1;
            }
            let mut end = start;
            while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
                end += 1;
            }
            if end > start && !bytes[start].is_ascii_digit() {
                names.insert(text[start..end].to_string());
            }
            index = end.max(index + 1);
        } else {
            index += 1;
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_interpolated_names() {
        let names =
            referenced_variables("a: ${PORT:-80}\nb: $HOST/x\nc: $$ESCAPED ${REQ:?set it} $1");
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        assert_eq!(names, vec!["ESCAPED", "HOST", "PORT", "REQ"]);
    }

    #[test]
    fn follows_includes_extends_and_env_files() {
        let temp = tempfile::tempdir().unwrap();
        let root = temp.path();
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(
            root.join("compose.yaml"),
            "include:\n  - sub/extra.yaml\nservices:\n  a:\n    image: x:${TAG}\n    env_file: a.env\n    environment: [PASSED, SET=1]\n    extends:\n      file: base.yaml\n      service: b\n",
        )
        .unwrap();
        std::fs::write(
            root.join("sub/extra.yaml"),
            "services:\n  c:\n    image: y\n    env_file: [{path: c.env, required: false}]\n",
        )
        .unwrap();
        std::fs::write(root.join("base.yaml"), "services:\n  b:\n    image: z\n").unwrap();
        let inputs = ComposeInputs::collect(root, &[], &[]);
        for expected in [
            "compose.yaml",
            "sub/extra.yaml",
            "base.yaml",
            "a.env",
            "sub/c.env",
            ".env",
        ] {
            assert!(
                inputs.files.contains(&root.join(expected)),
                "missing {expected}: {inputs:?}"
            );
        }
        assert!(inputs.variables.contains("TAG") && inputs.variables.contains("PASSED"));
        assert!(!inputs.variables.contains("SET"));
        assert!(inputs.uncacheable.is_none());
    }

    #[test]
    fn remote_include_is_uncacheable() {
        let temp = tempfile::tempdir().unwrap();
        std::fs::write(
            temp.path().join("c.yaml"),
            "include:\n  - oci://example/app:1\n",
        )
        .unwrap();
        let inputs = ComposeInputs::collect(temp.path(), &["c.yaml".into()], &[]);
        assert!(inputs.uncacheable.is_some());
    }
}
