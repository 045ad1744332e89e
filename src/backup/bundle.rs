//! The portable bundle format (`devctl backup export` / `import`): one plain tar file whose
//! first member, `devctl-bundle.json`, is the index (every other member's name, size and
//! SHA-256, in order, and the images' references and ids), and whose last member,
//! `devctl-bundle.sha256`, holds the SHA-256 of every byte before its own header. Then come
//! exactly the two zero blocks that end a tar, and nothing else.
//!
//! Every header is the one devctl writes for its name and size (ustar, a regular file, mode
//! 0600, owner 0:0, the index's modification time), so the reader re-encodes each header and
//! compares it byte for byte; padding must be zeros. With the digest over everything before
//! the last header, any single changed byte anywhere in the file is refused: before the last
//! header by the digest (or earlier, by the header or index checks), in the last header by
//! its re-encoding, in the digest member by the comparison, after it by the end check.

use std::io::{self, Read, Write};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::backup::manifest::check_file_name;
use crate::report::exit_status::ExitStatus;
use crate::report::failure::Failure;
use crate::report::text::escaped;

/// What the index's `format` says.
pub const FORMAT: &str = "devctl-bundle";
/// The version of the bundle format this devctl writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// The first member: the index.
pub const INDEX: &str = "devctl-bundle.json";
/// The last member: the SHA-256 of every byte before its header.
pub const DIGEST: &str = "devctl-bundle.sha256";
/// The resolved compose model, secret values masked.
pub const MODEL: &str = "model.json";
/// Where the backup's files are, under their own names.
pub const BACKUP_PREFIX: &str = "backup/";
/// The images, as one `docker save` archive.
pub const IMAGES: &str = "images/images.tar";

const BLOCK: usize = 512;
/// The most the index may hold.
pub const INDEX_LIMIT: u64 = 1 << 20;
/// The most the model may hold.
pub const MODEL_LIMIT: u64 = 16 << 20;
/// The digest member's size: 64 hex digits and a newline.
const DIGEST_SIZE: u64 = 65;
/// The longest member name a ustar header holds in its name field alone.
pub const NAME_LIMIT: usize = 100;

/// The index: what the bundle holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Index {
    pub format: String,
    pub format_version: u32,
    pub devctl_version: String,
    /// UTC, RFC 3339.
    pub created: String,
    /// The project the backup was exported from.
    pub project: String,
    /// The backup's id.
    pub backup: String,
    /// The image of every service of the project.
    pub images: Vec<ImageRecord>,
    /// Every member after the index and before the digest, in order.
    pub members: Vec<Member>,
}

/// A service's image as the exporting engine had it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageRecord {
    pub service: String,
    /// The reference the service runs (`shop-app`, `postgres:16`).
    pub reference: String,
    /// The image id on the exporting engine (`sha256:…`), when it had the image.
    pub id: Option<String>,
    /// Whether the project builds it.
    pub built: bool,
    /// Whether it is in `images/images.tar`.
    pub saved: bool,
}

/// One member of the bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    pub name: String,
    pub size: u64,
    /// SHA-256 of its bytes, hex.
    pub sha256: String,
}

/// A refusal of the bundle `file`: an integrity failure naming it.
pub fn refused(file: &str, message: impl AsRef<str>) -> anyhow::Error {
    Failure::new(
        ExitStatus::IntegrityFailure,
        format!("bundle {file} is refused: {}", message.as_ref()),
    )
    .hint("nothing was stored or loaded; export the bundle again and carry it whole")
    .into()
}

/// Whether `name` may be a member listed in the index, and the most it may hold (`None`: as
/// much as the file).
pub fn member_limit(name: &str) -> Result<Option<u64>, String> {
    match name {
        MODEL => Ok(Some(MODEL_LIMIT)),
        IMAGES => Ok(None),
        _ => {
            let Some(file) = name.strip_prefix(BACKUP_PREFIX) else {
                return Err("it is not a member a bundle holds".into());
            };
            match file {
                crate::backup::manifest::MANIFEST => {
                    Ok(Some(crate::backup::manifest::MANIFEST_LIMIT))
                }
                crate::backup::manifest::MANIFEST_DIGEST => Ok(Some(1024)),
                crate::backup::drill_record::RECORD => {
                    Ok(Some(crate::backup::drill_record::RECORD_LIMIT))
                }
                _ => check_file_name(file)
                    .map(|()| None)
                    .map_err(|why| format!("backup file `{}`: {why}", escaped(file))),
            }
        }
    }
}

