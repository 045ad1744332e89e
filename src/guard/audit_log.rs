//! `AuditLog`: one JSON line per decision the guard makes, in the project's state directory.
//!
//! Every data- or state-tier step devctl is asked for — confirmed, refused or found to have
//! nothing to delete — appends a line saying when, who, the command line, the decision and
//! the id of the backup taken first. The file is append-only; devctl never rewrites it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::backup::workspace::Workspace;
use crate::guard::classifier::Tier;

/// The log's file name inside the project's state directory.
pub const FILE_NAME: &str = "audit.jsonl";

/// One decision.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    /// UTC, RFC 3339.
    pub time: String,
    pub user: String,
    pub pid: u32,
    pub project: String,
    pub profile: String,
    /// devctl's own command line, as typed.
    pub argv: Vec<String>,
    /// What devctl was asked to do (`down --volumes`, `compose rm -sfv`, `restore ID`).
    pub action: String,
    pub tier: Tier,
    /// `confirmed`, `refused` or `nothing-to-delete`.
    pub decision: String,
    /// How it was confirmed (`typed`, `--confirm`, `--yes`, `y`) or why it was refused.
    pub detail: String,
    /// The volumes the step deletes (or would have).
    pub volumes: Vec<String>,
    /// The backup taken just before, if one was.
    pub backup: Option<String>,
}

impl AuditEntry {
    /// An entry stamped now, for the current user and process.
    pub fn now(project: &str, profile: &str, action: &str, tier: Tier) -> AuditEntry {
        AuditEntry {
            time: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
            user: current_user(),
            pid: std::process::id(),
            project: project.to_string(),
            profile: profile.to_string(),
            argv: std::env::args().collect(),
            action: action.to_string(),
            tier,
            decision: String::new(),
            detail: String::new(),
            volumes: Vec::new(),
            backup: None,
        }
    }

    /// An entry for `action` on `workspace`'s project and profile, stamped now.
    pub fn for_workspace(workspace: &Workspace, action: &str, tier: Tier) -> AuditEntry {
        AuditEntry::now(
            workspace.model.name(),
            &workspace.project.profile.name,
            action,
            tier,
        )
    }
}

#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
}

impl AuditLog {
    /// The log of the project whose state directory is `state`.
    pub fn new(state: &Path) -> AuditLog {
        AuditLog {
            path: state.join(FILE_NAME),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `entry` as refused, with `error` as the reason, and gives back the error to
    /// return (or the log's own error, when the line cannot be written).
    pub fn refuse(&self, mut entry: AuditEntry, error: anyhow::Error) -> anyhow::Error {
        entry.decision = "refused".into();
        entry.detail = format!("{error:#}");
        match self.append(&entry) {
            Ok(()) => error,
            Err(failed) => failed,
        }
    }

    /// Appends `entry` as one line, written whole in a single call.
    pub fn append(&self, entry: &AuditEntry) -> Result<()> {
        if let Some(directory) = self.path.parent() {
            crate::system::files::create_private_directories(directory)?;
        }
        let mut line = serde_json::to_vec(entry).context("cannot encode an audit entry")?;
        line.push(b'\n');
        let mut file = crate::system::files::private_file_options()
            .create(true)
            .append(true)
            .open(&self.path)
            .with_context(|| format!("cannot open audit log {}", self.path.display()))?;
        file.write_all(&line)
            .with_context(|| format!("cannot write audit log {}", self.path.display()))
    }
}

/// The login name: `USER`, else `LOGNAME`, else the numeric uid.
fn current_user() -> String {
    ["USER", "LOGNAME"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|value| !value.is_empty()))
        // SAFETY: getuid cannot fail and touches no memory.
        .unwrap_or_else(|| unsafe { libc::getuid() }.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_decision() {
        let temp = tempfile::tempdir().unwrap();
        let log = AuditLog::new(&temp.path().join("state"));
        let mut entry = AuditEntry::now("shop", "default", "down --volumes", Tier::Data);
        entry.decision = "refused".into();
        log.append(&entry).unwrap();
        entry.decision = "confirmed".into();
        entry.backup = Some("20261122T000000Z-before-down".into());
        log.append(&entry).unwrap();
        let text = std::fs::read_to_string(log.path()).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["decision"], "refused");
        assert_eq!(lines[1]["tier"], "data");
        assert_eq!(lines[1]["backup"], "20261122T000000Z-before-down");
    }
}
