//! An image's files as the compose-against-image checks see them: a few paths looked up
//! one by one (what each is, where a symbolic link leads, resolved inside the image), a few
//! small text files read (`/etc/passwd`, `/etc/group`) and the first bytes of a program (a
//! script's `#!` line), never the whole file system.
//!
//! The checks ask a `Lookup`. `EngineFiles` answers from a container of the image that is
//! created and never started (the engine's archive endpoint: one HEAD request a path) and
//! records every answer in `ImageFiles`, which answers the same questions again without the
//! engine: the checks run once to learn what to look up, then over the record.

use std::collections::BTreeMap;

use anyhow::{Context, Result};

use crate::engine::api::{Engine, PathStat};

/// Go's `os.FileMode` bits, as the engine sends them.
const MODE_DIRECTORY: u32 = 1 << 31;
const MODE_SYMLINK: u32 = 1 << 27;
/// Every file type bit (directory, link, pipe, socket, device, character device, irregular).
const MODE_TYPE: u32 =
    MODE_DIRECTORY | MODE_SYMLINK | 1 << 26 | 1 << 25 | 1 << 24 | 1 << 21 | 1 << 19;

/// What a path is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStat {
    /// Go's `os.FileMode`: permissions in the low 9 bits, the type in the high ones.
    pub mode: u32,
    /// For a symbolic link, the path it leads to (absolute, inside the image).
    pub link_target: Option<String>,
}

impl FileStat {
    /// A regular file with permissions `permissions` (e.g. `0o755`).
    pub fn file(permissions: u32) -> FileStat {
        FileStat {
            mode: permissions,
            link_target: None,
        }
    }

    pub fn directory() -> FileStat {
        FileStat {
            mode: MODE_DIRECTORY | 0o755,
            link_target: None,
        }
    }

    /// A symbolic link to `target`, as the engine resolves it (absolute, inside the image).
    pub fn link(target: &str) -> FileStat {
        FileStat {
            mode: MODE_SYMLINK | 0o777,
            link_target: Some(target.to_string()),
        }
    }

    pub fn is_link(&self) -> bool {
        self.mode & MODE_SYMLINK != 0
    }

    pub fn is_directory(&self) -> bool {
        self.mode & MODE_DIRECTORY != 0
    }

    pub fn is_regular(&self) -> bool {
        self.mode & MODE_TYPE == 0
    }

    /// The permission bits, `0o644`.
    pub fn permissions(&self) -> u32 {
        self.mode & 0o777
    }

    /// A regular file someone may execute.
    pub fn is_executable(&self) -> bool {
        self.is_regular() && self.mode & 0o111 != 0
    }
}

/// Where the checks look files up.
pub trait Lookup {
    /// What `path` is (not following a link at its end), `None` when nothing is there.
    fn stat(&mut self, path: &str) -> Option<FileStat>;
    /// The text of the file at `path` (links followed), `None` when there is none.
    fn text(&mut self, path: &str) -> Option<String>;
    /// The first bytes (`HEAD_LENGTH`) of the file at `path` (links followed), for a
    /// script's `#!` line; `None` when there is no such file.
    fn head(&mut self, path: &str) -> Option<Vec<u8>>;
}

/// How much of a program `Lookup::head` reads: enough for a `#!` line.
pub const HEAD_LENGTH: u64 = 256;

/// The answers the image gave, by path.
#[derive(Debug, Clone, Default)]
pub struct ImageFiles {
    stats: BTreeMap<String, Option<FileStat>>,
    texts: BTreeMap<String, Option<String>>,
    heads: BTreeMap<String, Option<Vec<u8>>>,
}

impl ImageFiles {
    /// The image has `stat` at `path` (for building facts by hand).
    pub fn with(mut self, path: &str, stat: FileStat) -> ImageFiles {
        self.stats.insert(path.to_string(), Some(stat));
        self
    }

    /// The image has a regular file at `path` holding `text`.
    pub fn with_text(mut self, path: &str, text: &str) -> ImageFiles {
        self.stats
            .insert(path.to_string(), Some(FileStat::file(0o644)));
        self.texts.insert(path.to_string(), Some(text.to_string()));
        self
    }

    /// The image has an executable file at `path` that begins with `text`.
    pub fn with_script(mut self, path: &str, text: &str) -> ImageFiles {
        self.stats
            .insert(path.to_string(), Some(FileStat::file(0o755)));
        self.heads
            .insert(path.to_string(), Some(text.as_bytes().to_vec()));
        self
    }
}

impl Lookup for ImageFiles {
    fn stat(&mut self, path: &str) -> Option<FileStat> {
        self.stats.get(path).cloned().flatten()
    }

