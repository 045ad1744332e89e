//! What a bundle's image archive (a `docker save` tar) would do to an engine, read before
//! `docker load` runs: the tags it gives (its `manifest.json`, its OCI `index.json` and its
//! legacy `repositories` file) must all be references the bundle's index carries, and every
//! carried image's id must be one the archive holds (a config whose bytes hash to its name,
//! or a manifest its index lists). A `docker load` gives every tag it finds, so an archive
//! that would retag any other image is refused before it is loaded.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Component, Path};

use sha2::{Digest, Sha256};

use crate::backup::bundle::ImageRecord;
use crate::report::text::escaped;

/// The most a metadata file of the archive may hold.
const METADATA_LIMIT: u64 = 16 << 20;
/// The most a config may hold to be hashed.
const CONFIG_LIMIT: u64 = 4 << 20;

/// `reference` as the engine names it: `docker.io/library/` left out, `:latest` added when
/// it has no tag and no digest.
fn normalized(reference: &str) -> String {
    let short = reference
        .strip_prefix("docker.io/library/")
        .or_else(|| reference.strip_prefix("docker.io/"))
        .unwrap_or(reference);
    let name = short.rsplit('/').next().unwrap_or(short);
    match name.contains(':') || short.contains('@') {
        true => short.to_string(),
        false => format!("{short}:latest"),
    }
}

/// The archive's path for an entry, as `docker load` extracts it (`./` and `.` dropped).
fn entry_name(path: &Path) -> String {
    path.components()
        .filter(|component| !matches!(component, Component::CurDir))
        .map(|component| component.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// The values of every key of `object` that is `field` in any case (Go's decoder matches
/// field names so), refusing more than one.
fn field<'a>(
    object: &'a serde_json::Value,
    field: &str,
) -> Result<Option<&'a serde_json::Value>, String> {
    let Some(map) = object.as_object() else {
        return Err("an entry is not an object".into());
    };
    let mut found = map
        .iter()
        .filter(|(key, _)| key.eq_ignore_ascii_case(field));
    let first = found.next().map(|(_, value)| value);
    match found.next() {
        Some(_) => Err(format!("an entry has `{field}` more than once")),
        None => Ok(first),
    }
}

fn strings(value: Option<&serde_json::Value>) -> Result<Vec<String>, String> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(Vec::new()),
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| "a tag is not a string".to_string())
            })
            .collect(),
        Some(serde_json::Value::String(text)) => Ok(vec![text.clone()]),
        Some(_) => Err("a list of tags is not a list".into()),
    }
}

