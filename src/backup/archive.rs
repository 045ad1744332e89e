//! Volume archives: a tar stream compressed with zstd, hashed with SHA-256 in the same pass.
//!
//! `store` takes the tar stream of a volume (as the engine's archive endpoint produces it)
//! and writes it compressed, counting raw bytes and entries and hashing exactly what is
//! stored, with no temporary copy. `check` re-hashes a stored file and reads its tar through
//! to the end, refusing any entry that could write outside the volume. `unpack_into` streams
//! a checked archive back out as tar.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::report::exit_status::ExitStatus;
use crate::report::failure::Failure;

/// The directory a volume is mounted at in the helper container, and so the first path
/// component of every entry of a volume archive.
pub const ROOT: &str = "devctl-volume";

/// What was stored, as the manifest records it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveStats {
    /// Bytes of the uncompressed stream (tar, or the hook's output).
    pub raw_bytes: u64,
    /// Bytes of the stored, compressed file.
    pub stored_bytes: u64,
    /// Tar entries (files, directories, links); 0 for a hook's output.
    pub entries: u64,
    /// SHA-256 of the stored file, hex.
    pub sha256: String,
}

/// How a stored stream is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArtifactKind {
    /// A tar of the volume, entries under `devctl-volume/`.
    Tar,
    /// A hook command's output, as it printed it.
    Stream,
}

/// A writer that hashes and counts what passes through it.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buffer: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buffer)?;
        self.hasher.update(&buffer[..written]);
        self.bytes += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A reader that copies what it reads into a writer, counting bytes and reporting progress.
struct TeeReader<'a, R, W> {
    inner: R,
    copy: W,
    bytes: u64,
    progress: &'a dyn Fn(u64),
}

impl<R: Read, W: Write> Read for TeeReader<'_, R, W> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.copy.write_all(&buffer[..read])?;
        self.bytes += read as u64;
        (self.progress)(read as u64);
        Ok(read)
    }
}

/// Creates `path` for writing, mode 0600, refusing to replace an existing file.
pub fn create_private(path: &Path) -> Result<File> {
    crate::system::files::private_file_options()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))
}

/// Stores `source` compressed into `destination` (a new file). For `Tar`, the stream is
/// parsed on the way so its entries are counted; the bytes stored are the bytes read.
pub fn store(
    source: impl Read,
    destination: &Path,
    kind: ArtifactKind,
    level: i32,
    workers: u32,
    progress: &dyn Fn(u64),
) -> Result<ArchiveStats> {
    let file = create_private(destination)?;
    let hashing = HashingWriter {
        inner: BufWriter::with_capacity(1 << 20, file),
        hasher: Sha256::new(),
        bytes: 0,
    };
    let mut encoder = zstd::stream::write::Encoder::new(hashing, level)
        .context("cannot start the zstd compressor")?;
    if workers > 1 {
        encoder
            .multithread(workers)
            .context("cannot start zstd's worker threads")?;
    }
    let mut tee = TeeReader {
        inner: source,
        copy: encoder,
        bytes: 0,
        progress,
    };
    let mut entries = 0;
    match kind {
        ArtifactKind::Tar => {
            let mut archive = tar::Archive::new(&mut tee);
            for entry in archive
                .entries()
                .context("cannot read the volume's tar stream")?
            {
                entry.context("cannot read the volume's tar stream")?;
                entries += 1;
            }
            // The end-of-archive blocks and padding belong to the stored stream too.
            io::copy(&mut tee, &mut io::sink()).context("cannot read the volume's tar stream")?;
        }
        ArtifactKind::Stream => {
            io::copy(&mut tee, &mut io::sink()).context("cannot read the hook's output")?;
        }
    }
    let raw_bytes = tee.bytes;
    let hashing = tee.copy.finish().context("cannot finish the zstd stream")?;
    let HashingWriter {
        inner,
        hasher,
        bytes,
    } = hashing;
    let file = inner
        .into_inner()
        .map_err(|error| error.into_error())
        .with_context(|| format!("cannot write {}", destination.display()))?;
    file.sync_all()
        .with_context(|| format!("cannot sync {}", destination.display()))?;
    Ok(ArchiveStats {
        raw_bytes,
        stored_bytes: bytes,
        entries,
        sha256: hex::encode(hasher.finalize()),
    })
}

