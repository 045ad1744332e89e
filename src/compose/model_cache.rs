//! `ModelCache`: resolved compose models, keyed by a hash of everything they depend on.
//!
//! An entry stores the model with the inputs compose read to produce it (`ComposeInputs`) and
//! a fingerprint over those inputs' current contents. A lookup recomputes the fingerprint and
//! uses the model only when nothing changed, so a command whose inputs did not change pays no
//! extra compose call. The cache is an optimisation only: any error reading it is a miss.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::compose::inputs::ComposeInputs;

/// Raised when the stored model's form changes (2: `compose::resolved`'s repairs).
const FORMAT: u32 = 2;

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    format: u32,
    fingerprint: String,
    inputs: ComposeInputs,
    model: Value,
}

#[derive(Debug, Clone)]
pub struct ModelCache {
    directory: PathBuf,
}

impl ModelCache {
    pub fn new(directory: PathBuf) -> ModelCache {
        ModelCache { directory }
    }

    /// The cached model for `identity` (the exact compose call, profile and tool versions),
    /// if none of its inputs changed since it was stored.
    pub fn lookup(&self, identity: &str) -> Option<Value> {
        let text = std::fs::read_to_string(self.entry_path(identity)).ok()?;
        let entry: Entry = serde_json::from_str(&text).ok()?;
        let current = fingerprint(identity, &entry.inputs)?;
        (entry.format == FORMAT && entry.fingerprint == current).then_some(entry.model)
    }

    /// Stores `model`; inputs that cannot be fingerprinted are not stored.
    pub fn store(&self, identity: &str, inputs: ComposeInputs, model: &Value) {
        let Some(fingerprint) = fingerprint(identity, &inputs) else {
            return;
        };
        let entry = Entry {
            format: FORMAT,
            fingerprint,
            inputs,
            model: model.clone(),
        };
        // A cache that cannot be written only costs a compose call next time.
        if let Ok(text) = serde_json::to_vec(&entry) {
            let _ = crate::system::files::write_atomic(&self.entry_path(identity), &text);
        }
    }

    fn entry_path(&self, identity: &str) -> PathBuf {
        let digest = Sha256::digest(identity.as_bytes());
        self.directory
            .join(format!("model-{}.json", hex::encode(&digest[..12])))
    }
}

/// A hash over the identity, every input file's content and every input variable's value,
/// plus every `COMPOSE_*` and `DOCKER_*` variable; `None` when the inputs are uncacheable.
fn fingerprint(identity: &str, inputs: &ComposeInputs) -> Option<String> {
    if inputs.uncacheable.is_some() {
        return None;
    }
    let mut hasher = Sha256::new();
    hasher.update(identity.as_bytes());
    for file in &inputs.files {
        hasher.update(b"\0file\0");
        hasher.update(file.as_os_str().as_encoded_bytes());
        hash_file(&mut hasher, file);
    }
    for name in &inputs.variables {
        hasher.update(b"\0var\0");
        hasher.update(name.as_bytes());
        hash_variable(&mut hasher, std::env::var_os(name).as_deref());
    }
    let mut engine_variables: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(key, value)| {
            Some((
                key.into_string().ok()?,
                value.to_string_lossy().into_owned(),
            ))
        })
        .filter(|(key, _)| key.starts_with("COMPOSE_") || key.starts_with("DOCKER_"))
        .collect();
    engine_variables.sort();
    for (key, value) in engine_variables {
        hasher.update(b"\0env\0");
        hasher.update(key.as_bytes());
        hasher.update(b"=");
        hasher.update(value.as_bytes());
    }
    Some(hex::encode(hasher.finalize()))
}

/// A file's content and modification time: an edit, or a `touch`, makes the entry stale.
fn hash_file(hasher: &mut Sha256, file: &Path) {
    let modified = std::fs::metadata(file)
        .and_then(|meta| meta.modified())
        .ok()
        .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |duration| duration.as_nanos());
    match std::fs::read(file) {
        Ok(bytes) => {
            hasher.update(b"present\0");
            hasher.update(modified.to_le_bytes());
            hasher.update(Sha256::digest(&bytes));
        }
        Err(_) => hasher.update(b"absent\0"),
    }
}

fn hash_variable(hasher: &mut Sha256, value: Option<&std::ffi::OsStr>) {
    match value {
        Some(value) => {
            hasher.update(b"set\0");
            hasher.update(value.as_encoded_bytes());
        }
        None => hasher.update(b"unset\0"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_input_file_misses() {
        let temp = tempfile::tempdir().unwrap();
        let file = temp.path().join("compose.yaml");
        std::fs::write(&file, "services: {}\n").unwrap();
        let cache = ModelCache::new(temp.path().join("cache"));
        let mut inputs = ComposeInputs::default();
        inputs.files.insert(file.clone());
        let model = serde_json::json!({"name": "x"});
        cache.store("id", inputs, &model);
        assert_eq!(cache.lookup("id"), Some(model));
        assert_eq!(cache.lookup("other id"), None);
        std::fs::write(&file, "services: {a: {image: b}}\n").unwrap();
        assert_eq!(cache.lookup("id"), None);
    }

    #[test]
    fn uncacheable_inputs_are_not_stored() {
        let temp = tempfile::tempdir().unwrap();
        let cache = ModelCache::new(temp.path().to_path_buf());
        let inputs = ComposeInputs {
            uncacheable: Some("remote include".into()),
            ..ComposeInputs::default()
        };
        cache.store("id", inputs, &serde_json::json!({}));
        assert_eq!(cache.lookup("id"), None);
    }
}
