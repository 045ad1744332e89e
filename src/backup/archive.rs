//! Volume archives: a tar stream compressed with zstd, hashed with SHA-256 in the same pass.
//!
//! `store` takes the tar stream of a volume (as the engine's archive endpoint produces it)
//! and writes it compressed, counting raw bytes and entries and hashing exactly what is
//! stored, with no temporary copy. `check` re-hashes a stored file and reads its tar through
//! to the end, refusing any entry that could write outside the volume. `unpack_into` streams
//! a checked archive back out as tar.

use std::collections::HashMap;
use std::ffi::OsString;
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
    let mut file = open_artifact(path)?;
    let mut hasher = HashingWriter {
        inner: io::sink(),
        hasher: Sha256::new(),
        bytes: 0,
    };
    io::copy(&mut file, &mut hasher).with_context(|| format!("cannot read {}", path.display()))?;
    Ok((hex::encode(hasher.hasher.finalize()), hasher.bytes))
}

/// Decompresses `path` and reads it through to its end, hashing the stored bytes in the same
/// pass (one read of the file); for a tar, every entry must stay inside the volume. Returns
/// what was found.
pub fn check(path: &Path, kind: ArtifactKind) -> Result<ArchiveStats> {
    let mut hashing = HashingReader {
        inner: open_artifact(path)?,
        hasher: Sha256::new(),
        bytes: 0,
    };
    let stats = read_through(path, kind, &mut hashing)?;
    // Whatever the decompressor left unread counts too: the hash covers the whole file.
    io::copy(&mut hashing, &mut io::sink())
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(ArchiveStats {
        stored_bytes: hashing.bytes,
        sha256: hex::encode(hashing.hasher.finalize()),
        ..stats
    })
}

/// A reader that hashes and counts what passes through it.
struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.hasher.update(&buffer[..read]);
        self.bytes += read as u64;
        Ok(read)
    }
}

/// Decompresses `stored` (the contents of `path`) to its end, counting raw bytes and, for a
/// tar, admitting every entry; the stored size and hash are left to the caller.
fn read_through(path: &Path, kind: ArtifactKind, stored: &mut dyn Read) -> Result<ArchiveStats> {
    let buffered = io::BufReader::with_capacity(1 << 20, stored);
    let decoder = zstd::stream::read::Decoder::with_buffer(buffered)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let mut counter = CountingReader {
        inner: decoder,
        bytes: 0,
    };
    let corrupt = |error: io::Error| integrity(format!("{} cannot be read: {error}", shown(path)));
    let mut entries = 0;
    match kind {
        ArtifactKind::Tar => {
            let mut guard = EntryGuard::default();
            let mut archive = tar::Archive::new(&mut counter);
            for entry in archive.entries().map_err(corrupt)? {
                let mut entry = entry.map_err(corrupt)?;
                guard.admit(&entry).map_err(|reason| {
                    integrity(format!("{} holds an unsafe entry: {reason}", shown(path)))
                })?;
                io::copy(&mut entry, &mut io::sink()).map_err(corrupt)?;
                entries += 1;
            }
            guard.finish().map_err(|reason| {
                let what = match guard.root_seen {
                    true => "holds an unsafe entry",
                    false => "cannot be restored",
                };
                integrity(format!("{} {what}: {reason}", shown(path)))
            })?;
            io::copy(&mut counter, &mut io::sink()).map_err(corrupt)?;
        }
        ArtifactKind::Stream => {
            io::copy(&mut counter, &mut io::sink()).map_err(corrupt)?;
        }
    }
    Ok(ArchiveStats {
        raw_bytes: counter.bytes,
        entries,
        ..ArchiveStats::default()
    })
}

