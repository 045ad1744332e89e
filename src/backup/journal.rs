//! `Journal`: the record of a backup or restore in progress, kept in the project's state
//! directory, so that a run that was killed is detected by the next one, which says how to
//! finish or undo it.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    Backup,
    Restore,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Journal {
    pub operation: Operation,
    pub pid: u32,
    /// The backup being written, or the one being restored.
    pub backup: String,
    /// Services devctl stopped and had not started again.
    pub stopped_services: Vec<String>,
    /// The safety backup a restore took (its id), once taken.
    pub safety_backup: Option<String>,
    /// Volumes a restore has begun to replace.
    pub replaced_volumes: Vec<String>,
}

impl Journal {
    pub fn path(project_state: &Path) -> PathBuf {
        project_state.join("journal.json")
    }

    /// The journal an earlier run left, if any.
    pub fn read(project_state: &Path) -> Result<Option<Journal>> {
        let path = Journal::path(project_state);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Records the current state (atomically).
    pub fn save(&self, project_state: &Path) -> Result<()> {
        let text = serde_json::to_vec_pretty(self).context("cannot encode the journal")?;
        crate::system::files::write_atomic(&Journal::path(project_state), &text)
    }

    /// The run finished: forget it.
    pub fn clear(project_state: &Path) -> Result<()> {
        let path = Journal::path(project_state);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(error).with_context(|| format!("cannot remove {}", path.display())),
        }
    }

    /// What the person should know and do about this interrupted run.
    pub fn advice(&self, project: &str) -> (String, String) {
        match self.operation {
            Operation::Backup => (
                format!(
                    "a backup of project {project} was interrupted{}",
                    if self.stopped_services.is_empty() {
                        String::new()
                    } else {
                        format!(" while {} were stopped", self.stopped_services.join(", "))
                    }
                ),
                "`devctl up` starts the services again; the unfinished backup was never listed and is removed".into(),
            ),
            Operation::Restore => {
                let undo = match &self.safety_backup {
                    Some(safety) => format!(
                        "undo it with `devctl restore {safety} --confirm {project}` (the safety backup of what the volumes held before)"
                    ),
                    None => "no volume had been replaced yet".to_string(),
                };
                (
                    format!(
                        "a restore of backup {} into project {project} was interrupted{}",
                        self.backup,
                        if self.replaced_volumes.is_empty() {
                            String::new()
                        } else {
                            format!(" after it began replacing {}", self.replaced_volumes.join(", "))
                        }
                    ),
                    format!(
                        "finish it with `devctl restore {} --confirm {project}`, or {undo}",
                        self.backup
                    ),
                )
            }
        }
    }
}
