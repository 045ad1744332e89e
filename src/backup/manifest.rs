//! `Manifest`: what one backup holds, as `manifest.json` records it (docs/backup-format.md).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::backup::archive::{ArchiveStats, ArtifactKind};
use crate::project::profile_file::BackupMethod;
use crate::report::exit_status::ExitStatus;
use crate::report::failure::Failure;

/// The version of the backup format this devctl writes and reads.
pub const FORMAT_VERSION: u32 = 1;
pub const MANIFEST: &str = "manifest.json";
/// The manifest's own SHA-256, so an edited manifest is detected.
pub const MANIFEST_DIGEST: &str = "manifest.json.sha256";

/// Why a backup was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackupKind {
    /// `devctl backup`.
    Manual,
    /// Taken by `devctl restore` before it replaced the volumes.
    Safety,
    /// Taken by the guard before a command deleted the volumes.
    #[serde(rename = "pre-delete")]
    PreDelete,
}

impl BackupKind {
    /// The name the manifest and `backup list` use.
    pub fn name(self) -> &'static str {
        match self {
            BackupKind::Manual => "manual",
            BackupKind::Safety => "safety",
            BackupKind::PreDelete => "pre-delete",
        }
    }

    /// Taken by devctl on its own (and pruned by the profile's `guard.keep_automatic_backups`).
    pub fn is_automatic(self) -> bool {
        self != BackupKind::Manual
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format_version: u32,
    pub devctl_version: String,
    pub id: String,
    pub kind: BackupKind,
    pub project: String,
    pub profile: String,
    /// UTC, RFC 3339.
    pub created: String,
    pub label: Option<String>,
    /// The engine it was taken from.
    pub engine: String,
    pub artifacts: Vec<Artifact>,
}

/// One stored file: a volume's tar, or a hook's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artifact {
    /// File name inside the backup directory.
    pub file: String,
    pub kind: ArtifactKind,
    /// The compose volume key (`db-data`), or `service:/path` for an anonymous volume.
    pub key: String,
    /// The volume's engine name when it was backed up.
    pub volume: String,
    pub driver: String,
    pub driver_options: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    pub external: bool,
    pub anonymous: bool,
    pub method: BackupMethod,
    /// Services stopped for the copy (`stop`), none otherwise.
    pub services_stopped: Vec<String>,
    /// For `hook`: where and how the output was made, and how to restore it.
    pub hook: Option<Hook>,
    /// Said when the copy may not be consistent (`live`).
    pub warning: Option<String>,
    #[serde(flatten)]
    pub stats: ArchiveStats,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hook {
    pub service: String,
    pub command: Vec<String>,
    pub restore: Vec<String>,
}

impl Manifest {
    /// Writes `manifest.json` and its digest into `directory` (files 0600).
    pub fn write(&self, directory: &Path) -> Result<()> {
        let text = serde_json::to_vec_pretty(self).context("cannot encode the manifest")?;
        write_private(&directory.join(MANIFEST), &text)?;
        let digest = format!("{}  {MANIFEST}\n", hex::encode(Sha256::digest(&text)));
        write_private(&directory.join(MANIFEST_DIGEST), digest.as_bytes())
    }

    /// Reads and checks the manifest of the backup in `directory`.
    pub fn read(directory: &Path) -> Result<Manifest> {
        let path = directory.join(MANIFEST);
        let text =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let digest_path = directory.join(MANIFEST_DIGEST);
        let recorded = std::fs::read_to_string(&digest_path)
            .with_context(|| format!("cannot read {}", digest_path.display()))?;
        let recorded = recorded.split_whitespace().next().unwrap_or_default();
        if recorded != hex::encode(Sha256::digest(&text)) {
            return Err(Failure::new(
                ExitStatus::IntegrityFailure,
                format!(
                    "{} was changed after the backup was written (its SHA-256 does not match {})",
                    path.display(),
                    digest_path.display()
                ),
            )
            .into());
        }
        let manifest: Manifest = serde_json::from_slice(&text).map_err(|error| {
            Failure::new(
                ExitStatus::IntegrityFailure,
                format!("{} cannot be read: {error}", path.display()),
            )
        })?;
        if manifest.format_version > FORMAT_VERSION {
            return Err(Failure::bad_input(format!(
                "{} is backup format {}, newer than this devctl reads ({FORMAT_VERSION})",
                path.display(),
                manifest.format_version
            ))
            .hint("upgrade devctl to restore it")
            .into());
        }
        Ok(manifest)
    }

    /// Raw bytes over every artifact.
    pub fn raw_bytes(&self) -> u64 {
        self.artifacts
            .iter()
            .map(|artifact| artifact.stats.raw_bytes)
            .sum()
    }

    pub fn stored_bytes(&self) -> u64 {
        self.artifacts
            .iter()
            .map(|artifact| artifact.stats.stored_bytes)
            .sum()
    }
}

/// Writes a new file with mode 0600, synced.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut file = crate::backup::archive::create_private(path)?;
    file.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.sync_all()
        .with_context(|| format!("cannot sync {}", path.display()))
}