/// Opens an artifact of a backup: only a regular file itself, never through a symlink, and
/// never a FIFO or a device (which could block or never end); else an integrity failure.
pub fn open_artifact(path: &Path) -> Result<File> {
    crate::system::files::open_regular(path).map_err(|error| match error.kind() {
        io::ErrorKind::InvalidData | io::ErrorKind::NotFound => integrity(format!(
            "{} {}",
            shown(path),
            match error.kind() {
                io::ErrorKind::NotFound => "is missing".to_string(),
                _ => error.to_string(),
            }
        )),
        _ => anyhow::Error::new(error).context(format!("cannot open {}", shown(path))),
    })
}

/// Decompresses `path` into `sink` (e.g. `docker cp`'s standard input).
pub fn unpack_into(path: &Path, sink: &mut dyn Write, progress: &dyn Fn(u64)) -> Result<u64> {
    let file = open_artifact(path)?;
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

/// How many symbolic links one resolution may follow before it is judged a loop (as Linux's
/// own limit).
const SYMLINK_FOLLOWS: usize = 40;

/// What an admitted entry made at its path, as a file system holds it after extraction.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Directory,
    /// A regular file (or a hard link to one).
    File,
    /// A symbolic link and its target, as written in the archive.
    Symlink(PathBuf),
    /// A FIFO: nothing can be written through or linked to it.
    Special,
}

/// Admits tar entries only when the archive, extracted into an empty volume, can neither
/// write outside it nor fail half-way: the first entry is the volume's own directory
/// `devctl-volume/`; every path is relative under it without `..`; no entry lies below a
/// symlink or a file of the archive, or replaces one of its directories; a hard link points
/// to a regular file an EARLIER entry made; no device files; and, once every entry is in
/// (`finish`), every symlink resolves inside the volume as a file system resolves it: links
/// in its target are followed (chains included), `..` after a link climbs from where the
/// link leads, and absolute targets are taken from the volume's root (as in the container
/// that mounts it).
#[derive(Default)]
pub struct EntryGuard {
    /// Every path an entry made, below the volume's root (`""` is the root itself).
    nodes: HashMap<PathBuf, Node>,
    /// The symlinks' paths, in the archive's order.
    symlinks: Vec<PathBuf>,
    root_seen: bool,
}

impl EntryGuard {
    pub fn admit<R: Read>(&mut self, entry: &tar::Entry<'_, R>) -> Result<(), String> {
        let path = entry
            .path()
            .map_err(|error| format!("unreadable path ({error})"))?;
        let kind = entry.header().entry_type();
        let link = entry
            .link_name()
            .map_err(|error| format!("unreadable link of {} ({error})", shown(&path)))?;
        self.admit_parts(&path, kind, link.as_deref())
    }