/// The SHA-256 and size of a stored file.
pub fn hash_file(path: &Path) -> Result<(String, u64)> {
    let mut file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut hasher = HashingWriter {
        inner: io::sink(),
        hasher: Sha256::new(),
        bytes: 0,
    };
    io::copy(&mut file, &mut hasher).with_context(|| format!("cannot read {}", path.display()))?;
    Ok((hex::encode(hasher.hasher.finalize()), hasher.bytes))
}

/// Re-hashes `path`, then decompresses it and reads it through to its end; for a tar, every
/// entry must stay inside the volume. Returns what was found.
pub fn check(path: &Path, kind: ArtifactKind) -> Result<ArchiveStats> {
    let (sha256, stored_bytes) = hash_file(path)?;
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let decoder = zstd::stream::read::Decoder::new(file)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let mut counter = CountingReader {
        inner: decoder,
        bytes: 0,
    };
    let corrupt =
        |error: io::Error| integrity(format!("{} cannot be read: {error}", path.display()));
    let mut entries = 0;
    match kind {
        ArtifactKind::Tar => {
            let mut guard = EntryGuard::default();
            let mut archive = tar::Archive::new(&mut counter);
            for entry in archive.entries().map_err(corrupt)? {
                let mut entry = entry.map_err(corrupt)?;
                guard.admit(&entry).map_err(|reason| {
                    integrity(format!(
                        "{} holds an unsafe entry: {reason}",
                        path.display()
                    ))
                })?;
                io::copy(&mut entry, &mut io::sink()).map_err(corrupt)?;
                entries += 1;
            }
            io::copy(&mut counter, &mut io::sink()).map_err(corrupt)?;
        }
        ArtifactKind::Stream => {
            io::copy(&mut counter, &mut io::sink()).map_err(corrupt)?;
        }
    }
    Ok(ArchiveStats {
        raw_bytes: counter.bytes,
        stored_bytes,
        entries,
        sha256,
    })
}

/// Decompresses `path` into `sink` (e.g. `docker cp`'s standard input).
pub fn unpack_into(path: &Path, sink: &mut dyn Write, progress: &dyn Fn(u64)) -> Result<u64> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut decoder = zstd::stream::read::Decoder::new(file)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let mut buffer = vec![0; 1 << 20];
    let mut total = 0;
    loop {
        let read = decoder
            .read(&mut buffer)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if read == 0 {
            break;
        }
        sink.write_all(&buffer[..read])
            .context("cannot stream the archive to the engine")?;
        total += read as u64;
        progress(read as u64);
    }
    sink.flush()
        .context("cannot stream the archive to the engine")?;
    Ok(total)
}

/// An integrity failure; the backup store gives its hint (`StoredBackup::verify`).
fn integrity(message: String) -> anyhow::Error {
    Failure::new(ExitStatus::IntegrityFailure, message).into()
}

struct CountingReader<R> {
    inner: R,
    bytes: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.bytes += read as u64;
        Ok(read)
    }
}

/// Admits tar entries only when they cannot write outside the volume: relative paths under
/// `devctl-volume/` without `..`, no entry below a symlink of the archive, hard links inside,
/// symlinks that resolve inside (absolute targets are taken from the volume's root, as in the
/// container that mounts it), and no device files.
#[derive(Default)]
pub struct EntryGuard {
    symlinks: HashSet<PathBuf>,
}

impl EntryGuard {
    pub fn admit<R: Read>(&mut self, entry: &tar::Entry<'_, R>) -> Result<(), String> {
        let path = entry
            .path()
            .map_err(|error| format!("unreadable path ({error})"))?;
        let kind = entry.header().entry_type();
        let link = entry
            .link_name()
            .map_err(|error| format!("unreadable link of {} ({error})", path.display()))?;
        self.admit_parts(&path, kind, link.as_deref())
    }