impl Index {
    /// The images whose archive the bundle carries (`docker save`d into it).
    pub fn carried_images(&self) -> Vec<ImageRecord> {
        self.images
            .iter()
            .filter(|image| image.saved)
            .cloned()
            .collect()
    }

    /// Checks what the reader relies on: the format and its version, member names a bundle
    /// holds (each once, the required ones present, short enough for a header), sizes within
    /// their limits, and hex digests.
    pub fn check(&self) -> Result<(), String> {
        if self.format != FORMAT {
            return Err(format!(
                "its index says format `{}`, not `{FORMAT}`",
                escaped(&self.format)
            ));
        }
        if self.format_version > FORMAT_VERSION {
            return Err(format!(
                "it is bundle format {}, newer than this devctl reads ({FORMAT_VERSION}); upgrade devctl to import it",
                self.format_version
            ));
        }
        crate::backup::id::check(&self.backup)
            .map_err(|why| format!("its backup id `{}`: {why}", escaped(&self.backup)))?;
        let mut seen: Vec<&str> = Vec::new();
        for member in &self.members {
            let name = escaped(&member.name);
            let limit = member_limit(&member.name)
                .map_err(|why| format!("the index lists member `{name}`: {why}"))?;
            if member.name.len() > NAME_LIMIT {
                return Err(format!(
                    "member `{name}` has a name longer than {NAME_LIMIT} bytes"
                ));
            }
            if seen.contains(&member.name.as_str()) {
                return Err(format!("the index lists member `{name}` twice"));
            }
            seen.push(&member.name);
            if let Some(limit) = limit.filter(|limit| member.size > *limit) {
                return Err(format!(
                    "member `{name}` is declared {} bytes, more than such a member can be ({limit})",
                    member.size
                ));
            }
            if member.sha256.len() != 64
                || !member
                    .sha256
                    .bytes()
                    .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
            {
                return Err(format!("member `{name}` has no SHA-256 in the index"));
            }
        }
        for required in [
            MODEL.to_string(),
            format!("{BACKUP_PREFIX}{}", crate::backup::manifest::MANIFEST),
            format!(
                "{BACKUP_PREFIX}{}",
                crate::backup::manifest::MANIFEST_DIGEST
            ),
        ] {
            if !seen.contains(&required.as_str()) {
                return Err(format!("the index lists no member `{required}`"));
            }
        }
        let saved = self.images.iter().any(|image| image.saved);
        if saved != seen.contains(&IMAGES) {
            return Err(format!(
                "the index's images and its member `{IMAGES}` disagree"
            ));
        }
        Ok(())
    }

    /// The bytes the whole file must have: every header, member and padding, and the end;
    /// `None` when the sizes the index declares add up to more than any file can hold.
    pub fn file_size(&self, index_size: u64) -> Option<u64> {
        let member = |size: u64| {
            size.checked_next_multiple_of(BLOCK as u64)?
                .checked_add(BLOCK as u64)
        };
        let mut total = member(index_size)?
            .checked_add(member(DIGEST_SIZE)?)?
            .checked_add(2 * BLOCK as u64)?;
        for declared in &self.members {
            total = total.checked_add(member(declared.size)?)?;
        }
        Some(total)
    }
}

/// `size` rounded up to whole blocks (a size that was checked to fit in a file).
fn padded(size: u64) -> u64 {
    size.div_ceil(BLOCK as u64) * BLOCK as u64
}

