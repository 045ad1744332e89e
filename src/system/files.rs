//! Small file helpers shared by the modules that keep state on disk: atomic writes, private
//! directories, and reading files that may have been planted (a backup copied from
//! elsewhere). Whatever the umask, what devctl creates under its state, cache and backup
//! roots is private: directories 0700, files 0600.

use std::fs::File;
use std::io::{self, Read, Write};
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

/// Opens `path` for reading only if it is a regular file itself: a symbolic link is refused
/// (not followed), and so is a FIFO, a device, a socket or a directory, without blocking on
/// it (opened non-blocking, then checked with `fstat`). The error says what `path` is.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|error| match error.raw_os_error() {
            Some(libc::ELOOP) => refusal("is a symbolic link"),
            _ => error,
        })?;
    let kind = file.metadata()?.file_type();
    if kind.is_file() {
        return Ok(file);
    }
    use std::os::unix::fs::FileTypeExt;
    let what = if kind.is_dir() {
        "is a directory"
    } else if kind.is_fifo() {
        "is a FIFO (named pipe)"
    } else if kind.is_char_device() || kind.is_block_device() {
        "is a device"
    } else if kind.is_socket() {
        "is a socket"
    } else {
        "is not a regular file"
    };
    Err(refusal(what))
}

/// Reads `path` whole, through `open_regular`, refusing a file of more than `limit` bytes
/// (however its size grows while it is read).
pub fn read_regular(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let file = open_regular(path)?;
    let size = file.metadata()?.len();
    if size > limit {
        return Err(too_large(size, limit));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64, limit));
    }
    Ok(bytes)
}

fn refusal(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{what}, not a regular file"),
    )
}

fn too_large(size: u64, limit: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("is larger than {limit} bytes (at least {size}), more than such a file can be"),
    )
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

    #[test]
    fn only_regular_files_are_read_and_nothing_blocks() {
        let temp = tempfile::tempdir().unwrap();
        let file = temp.path().join("file");
        std::fs::write(&file, b"12345").unwrap();
        assert_eq!(read_regular(&file, 5).unwrap(), b"12345");
        let large = read_regular(&file, 4).unwrap_err().to_string();
        assert!(large.contains("larger than 4 bytes"), "{large}");
        let link = temp.path().join("link");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        let zero = temp.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let fifo = temp.path().join("fifo");
        let name = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: mkfifo(3) with a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        for (path, what) in [
            (link, "symbolic link"),
            (zero, "symbolic link"),
            (fifo, "FIFO"),
            (temp.path().to_path_buf(), "directory"),
            (Path::new("/dev/null").to_path_buf(), "device"),
        ] {
            let error = read_regular(&path, 1 << 20).unwrap_err().to_string();
            assert!(error.contains(what), "{}: {error}", path.display());
            assert!(open_regular(&path).is_err());
        }
        let missing = open_regular(&temp.path().join("missing")).unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
    }
}
