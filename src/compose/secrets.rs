//! Which values of a compose model are secret, and the model with them masked for display.
//!
//! A value is secret when its name says so (`DB_PASSWORD`, `API_TOKEN`, `APP_KEY`, …), when
//! it is the variable a top-level secret is read from, or when it holds such a value (a
//! connection string built from a password, a command or healthcheck given the value of a
//! secret-named variable of the env file); a URL's password is secret wherever it is.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::compose::model::entries;

/// What a masked value is shown as: a fixed string, so that nothing of its length shows.
pub(crate) const MASK: &str = "********";

/// Whether output shows secret values or masks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secrets {
    Masked,
    Shown,
}

/// Secret values shorter than this are not searched for inside other values: they would
/// match by chance.
const SHORTEST_SEARCHED: usize = 4;

/// Whether a variable's name says it holds a secret (not a setting about one, nor where one
/// is).
pub(crate) fn is_secret_name(name: &str) -> bool {
    let upper = name.to_uppercase();
    let hints = [
        "PASSWORD",
        "PASSWD",
        "SECRET",
        "TOKEN",
        "API_KEY",
        "APIKEY",
        "PRIVATE_KEY",
        "ACCESS_KEY",
        "CREDENTIAL",
    ];
    hints.iter().any(|hint| upper.contains(hint)) && !is_about_a_secret(&upper)
}

/// Whether an upper-case name is where a secret is or a setting about one:
/// `DB_PASSWORD_FILE`, `TOKEN_URL`, `ALLOW_EMPTY_PASSWORD`, `PASSWORD_MIN_LENGTH`, …
fn is_about_a_secret(upper: &str) -> bool {
    let pointer = ["_FILE", "_PATH", "_DIR", "_URL", "_HOST", "_USER", "_NAME"];
    // Settings about a secret, not the secret: ALLOW_EMPTY_PASSWORD, PASSWORD_MIN_LENGTH, …
    let about = [
        "ALLOW", "RANDOM", "LENGTH", "MIN_", "_MIN", "MAX_", "_MAX", "EXPIR", "POLICY", "ROTATION",
    ];
    pointer.iter().any(|suffix| upper.ends_with(suffix))
        || about.iter().any(|part| upper.contains(part))
}

/// Whether a value under this name is masked: a secret's name, or a name with the word
/// `KEY` (`APP_KEY`, `ENCRYPTION_KEY`, `KEY`), which `is_secret_name` leaves to the
/// specific kinds of key; the same names are where a secret is, or a setting about one.
pub(crate) fn is_masked_name(name: &str) -> bool {
    let upper = name.to_uppercase();
    let key = upper
        .split(|character: char| !character.is_ascii_alphanumeric())
        .any(|word| word == "KEY" || word == "KEYS");
    is_secret_name(name) || (key && !is_about_a_secret(&upper))
}

/// What decides, over one model, which values are masked.
#[derive(Debug)]
pub(crate) struct Masking {
    /// The variables the model's top-level secrets are read from (`environment:`).
    secret_sources: BTreeSet<String>,
    /// The values under secret names, searched for inside other values.
    values: Vec<String>,
}

impl Masking {
    /// The masking of a resolved compose model: the names its secrets are read from, and
    /// the values of its services' environment and build arguments under secret names.
    pub(crate) fn of(model: &Value) -> Masking {
        let mut masking = Masking {
            secret_sources: entries(model, "secrets")
                .filter_map(|(_, secret)| secret.get("environment").and_then(Value::as_str))
                .map(str::to_string)
                .collect(),
            values: Vec::new(),
        };
        let mut values = BTreeSet::new();
        for (_, service) in entries(model, "services") {
            let build_args = service.get("build").and_then(|build| build.get("args"));
            for variables in [service.get("environment"), build_args]
                .into_iter()
                .flatten()
            {
                for (name, value) in assignments(variables) {
                    if masking.is_secret(&name) && value.chars().count() >= SHORTEST_SEARCHED {
                        values.insert(value);
                    }
                }
            }
        }
        masking.values = values.into_iter().collect();
        masking
    }

