//! Small file helpers shared by the modules that keep state on disk: atomic writes and
//! private directories. Whatever the umask, what devctl creates under its state, cache and
//! backup roots is private: directories 0700, files 0600.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

use anyhow::{Context, Result};

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so a
/// reader never sees half a file. Creates the parent directories.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let parent = path
        .parent()
        .with_context(|| format!("{} has no parent directory", path.display()))?;
    create_private_directories(parent)?;
    // The temporary file is created 0600, and keeps its mode through the rename.
    let mut temporary = tempfile::NamedTempFile::new_in(parent)
        .with_context(|| format!("cannot create a temporary file in {}", parent.display()))?;
    temporary
        .write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    temporary
        .persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Creates `path` and any missing parent, each new one 0700 (the umask can only take bits
/// away, and there are none to take from the group and others). Existing ones are left as
/// they are.
pub fn create_private_directories(path: &Path) -> Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .with_context(|| format!("cannot create directory {}", path.display()))
}

/// Options that create a missing file 0600.
pub fn private_file_options() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    options.mode(0o600);
    options
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn what_is_created_is_private() {
        // Under the usual umask (022) plain creation would give 0755 and 0644; the umask 000
        // case runs devctl itself (tests/integration/private_state.rs), since the umask is
        // the whole process's.
        let temp = tempfile::tempdir().unwrap();
        let deep = temp.path().join("a/b/c");
        let file = temp.path().join("x/y/state.json");
        create_private_directories(&deep).unwrap();
        write_atomic(&file, b"{}").unwrap();
        private_file_options()
            .create(true)
            .append(true)
            .open(temp.path().join("a/log"))
            .unwrap();
        for directory in ["a", "a/b", "a/b/c", "x", "x/y"] {
            assert_eq!(mode(&temp.path().join(directory)), 0o700, "{directory}");
        }
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(&temp.path().join("a/log")), 0o600);
    }
}
