//! `StateLayout`: where devctl keeps backups and per-project state, defined once.
//!
//! Backups default to `$XDG_DATA_HOME/devctl/backups/<project>/`, outside the project tree, so
//! that they never land in git or a build context. Per-project state (model cache, lock,
//! journals, generated compose files) lives under `$XDG_STATE_HOME/devctl/`, keyed by project
//! name and a hash of the project root. `DEVCTL_BACKUP_DIR` / `DEVCTL_STATE_DIR` override the
//! profile's `paths.backup_dir` / `paths.state_dir`, which override the defaults.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::project::profile::Profile;
use crate::project::root::ProjectRoot;
use crate::report::failure::Failure;

#[derive(Debug, Clone, Serialize)]
pub struct StateLayout {
    /// Holds `<project>/<backup id>/` directories.
    pub backup_root: PathBuf,
    /// Holds `projects/<project>-<root hash>/`, `cache/<root hash>/` and tool-wide state.
    pub state_root: PathBuf,
}

impl StateLayout {
    pub fn resolve(profile: &Profile, root: &ProjectRoot) -> Result<StateLayout> {
        StateLayout::resolve_with(profile, root, |name| std::env::var_os(name))
    }

    /// `resolve`, reading variables through `variable` (tests pass their own).
    pub fn resolve_with(
        profile: &Profile,
        root: &ProjectRoot,
        variable: impl Fn(&str) -> Option<std::ffi::OsString>,
    ) -> Result<StateLayout> {
        let backup_root = choose(
            variable("DEVCTL_BACKUP_DIR"),
            "DEVCTL_BACKUP_DIR",
            profile.backup_dir.as_deref(),
            root.path(),
            || dirs::data_dir().map(|dir| dir.join("devctl").join("backups")),
        )?;
        let state_root = choose(
            variable("DEVCTL_STATE_DIR"),
            "DEVCTL_STATE_DIR",
            profile.state_dir.as_deref(),
            root.path(),
            || {
                dirs::state_dir()
                    .or_else(dirs::data_local_dir)
                    .map(|dir| dir.join("devctl"))
            },
        )?;
        Ok(StateLayout {
            backup_root,
            state_root,
        })
    }

    /// `<backup root>/<project>/`.
    pub fn project_backups(&self, project: &str) -> PathBuf {
        self.backup_root.join(project)
    }

    /// `<state root>/projects/<project>-<root hash>/`: lock, journals, generated files.
    pub fn project_state(&self, project: &str, root: &ProjectRoot) -> PathBuf {
        self.state_root
            .join("projects")
            .join(format!("{project}-{}", root.hash()))
    }

    /// `<state root>/cache/<root hash>/`: resolved compose models of this checkout.
    pub fn model_cache(&self, root: &ProjectRoot) -> PathBuf {
        self.state_root.join("cache").join(root.hash())
    }

    /// `<state root>/compose-probe.json`: the located compose program and its version.
    pub fn compose_probe(&self) -> PathBuf {
        self.state_root.join("compose-probe.json")
    }
}

fn choose(
    from_environment: Option<std::ffi::OsString>,
    variable: &str,
    from_profile: Option<&str>,
    root: &Path,
    default: impl FnOnce() -> Option<PathBuf>,
) -> Result<PathBuf> {
    if let Some(value) = from_environment.filter(|value| !value.is_empty()) {
        return absolute(
            Path::new(&value),
            &std::env::current_dir().context("cannot read the working directory")?,
        );
    }
    if let Some(value) = from_profile {
        return absolute(&expand_home(value), root);
    }
    default().ok_or_else(|| {
        Failure::bad_input("cannot find your home directory for devctl's data")
            .hint(format!("set {variable} to a directory devctl may write to"))
            .into()
    })
}

fn expand_home(value: &str) -> PathBuf {
    match value.strip_prefix("~/") {
        Some(rest) => dirs::home_dir().map_or_else(|| PathBuf::from(value), |home| home.join(rest)),
        None => PathBuf::from(value),
    }
}

fn absolute(path: &Path, base: &Path) -> Result<PathBuf> {
    Ok(if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_keys_are_relative_to_the_root_and_expand_home() {
        let temp = tempfile::tempdir().unwrap();
        let root = ProjectRoot::discover(temp.path(), Some(temp.path())).unwrap();
        let mut profile = Profile::implicit();
        profile.backup_dir = Some("../backups".into());
        profile.state_dir = Some("~/state-here".into());
        let layout = StateLayout::resolve_with(&profile, &root, |_| None).unwrap();
        assert_eq!(layout.backup_root, root.path().join("../backups"));
        assert_eq!(
            layout.state_root,
            dirs::home_dir().unwrap().join("state-here")
        );
        let state = layout.project_state("demo", &root);
        assert!(state.starts_with(layout.state_root.join("projects")));
        assert!(
            state
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("demo-")
        );
        assert_eq!(
            layout.project_backups("demo"),
            layout.backup_root.join("demo")
        );
    }

    #[test]
    fn variables_win_over_the_profile() {
        let temp = tempfile::tempdir().unwrap();
        let root = ProjectRoot::discover(temp.path(), Some(temp.path())).unwrap();
        let mut profile = Profile::implicit();
        profile.backup_dir = Some("/from/profile".into());
        profile.state_dir = Some("/from/profile".into());
        let layout =
            StateLayout::resolve_with(&profile, &root, |name| Some(format!("/from/{name}").into()))
                .unwrap();
        assert_eq!(layout.backup_root, PathBuf::from("/from/DEVCTL_BACKUP_DIR"));
        assert_eq!(layout.state_root, PathBuf::from("/from/DEVCTL_STATE_DIR"));
    }

    #[test]
    fn defaults_live_outside_the_project() {
        let temp = tempfile::tempdir().unwrap();
        let root = ProjectRoot::discover(temp.path(), Some(temp.path())).unwrap();
        let layout = StateLayout::resolve_with(&Profile::implicit(), &root, |_| None).unwrap();
        assert!(layout.backup_root.ends_with("devctl/backups"), "{layout:?}");
        assert!(!layout.backup_root.starts_with(root.path()));
        assert!(layout.state_root.ends_with("devctl"));
        assert!(!layout.state_root.starts_with(root.path()));
    }
}