    /// Also searches for the values of `variables` (those set for compose: env files and
    /// the environment) under secret names: interpolated into a command, a healthcheck or a
    /// label, they show there.
    pub(crate) fn with_variables(mut self, variables: &BTreeMap<String, String>) -> Masking {
        let mut values: BTreeSet<String> = std::mem::take(&mut self.values).into_iter().collect();
        values.extend(
            variables
                .iter()
                .filter(|(name, value)| {
                    self.is_secret(name) && value.chars().count() >= SHORTEST_SEARCHED
                })
                .map(|(_, value)| value.clone()),
        );
        self.values = values.into_iter().collect();
        self
    }

    fn is_secret(&self, name: &str) -> bool {
        is_masked_name(name) || self.secret_sources.contains(name)
    }

    /// How a variable's value is shown: the mask for a secret name, else as `text`.
    pub(crate) fn value(&self, name: &str, value: &str) -> String {
        if self.is_secret(name) {
            return MASK.to_string();
        }
        self.text(value)
    }

    /// A text with no name: with any URL password masked, then the mask if it still holds
    /// a secret value.
    fn text(&self, text: &str) -> String {
        let shown = mask_url_passwords(text);
        match self
            .values
            .iter()
            .any(|secret| shown.contains(secret.as_str()))
        {
            true => MASK.to_string(),
            false => shown,
        }
    }

    /// A copy of the model with its secret values masked: the services' `environment`,
    /// `build.args` and `labels` (by name or value), their `command`, `entrypoint` and
    /// `healthcheck.test` (by value), the `content` of top-level secrets (always) and configs.
    pub(crate) fn model(&self, model: &Value) -> Value {
        let mut masked = model.clone();
        if let Some(services) = masked.get_mut("services").and_then(Value::as_object_mut) {
            for service in services.values_mut() {
                for variables in ["environment", "labels"] {
                    if let Some(variables) = service.get_mut(variables) {
                        self.mask_variables(variables);
                    }
                }
                if let Some(args) = service
                    .get_mut("build")
                    .and_then(|build| build.get_mut("args"))
                {
                    self.mask_variables(args);
                }
                for words in ["command", "entrypoint"] {
                    if let Some(words) = service.get_mut(words) {
                        self.mask_texts(words);
                    }
                }
                if let Some(test) = service
                    .get_mut("healthcheck")
                    .and_then(|healthcheck| healthcheck.get_mut("test"))
                {
                    self.mask_texts(test);
                }
            }
        }
        for (section, always) in [("secrets", true), ("configs", false)] {
            let Some(definitions) = masked.get_mut(section).and_then(Value::as_object_mut) else {
                continue;
            };
            for (name, definition) in definitions.iter_mut() {
                let Some(content) = definition
                    .get_mut("content")
                    .filter(|content| !content.is_null())
                else {
                    continue;
                };
                let shown = match content.as_str() {
                    _ if always || self.is_secret(name) => MASK.to_string(),
                    Some(text) => self.text(text),
                    None => continue,
                };
                *content = Value::String(shown);
            }
        }
        masked
    }

    /// Masks, in place, a text or each text of a list (a command's words), by value.
    fn mask_texts(&self, texts: &mut Value) {
        match texts {
            Value::String(text) => *text = self.text(text),
            Value::Array(items) => {
                for item in items {
                    if let Value::String(text) = item {
                        *text = self.text(text);
                    }
                }
            }
            _ => {}
        }
    }

    /// Masks, in place, a map of variables (`NAME: value`), or a list of `NAME=value`.
    pub(crate) fn mask_variables(&self, variables: &mut Value) {
        match variables {
            Value::Object(map) => self.mask_map(map),
            Value::Array(items) => {
                for item in items {
                    let Some((name, value)) = item.as_str().and_then(|text| text.split_once('='))
                    else {
                        continue;
                    };
                    *item = Value::String(format!("{name}={}", self.value(name, value)));
                }
            }
            _ => {}
        }
    }