/// Checks the image archive `archive` against the images the bundle says it carries.
pub fn check(archive: &mut dyn Read, carried: &[ImageRecord]) -> Result<(), String> {
    let references: BTreeSet<String> = carried
        .iter()
        .map(|image| normalized(&image.reference))
        .collect();
    let tags_of_references: BTreeSet<&str> = references
        .iter()
        .filter_map(|reference| {
            let name = reference.rsplit('/').next()?;
            name.split_once(':').map(|(_, tag)| tag)
        })
        .collect();
    let mut metadata: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut hashed: BTreeMap<String, String> = BTreeMap::new();
    let mut tar = tar::Archive::new(archive);
    let entries = tar
        .entries()
        .map_err(|error| format!("its image archive cannot be read: {error}"))?;
    for entry in entries {
        let mut entry =
            entry.map_err(|error| format!("its image archive cannot be read: {error}"))?;
        let path = entry
            .path()
            .map_err(|error| format!("its image archive cannot be read: {error}"))?;
        let name = entry_name(&path);
        let regular = entry.header().entry_type().is_file();
        if matches!(
            name.as_str(),
            "manifest.json" | "index.json" | "repositories"
        ) {
            if !regular || metadata.contains_key(&name) {
                return Err(format!(
                    "its image archive's {name} is not one regular file"
                ));
            }
            let mut bytes = Vec::new();
            (&mut entry)
                .take(METADATA_LIMIT + 1)
                .read_to_end(&mut bytes)
                .map_err(|error| format!("its image archive cannot be read: {error}"))?;
            if bytes.len() as u64 > METADATA_LIMIT {
                return Err(format!("its image archive's {name} is too large"));
            }
            metadata.insert(name, bytes);
        } else if regular && entry.size() <= CONFIG_LIMIT {
            let mut bytes = Vec::new();
            entry
                .read_to_end(&mut bytes)
                .map_err(|error| format!("its image archive cannot be read: {error}"))?;
            hashed.insert(name, hex::encode(Sha256::digest(&bytes)));
        }
    }
    let foreign = |tag: &str| !references.contains(&normalized(tag));
    let Some(manifest) = metadata.get("manifest.json") else {
        return Err(
            "its image archive has no manifest.json (it is not what `docker save` writes)".into(),
        );
    };
    let manifest: serde_json::Value = serde_json::from_slice(manifest)
        .map_err(|error| format!("its image archive's manifest.json cannot be read: {error}"))?;
    let Some(entries) = manifest.as_array() else {
        return Err("its image archive's manifest.json is not a list".into());
    };
    let mut held: BTreeSet<String> = BTreeSet::new();
    for entry in entries {
        let why = |why: String| format!("its image archive's manifest.json: {why}");
        for tag in strings(field(entry, "RepoTags").map_err(why)?).map_err(why)? {
            if foreign(&tag) {
                return Err(format!(
                    "its image archive would tag image {}, which the bundle does not carry",
                    escaped(&tag)
                ));
            }
        }
        let config = field(entry, "Config")
            .map_err(why)?
            .and_then(|config| config.as_str())
            .ok_or_else(|| why("an entry names no config".into()))?;
        let name = entry_name(Path::new(config));
        let hex = name
            .rsplit('/')
            .next()
            .unwrap_or(&name)
            .trim_end_matches(".json");
        if hashed.get(&name).map(String::as_str) == Some(hex) {
            held.insert(format!("sha256:{hex}"));
        }
    }
    if let Some(index) = metadata.get("index.json") {
        let index: serde_json::Value = serde_json::from_slice(index)
            .map_err(|error| format!("its image archive's index.json cannot be read: {error}"))?;
        let why = |why: String| format!("its image archive's index.json: {why}");
        let manifests = field(&index, "manifests").map_err(why)?;
        for entry in manifests.and_then(|m| m.as_array()).into_iter().flatten() {
            if let Some(annotations) = field(entry, "annotations").map_err(why)?
                && let Some(annotations) = annotations.as_object()
            {
                for (key, value) in annotations {
                    let value = value.as_str().unwrap_or_default();
                    let named = match key.as_str() {
                        "io.containerd.image.name" => foreign(value),
                        "org.opencontainers.image.ref.name" => {
                            foreign(value) && !tags_of_references.contains(value)
                        }
                        _ => false,
                    };
                    if named {
                        return Err(format!(
                            "its image archive would tag image {}, which the bundle does not carry",
                            escaped(value)
                        ));
                    }
                }
            }
            if let Some(digest) = field(entry, "digest")
                .map_err(why)?
                .and_then(|d| d.as_str())
            {
                held.insert(digest.to_string());
            }
        }
    }
    if let Some(repositories) = metadata.get("repositories") {
        let repositories: BTreeMap<String, BTreeMap<String, serde_json::Value>> =
            serde_json::from_slice(repositories).map_err(|error| {
                format!("its image archive's repositories cannot be read: {error}")
            })?;
        for (repository, tags) in &repositories {
            for tag in tags.keys() {
                let tag = format!("{repository}:{tag}");
                if foreign(&tag) {
                    return Err(format!(
                        "its image archive would tag image {}, which the bundle does not carry",
                        escaped(&tag)
                    ));
                }
            }
        }
    }
    for image in carried {
        let id = image.id.as_deref().unwrap_or_default();
        if !held.contains(id) {
            return Err(format!(
                "its image archive does not hold image {} ({}) that its index records",
                escaped(&image.reference),
                escaped(id)
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(reference: &str, id: &str) -> ImageRecord {
        ImageRecord {
            service: "app".into(),
            reference: reference.into(),
            id: Some(id.into()),
            built: true,
            saved: true,
        }
    }

    fn archive(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut tar = tar::Builder::new(Vec::new());
        for (name, bytes) in files {
            let mut header = tar::Header::new_ustar();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append_data(&mut header, name, *bytes).unwrap();
        }
        tar.into_inner().unwrap()
    }

    const CONFIG: &[u8] = b"{\"architecture\":\"amd64\"}";

    fn config_hex() -> String {
        hex::encode(Sha256::digest(CONFIG))
    }

    fn saved(tags: &str) -> Vec<u8> {
        let hex = config_hex();
        let manifest = format!("[{{\"Config\":\"{hex}.json\",\"RepoTags\":{tags},\"Layers\":[]}}]");
        archive(&[
            (&format!("{hex}.json"), CONFIG),
            ("manifest.json", manifest.as_bytes()),
        ])
    }

    #[test]
    fn an_archive_of_the_carried_images_passes() {
        let id = format!("sha256:{}", config_hex());
        let carried = [record("shop-app", &id)];
        check(&mut saved("[\"shop-app:latest\"]").as_slice(), &carried).unwrap();
        check(
            &mut saved("[\"docker.io/library/shop-app\"]").as_slice(),
            &carried,
        )
        .unwrap();
        check(&mut saved("null").as_slice(), &carried).unwrap();
    }

    #[test]
    fn tags_of_other_images_ids_not_held_and_odd_metadata_are_refused() {
        let id = format!("sha256:{}", config_hex());
        let carried = [record("shop-app", &id)];
        let error = check(
            &mut saved("[\"shop-app:latest\", \"postgres:15\"]").as_slice(),
            &carried,
        )
        .unwrap_err();
        assert!(error.contains("would tag image postgres:15"), "{error}");
        let other = [record("shop-app", &format!("sha256:{}", "0".repeat(64)))];
        let error = check(&mut saved("[\"shop-app\"]").as_slice(), &other).unwrap_err();
        assert!(error.contains("does not hold image shop-app"), "{error}");
        // A config that is not what its name says is not the image.
        let hex = config_hex();
        let manifest = format!("[{{\"Config\":\"{hex}.json\",\"RepoTags\":[\"shop-app\"]}}]");
        let lying = archive(&[
            (&format!("{hex}.json"), b"{}"),
            ("manifest.json", manifest.as_bytes()),
        ]);
        let error = check(&mut lying.as_slice(), &carried).unwrap_err();
        assert!(error.contains("does not hold image"), "{error}");
        // Field names in another case, twice, or a manifest given twice.
        let manifest = format!(
            "[{{\"Config\":\"{hex}.json\",\"RepoTags\":[\"shop-app\"],\"repotags\":[\"x\"]}}]"
        );
        let twice = archive(&[
            (&format!("{hex}.json"), CONFIG),
            ("manifest.json", manifest.as_bytes()),
        ]);
        let error = check(&mut twice.as_slice(), &carried).unwrap_err();
        assert!(error.contains("more than once"), "{error}");
        let manifest = format!("[{{\"Config\":\"{hex}.json\",\"repotags\":[\"busybox\"]}}]");
        let lower = archive(&[
            (&format!("{hex}.json"), CONFIG),
            ("manifest.json", manifest.as_bytes()),
        ]);
        let error = check(&mut lower.as_slice(), &carried).unwrap_err();
        assert!(error.contains("busybox"), "{error}");
        let good = format!("[{{\"Config\":\"{hex}.json\",\"RepoTags\":[\"shop-app\"]}}]");
        let doubled = archive(&[
            (&format!("{hex}.json"), CONFIG),
            ("manifest.json", good.as_bytes()),
            ("./manifest.json", b"[]"),
        ]);
        let error = check(&mut doubled.as_slice(), &carried).unwrap_err();
        assert!(error.contains("not one regular file"), "{error}");
        let legacy = archive(&[
            (&format!("{hex}.json"), CONFIG),
            ("manifest.json", good.as_bytes()),
            ("repositories", b"{\"busybox\":{\"1\":\"x\"}}"),
        ]);
        let error = check(&mut legacy.as_slice(), &carried).unwrap_err();
        assert!(error.contains("busybox:1"), "{error}");
        let index = archive(&[
            (&format!("{hex}.json"), CONFIG),
            ("manifest.json", good.as_bytes()),
            (
                "index.json",
                b"{\"manifests\":[{\"digest\":\"sha256:1\",\"annotations\":{\"io.containerd.image.name\":\"docker.io/library/busybox:1\"}}]}",
            ),
        ]);
        let error = check(&mut index.as_slice(), &carried).unwrap_err();
        assert!(error.contains("busybox:1"), "{error}");
        let error = check(&mut archive(&[("x", b"y")]).as_slice(), &carried).unwrap_err();
        assert!(error.contains("no manifest.json"), "{error}");
    }
}
