//! `ProjectLock`: one destructive devctl run per project at a time.
//!
//! An exclusive file lock in the project's state directory keeps a restore and a backup (or a
//! restore and an up) from interleaving. A second run waits, says for whom, and fails with
//! the lock-timeout exit code when the wait is over. The lock is released when dropped, and
//! by the operating system if devctl dies.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::report::exit_status::ExitStatus;
use crate::report::failure::Failure;
use crate::report::printer::Printer;

/// How long a run waits for the lock unless `DEVCTL_LOCK_TIMEOUT` says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug)]
pub struct ProjectLock {
    file: File,
    path: PathBuf,
}

impl ProjectLock {
    /// Takes the lock of `project`, whose state directory is `state`, for `purpose` (e.g.
    /// "restore"), waiting as long as `DEVCTL_LOCK_TIMEOUT` says (two minutes by default).
    pub fn take(
        state: &Path,
        project: &str,
        purpose: &str,
        printer: &Printer,
    ) -> Result<ProjectLock> {
        ProjectLock::acquire(
            state,
            project,
            purpose,
            crate::report::units::duration_from_environment(
                "DEVCTL_LOCK_TIMEOUT",
                DEFAULT_TIMEOUT,
            )?,
            printer,
        )
    }

    /// Takes the lock in `directory` for `purpose`, waiting up to `timeout`.
    fn acquire(
        directory: &Path,
        project: &str,
        purpose: &str,
        timeout: Duration,
        printer: &Printer,
    ) -> Result<ProjectLock> {
        crate::system::files::create_private_directories(directory)?;
        let path = directory.join("lock");
        let mut file = crate::system::files::private_file_options()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open lock file {}", path.display()))?;
        let started = Instant::now();
        let mut announced = false;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) => {}
                Err(std::fs::TryLockError::Error(error)) => {
                    return Err(error).with_context(|| format!("cannot lock {}", path.display()));
                }
            }
            let holder = holder(&mut file);
            if !announced {
                printer.info(format!(
                    "waiting for another devctl run on project {project} ({holder}) to finish…"
                ));
                announced = true;
            }
            if started.elapsed() >= timeout {
                return Err(Failure::new(
                    ExitStatus::LockTimeout,
                    format!(
                        "project {project} is still locked by another devctl run ({holder}) after {}",
                        humantime::format_duration(timeout)
                    ),
                )
                .hint("let that run finish, or stop it; DEVCTL_LOCK_TIMEOUT sets how long to wait (e.g. 10m)")
                .into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        file.set_len(0).ok();
        file.rewind().ok();
        let _ = write!(file, "pid {} {purpose}", std::process::id());
        let _ = file.flush();
        Ok(ProjectLock { file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ProjectLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

/// Who holds the lock, as its holder wrote it ("pid 123 restore").
fn holder(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.rewind();
    let _ = file.read_to_string(&mut text);
    let text = text.trim();
    if text.is_empty() {
        "unknown run".into()
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_times_out_naming_the_first() {
        let temp = tempfile::tempdir().unwrap();
        let printer = Printer::new(true, false, crate::report::printer::Colors::Never);
        let first =
            ProjectLock::acquire(temp.path(), "shop", "restore", Duration::ZERO, &printer).unwrap();
        let error = ProjectLock::acquire(
            temp.path(),
            "shop",
            "backup",
            Duration::from_millis(300),
            &printer,
        )
        .unwrap_err();
        let failure = crate::report::failure::find(&error).unwrap();
        assert_eq!(failure.status, ExitStatus::LockTimeout);
        assert!(
            failure
                .message
                .contains(&format!("pid {} restore", std::process::id())),
            "{}",
            failure.message
        );
        drop(first);
        ProjectLock::acquire(temp.path(), "shop", "backup", Duration::ZERO, &printer).unwrap();
    }
}
