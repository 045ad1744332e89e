//! `LastRestore`: the record of the last restore into a project from this checkout — which
//! backup, and the safety backup that holds what it replaced — kept in the project's state
//! directory. `restore --undo` puts that safety backup back.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// Larger than any record devctl writes: a file past it is not one of devctl's.
const SIZE_LIMIT: u64 = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastRestore {
    /// The backup restored.
    pub backup: String,
    /// The safety backup it took first; none with `--no-safety-backup`, or when none of the
    /// volumes existed yet.
    pub safety_backup: Option<String>,
    /// When it began (RFC 3339, UTC).
    pub at: String,
}

impl LastRestore {
    pub fn path(project_state: &Path) -> PathBuf {
        project_state.join("last-restore.json")
    }

    /// The record, if there is one devctl can read (anything else is no record: it only
    /// ever names a backup to choose, which is then verified like any other).
    pub fn read(project_state: &Path) -> Option<LastRestore> {
        let path = LastRestore::path(project_state);
        let metadata = std::fs::symlink_metadata(&path).ok()?;
        if !metadata.is_file() || metadata.len() > SIZE_LIMIT {
            return None;
        }
        serde_json::from_slice(&std::fs::read(&path).ok()?).ok()
    }

    /// Records it (atomically, private).
    pub fn save(&self, project_state: &Path) -> Result<()> {
        let text = serde_json::to_vec_pretty(self).context("cannot encode the restore record")?;
        crate::system::files::write_atomic(&LastRestore::path(project_state), &text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips_and_anything_else_is_no_record() {
        let temp = tempfile::tempdir().unwrap();
        assert_eq!(LastRestore::read(temp.path()), None);
        let record = LastRestore {
            backup: "20261122T024635Z-before-upgrade".into(),
            safety_backup: Some("20261122T024900Z-safety".into()),
            at: "2026-11-22T02:49:00Z".into(),
        };
        record.save(temp.path()).unwrap();
        assert_eq!(LastRestore::read(temp.path()), Some(record));
        std::fs::write(LastRestore::path(temp.path()), "not json").unwrap();
        assert_eq!(LastRestore::read(temp.path()), None);
        std::fs::remove_file(LastRestore::path(temp.path())).unwrap();
        std::os::unix::fs::symlink("/dev/zero", LastRestore::path(temp.path())).unwrap();
        assert_eq!(LastRestore::read(temp.path()), None);
    }
}