/// The header devctl writes for a member `name` of `size` bytes modified at `mtime`.
pub fn header(name: &str, size: u64, mtime: u64) -> [u8; BLOCK] {
    let mut block = [0u8; BLOCK];
    block[..name.len().min(NAME_LIMIT)]
        .copy_from_slice(&name.as_bytes()[..name.len().min(NAME_LIMIT)]);
    block[100..108].copy_from_slice(b"0000600\0");
    block[108..116].copy_from_slice(b"0000000\0");
    block[116..124].copy_from_slice(b"0000000\0");
    if size < 1 << 33 {
        block[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
    } else {
        // Base-256, as GNU tar writes sizes of 8 GiB and more.
        block[124] = 0x80;
        block[128..136].copy_from_slice(&size.to_be_bytes());
    }
    block[136..148].copy_from_slice(format!("{:011o}\0", mtime.min((1 << 33) - 1)).as_bytes());
    block[148..156].copy_from_slice(b"        ");
    block[156] = b'0';
    block[257..263].copy_from_slice(b"ustar\0");
    block[263..265].copy_from_slice(b"00");
    block[329..337].copy_from_slice(b"0000000\0");
    block[337..345].copy_from_slice(b"0000000\0");
    let sum: u32 = block.iter().map(|byte| u32::from(*byte)).sum();
    block[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    block
}

/// What a header says, read leniently, to name what is wrong with it.
struct Parsed {
    name: String,
    size: Option<u64>,
    mtime: Option<u64>,
    kind: u8,
}

fn octal(field: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(field).ok()?;
    let text = text.trim_end_matches(['\0', ' ']).trim_start_matches(' ');
    u64::from_str_radix(text, 8).ok()
}

fn parse(block: &[u8; BLOCK]) -> Parsed {
    let end = block[..100].iter().position(|b| *b == 0).unwrap_or(100);
    let size = if block[124] == 0x80 {
        Some(u64::from_be_bytes(
            block[128..136].try_into().unwrap_or([0xff; 8]),
        ))
    } else {
        octal(&block[124..136])
    };
    Parsed {
        name: String::from_utf8_lossy(&block[..end]).into_owned(),
        size,
        mtime: octal(&block[136..148]),
        kind: block[156],
    }
}

/// What a tar entry of type `kind` is, in words.
fn kind_name(kind: u8) -> &'static str {
    match kind {
        b'0' | 0 | b'7' => "a regular file",
        b'1' => "a hard link",
        b'2' => "a symbolic link",
        b'3' => "a character device",
        b'4' => "a block device",
        b'5' => "a directory",
        b'6' => "a FIFO",
        b'x' | b'g' => "a pax extended header",
        b'L' | b'K' => "a GNU long name",
        _ => "an entry of an unknown type",
    }
}

/// Writes a bundle: `member` for each index member in order, then `finish`.
pub struct Writer<W: Write> {
    inner: W,
    hasher: Sha256,
    mtime: u64,
}

impl<W: Write> Writer<W> {
    /// Starts the bundle with its index.
    pub fn new(inner: W, index: &Index, mtime: u64) -> Result<Writer<W>> {
        let text = serde_json::to_vec_pretty(index).context("cannot encode the bundle index")?;
        let mut writer = Writer {
            inner,
            hasher: Sha256::new(),
            mtime,
        };
        writer.member(INDEX, text.len() as u64, &mut text.as_slice(), &|_| {})?;
        Ok(writer)
    }

    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.hasher.update(bytes);
        self.inner.write_all(bytes)
    }

    /// Writes member `name` of exactly `size` bytes read from `source`; returns their
    /// SHA-256 (hex) for the caller to compare with what the index says.
    pub fn member(
        &mut self,
        name: &str,
        size: u64,
        source: &mut dyn Read,
        progress: &dyn Fn(u64),
    ) -> Result<String> {
        self.put(&header(name, size, self.mtime))
            .context("cannot write the bundle")?;
        let mut digest = Sha256::new();
        let mut left = size;
        let mut buffer = vec![0u8; 1 << 20];
        while left > 0 {
            let want = buffer
                .len()
                .min(usize::try_from(left).unwrap_or(usize::MAX));
            let read = source
                .read(&mut buffer[..want])
                .with_context(|| format!("cannot read {name}"))?;
            if read == 0 {
                anyhow::bail!("{name} ended {left} bytes short of the {size} bytes it had");
            }
            digest.update(&buffer[..read]);
            self.put(&buffer[..read])
                .context("cannot write the bundle")?;
            left -= read as u64;
            progress(read as u64);
        }
        if source
            .read(&mut [0u8; 1])
            .with_context(|| format!("cannot read {name}"))?
            != 0
        {
            anyhow::bail!("{name} grew past the {size} bytes it had");
        }
        let padding = (padded(size) - size) as usize;
        self.put(&vec![0u8; padding])
            .context("cannot write the bundle")?;
        Ok(hex::encode(digest.finalize()))
    }

    /// Writes the digest member and the end of the tar; returns the inner writer.
    pub fn finish(mut self) -> Result<W> {
        let digest = format!("{}\n", hex::encode(self.hasher.clone().finalize()));
        let mut block = header(DIGEST, DIGEST_SIZE, self.mtime).to_vec();
        block.extend_from_slice(digest.as_bytes());
        block.resize(
            block.len() + (padded(DIGEST_SIZE) - DIGEST_SIZE) as usize,
            0,
        );
        block.extend_from_slice(&[0u8; 2 * BLOCK]);
        self.inner
            .write_all(&block)
            .context("cannot write the bundle")?;
        self.inner.flush().context("cannot write the bundle")?;
        Ok(self.inner)
    }
}