    fn text(&mut self, path: &str) -> Option<String> {
        self.texts.get(path).cloned().flatten()
    }

    fn head(&mut self, path: &str) -> Option<Vec<u8>> {
        self.heads.get(path).cloned().flatten()
    }
}

/// What a path leads to once symbolic links are followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// Nothing is there (or a link leads nowhere: `through` is the last link's target).
    Missing { through: Option<String> },
    /// What is at the end of the links, and where.
    Found { path: String, stat: FileStat },
}

/// How many links a path may go through (Linux's limit).
const MAX_LINKS: usize = 40;

/// What `path` leads to in the image, links followed inside the image.
pub fn resolve(files: &mut dyn Lookup, path: &str) -> Resolved {
    let mut current = path.to_string();
    let mut through = None;
    for _ in 0..MAX_LINKS {
        match files.stat(&current) {
            None => return Resolved::Missing { through },
            Some(stat) => match stat.link_target.clone() {
                Some(target) if stat.is_link() && target != current => {
                    through = Some(target.clone());
                    current = target;
                }
                _ => {
                    return Resolved::Found {
                        path: current,
                        stat,
                    };
                }
            },
        }
    }
    Resolved::Missing { through }
}

/// Where a program a container runs is found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Program {
    /// An executable file: the path it was found at.
    Found(String),
    /// Something is there, but not an executable file: the path and what it is.
    NotExecutable(String, FileStat),
    /// Nothing: the paths looked at.
    Missing(Vec<String>),
}

/// Finds `program` as the engine does when it starts a process: a name with a `/` as a path
/// (relative to `working_dir`), a bare name in each directory of `search_path` in turn.
pub fn find_program(
    files: &mut dyn Lookup,
    program: &str,
    search_path: &str,
    working_dir: &str,
) -> Program {
    let candidates: Vec<String> = if program.contains('/') {
        vec![absolute(program, working_dir)]
    } else {
        search_path
            .split(':')
            .map(|directory| {
                absolute(
                    &format!("{}/{program}", directory.trim_end_matches('/')),
                    working_dir,
                )
            })
            .collect()
    };
    let mut first_other = None;
    for candidate in &candidates {
        match resolve(files, candidate) {
            Resolved::Found { stat, .. } if stat.is_executable() => {
                return Program::Found(candidate.clone());
            }
            Resolved::Found { stat, .. } => {
                first_other.get_or_insert((candidate.clone(), stat));
            }
            Resolved::Missing { .. } => {}
        }
    }
    match first_other {
        Some((path, stat)) => Program::NotExecutable(path, stat),
        None => Program::Missing(candidates),
    }
}

/// `path` made absolute against `working_dir` (`/` when empty).
fn absolute(path: &str, working_dir: &str) -> String {
    if path.starts_with('/') {
        return path.to_string();
    }
    let base = working_dir.trim_end_matches('/');
    let relative = path.trim_start_matches("./");
    format!("{base}/{relative}")
}

/// Looks paths up in a never-started container of the image, recording every answer; the
/// first error the engine gives is kept (the lookups after it answer "nothing there").
pub struct EngineFiles<'a> {
    pub engine: &'a Engine,
    pub container: &'a str,
    pub files: ImageFiles,
    pub error: Option<anyhow::Error>,
}

/// The most of a text file read (an `/etc/passwd` is a few kilobytes).
const TEXT_LIMIT: u64 = 1024 * 1024;

impl EngineFiles<'_> {
    /// The record, or the first error the engine gave.
    pub fn finish(self) -> Result<ImageFiles> {
        match self.error {
            Some(error) => Err(error),
            None => Ok(self.files),
        }
    }

    /// The first `limit` bytes of the regular file at `path`.
    fn read_prefix(&self, path: &str, limit: u64) -> Result<Vec<u8>> {
        self.engine.copy_out(self.container, path, |stream| {
            let mut archive = tar::Archive::new(stream);
            let mut entries = archive.entries().context("cannot read the archive")?;
            let Some(entry) = entries.next() else {
                anyhow::bail!("the archive is empty")
            };
            let entry = entry.context("cannot read the archive")?;
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut std::io::Read::take(entry, limit), &mut bytes)
                .context("cannot read the archive")?;
            Ok(bytes)
        })
    }

    /// The first `limit` bytes of the regular file `path` leads to; `None` when there is
    /// none (or the engine failed: the error is kept).
    fn prefix(&mut self, path: &str, limit: u64) -> Option<Vec<u8>> {
        match resolve(self, path) {
            Resolved::Found { path: real, stat } if stat.is_regular() => {
                match self.read_prefix(&real, limit) {
                    Ok(bytes) => Some(bytes),
                    Err(error) => {
                        self.error.get_or_insert(error);
                        None
                    }
                }
            }
            _ => None,
        }
    }
}

