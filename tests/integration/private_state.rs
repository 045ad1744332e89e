//! What devctl keeps on disk is private whatever the umask: under umask 000, every directory
//! it creates under its state, cache and backup roots is 0700 and every file 0600.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::harness::{Fixture, require_engine};

/// Every directory and file below `root` (itself included), with its permission bits.
fn modes(root: &Path) -> Vec<(PathBuf, bool, u32)> {
    let mut found = Vec::new();
    let Ok(metadata) = std::fs::symlink_metadata(root) else {
        return found;
    };
    found.push((
        root.to_path_buf(),
        metadata.is_dir(),
        metadata.permissions().mode() & 0o777,
    ));
    if metadata.is_dir() {
        for entry in std::fs::read_dir(root).unwrap().flatten() {
            found.extend(modes(&entry.path()));
        }
    }
    found
}

#[test]
fn under_umask_000_every_directory_is_0700_and_every_file_0600() {
    require_engine();
    let fixture = Fixture::new("private");
    fixture.write(
        "profiles/default.yaml",
        "compose:\n  project_name: {project}\n",
    );
    fixture.write(
        "compose.yaml",
        "services:\n  app:\n    image: {busybox}\n    init: true\n    command: [sleep, '600']\n    volumes: [data:/data]\nvolumes:\n  data:\n",
    );
    let confirm = fixture.name.clone();
    let runs: &[&[&str]] = &[
        &["up"],
        &["status", "--json"],
        &["backup"],
        &["down", "--volumes", "--confirm", &confirm],
        &["restore", "--latest", "--confirm", &confirm],
        &["up"],
        &["up", "--fidelity"],
        &["down", "--fidelity"],
        &["down"],
    ];
    for arguments in runs {
        fixture.devctl().umask(0).args(*arguments).status(0).run();
    }
    let state = fixture.state_dir();
    let backups = fixture.backup_dir();
    let backups_root = backups.parent().unwrap().to_path_buf();
    let mut checked = Vec::new();
    for root in [&state, &backups_root] {
        checked.extend(modes(root));
    }
    // What the runs above must have written: the lock, the audit log, the model cache, the
    // fidelity stack's file, and backups with their manifests.
    for wanted in ["lock", "audit.jsonl", "compose.json", "manifest.json"] {
        assert!(
            checked
                .iter()
                .any(|(path, _, _)| path.file_name().is_some_and(|name| name == wanted)),
            "no {wanted} under {} or {}",
            state.display(),
            backups_root.display()
        );
    }
    let loose: Vec<String> = checked
        .iter()
        .filter(|(_, is_directory, mode)| *mode != if *is_directory { 0o700 } else { 0o600 })
        .map(|(path, _, mode)| format!("{:o} {}", mode, path.display()))
        .collect();
    assert!(loose.is_empty(), "not private:\n{}", loose.join("\n"));
}