    fn mask_map(&self, map: &mut Map<String, Value>) {
        for (name, value) in map.iter_mut() {
            let shown = match value {
                Value::String(text) => self.value(name, text),
                Value::Number(_) | Value::Bool(_) if self.is_secret(name) => MASK.to_string(),
                _ => continue,
            };
            *value = Value::String(shown);
        }
    }
}

/// A copy of `value` (a masked model) in which every string that holds one of `values` (those
/// of at least `SHORTEST_SEARCHED` characters), whatever its name, is the mask: for a model
/// carried to another machine, whose receiver brings its own env file.
pub(crate) fn without_values(value: &Value, values: &[String]) -> Value {
    let searched: Vec<&str> = values
        .iter()
        .map(String::as_str)
        .filter(|value| value.chars().count() >= SHORTEST_SEARCHED)
        .collect();
    let holds = |text: &str| searched.iter().any(|value| text.contains(value));
    fn walk(value: &mut Value, holds: &dyn Fn(&str) -> bool) {
        match value {
            Value::String(text) if holds(text) => *text = MASK.to_string(),
            Value::Array(items) => items.iter_mut().for_each(|item| walk(item, holds)),
            Value::Object(map) => map.values_mut().for_each(|item| walk(item, holds)),
            _ => {}
        }
    }
    let mut copy = value.clone();
    walk(&mut copy, &holds);
    copy
}

/// The `NAME`, value pairs of a map of variables or a list of `NAME=value` with a value.
fn assignments(variables: &Value) -> Vec<(String, String)> {
    match variables {
        Value::Object(map) => map
            .iter()
            .filter_map(|(name, value)| Some((name.clone(), scalar(value)?)))
            .collect(),
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .filter_map(|item| item.split_once('='))
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect(),
        _ => Vec::new(),
    }
}

