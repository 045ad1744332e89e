//! `drill.json`: the outcome of the last drill of a backup, beside its artifacts and outside
//! its hashed manifest.
//!
//! The record is advisory. Anyone who can write the backup folder can write it, so it only
//! ever makes devctl keep more (`backup prune` spares the newest backup whose drill passed);
//! nothing is deleted or trusted because of it. It is read as a regular file of at most
//! `RECORD_LIMIT` bytes, must name its own backup, and is written 0600.

use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::report::text::escaped;

/// The record's file name in a backup's folder.
pub const RECORD: &str = "drill.json";

/// The largest record devctl reads.
pub const RECORD_LIMIT: u64 = 256 * 1024;

/// How a drill ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DrillResult {
    /// The services became healthy and every check passed.
    Ok,
    /// Something did not: `failure` says what.
    Failed,
}

impl DrillResult {
    pub fn name(self) -> &'static str {
        match self {
            DrillResult::Ok => "ok",
            DrillResult::Failed => "failed",
        }
    }
}

/// One check as it ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckOutcome {
    pub service: String,
    pub command: String,
    pub expect: Option<String>,
    /// Its exit code (none when it could not be run).
    pub exit_code: Option<i32>,
    /// The start of its output (stdout, then stderr).
    pub output: String,
    pub passed: bool,
}

/// The outcome of a drill.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrillRecord {
    /// The backup drilled (the folder's id).
    pub backup: String,
    pub result: DrillResult,
    /// When the drill ended (RFC 3339, UTC).
    pub when: String,
    pub devctl_version: String,
    /// The engine's version and address.
    pub engine: String,
    pub duration_seconds: f64,
    /// The services the sibling ran.
    pub services: Vec<String>,
    pub checks: Vec<CheckOutcome>,
    /// What failed, for a failed drill.
    pub failure: Option<String>,
}

/// What a backup's record says, as `backup list` and `backup prune` read it.
#[derive(Debug, Clone, PartialEq)]
pub enum DrillState {
    /// No record.
    Never,
    /// A record that reads: its result and when.
    Drilled(DrillResult, String),
    /// A record that does not read (not a regular file, too large, not a record of this
    /// backup): treated as no drill, and shown as such.
    Unreadable(String),
}

impl DrillState {
    /// Whether the backup's last drill passed.
    pub fn passed(&self) -> bool {
        matches!(self, DrillState::Drilled(DrillResult::Ok, _))
    }

    /// `ok`, `failed`, `never` or `unreadable`.
    pub fn name(&self) -> &'static str {
        match self {
            DrillState::Never => "never",
            DrillState::Drilled(result, _) => result.name(),
            DrillState::Unreadable(_) => "unreadable",
        }
    }

    /// When it was drilled, escaped for showing.
    pub fn when(&self) -> Option<String> {
        match self {
            DrillState::Drilled(_, when) => Some(escaped(when)),
            _ => None,
        }
    }
}

impl DrillRecord {
    /// Writes the record into the backup folder `directory` (0600, atomically).
    pub fn write(&self, directory: &Path) -> Result<()> {
        let text = serde_json::to_vec_pretty(self).context("cannot encode the drill record")?;
        crate::system::files::write_atomic(&directory.join(RECORD), &text)
    }

    /// What the record of backup `id` in `directory` says.
    pub fn state(directory: &Path, id: &str) -> DrillState {
        let path = directory.join(RECORD);
        if std::fs::symlink_metadata(&path).is_err() {
            return DrillState::Never;
        }
        let bytes = match crate::system::files::read_regular(&path, RECORD_LIMIT) {
            Ok(bytes) => bytes,
            Err(error) => return DrillState::Unreadable(format!("{RECORD} {error}")),
        };
        let record: DrillRecord = match serde_json::from_slice(&bytes) {
            Ok(record) => record,
            Err(error) => {
                return DrillState::Unreadable(format!("{RECORD} cannot be read: {error}"));
            }
        };
        if record.backup != id {
            return DrillState::Unreadable(format!(
                "{RECORD} is the record of backup `{}`, not of `{}`",
                escaped(&record.backup),
                escaped(id)
            ));
        }
        DrillState::Drilled(record.result, record.when)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(backup: &str, result: DrillResult) -> DrillRecord {
        DrillRecord {
            backup: backup.into(),
            result,
            when: "2026-01-01T00:00:00Z".into(),
            devctl_version: "test".into(),
            engine: "27.0 at unix:///var/run/docker.sock".into(),
            duration_seconds: 1.5,
            services: vec!["db".into()],
            checks: Vec::new(),
            failure: None,
        }
    }

    #[test]
    fn a_record_round_trips_privately_and_names_its_backup() {
        use std::os::unix::fs::PermissionsExt;
        let folder = tempfile::tempdir().unwrap();
        assert_eq!(DrillRecord::state(folder.path(), "a"), DrillState::Never);
        record("a", DrillResult::Ok).write(folder.path()).unwrap();
        let mode = std::fs::metadata(folder.path().join(RECORD))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let state = DrillRecord::state(folder.path(), "a");
        assert!(state.passed());
        assert_eq!(state.name(), "ok");
        assert_eq!(state.when().as_deref(), Some("2026-01-01T00:00:00Z"));
        // Copied beside another backup, it is not that backup's record.
        let other = DrillRecord::state(folder.path(), "b");
        assert!(!other.passed());
        assert_eq!(other.name(), "unreadable");
    }

    #[test]
    fn records_that_are_not_plain_small_files_are_unreadable() {
        let folder = tempfile::tempdir().unwrap();
        let elsewhere = folder.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        record("a", DrillResult::Ok).write(&elsewhere).unwrap();
        let backup = folder.path().join("a");
        std::fs::create_dir(&backup).unwrap();
        std::os::unix::fs::symlink(elsewhere.join(RECORD), backup.join(RECORD)).unwrap();
        let linked = DrillRecord::state(&backup, "a");
        assert!(!linked.passed(), "{linked:?}");
        std::fs::remove_file(backup.join(RECORD)).unwrap();
        std::fs::write(backup.join(RECORD), vec![b' '; 300 * 1024]).unwrap();
        assert!(matches!(
            DrillRecord::state(&backup, "a"),
            DrillState::Unreadable(_)
        ));
        std::fs::write(backup.join(RECORD), b"{\"result\": \"ok\"}").unwrap();
        assert!(matches!(
            DrillRecord::state(&backup, "a"),
            DrillState::Unreadable(_)
        ));
    }
}
