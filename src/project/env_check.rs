//! The profile's env schema (`doctor.env_schema`): a JSON Schema the variables set for
//! compose must satisfy. It is read and compiled here only, for the check when a project
//! opens, for `up`'s env check and for `doctor`'s `required-variable-unset` findings.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Result;
use serde_json::{Value, json};

use crate::project::profile::Profile;
use crate::project::root::ProjectRoot;
use crate::report::failure::Failure;

/// A compiled env schema.
#[derive(Debug, Clone)]
pub struct EnvSchema {
    /// As the profile names it.
    pub name: String,
    /// On disk.
    pub path: PathBuf,
    validator: jsonschema::Validator,
}

impl EnvSchema {
    /// The schema `profile` names, read and compiled; `None` when it names none.
    pub fn load(root: &ProjectRoot, profile: &Profile) -> Result<Option<EnvSchema>, Failure> {
        let Some(name) = &profile.doctor.env_schema else {
            return Ok(None);
        };
        let path = root.path().join(name);
        let compiled = match std::fs::read_to_string(&path) {
            Err(error) => Err(error.to_string()),
            Ok(text) => match serde_json::from_str::<Value>(&text) {
                Err(error) => Err(format!("it is not JSON ({error})")),
                Ok(schema) => EnvSchema::compile(name, path.clone(), &schema),
            },
        };
        compiled.map(Some).map_err(|problem| {
            let origin = profile
                .source
                .as_ref()
                .map(|path| path.display().to_string())
                .unwrap_or_else(|| "the implicit profile".into());
            Failure::bad_input(format!(
                "{origin}: doctor.env_schema names `{name}`, which cannot be used: {problem}"
            ))
            .hint(format!(
                "point it at a JSON Schema file (relative to {}), or remove the key",
                root.path().display()
            ))
        })
    }

    /// The schema `name` (at `path`) from its JSON, or why it is not a JSON Schema.
    pub fn compile(name: &str, path: PathBuf, schema: &Value) -> Result<EnvSchema, String> {
        let validator = jsonschema::validator_for(schema)
            .map_err(|error| format!("it is not a JSON Schema ({error})"))?;
        Ok(EnvSchema {
            name: name.to_string(),
            path,
            validator,
        })
    }

    /// Every way `variables`, as a JSON object of strings, break the schema; one sentence
    /// each.
    pub fn problems(&self, variables: &BTreeMap<String, String>) -> Vec<String> {
        let instance = json!(variables);
        self.validator
            .iter_errors(&instance)
            .map(|error| {
                let at = error.instance_path().to_string();
                format!(
                    "the env does not satisfy {}: {error}{}",
                    self.name,
                    if at.is_empty() {
                        String::new()
                    } else {
                        format!(" (at {at})")
                    }
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(value: Value) -> EnvSchema {
        EnvSchema::compile("env.schema.json", PathBuf::from("env.schema.json"), &value).unwrap()
    }

    #[test]
    fn problems_name_the_schema_and_where_the_variables_break_it() {
        let schema = schema(json!({
            "type": "object",
            "properties": {"MODE": {"enum": ["dev", "production"]}},
            "required": ["TOKEN"],
        }));
        let variables = BTreeMap::from([("MODE".to_string(), "staging".to_string())]);
        assert_eq!(
            schema.problems(&variables),
            [
                r#"the env does not satisfy env.schema.json: "TOKEN" is a required property"#,
                r#"the env does not satisfy env.schema.json: "staging" is not one of "dev" or "production" (at /MODE)"#,
            ]
        );
        let variables = BTreeMap::from([
            ("MODE".to_string(), "dev".to_string()),
            ("TOKEN".to_string(), "t".to_string()),
        ]);
        assert_eq!(schema.problems(&variables), Vec::<String>::new());
    }

    #[test]
    fn a_schema_that_is_not_one_is_refused() {
        let problem = EnvSchema::compile("s.json", PathBuf::from("s.json"), &json!({"type": 12}))
            .unwrap_err();
        assert!(
            problem.starts_with("it is not a JSON Schema ("),
            "{problem}"
        );
    }
}