/// A string, number or boolean as text; none for null or a collection.
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// The text with the password of every URL (`scheme://user:password@host`) masked.
fn mask_url_passwords(text: &str) -> String {
    let mut masked = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("://") {
        let authority_start = start + "://".len();
        masked.push_str(&rest[..authority_start]);
        rest = &rest[authority_start..];
        let authority_end = rest
            .find(|character: char| {
                matches!(character, '/' | '?' | '#') || character.is_whitespace()
            })
            .unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        match authority.rfind('@').and_then(|at| {
            let user_information = &authority[..at];
            user_information.find(':').map(|colon| (colon, at))
        }) {
            Some((colon, at)) => {
                masked.push_str(&authority[..=colon]);
                masked.push_str(MASK);
                masked.push_str(&authority[at..]);
            }
            None => masked.push_str(authority),
        }
        rest = &rest[authority_end..];
    }
    masked.push_str(rest);
    masked
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_carried_model_holds_no_value_of_the_env_file_whatever_its_name() {
        let model = json!({
            "services": {"app": {
                "environment": {"GREETING": "hello-from-dotenv", "SHORT": "on"},
                "command": ["sh", "-c", "echo hello-from-dotenv"],
                "labels": {"note": "x hello-from-dotenv y"},
                "ports": [{"published": "on"}],
            }},
        });
        let carried = without_values(&model, &["hello-from-dotenv".into(), "on".into()]);
        let text = carried.to_string();
        assert!(!text.contains("hello-from-dotenv"), "{text}");
        assert_eq!(carried["services"]["app"]["environment"]["GREETING"], MASK);
        assert_eq!(carried["services"]["app"]["command"][0], "sh");
        assert_eq!(carried["services"]["app"]["command"][2], MASK);
        // Values too short to search for stay: they would match by chance.
        assert_eq!(carried["services"]["app"]["environment"]["SHORT"], "on");
    }

    #[test]
    fn secret_names() {
        for secret in [
            "DB_PASSWORD",
            "api_key",
            "GITHUB_TOKEN",
            "AWS_SECRET_ACCESS_KEY",
        ] {
            assert!(is_secret_name(secret), "{secret}");
        }
        for setting in [
            "DB_PASSWORD_FILE",
            "TOKEN_URL",
            "MYSQL_ALLOW_EMPTY_PASSWORD",
            "PASSWORD_MIN_LENGTH",
            "TOKEN_EXPIRY",
            "DATABASE_HOST",
        ] {
            assert!(!is_secret_name(setting), "{setting}");
        }
    }

    #[test]
    fn masked_names_add_keys_to_secret_names() {
        for name in ["APP_KEY", "KEY", "encryption-key", "SIGNING_KEYS"] {
            assert!(!is_secret_name(name) && is_masked_name(name), "{name}");
        }
        for name in [
            "SECRET_KEY",
            "POSTGRES_PASSWORD",
            "API_TOKEN",
            "PRIVATE_KEY",
            "DB_PASSWD",
            "GOOGLE_CREDENTIALS",
        ] {
            assert!(is_masked_name(name), "{name}");
        }
        for name in [
            "LOG_LEVEL",
            "DB_PASSWORD_FILE",
            "APP_KEY_PATH",
            "MONKEY",
            "KEYBOARD",
            "KEY_MAX_AGE",
            "TOKEN_URL",
        ] {
            assert!(!is_masked_name(name), "{name}");
        }
    }

    #[test]
    fn the_model_keeps_its_shape_with_secret_values_masked() {
        let model = json!({
            "name": "demo",
            "services": {
                "app": {
                    "image": "app:1",
                    "environment": {
                        "POSTGRES_PASSWORD": "hunter2-secret",
                        "API_TOKEN": "tok-0123",
                        "APP_KEY": "base64:abc",
                        "LOG_LEVEL": "debug",
                        "DB_PASSWORD_FILE": "/run/secrets/db",
                        "UNSET": null,
                        "DATABASE_URL": "postgres://app:hunter2-secret@db/app",
                        "JAVA_OPTS": "-Ddb.pass=hunter2-secret -Xmx1g",
                    },
                    "build": {"context": ".", "args": {"NPM_TOKEN": "npm-0123", "NODE_ENV": "dev"}},
                },
                "worker": {"environment": ["SECRET_KEY=s3cr3t-value", "MODE=batch"]},
            },
        });
        let masking = Masking::of(&model);
        let masked = masking.model(&model);
        assert_eq!(
            masked["services"]["app"]["environment"],
            json!({
                "POSTGRES_PASSWORD": MASK,
                "API_TOKEN": MASK,
                "APP_KEY": MASK,
                "LOG_LEVEL": "debug",
                "DB_PASSWORD_FILE": "/run/secrets/db",
                "UNSET": null,
                "DATABASE_URL": format!("postgres://app:{MASK}@db/app"),
                "JAVA_OPTS": MASK,
            })
        );
        assert_eq!(
            masked["services"]["app"]["build"],
            json!({"context": ".", "args": {"NPM_TOKEN": MASK, "NODE_ENV": "dev"}})
        );
        assert_eq!(
            masked["services"]["worker"]["environment"],
            json!([format!("SECRET_KEY={MASK}"), "MODE=batch"])
        );
        assert_eq!(masked["services"]["app"]["image"], "app:1");
        let text = masked.to_string();
        for secret in [
            "hunter2-secret",
            "tok-0123",
            "base64:abc",
            "npm-0123",
            "s3cr3t",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }

    #[test]
    fn what_top_level_secrets_read_is_masked() {
        let model = json!({
            "name": "demo",
            "services": {"db": {"environment": {"DB_PASS": "swordfish", "OTHER": "swordfish!"}}},
            "secrets": {
                "db": {"name": "demo_db", "environment": "DB_PASS"},
                "inline": {"name": "demo_inline", "content": "anything"},
                "file": {"name": "demo_file", "file": "/srv/db.txt"},
            },
            "configs": {
                "settings": {"content": "level=debug"},
                "database": {"content": "password=swordfish"},
                "api_token": {"content": "opaque"},
                "from_variable": {"environment": "DB_PASS"},
            },
        });
        let masked = Masking::of(&model).model(&model);
        assert_eq!(
            masked["services"]["db"]["environment"],
            json!({"DB_PASS": MASK, "OTHER": MASK})
        );
        assert_eq!(masked["secrets"]["db"]["environment"], "DB_PASS");
        assert_eq!(masked["secrets"]["inline"]["content"], MASK);
        assert_eq!(masked["secrets"]["file"]["file"], "/srv/db.txt");
        assert_eq!(masked["configs"]["settings"]["content"], "level=debug");
        assert_eq!(masked["configs"]["database"]["content"], MASK);
        assert_eq!(masked["configs"]["api_token"]["content"], MASK);
        assert_eq!(masked["configs"]["from_variable"]["environment"], "DB_PASS");
    }

    #[test]
    fn short_secret_values_are_not_searched_for() {
        let model = json!({
            "name": "demo",
            "services": {"app": {"environment": {"PASSWORD": "abc", "GREETING": "abcdef"}}},
        });
        let masked = Masking::of(&model).model(&model);
        assert_eq!(
            masked["services"]["app"]["environment"],
            json!({"PASSWORD": MASK, "GREETING": "abcdef"})
        );
    }

    #[test]
    fn url_passwords() {
        assert_eq!(
            mask_url_passwords("redis://:pw@cache:6379/0 and https://user:p@ss@host/x"),
            format!("redis://:{MASK}@cache:6379/0 and https://user:{MASK}@host/x")
        );
        for plain in [
            "https://example.com/a:b@c",
            "postgres://app@db/app",
            "no url here",
            "http://",
        ] {
            assert_eq!(mask_url_passwords(plain), plain);
        }
    }

    #[test]
    fn secrets_of_the_env_file_are_masked_in_commands_healthchecks_labels_and_build_args() {
        let model = json!({
            "name": "demo",
            "services": {
                "app": {
                    "image": "app:1",
                    "environment": {"POSTGRES_PASSWORD": "known-secret"},
                    "command": ["sh", "-c", "login --password=env-file-secret && serve"],
                    "entrypoint": "run --key=known-secret",
                    "healthcheck": {"test": ["CMD", "probe", "--token=env-file-secret", "--quiet"]},
                    "labels": {"probe.login": "app:env-file-secret", "db.password": "x", "tier": "web"},
                    "build": {"context": ".", "args": {"PROBE": "env-file-secret", "MODE": "dev"}}
                },
                "db": {"image": "db:1", "healthcheck": {"test": "CMD-SHELL probe known-secret"}, "labels": ["owner=env-file-secret", "tier=db"]}
            }
        });
        let variables = BTreeMap::from([
            ("DB_PASSWORD".to_string(), "env-file-secret".to_string()),
            ("LOG_LEVEL".to_string(), "debug".to_string()),
            ("API_TOKEN".to_string(), "abc".to_string()),
        ]);
        let masked = Masking::of(&model).with_variables(&variables).model(&model);
        let app = &masked["services"]["app"];
        assert_eq!(app["command"], json!(["sh", "-c", MASK]));
        assert_eq!(app["entrypoint"], MASK);
        assert_eq!(
            app["healthcheck"]["test"],
            json!(["CMD", "probe", MASK, "--quiet"])
        );
        assert_eq!(
            app["labels"],
            json!({"probe.login": MASK, "db.password": MASK, "tier": "web"})
        );
        assert_eq!(app["build"]["args"], json!({"PROBE": MASK, "MODE": "dev"}));
        let db = &masked["services"]["db"];
        assert_eq!(db["healthcheck"]["test"], MASK);
        assert_eq!(db["labels"], json!([format!("owner={MASK}"), "tier=db"]));
        // A value under a name that is not secret, or too short to search for, is not searched.
        let debug = json!({"services": {"app": {"command": ["run", "--level=debug", "--abc"]}}});
        let shown = Masking::of(&debug).with_variables(&variables).model(&debug);
        assert_eq!(shown, debug);
        // Without the variables, a value set only in the env file is not known.
        let unknown = Masking::of(&model).model(&model);
        assert_eq!(
            unknown["services"]["app"]["command"][2],
            "login --password=env-file-secret && serve"
        );
    }
}