/// What `read` asks for each member's bytes: a writer to receive them.
pub type OpenMember<'a> = dyn FnMut(&Index, &Member) -> Result<Box<dyn Write>> + 'a;

/// Reads a bundle from `source`, a file `length` bytes long (`file` names it in messages):
/// checks the index, then hands each member's bytes to the writer `open` returns for it,
/// then checks every header, size, padding and digest, the final digest and the end. Only
/// when this returns `Ok` may what `open`'s writers received be trusted.
pub fn read(
    source: &mut dyn Read,
    length: u64,
    file: &str,
    open: &mut OpenMember,
    progress: &dyn Fn(u64),
) -> Result<Index> {
    let mut reader = BundleReader {
        source,
        hasher: Sha256::new(),
        offset: 0,
        file,
    };
    let first = reader.header()?;
    let parsed = parse(&first);
    if parsed.name != INDEX {
        return Err(refused(
            file,
            format!(
                "it does not start with {INDEX} (its first member is `{}`): it is not a devctl bundle",
                escaped(&parsed.name)
            ),
        ));
    }
    let (Some(index_size), Some(mtime)) = (parsed.size, parsed.mtime) else {
        return Err(refused(file, format!("the header of {INDEX} is damaged")));
    };
    reader.expect_header(&first, INDEX, index_size, mtime, 0)?;
    if index_size > INDEX_LIMIT {
        return Err(refused(
            file,
            format!("its index is {index_size} bytes, more than an index can be ({INDEX_LIMIT})"),
        ));
    }
    let mut text = Vec::new();
    reader.data(INDEX, index_size, &mut text, &|_| {})?;
    let index: Index = serde_json::from_slice(&text)
        .map_err(|error| refused(file, format!("its index cannot be read: {error}")))?;
    index.check().map_err(|why| refused(file, why))?;
    let Some(expected) = index.file_size(index_size) else {
        return Err(refused(
            file,
            format!(
                "its index declares members larger than any file can hold, and the file has {length} bytes"
            ),
        ));
    };
    if expected != length {
        return Err(refused(
            file,
            format!(
                "its index declares {expected} bytes in all, and the file has {length} ({})",
                if length < expected {
                    "truncated"
                } else {
                    "bytes added"
                }
            ),
        ));
    }
    for member in &index.members {
        let offset = reader.offset;
        let block = reader.header()?;
        reader.expect_header(&block, &member.name, member.size, mtime, offset)?;
        let mut sink = open(&index, member)?;
        let found = reader.data(&member.name, member.size, &mut sink, progress)?;
        sink.flush()
            .with_context(|| format!("cannot store member {}", member.name))?;
        if found != member.sha256 {
            return Err(refused(
                file,
                format!(
                    "member {} does not match the index (SHA-256 {}, the index says {})",
                    member.name,
                    &found[..12],
                    &member.sha256[..12]
                ),
            ));
        }
    }
    let digest = hex::encode(reader.hasher.clone().finalize());
    let offset = reader.offset;
    let block = reader.header()?;
    reader.expect_header(&block, DIGEST, DIGEST_SIZE, mtime, offset)?;
    let mut recorded = Vec::new();
    reader.data(DIGEST, DIGEST_SIZE, &mut recorded, &|_| {})?;
    if recorded != format!("{digest}\n").as_bytes() {
        return Err(refused(
            file,
            format!(
                "its bytes do not match the SHA-256 of its last member ({DIGEST}): the file was changed after it was written"
            ),
        ));
    }
    let mut end = [0u8; 2 * BLOCK];
    reader.exact(&mut end, "the end of the tar")?;
    if end.iter().any(|byte| *byte != 0) {
        return Err(refused(
            file,
            format!(
                "the two zero blocks that end it are not zeros (byte {})",
                reader.offset - 2 * BLOCK as u64
                    + end.iter().position(|b| *b != 0).unwrap_or(0) as u64
            ),
        ));
    }
    let mut extra = [0u8; 1];
    if reader
        .source
        .read(&mut extra)
        .with_context(|| format!("cannot read {file}"))?
        != 0
    {
        return Err(refused(file, "bytes follow the end of the tar"));
    }
    Ok(index)
}

