//! `ProfileSet`: the profiles of a project, and which one runs.
//!
//! Selection: `--profile NAME` / `DEVCTL_PROFILE`; else `default`; else the only one; else an
//! error listing them. A project without `profiles/` gets the implicit default profile.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::project::profile::Profile;
use crate::project::profile_file::ProfileFile;
use crate::report::failure::Failure;

/// The profile files found in a project's `profiles/` folder.
#[derive(Debug, Clone)]
pub struct ProfileSet {
    directory: PathBuf,
    /// Profile names, sorted.
    names: Vec<String>,
}

impl ProfileSet {
    /// Lists `profiles/*.yaml` (and `*.yml`) under `directory`; a missing folder is an empty set.
    pub fn load(directory: &Path) -> Result<ProfileSet> {
        let mut names = Vec::new();
        if directory.is_dir() {
            let entries = std::fs::read_dir(directory)
                .with_context(|| format!("cannot list {}", directory.display()))?;
            for entry in entries {
                let entry =
                    entry.with_context(|| format!("cannot list {}", directory.display()))?;
                let path = entry.path();
                let is_yaml = matches!(
                    path.extension().and_then(|e| e.to_str()),
                    Some("yaml" | "yml")
                );
                let stem = path.file_stem().and_then(|s| s.to_str());
                if let (true, Some(stem)) = (is_yaml && path.is_file(), stem) {
                    names.push(stem.to_string());
                }
            }
        }
        names.sort();
        names.dedup();
        Ok(ProfileSet {
            directory: directory.to_path_buf(),
            names,
        })
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The name of the profile to run, by the selection rules.
    pub fn select(&self, requested: Option<&str>) -> Result<Option<String>, Failure> {
        if let Some(requested) = requested {
            if self.names.iter().any(|name| name == requested) {
                return Ok(Some(requested.to_string()));
            }
            return Err(self.unknown(requested));
        }
        if self.names.is_empty() {
            return Ok(None);
        }
        if self.names.iter().any(|name| name == "default") {
            return Ok(Some("default".into()));
        }
        if let [only] = self.names.as_slice() {
            return Ok(Some(only.clone()));
        }
        Err(Failure::bad_input(format!(
            "{} profiles in {} and none is named `default`: {}",
            self.names.len(),
            self.directory.display(),
            self.names.join(", ")
        ))
        .hint("choose one with --profile NAME (or DEVCTL_PROFILE), or add profiles/default.yaml"))
    }

    /// The selected profile, resolved; the implicit one when the project has no profiles.
    pub fn resolve_selected(&self, requested: Option<&str>) -> Result<Profile> {
        match self.select(requested)? {
            Some(name) => self.resolve(&name),
            None => Ok(Profile::implicit()),
        }
    }

    /// Reads `name` and the chain it extends, and merges them.
    pub fn resolve(&self, name: &str) -> Result<Profile> {
        if !self.names.iter().any(|known| known == name) {
            return Err(self.unknown(name).into());
        }
        let path = self.path_of(name);
        let mut merged = self.read(name)?;
        let mut chain: Vec<String> = Vec::new();
        let mut seen = vec![name.to_string()];
        while let Some(parent) = merged.extends.clone() {
            if seen.contains(&parent) {
                seen.push(parent);
                return Err(Failure::bad_input(format!(
                    "profiles extend each other in a cycle: {}",
                    seen.join(" → ")
                ))
                .hint("remove one `extends` so that the chain ends")
                .into());
            }
            if !self.names.contains(&parent) {
                let extender = seen.last().cloned().unwrap_or_default();
                return Err(Failure::bad_input(format!(
                    "{}: `extends: {parent}` names no profile in {}",
                    self.path_of(&extender).display(),
                    self.directory.display()
                ))
                .hint(format!("profiles here: {}", self.names.join(", ")))
                .into());
            }
            let parent_file = self.read(&parent)?;
            merged = merged.merge(parent_file);
            chain.push(parent.clone());
            seen.push(parent);
        }
        Ok(Profile::from_file(
            name.to_string(),
            Some(path),
            chain,
            merged,
        )?)
    }

    fn read(&self, name: &str) -> Result<ProfileFile> {
        let path = self.path_of(name);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read profile {}", path.display()))?;
        Ok(ProfileFile::parse(&text, &path)?)
    }

    fn path_of(&self, name: &str) -> PathBuf {
        let yaml = self.directory.join(format!("{name}.yaml"));
        if yaml.is_file() {
            yaml
        } else {
            self.directory.join(format!("{name}.yml"))
        }
    }

    fn unknown(&self, requested: &str) -> Failure {
        if self.names.is_empty() {
            return Failure::bad_input(format!(
                "profile `{requested}` not found: this project has no profiles/ folder"
            ))
            .hint("drop --profile (and DEVCTL_PROFILE) to use the compose file as it is, or create profiles/NAME.yaml");
        }
        let closest = self
            .names
            .iter()
            .map(|name| (strsim::jaro_winkler(requested, name), name))
            .filter(|(score, _)| *score > 0.7)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, name)| format!(" (did you mean `{name}`?)"))
            .unwrap_or_default();
        Failure::bad_input(format!(
            "profile `{requested}` not found in {}{closest}",
            self.directory.display()
        ))
        .hint(format!("available profiles: {}", self.names.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(files: &[(&str, &str)]) -> (tempfile::TempDir, ProfileSet) {
        let temp = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(temp.path().join(name), text).unwrap();
        }
        let set = ProfileSet::load(temp.path()).unwrap();
        (temp, set)
    }

    #[test]
    fn selection_order() {
        let (_t, both) = set(&[("default.yaml", ""), ("full.yaml", "")]);
        assert_eq!(both.select(None).unwrap().as_deref(), Some("default"));
        assert_eq!(both.select(Some("full")).unwrap().as_deref(), Some("full"));
        let (_t, only) = set(&[("ci.yml", "")]);
        assert_eq!(only.select(None).unwrap().as_deref(), Some("ci"));
        let (_t, none) = set(&[]);
        assert_eq!(none.select(None).unwrap(), None);
    }

    #[test]
    fn ambiguous_selection_lists_profiles() {
        let (_t, two) = set(&[("a.yaml", ""), ("b.yaml", "")]);
        let failure = two.select(None).unwrap_err();
        assert!(failure.message.contains("a, b"), "{}", failure.message);
        assert!(failure.hint.unwrap().contains("--profile"));
    }

    #[test]
    fn unknown_profile_lists_available() {
        let (_t, two) = set(&[("default.yaml", ""), ("full.yaml", "")]);
        let failure = two.select(Some("ful")).unwrap_err();
        assert!(
            failure.message.contains("did you mean `full`"),
            "{}",
            failure.message
        );
        assert!(failure.hint.unwrap().contains("default, full"));
    }

    #[test]
    fn extends_chain_merges_nearest_first() {
        let (_t, profiles) = set(&[
            (
                "base.yaml",
                "compose:\n  project_name: base\n  files: [a.yaml]\nup:\n  wait_timeout: 30s\n",
            ),
            ("mid.yaml", "extends: base\ncompose:\n  profiles: [tools]\n"),
            ("top.yaml", "extends: mid\ncompose:\n  files: [b.yaml]\n"),
        ]);
        let top = profiles.resolve("top").unwrap();
        assert_eq!(top.extends, vec!["mid", "base"]);
        assert_eq!(top.project_name.as_deref(), Some("base"));
        assert_eq!(top.compose_files, vec!["b.yaml"]);
        assert_eq!(top.compose_profiles, vec!["tools"]);
        assert_eq!(top.wait_timeout.as_secs(), 30);
    }

    #[test]
    fn extends_cycle_and_missing_parent_are_errors() {
        let (_t, profiles) = set(&[
            ("a.yaml", "extends: b\n"),
            ("b.yaml", "extends: a\n"),
            ("c.yaml", "extends: nowhere\n"),
        ]);
        let cycle = profiles.resolve("a").unwrap_err().to_string();
        assert!(cycle.contains("a → b → a"), "{cycle}");
        let missing = profiles.resolve("c").unwrap_err().to_string();
        assert!(missing.contains("`extends: nowhere`"), "{missing}");
    }
}