    pub fn admit_parts(
        &mut self,
        path: &Path,
        kind: tar::EntryType,
        link: Option<&Path>,
    ) -> Result<(), String> {
        let inside =
            inside_root(path).ok_or_else(|| format!("`{}` is outside {ROOT}/", path.display()))?;
        for ancestor in inside.ancestors().skip(1) {
            if self.symlinks.contains(ancestor) {
                return Err(format!(
                    "`{}` would be written through the symlink `{}`",
                    path.display(),
                    ancestor.display()
                ));
            }
        }
        match kind {
            tar::EntryType::Block | tar::EntryType::Char => {
                return Err(format!("`{}` is a device file", path.display()));
            }
            tar::EntryType::Link => {
                let target =
                    link.ok_or_else(|| format!("hard link `{}` has no target", path.display()))?;
                inside_root(target).ok_or_else(|| {
                    format!(
                        "hard link `{}` points outside the volume (`{}`)",
                        path.display(),
                        target.display()
                    )
                })?;
            }
            tar::EntryType::Symlink => {
                let target =
                    link.ok_or_else(|| format!("symlink `{}` has no target", path.display()))?;
                let base = inside.parent().unwrap_or(Path::new(""));
                if resolve(base, target).is_none() {
                    return Err(format!(
                        "symlink `{}` escapes the volume (→ `{}`)",
                        path.display(),
                        target.display()
                    ));
                }
                self.symlinks.insert(inside.clone());
            }
            _ => {}
        }
        Ok(())
    }
}

/// The part of `path` below `devctl-volume/`, if `path` is a plain relative path there.
fn inside_root(path: &Path) -> Option<PathBuf> {
    let mut components = path.components().filter(|c| *c != Component::CurDir);
    match components.next() {
        Some(Component::Normal(first)) if first == ROOT => {}
        _ => return None,
    }
    let mut inside = PathBuf::new();
    for component in components {
        match component {
            Component::Normal(name) => inside.push(name),
            _ => return None,
        }
    }
    Some(inside)
}