struct BundleReader<'a> {
    source: &'a mut dyn Read,
    /// Every byte read so far.
    hasher: Sha256,
    offset: u64,
    file: &'a str,
}

impl BundleReader<'_> {
    fn exact(&mut self, buffer: &mut [u8], what: &str) -> Result<()> {
        let mut filled = 0;
        while filled < buffer.len() {
            let read = self
                .source
                .read(&mut buffer[filled..])
                .with_context(|| format!("cannot read {}", self.file))?;
            if read == 0 {
                return Err(refused(
                    self.file,
                    format!(
                        "it is truncated: it ends at byte {} in {what}",
                        self.offset + filled as u64
                    ),
                ));
            }
            filled += read;
        }
        self.hasher.update(&buffer[..]);
        self.offset += buffer.len() as u64;
        Ok(())
    }

    fn header(&mut self) -> Result<[u8; BLOCK]> {
        let mut block = [0u8; BLOCK];
        self.exact(&mut block, "a member's header")?;
        Ok(block)
    }

    /// Fails unless `block`, read at `offset`, is the header devctl writes for `name`.
    fn expect_header(
        &self,
        block: &[u8; BLOCK],
        name: &str,
        size: u64,
        mtime: u64,
        offset: u64,
    ) -> Result<()> {
        if *block == header(name, size, mtime) {
            return Ok(());
        }
        let parsed = parse(block);
        let why = if !matches!(parsed.kind, b'0' | 0 | b'7') {
            format!(
                "member `{}` is {}; a bundle holds only regular files",
                escaped(&parsed.name),
                kind_name(parsed.kind)
            )
        } else if parsed.name != name {
            match member_limit(&parsed.name) {
                Err(why) if parsed.name != INDEX && parsed.name != DIGEST => format!(
                    "member `{}` is not one a bundle holds{}; the index expects `{}` there",
                    escaped(&parsed.name),
                    match parsed.name.starts_with(BACKUP_PREFIX) {
                        true => format!(" ({why})"),
                        false => String::new(),
                    },
                    escaped(name)
                ),
                _ => format!(
                    "member `{}` stands where the index expects `{}`",
                    escaped(&parsed.name),
                    escaped(name)
                ),
            }
        } else if parsed.size != Some(size) {
            format!(
                "member {name} is {} bytes in its header, {size} in the index",
                parsed
                    .size
                    .map_or_else(|| "an unreadable number of".to_string(), |s| s.to_string())
            )
        } else {
            format!("the header of member {name} (byte {offset}) is not the one devctl writes")
        };
        Err(refused(self.file, why))
    }

    /// Copies `size` bytes of member `name` into `sink` and checks its padding; returns their
    /// SHA-256 (hex).
    fn data(
        &mut self,
        name: &str,
        size: u64,
        sink: &mut dyn Write,
        progress: &dyn Fn(u64),
    ) -> Result<String> {
        let mut digest = Sha256::new();
        let mut left = size;
        let mut buffer = vec![0u8; (1 << 20).min(padded(size).max(BLOCK as u64) as usize)];
        while left > 0 {
            let want = buffer
                .len()
                .min(usize::try_from(left).unwrap_or(usize::MAX));
            self.exact(&mut buffer[..want], &format!("member {name}"))?;
            digest.update(&buffer[..want]);
            sink.write_all(&buffer[..want])
                .with_context(|| format!("cannot store member {name}"))?;
            left -= want as u64;
            progress(want as u64);
        }
        let padding = (padded(size) - size) as usize;
        let mut zeros = vec![0u8; padding];
        self.exact(&mut zeros, &format!("the padding of member {name}"))?;
        if zeros.iter().any(|byte| *byte != 0) {
            return Err(refused(
                self.file,
                format!("the padding after member {name} is not zeros"),
            ));
        }
        Ok(hex::encode(digest.finalize()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Received = std::sync::Arc<std::sync::Mutex<Vec<(String, Vec<u8>)>>>;

    fn sha(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }

    fn members() -> Vec<(String, Vec<u8>)> {
        vec![
            (MODEL.into(), b"{\"services\": {}}".to_vec()),
            ("backup/manifest.json".into(), b"{}".to_vec()),
            (
                "backup/manifest.json.sha256".into(),
                b"00  manifest.json\n".to_vec(),
            ),
            (
                "backup/data.tar.zst".into(),
                (0..1500u32).map(|n| (n % 251) as u8).collect(),
            ),
            ("backup/empty.tar.zst".into(), Vec::new()),
            (IMAGES.into(), vec![7u8; 512]),
        ]
    }

    fn index(members: &[(String, Vec<u8>)]) -> Index {
        Index {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            devctl_version: "0.1.0".into(),
            created: "2026-11-30T02:00:00Z".into(),
            project: "shop".into(),
            backup: "20261130T020000Z-x".into(),
            images: vec![ImageRecord {
                service: "app".into(),
                reference: "shop-app".into(),
                id: Some("sha256:abc".into()),
                built: true,
                saved: true,
            }],
            members: members
                .iter()
                .map(|(name, bytes)| Member {
                    name: name.clone(),
                    size: bytes.len() as u64,
                    sha256: sha(bytes),
                })
                .collect(),
        }
    }

    /// A bundle of `members` as the writer writes it, with `index` as its index.
    fn write(index: &Index, members: &[(String, Vec<u8>)]) -> Vec<u8> {
        let mut writer = Writer::new(Vec::new(), index, 1_796_000_000).unwrap();
        for (name, bytes) in members {
            let found = writer
                .member(name, bytes.len() as u64, &mut bytes.as_slice(), &|_| {})
                .unwrap();
            assert_eq!(found, sha(bytes));
        }
        writer.finish().unwrap()
    }

    /// Reads `bytes`; returns the members received, or the refusal's message.
    fn read_all(bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>, String> {
        let received: Received = Received::default();
        struct Sink(Received);
        impl Write for Sink {
            fn write(&mut self, buffer: &[u8]) -> io::Result<usize> {
                self.0
                    .lock()
                    .unwrap()
                    .last_mut()
                    .unwrap()
                    .1
                    .extend_from_slice(buffer);
                Ok(buffer.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut open = |_: &Index, member: &Member| -> Result<Box<dyn Write>> {
            received
                .lock()
                .unwrap()
                .push((member.name.clone(), Vec::new()));
            Ok(Box::new(Sink(received.clone())))
        };
        read(
            &mut &bytes[..],
            bytes.len() as u64,
            "b.tar",
            &mut open,
            &|_| {},
        )
        .map_err(|error| {
            let failure = crate::report::failure::find(&error).expect("a Failure");
            assert_eq!(failure.status, ExitStatus::IntegrityFailure, "{error:#}");
            format!("{error:#}")
        })?;
        let received = received.lock().unwrap().clone();
        Ok(received)
    }

    #[test]
    fn a_bundle_round_trips_and_is_a_plain_tar() {
        let members = members();
        let bytes = write(&index(&members), &members);
        assert_eq!(bytes.len() % BLOCK, 0);
        assert_eq!(read_all(&bytes).unwrap(), members);
        // Any tar reader lists the same members, in order, as regular files.
        let mut archive = tar::Archive::new(bytes.as_slice());
        let names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|entry| {
                let entry = entry.unwrap();
                assert_eq!(entry.header().entry_type(), tar::EntryType::Regular);
                entry.path().unwrap().display().to_string()
            })
            .collect();
        let mut expected = vec![INDEX.to_string()];
        expected.extend(members.iter().map(|(name, _)| name.clone()));
        expected.push(DIGEST.into());
        assert_eq!(names, expected);
    }

    #[test]
    fn every_single_flipped_byte_is_refused() {
        let members = members();
        let bytes = write(&index(&members), &members);
        for position in 0..bytes.len() {
            for bit in [0x01u8, 0x80] {
                let mut flipped = bytes.clone();
                flipped[position] ^= bit;
                assert!(
                    read_all(&flipped).is_err(),
                    "byte {position} ^ {bit:#x} was not detected"
                );
            }
        }
    }

    #[test]
    fn truncated_or_extended_bundles_are_refused() {
        let members = members();
        let bytes = write(&index(&members), &members);
        for length in (0..bytes.len()).step_by(97).chain([bytes.len() - 1]) {
            let error = read_all(&bytes[..length]).unwrap_err();
            assert!(
                error.contains("truncated") || error.contains("not a devctl bundle"),
                "{length}: {error}"
            );
        }
        for extra in [vec![0u8; 1], vec![0u8; BLOCK], b"x".to_vec()] {
            let mut longer = bytes.clone();
            longer.extend_from_slice(&extra);
            let error = read_all(&longer).unwrap_err();
            assert!(error.contains("bytes added"), "{error}");
        }
        // Bytes added to a file that grows while it is read are found at the end.
        let mut longer = bytes.clone();
        longer.push(0);
        let error = read(
            &mut longer.as_slice(),
            bytes.len() as u64,
            "b.tar",
            &mut |_, _| Ok(Box::new(io::sink())),
            &|_| {},
        )
        .unwrap_err();
        assert!(format!("{error:#}").contains("follow the end"), "{error:#}");
    }

    /// A bundle whose members are written as given, with a consistent index and digest: what
    /// a hostile writer can make.
    fn forged(members: &[(String, Vec<u8>)], kind: u8) -> Vec<u8> {
        let index = index(members);
        let mut writer = Writer::new(Vec::new(), &index, 0).unwrap();
        for (name, bytes) in members {
            let mut block = header(name, bytes.len() as u64, 0);
            if kind != b'0' && name == IMAGES {
                block[156] = kind;
                block[148..156].copy_from_slice(b"        ");
                let sum: u32 = block.iter().map(|b| u32::from(*b)).sum();
                block[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
            }
            writer.put(&block).unwrap();
            writer.put(bytes).unwrap();
            writer
                .put(&vec![
                    0u8;
                    (padded(bytes.len() as u64) - bytes.len() as u64)
                        as usize
                ])
                .unwrap();
        }
        writer.finish().unwrap()
    }

    #[test]
    fn members_a_bundle_never_holds_are_refused() {
        let with = |name: &str| {
            let mut members = members();
            members.push((name.into(), b"x".to_vec()));
            members
        };
        for (name, why) in [
            ("backup/../../etc/passwd", "it is a path"),
            ("/etc/passwd", "not a member a bundle holds"),
            ("../x", "not a member a bundle holds"),
            ("backup/.hidden", "hidden"),
            ("notes.txt", "not a member a bundle holds"),
            (MODEL, "twice"),
        ] {
            let error = read_all(&forged(&with(name), b'0')).unwrap_err();
            assert!(error.contains(why), "{name}: {error}");
        }
        for (kind, what) in [
            (b'2', "a symbolic link"),
            (b'1', "a hard link"),
            (b'3', "a character device"),
            (b'6', "a FIFO"),
            (b'5', "a directory"),
        ] {
            let error = read_all(&forged(&members(), kind)).unwrap_err();
            assert!(error.contains(what), "{error}");
        }
        // Required members, and the images the index claims.
        let mut without = members();
        without.retain(|(name, _)| name != MODEL);
        let error = read_all(&forged(&without, b'0')).unwrap_err();
        assert!(error.contains("no member `model.json`"), "{error}");
        let mut no_images = members();
        no_images.retain(|(name, _)| name != IMAGES);
        let error = read_all(&forged(&no_images, b'0')).unwrap_err();
        assert!(error.contains("disagree"), "{error}");
    }

    #[test]
    fn declared_sizes_are_checked_before_anything_is_read() {
        let members = members();
        let mut index = index(&members);
        index.members[0].size = MODEL_LIMIT + 1;
        let error = read_all(&write(&index, &members)).unwrap_err();
        assert!(error.contains("more than such a member can be"), "{error}");
        let mut index = self::index(&members);
        index.members[3].size = 1 << 40;
        let mut writer = Writer::new(Vec::new(), &index, 0).unwrap();
        writer
            .member(
                MODEL,
                members[0].1.len() as u64,
                &mut members[0].1.as_slice(),
                &|_| {},
            )
            .unwrap();
        let bytes = writer.finish().unwrap();
        let error = read_all(&bytes).unwrap_err();
        assert!(error.contains("declares"), "{error}");
        // A member that is not what the index says, with a digest made to match.
        let mut changed = members.clone();
        changed[3].1[10] ^= 1;
        let error = read_all(&forged_with_index(&self::index(&members), &changed)).unwrap_err();
        assert!(error.contains("does not match the index"), "{error}");
    }

    #[test]
    fn a_declared_size_no_file_can_hold_is_refused_without_overflow() {
        let members = members();
        for size in [u64::MAX, u64::MAX - 511, u64::MAX / 2 + 1] {
            let mut index = index(&members);
            let images = index.members.len() - 1;
            index.members[images].size = size;
            let error = read_all(&write(&index, &members)).unwrap_err();
            assert!(error.contains("declares"), "{size}: {error}");
        }
    }

    #[test]
    fn a_header_naming_another_member_than_the_index_is_refused() {
        let members = members();
        let index = index(&members);
        for (shown, why) in [
            ("../x", "`../x` is not one a bundle holds"),
            ("/etc/passwd", "`/etc/passwd` is not one a bundle holds"),
            (
                "backup/../../x",
                "`backup/../../x` is not one a bundle holds",
            ),
            ("backup/manifest.json", "stands where the index expects"),
        ] {
            let mut writer = Writer::new(Vec::new(), &index, 0).unwrap();
            for (position, (name, bytes)) in members.iter().enumerate() {
                let name = if position == 3 { shown } else { name.as_str() };
                writer
                    .member(name, bytes.len() as u64, &mut bytes.as_slice(), &|_| {})
                    .unwrap();
            }
            let error = read_all(&writer.finish().unwrap()).unwrap_err();
            assert!(error.contains(why), "{shown}: {error}");
        }
    }

    fn forged_with_index(index: &Index, members: &[(String, Vec<u8>)]) -> Vec<u8> {
        let mut writer = Writer::new(Vec::new(), index, 0).unwrap();
        for (name, bytes) in members {
            writer
                .member(name, bytes.len() as u64, &mut bytes.as_slice(), &|_| {})
                .unwrap();
        }
        writer.finish().unwrap()
    }

    #[test]
    fn newer_formats_and_other_files_are_named() {
        let members = members();
        let mut index = index(&members);
        index.format_version = FORMAT_VERSION + 1;
        let error = read_all(&write(&index, &members)).unwrap_err();
        assert!(error.contains("upgrade devctl"), "{error}");
        let mut tar = tar::Builder::new(Vec::new());
        let mut plain = tar::Header::new_ustar();
        plain.set_size(1);
        plain.set_cksum();
        tar.append_data(&mut plain, "notes.txt", &b"x"[..]).unwrap();
        let error = read_all(&tar.into_inner().unwrap()).unwrap_err();
        assert!(error.contains("not a devctl bundle"), "{error}");
    }

    #[test]
    fn large_sizes_use_base_256() {
        let block = header("images/images.tar", 10 << 30, 0);
        assert_eq!(block[124], 0x80);
        assert_eq!(parse(&block).size, Some(10 << 30));
        let small = header("x", 5, 0);
        assert_eq!(parse(&small).size, Some(5));
        assert_eq!(parse(&small).mtime, Some(0));
    }
}
