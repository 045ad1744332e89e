//! `ProjectRoot`: finds the directory a devctl project lives in.
//!
//! From the working directory upwards, the first directory holding `profiles/` or a compose
//! file is the root; `--project-dir` / `DEVCTL_PROJECT_DIR` name it explicitly.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use crate::report::failure::Failure;

/// The file names compose looks for when no `-f` is given, in its order.
pub const COMPOSE_FILE_NAMES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
];

/// The override files compose reads beside a default compose file.
pub const COMPOSE_OVERRIDE_NAMES: [&str; 4] = [
    "compose.override.yaml",
    "compose.override.yml",
    "docker-compose.override.yaml",
    "docker-compose.override.yml",
];

/// The root directory of a devctl project.
#[derive(Debug, Clone)]
pub struct ProjectRoot {
    path: PathBuf,
}

impl ProjectRoot {
    /// Finds the root: `explicit` if given, else the nearest marked directory from `start` up.
    pub fn discover(start: &Path, explicit: Option<&Path>) -> Result<ProjectRoot> {
        if let Some(explicit) = explicit {
            let path = start.join(explicit);
            let path = path.canonicalize().map_err(|error| {
                Failure::bad_input(format!(
                    "project directory `{}` cannot be used: {error}",
                    explicit.display()
                ))
                .hint("pass an existing directory to --project-dir (or DEVCTL_PROJECT_DIR)")
            })?;
            if !path.is_dir() {
                return Err(Failure::bad_input(format!(
                    "project directory `{}` is not a directory",
                    explicit.display()
                ))
                .into());
            }
            return Ok(ProjectRoot { path });
        }
        let start = start
            .canonicalize()
            .with_context(|| format!("cannot resolve the working directory {}", start.display()))?;
        for directory in start.ancestors() {
            if is_marked(directory) {
                return Ok(ProjectRoot {
                    path: directory.to_path_buf(),
                });
            }
        }
        Err(Failure::bad_input(format!(
            "no devctl project found in {} or any parent directory",
            start.display()
        ))
        .hint(format!(
            "run devctl where your compose file is (one of {}) or a profiles/ directory, or pass --project-dir; \
in a compose project whose files have other names (docker-compose.dev.yml, …), `devctl init` sets it up",
            COMPOSE_FILE_NAMES.join(", ")
        ))
        .into())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn profiles_dir(&self) -> PathBuf {
        self.path.join("profiles")
    }

    /// The name of the checkout the project lives in, as a compose project name allows it:
    /// the folder of the nearest enclosing git working tree (a clone or a `git worktree`;
    /// either has `.git`), else the project root's folder; lower-case, with anything but
    /// letters, digits, `-` and `_` as `-`.
    pub fn checkout_name(&self) -> String {
        let checkout = self
            .path
            .ancestors()
            .find(|directory| directory.join(".git").exists())
            .unwrap_or(&self.path);
        let folder = checkout
            .file_name()
            .map(|name| name.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        let name: String = folder
            .chars()
            .map(
                |c| match c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                    true => c,
                    false => '-',
                },
            )
            .collect();
        let name = name.trim_start_matches(['-', '_']).to_string();
        match name.is_empty() {
            true => "checkout".into(),
            false => name,
        }
    }

    /// A short, stable hash of the root's path, to key per-checkout state.
    pub fn hash(&self) -> String {
        let digest = Sha256::digest(self.path.as_os_str().as_encoded_bytes());
        hex::encode(&digest[..6])
    }
}

fn is_marked(directory: &Path) -> bool {
    directory.join("profiles").is_dir()
        || COMPOSE_FILE_NAMES
            .iter()
            .any(|name| directory.join(name).is_file())
}

/// The placeholder a profile's project names may hold for the checkout's name.
pub const CHECKOUT_PLACEHOLDER: &str = "{checkout}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_up_to_the_first_marked_directory() {
        let temp = tempfile::tempdir().unwrap();
        let root = temp.path().join("app");
        std::fs::create_dir_all(root.join("src/deep")).unwrap();
        std::fs::write(root.join("compose.yaml"), "services: {}\n").unwrap();
        let found = ProjectRoot::discover(&root.join("src/deep"), None).unwrap();
        assert_eq!(found.path(), root.canonicalize().unwrap());
    }

    #[test]
    fn a_profiles_directory_marks_a_root() {
        let temp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(temp.path().join("profiles")).unwrap();
        std::fs::create_dir_all(temp.path().join("sub")).unwrap();
        let found = ProjectRoot::discover(&temp.path().join("sub"), None).unwrap();
        assert_eq!(found.path(), temp.path().canonicalize().unwrap());
    }

    #[test]
    fn explicit_directory_must_exist() {
        let temp = tempfile::tempdir().unwrap();
        let error = ProjectRoot::discover(temp.path(), Some(Path::new("missing"))).unwrap_err();
        assert!(error.to_string().contains("`missing`"), "{error}");
    }

    #[test]
    fn the_checkout_is_the_enclosing_git_working_tree() {
        let temp = tempfile::tempdir().unwrap();
        let worktree = temp.path().join("Shop Feature.2");
        let app = worktree.join("app");
        std::fs::create_dir_all(&app).unwrap();
        std::fs::write(app.join("compose.yaml"), "services: {}\n").unwrap();
        // Without git: the project root's folder.
        let root = ProjectRoot::discover(&app, Some(&app)).unwrap();
        assert_eq!(root.checkout_name(), "app");
        // A worktree's `.git` is a file.
        std::fs::write(worktree.join(".git"), "gitdir: /elsewhere\n").unwrap();
        assert_eq!(root.checkout_name(), "shop-feature-2");
    }
}