    pub fn admit_parts(
        &mut self,
        path: &Path,
        kind: tar::EntryType,
        link: Option<&Path>,
    ) -> Result<(), String> {
        let inside =
            inside_root(path).ok_or_else(|| format!("`{}` is outside {ROOT}/", shown(path)))?;
        if !self.root_seen {
            if !(inside.as_os_str().is_empty() && kind == tar::EntryType::Directory) {
                return Err(format!(
                    "its first entry `{}` is not the volume's directory `{ROOT}/` (a directory entry)",
                    shown(path)
                ));
            }
            self.root_seen = true;
            self.nodes.insert(PathBuf::new(), Node::Directory);
            return Ok(());
        }
        if inside.as_os_str().is_empty() && kind != tar::EntryType::Directory {
            return Err(format!(
                "`{}` would replace the volume's directory with something else",
                shown(path)
            ));
        }
        let mut implied = Vec::new();
        for ancestor in inside.ancestors().skip(1) {
            match self.nodes.get(ancestor) {
                Some(Node::Symlink(_)) => {
                    return Err(format!(
                        "`{}` would be written through the symlink `{ROOT}/{}`",
                        shown(path),
                        shown(ancestor)
                    ));
                }
                Some(Node::File | Node::Special) => {
                    return Err(format!(
                        "`{}` lies below `{ROOT}/{}`, which is not a directory",
                        shown(path),
                        shown(ancestor)
                    ));
                }
                Some(Node::Directory) => {}
                // Extraction makes the missing directories on the way.
                None => implied.push(ancestor.to_path_buf()),
            }
        }
        let node = match kind {
            tar::EntryType::Directory => Node::Directory,
            tar::EntryType::Regular | tar::EntryType::Continuous => Node::File,
            tar::EntryType::Fifo => Node::Special,
            tar::EntryType::Block | tar::EntryType::Char => {
                return Err(format!("`{}` is a device file", shown(path)));
            }
            tar::EntryType::Link => {
                let target =
                    link.ok_or_else(|| format!("hard link `{}` has no target", shown(path)))?;
                let target_inside = inside_root(target).ok_or_else(|| {
                    format!(
                        "hard link `{}` points outside the volume (`{}`)",
                        shown(path),
                        shown(target)
                    )
                })?;
                if target_inside == inside {
                    return Err(format!("hard link `{}` points to itself", shown(path)));
                }
                if self.nodes.get(&target_inside) != Some(&Node::File) {
                    return Err(format!(
                        "hard link `{}` points to `{}`, which no earlier entry of the archive made a regular file",
                        shown(path),
                        shown(target)
                    ));
                }
                Node::File
            }
            tar::EntryType::Symlink => {
                let target =
                    link.ok_or_else(|| format!("symlink `{}` has no target", shown(path)))?;
                if target.as_os_str().is_empty() {
                    return Err(format!("symlink `{}` has an empty target", shown(path)));
                }
                self.symlinks.push(inside.clone());
                Node::Symlink(target.to_path_buf())
            }
            other => {
                return Err(format!(
                    "`{}` is an entry of a type devctl does not restore ({other:?})",
                    shown(path)
                ));
            }
        };
        match self.nodes.get(&inside) {
            Some(Node::Directory) if node == Node::Directory => return Ok(()),
            Some(Node::Directory) => {
                return Err(format!(
                    "`{}` would replace a directory of the archive",
                    shown(path)
                ));
            }
            _ => {}
        }
        for directory in implied {
            self.nodes.insert(directory, Node::Directory);
        }
        self.nodes.insert(inside, node);
        Ok(())
    }

    /// Once every entry is admitted: the archive held the volume's directory, and each of its
    /// symlinks resolves inside the volume, against the whole tree the archive makes.
    pub fn finish(&self) -> Result<(), String> {
        if !self.root_seen {
            return Err(format!(
                "it holds no entry, not even the volume's directory `{ROOT}/`"
            ));
        }
        for path in &self.symlinks {
            let Some(Node::Symlink(target)) = self.nodes.get(path) else {
                continue; // replaced by a later entry
            };
            let base: Vec<OsString> = path
                .parent()
                .map(|parent| parent.iter().map(OsString::from).collect())
                .unwrap_or_default();
            let mut follows = 0;
            match self.resolve(base, target, &mut follows, &mut Vec::new()) {
                Resolution::Inside => {}
                Resolution::Escapes => {
                    return Err(format!(
                        "symlink `{ROOT}/{}` escapes the volume (→ `{}`)",
                        shown(path),
                        shown(target)
                    ));
                }
                Resolution::Loops => {
                    return Err(format!(
                        "symlink `{ROOT}/{}` (→ `{}`) leads through more than {SYMLINK_FOLLOWS} symlinks: a loop",
                        shown(path),
                        shown(target)
                    ));
                }
            }
        }
        Ok(())
    }