impl Lookup for EngineFiles<'_> {
    fn stat(&mut self, path: &str) -> Option<FileStat> {
        if let Some(known) = self.files.stats.get(path) {
            return known.clone();
        }
        if self.error.is_some() {
            return None;
        }
        let answer = match self.engine.stat_path(self.container, path) {
            Ok(answer) => {
                answer.map(|PathStat { mode, link_target }| FileStat { mode, link_target })
            }
            Err(error) => {
                self.error = Some(error);
                return None;
            }
        };
        self.files.stats.insert(path.to_string(), answer.clone());
        answer
    }

    fn text(&mut self, path: &str) -> Option<String> {
        if let Some(known) = self.files.texts.get(path) {
            return known.clone();
        }
        let text = self
            .prefix(path, TEXT_LIMIT)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
        self.files.texts.insert(path.to_string(), text.clone());
        text
    }

    fn head(&mut self, path: &str) -> Option<Vec<u8>> {
        if let Some(known) = self.files.heads.get(path) {
            return known.clone();
        }
        let head = self.prefix(path, HEAD_LENGTH);
        self.files.heads.insert(path.to_string(), head.clone());
        head
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn debian_like() -> ImageFiles {
        ImageFiles::default()
            .with("/bin", FileStat::link("/usr/bin"))
            .with("/bin/sh", FileStat::link("/usr/bin/dash"))
            .with("/usr/bin/dash", FileStat::file(0o755))
            .with("/usr/bin/env", FileStat::file(0o755))
            .with("/usr/local/bin/start", FileStat::file(0o644))
            .with("/usr/bin/start", FileStat::file(0o755))
            .with("/usr/local/bin/tool", FileStat::directory())
            .with("/loop", FileStat::link("/loop2"))
            .with("/loop2", FileStat::link("/loop"))
            .with("/dangling", FileStat::link("/nowhere"))
    }

    const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    #[test]
    fn links_are_followed_inside_the_image_and_a_loop_or_a_dangling_link_is_missing() {
        let mut files = debian_like();
        assert_eq!(
            resolve(&mut files, "/bin/sh"),
            Resolved::Found {
                path: "/usr/bin/dash".into(),
                stat: FileStat::file(0o755)
            }
        );
        assert_eq!(
            resolve(&mut files, "/dangling"),
            Resolved::Missing {
                through: Some("/nowhere".into())
            }
        );
        assert!(matches!(
            resolve(&mut files, "/loop"),
            Resolved::Missing { .. }
        ));
        assert_eq!(
            resolve(&mut files, "/nothing"),
            Resolved::Missing { through: None }
        );
    }

    #[test]
    fn a_program_is_the_first_executable_file_of_that_name_in_the_path() {
        let mut files = debian_like();
        // /usr/local/bin/start is not executable: the search goes on, as the engine's does.
        assert_eq!(
            find_program(&mut files, "start", PATH, "/"),
            Program::Found("/usr/bin/start".into())
        );
        assert_eq!(
            find_program(&mut files, "sh", PATH, "/"),
            Program::Found("/bin/sh".into())
        );
        assert_eq!(
            find_program(&mut files, "tool", PATH, "/"),
            Program::NotExecutable("/usr/local/bin/tool".into(), FileStat::directory())
        );
        assert_eq!(
            find_program(&mut files, "curl", "/usr/bin:/bin", "/"),
            Program::Missing(vec!["/usr/bin/curl".into(), "/bin/curl".into()])
        );
        assert_eq!(
            find_program(&mut files, "./dash", PATH, "/usr/bin/"),
            Program::Found("/usr/bin/dash".into())
        );
        assert_eq!(
            find_program(&mut files, "/usr/local/bin/start", PATH, "/"),
            Program::NotExecutable("/usr/local/bin/start".into(), FileStat::file(0o644))
        );
    }

    #[test]
    fn modes_read_as_the_engine_sends_them() {
        // /bin/sh -> dash, and a 0755 script, as the engine's archive endpoint gave them.
        let link = FileStat {
            mode: 134_218_239,
            link_target: Some("/usr/bin/dash".into()),
        };
        assert!(link.is_link() && !link.is_regular() && !link.is_executable());
        let script = FileStat::file(493);
        assert!(script.is_executable() && script.permissions() == 0o755);
        assert!(!FileStat::directory().is_executable());
        assert!(!FileStat::file(0o644).is_executable());
    }
}