/// Resolves a symlink target against the volume's root; `None` when it climbs above it.
fn resolve(base: &Path, target: &Path) -> Option<PathBuf> {
    let mut resolved: Vec<&std::ffi::OsStr> = if target.is_absolute() {
        Vec::new()
    } else {
        base.components()
            .filter_map(|c| match c {
                Component::Normal(name) => Some(name),
                _ => None,
            })
            .collect()
    };
    for component in target.components() {
        match component {
            Component::Normal(name) => resolved.push(name),
            Component::ParentDir => {
                resolved.pop()?;
            }
            _ => {}
        }
    }
    Some(resolved.iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_with(entries: &[(&str, tar::EntryType, Option<&str>, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, kind, link, data) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(*kind);
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            if let Some(link) = link {
                header.set_link_name(link).unwrap();
            }
            // Bypass `set_path`'s own checks: hand-made archives are what the guard is for.
            let name = path.as_bytes();
            header.as_old_mut().name[..name.len()].copy_from_slice(name);
            header.set_cksum();
            builder.append(&header, *data).unwrap();
        }
        builder.into_inner().unwrap()
    }

    fn stored(bytes: &[u8]) -> (tempfile::TempDir, PathBuf, ArchiveStats) {
        let temp = tempfile::tempdir().unwrap();
        let path = temp.path().join("a.tar.zst");
        let stats = store(bytes, &path, ArtifactKind::Tar, 3, 1, &|_| {}).unwrap();
        (temp, path, stats)
    }

    #[test]
    fn store_then_check_agree() {
        let bytes = tar_with(&[
            ("devctl-volume/", tar::EntryType::Directory, None, b""),
            (
                "devctl-volume/a.txt",
                tar::EntryType::Regular,
                None,
                b"hello",
            ),
            (
                "devctl-volume/link",
                tar::EntryType::Symlink,
                Some("a.txt"),
                b"",
            ),
        ]);
        let (_temp, path, stats) = stored(&bytes);
        assert_eq!(stats.raw_bytes, bytes.len() as u64);
        assert_eq!(stats.entries, 3);
        assert_eq!(check(&path, ArtifactKind::Tar).unwrap(), stats);
        let mut out = Vec::new();
        unpack_into(&path, &mut out, &|_| {}).unwrap();
        assert_eq!(out, bytes);
    }

    #[test]
    fn a_flipped_byte_or_truncation_changes_the_hash() {
        let bytes = tar_with(&[(
            "devctl-volume/a",
            tar::EntryType::Regular,
            None,
            &[7; 50_000],
        )]);
        let (_temp, path, stats) = stored(&bytes);
        let mut data = std::fs::read(&path).unwrap();
        let middle = data.len() / 2;
        data[middle] ^= 0x40;
        std::fs::write(&path, &data).unwrap();
        let flipped = check(&path, ArtifactKind::Tar);
        assert!(flipped.is_err() || flipped.unwrap().sha256 != stats.sha256);
        data.truncate(middle);
        std::fs::write(&path, &data).unwrap();
        assert!(
            check(&path, ArtifactKind::Tar).is_err(),
            "a truncated archive read through"
        );
    }

    #[test]
    fn unsafe_entries_are_refused() {
        for (entries, why) in [
            (
                vec![("devctl-volume/../etc/passwd", tar::EntryType::Regular, None)],
                "outside",
            ),
            (
                vec![("/etc/passwd", tar::EntryType::Regular, None)],
                "outside",
            ),
            (
                vec![("elsewhere/file", tar::EntryType::Regular, None)],
                "outside",
            ),
            (
                vec![(
                    "devctl-volume/x",
                    tar::EntryType::Symlink,
                    Some("../../etc/passwd"),
                )],
                "escapes",
            ),
            (
                vec![(
                    "devctl-volume/a/b",
                    tar::EntryType::Symlink,
                    Some("/../etc"),
                )],
                "escapes",
            ),
            (
                vec![("devctl-volume/h", tar::EntryType::Link, Some("etc/passwd"))],
                "hard link",
            ),
            (
                vec![
                    ("devctl-volume/dir", tar::EntryType::Symlink, Some("sub")),
                    ("devctl-volume/dir/file", tar::EntryType::Regular, None),
                ],
                "through the symlink",
            ),
            (
                vec![("devctl-volume/dev", tar::EntryType::Char, None)],
                "device",
            ),
        ] {
            let mut guard = EntryGuard::default();
            let refusal = entries
                .iter()
                .map(|(path, kind, link)| {
                    guard.admit_parts(Path::new(path), *kind, link.map(Path::new))
                })
                .find_map(Result::err)
                .unwrap_or_else(|| panic!("{entries:?} was admitted"));
            assert!(refusal.contains(why), "{refusal} (expected {why})");
        }
    }

    #[test]
    fn links_that_stay_inside_are_admitted() {
        let mut guard = EntryGuard::default();
        for (path, kind, link) in [
            ("devctl-volume/", tar::EntryType::Directory, None),
            (
                "devctl-volume/a/b/up",
                tar::EntryType::Symlink,
                Some("../../top"),
            ),
            (
                "devctl-volume/abs",
                tar::EntryType::Symlink,
                Some("/data/file"),
            ),
            (
                "devctl-volume/hard",
                tar::EntryType::Link,
                Some("devctl-volume/a/file"),
            ),
            ("devctl-volume/ünïcode name", tar::EntryType::Regular, None),
        ] {
            guard
                .admit_parts(Path::new(path), kind, link.map(Path::new))
                .unwrap();
        }
    }

    #[test]
    fn a_hand_made_archive_with_dot_dot_fails_check() {
        let bytes = tar_with(&[("devctl-volume/../../x", tar::EntryType::Regular, None, b"x")]);
        let (_temp, path, _) = stored(&bytes);
        let error = check(&path, ArtifactKind::Tar).unwrap_err();
        assert_eq!(
            crate::report::failure::find(&error).unwrap().status,
            ExitStatus::IntegrityFailure
        );
        assert!(error.to_string().contains("unsafe entry"), "{error}");
    }
}