    /// Walks `target` from the directory `current` (components below the root) as the kernel
    /// would on the extracted tree: following the archive's symlinks where they stand,
    /// climbing with `..` from where they led. Where it led goes into `led`.
    fn resolve(
        &self,
        current: Vec<OsString>,
        target: &Path,
        follows: &mut usize,
        led: &mut Vec<OsString>,
    ) -> Resolution {
        let mut current = if target.is_absolute() {
            Vec::new()
        } else {
            current
        };
        let mut components = target.components().peekable();
        while let Some(component) = components.next() {
            match component {
                Component::ParentDir => {
                    if current.pop().is_none() {
                        return Resolution::Escapes;
                    }
                }
                Component::Normal(name) => {
                    current.push(name.to_os_string());
                    let key: PathBuf = current.iter().collect();
                    match self.nodes.get(&key) {
                        Some(Node::Symlink(link)) => {
                            *follows += 1;
                            if *follows > SYMLINK_FOLLOWS {
                                return Resolution::Loops;
                            }
                            current.pop();
                            let mut followed = Vec::new();
                            match self.resolve(current, link, follows, &mut followed) {
                                Resolution::Inside => current = followed,
                                other => return other,
                            }
                        }
                        Some(Node::File | Node::Special) if components.peek().is_some() => {
                            return Resolution::Inside;
                        }
                        _ => {}
                    }
                }
                Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
            }
        }
        *led = current;
        Resolution::Inside
    }
}

/// Where a symlink leads.
#[derive(Debug, PartialEq, Eq)]
enum Resolution {
    /// Inside the volume (or nowhere: a path through a file reaches nothing).
    Inside,
    /// Above the volume's root.
    Escapes,
    /// Through more than `SYMLINK_FOLLOWS` links.
    Loops,
}

