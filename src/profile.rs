//! `Profile`: a devctl profile with `extends` applied and defaults filled in.
//!
//! A devctl profile names how to run compose for one way of working (which compose files,
//! env files, compose profiles, project name, timeouts). It is not a compose profile: compose
//! profiles are service tiers inside compose files, which a devctl profile may activate.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::profile_file::ProfileFile;

/// The health-wait timeout when neither the profile nor `--wait-timeout` sets one.
pub const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(120);

/// A resolved devctl profile.
#[derive(Debug, Clone, Serialize)]
pub struct Profile {
    /// The profile's name (its file name without `.yaml`), or `default` when implicit.
    pub name: String,
    /// The file it was read from; none for the implicit profile of a bare compose project.
    pub source: Option<PathBuf>,
    /// The chain of profiles it extends, nearest first.
    pub extends: Vec<String>,
    pub description: Option<String>,
    pub project_name: Option<String>,
    pub compose_files: Vec<String>,
    pub env_files: Vec<String>,
    pub compose_profiles: Vec<String>,
    #[serde(serialize_with = "serialize_duration")]
    pub wait_timeout: Duration,
    pub backup_dir: Option<String>,
    pub state_dir: Option<String>,
}

impl Profile {
    /// The profile used when a project has no `profiles/` folder: compose's own defaults.
    pub fn implicit() -> Profile {
        Profile::from_file("default".into(), None, Vec::new(), ProfileFile::default())
    }

    /// Builds the resolved profile from a file whose `extends` chain is already merged in.
    pub fn from_file(
        name: String,
        source: Option<PathBuf>,
        extends: Vec<String>,
        file: ProfileFile,
    ) -> Profile {
        let wait_timeout = file
            .up
            .wait_timeout
            .as_deref()
            .and_then(|text| crate::cli::parse_duration(text).ok())
            .unwrap_or(DEFAULT_WAIT_TIMEOUT);
        Profile {
            name,
            source,
            extends,
            description: file.description,
            project_name: file.compose.project_name,
            compose_files: file.compose.files.unwrap_or_default(),
            env_files: file.compose.env_files.unwrap_or_default(),
            compose_profiles: file.compose.profiles.unwrap_or_default(),
            wait_timeout,
            backup_dir: file.paths.backup_dir,
            state_dir: file.paths.state_dir,
        }
    }

    pub fn is_implicit(&self) -> bool {
        self.source.is_none()
    }
}

fn serialize_duration<S: serde::Serializer>(
    duration: &Duration,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&humantime::format_duration(*duration).to_string())
}