/// A path from an archive as a message shows it (escaped: it is anyone's text).
fn shown(path: &Path) -> String {
    crate::report::text::escaped(&path.display().to_string())
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
    fn check_hashes_the_whole_file_in_its_one_pass() {
        let bytes = tar_with(&[
            ("devctl-volume/", tar::EntryType::Directory, None, b""),
            (
                "devctl-volume/a",
                tar::EntryType::Regular,
                None,
                &[3; 70_000],
            ),
        ]);
        let (_temp, path, stats) = stored(&bytes);
        let found = check(&path, ArtifactKind::Stream).unwrap();
        assert_eq!(found.sha256, hash_file(&path).unwrap().0);
        assert_eq!(found.stored_bytes, stats.stored_bytes);
        assert_eq!(found.raw_bytes, bytes.len() as u64);
        // A second, empty zstd frame appended decodes to nothing, yet is in the hash.
        let mut data = std::fs::read(&path).unwrap();
        data.extend(zstd::encode_all(&b""[..], 1).unwrap());
        std::fs::write(&path, &data).unwrap();
        let found = check(&path, ArtifactKind::Tar).unwrap();
        assert_eq!(found.stored_bytes, data.len() as u64);
        assert_eq!(found.sha256, hash_file(&path).unwrap().0);
        assert_ne!(found.sha256, stats.sha256);
    }

    #[test]
    fn a_flipped_byte_or_truncation_changes_the_hash() {
        let bytes = tar_with(&[
            ("devctl-volume/", tar::EntryType::Directory, None, b""),
            (
                "devctl-volume/a",
                tar::EntryType::Regular,
                None,
                &[7; 50_000],
            ),
        ]);
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

    type Entries<'a> = &'a [(&'a str, tar::EntryType, Option<&'a str>)];

    /// What the guard says of `entries` (after the volume's directory), `finish` included.
    fn judge(entries: Entries) -> Result<(), String> {
        let mut guard = EntryGuard::default();
        guard.admit_parts(Path::new("devctl-volume/"), tar::EntryType::Directory, None)?;
        for (path, kind, link) in entries {
            guard.admit_parts(Path::new(path), *kind, link.map(Path::new))?;
        }
        guard.finish()
    }

    use tar::EntryType::{Block, Char, Directory, Fifo, Link, Regular, Symlink};

    #[test]
    fn unsafe_entries_are_refused() {
        let cases: &[(Entries, &str)] = &[
            (&[("devctl-volume/../etc/passwd", Regular, None)], "outside"),
            (&[("/etc/passwd", Regular, None)], "outside"),
            (&[("/devctl-volume/x", Regular, None)], "outside"),
            (&[("elsewhere/file", Regular, None)], "outside"),
            (&[("devctl-volume/a/../../x", Regular, None)], "outside"),
            (
                &[("devctl-volume/x", Symlink, Some("../../etc/passwd"))],
                "escapes",
            ),
            (&[("devctl-volume/x", Symlink, Some(".."))], "escapes"),
            (
                &[("devctl-volume/a/b", Symlink, Some("/../etc"))],
                "escapes",
            ),
            (
                &[("devctl-volume/h", Link, Some("etc/passwd"))],
                "hard link",
            ),
            (
                &[("devctl-volume/h", Link, Some("/devctl-volume/f"))],
                "outside",
            ),
            (
                &[
                    ("devctl-volume/dir", Symlink, Some("sub")),
                    ("devctl-volume/dir/file", Regular, None),
                ],
                "through the symlink",
            ),
            (
                &[
                    ("devctl-volume/dir", Symlink, Some("sub")),
                    ("devctl-volume/dir/deeper/file", Regular, None),
                ],
                "through the symlink",
            ),
            (&[("devctl-volume/dev", Char, None)], "device"),
            (&[("devctl-volume/disk", Block, None)], "device"),
            (&[("devctl-volume/x", Symlink, None)], "no target"),
            (&[("devctl-volume/x", Symlink, Some(""))], "empty target"),
            (
                &[("devctl-volume/x", tar::EntryType::XGlobalHeader, None)],
                "type devctl does not restore",
            ),
            (
                &[("devctl-volume/x", tar::EntryType::GNUSparse, None)],
                "type devctl does not restore",
            ),
            (
                &[("devctl-volume", Regular, None)],
                "replace the volume's directory",
            ),
            (
                &[("devctl-volume/.", Symlink, Some("x"))],
                "replace the volume's directory",
            ),
        ];
        for (entries, why) in cases {
            let refusal = judge(entries).expect_err(&format!("{entries:?} was admitted"));
            assert!(refusal.contains(why), "{refusal} (expected {why})");
        }
    }

    #[test]
    fn the_first_entry_must_be_the_volume_s_directory() {
        for (first, kind) in [
            ("devctl-volume", Regular),
            ("devctl-volume/", Symlink),
            ("devctl-volume/", Fifo),
            ("devctl-volume/a", Regular),
            ("devctl-volume/a/", Directory),
        ] {
            let mut guard = EntryGuard::default();
            let refusal = guard
                .admit_parts(Path::new(first), kind, Some(Path::new("x")))
                .unwrap_err();
            assert!(
                refusal.contains("is not the volume's directory"),
                "{refusal}"
            );
        }
        let refusal = EntryGuard::default().finish().unwrap_err();
        assert!(refusal.contains("holds no entry"), "{refusal}");
        for root in ["devctl-volume/", "devctl-volume", "./devctl-volume/"] {
            let mut guard = EntryGuard::default();
            guard.admit_parts(Path::new(root), Directory, None).unwrap();
            guard.finish().unwrap();
        }
    }

    #[test]
    fn a_hard_link_must_point_to_an_earlier_regular_file() {
        let refused: &[(Entries, &str)] = &[
            (
                &[("devctl-volume/h", Link, Some("devctl-volume/missing"))],
                "no earlier entry",
            ),
            (
                &[
                    ("devctl-volume/h", Link, Some("devctl-volume/later")),
                    ("devctl-volume/later", Regular, None),
                ],
                "no earlier entry",
            ),
            (
                &[
                    ("devctl-volume/d", Directory, None),
                    ("devctl-volume/h", Link, Some("devctl-volume/d")),
                ],
                "no earlier entry",
            ),
            (
                &[
                    ("devctl-volume/s", Symlink, Some("f")),
                    ("devctl-volume/h", Link, Some("devctl-volume/s")),
                ],
                "no earlier entry",
            ),
            (
                &[
                    ("devctl-volume/d", Symlink, Some("real")),
                    ("devctl-volume/real/f", Regular, None),
                    ("devctl-volume/h", Link, Some("devctl-volume/d/f")),
                ],
                "no earlier entry",
            ),
            (
                &[
                    ("devctl-volume/f", Regular, None),
                    ("devctl-volume/f", Link, Some("devctl-volume/f")),
                ],
                "itself",
            ),
            (
                &[("devctl-volume/h", Link, Some("devctl-volume"))],
                "no earlier entry",
            ),
            (&[("devctl-volume/h", Link, None)], "no target"),
        ];
        for (entries, why) in refused {
            let refusal = judge(entries).expect_err(&format!("{entries:?} was admitted"));
            assert!(refusal.contains(why), "{refusal} (expected {why})");
        }
        judge(&[
            ("devctl-volume/a/f", Regular, None),
            ("devctl-volume/h", Link, Some("devctl-volume/a/f")),
            ("devctl-volume/h2", Link, Some("./devctl-volume/h")),
        ])
        .unwrap();
    }

    #[test]
    fn symlinks_resolve_as_a_file_system_resolves_them() {
        let escapes: &[Entries] = &[
            // `..` after a link climbs from where the link led, not lexically.
            &[
                ("devctl-volume/a/b/x", Symlink, Some("../..")),
                ("devctl-volume/l", Symlink, Some("a/b/x/..")),
            ],
            // The same, the links in the other order.
            &[
                ("devctl-volume/l", Symlink, Some("a/b/x/..")),
                ("devctl-volume/a/b/x", Symlink, Some("../..")),
            ],
            // A chain of links, each harmless alone.
            &[
                ("devctl-volume/one", Symlink, Some("two/..")),
                ("devctl-volume/two", Symlink, Some("three/..")),
                ("devctl-volume/three", Symlink, Some("d/e")),
                ("devctl-volume/d/e", Symlink, Some("/")),
            ],
            &[
                ("devctl-volume/deep/er/top", Symlink, Some("/")),
                ("devctl-volume/x", Symlink, Some("deep/er/top/../y")),
            ],
            // An absolute link inside the chain starts from the volume's root.
            &[
                ("devctl-volume/a/b/c/root", Symlink, Some("/")),
                ("devctl-volume/a/b/c/l", Symlink, Some("root/..")),
            ],
        ];
        for entries in escapes {
            let refusal = judge(entries).expect_err(&format!("{entries:?} was admitted"));
            assert!(refusal.contains("escapes the volume"), "{refusal}");
        }
        for entries in [
            &[("devctl-volume/loop", Symlink, Some("loop/x"))][..],
            &[
                ("devctl-volume/a", Symlink, Some("b")),
                ("devctl-volume/b", Symlink, Some("a")),
                ("devctl-volume/c", Symlink, Some("a/..")),
            ],
        ] {
            let refusal = judge(entries).expect_err(&format!("{entries:?} was admitted"));
            assert!(refusal.contains("a loop"), "{refusal}");
        }
        let inside: &[Entries] = &[
            &[
                ("devctl-volume/a/b/x", Symlink, Some("..")),
                ("devctl-volume/l", Symlink, Some("a/b/x/..")),
            ],
            &[
                ("devctl-volume/a/b/up", Symlink, Some("../../top")),
                ("devctl-volume/abs", Symlink, Some("/data/file")),
                ("devctl-volume/dangling", Symlink, Some("no/such/../thing")),
                ("devctl-volume/file", Regular, None),
                // Through a file the kernel stops (ENOTDIR): nothing is reached.
                ("devctl-volume/through", Symlink, Some("file/../../..")),
                ("devctl-volume/self", Symlink, Some(".")),
            ],
            // A link replaced by a later entry no longer counts.
            &[
                ("devctl-volume/x", Symlink, Some("../..")),
                ("devctl-volume/x", Regular, None),
            ],
        ];
        for entries in inside {
            judge(entries).unwrap_or_else(|refusal| panic!("{entries:?}: {refusal}"));
        }
        // A link replaced by a later one is judged by the later one.
        let refusal = judge(&[
            ("devctl-volume/x", Regular, None),
            ("devctl-volume/x", Symlink, Some("../..")),
        ])
        .unwrap_err();
        assert!(refusal.contains("escapes"), "{refusal}");
    }

    #[test]
    fn entries_below_a_file_or_replacing_a_directory_are_refused() {
        let refused: &[(Entries, &str)] = &[
            (
                &[
                    ("devctl-volume/f", Regular, None),
                    ("devctl-volume/f/g", Regular, None),
                ],
                "not a directory",
            ),
            (
                &[
                    ("devctl-volume/p", Fifo, None),
                    ("devctl-volume/p/g", Directory, None),
                ],
                "not a directory",
            ),
            (
                &[
                    ("devctl-volume/d/f", Regular, None),
                    ("devctl-volume/d", Regular, None),
                ],
                "replace a directory",
            ),
            (
                &[
                    ("devctl-volume/d", Directory, None),
                    ("devctl-volume/d", Symlink, Some("elsewhere")),
                ],
                "replace a directory",
            ),
        ];
        for (entries, why) in refused {
            let refusal = judge(entries).expect_err(&format!("{entries:?} was admitted"));
            assert!(refusal.contains(why), "{refusal} (expected {why})");
        }
        judge(&[
            ("devctl-volume/d", Directory, None),
            ("devctl-volume/d", Directory, None),
            ("devctl-volume/d/f", Regular, None),
            ("devctl-volume/d/f", Regular, None),
            ("devctl-volume/p", Fifo, None),
        ])
        .unwrap();
    }

    #[test]
    fn links_that_stay_inside_are_admitted() {
        judge(&[
            ("devctl-volume/a/b/up", Symlink, Some("../../top")),
            ("devctl-volume/abs", Symlink, Some("/data/file")),
            ("devctl-volume/a/file", Regular, None),
            ("devctl-volume/hard", Link, Some("devctl-volume/a/file")),
            ("devctl-volume/ünïcode name", Regular, None),
        ])
        .unwrap();
    }

    #[test]
    fn refusals_show_names_escaped() {
        let refusal = judge(&[("devctl-volume/x\nerror: forged", Char, None)]).unwrap_err();
        assert!(!refusal.contains('\n'), "{refusal}");
        assert!(refusal.contains("x\\nerror: forged"), "{refusal}");
    }

    #[test]
    fn check_refuses_what_cannot_be_restored_and_non_regular_files() {
        for entries in [
            // Only a file named like the volume's directory.
            &[("devctl-volume", Regular, None, &b"x"[..])][..],
            &[
                ("devctl-volume/", Directory, None, b""),
                ("devctl-volume/h", Link, Some("devctl-volume/gone"), b""),
            ],
        ] {
            let bytes = tar_with(entries);
            let (_temp, path, _) = stored(&bytes);
            let error = check(&path, ArtifactKind::Tar).unwrap_err();
            assert_eq!(
                crate::report::failure::find(&error).unwrap().status,
                ExitStatus::IntegrityFailure
            );
        }
        let temp = tempfile::tempdir().unwrap();
        let zero = temp.path().join("zero.tar.zst");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let error = check(&zero, ArtifactKind::Tar).unwrap_err();
        assert!(format!("{error:#}").contains("symbolic link"), "{error:#}");
        let missing = check(&temp.path().join("missing"), ArtifactKind::Stream).unwrap_err();
        assert!(format!("{missing:#}").contains("is missing"), "{missing:#}");
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
