//! What a drill leaves on the engine until it is over, and how a later run removes what a
//! killed drill left: a marker in the project's state directory (`drills/<sibling>.json`,
//! written before anything of the sibling project exists, removed last), and the labels every
//! container, network and volume of the sibling carries.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::engine::api::Engine;
use crate::report::printer::Printer;

/// The label on everything a drill creates, naming the live project it drills.
pub const DRILL_LABEL: &str = "dev.devctl.drill";

/// What the marker is allowed to hold, at most.
const MARKER_LIMIT: u64 = 4096;

/// A drill under way: written before its sibling project is created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marker {
    /// The devctl process running the drill.
    pub pid: u32,
    /// The sibling's compose project name.
    pub sibling: String,
    /// The backup being drilled.
    pub backup: String,
}

/// The folder of the markers and generated compose files of `state`'s drills.
pub fn drills_directory(state: &Path) -> PathBuf {
    state.join("drills")
}

/// The sibling project name for a drill of `live` by process `pid`: `<live>-drill-<tag>`.
pub fn sibling_name(live: &str, pid: u32) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |time| time.subsec_nanos());
    format!(
        "{live}-drill-{:06x}",
        (pid ^ nanos.rotate_left(7)) & 0xff_ffff
    )
}

/// Whether `sibling` is a name `sibling_name` gives for `live` (a marker that names anything
/// else, the live project above all, is not followed).
fn is_sibling_of(sibling: &str, live: &str) -> bool {
    sibling
        .strip_prefix(live)
        .and_then(|rest| rest.strip_prefix("-drill-"))
        .is_some_and(|tag| tag.len() == 6 && tag.chars().all(|c| c.is_ascii_hexdigit()))
}

impl Marker {
    fn path(state: &Path, sibling: &str) -> PathBuf {
        drills_directory(state).join(format!("{sibling}.json"))
    }

    /// Writes the marker (0600, atomically).
    pub fn save(&self, state: &Path) -> Result<()> {
        let text = serde_json::to_vec_pretty(self).context("cannot encode a drill marker")?;
        crate::system::files::write_atomic(&Marker::path(state, &self.sibling), &text)
    }

    /// Removes the marker and the sibling's generated files.
    pub fn remove(state: &Path, sibling: &str) -> Result<()> {
        let folder = drills_directory(state).join(sibling);
        match std::fs::remove_dir_all(&folder) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                return Err(error).with_context(|| format!("cannot remove {}", folder.display()));
            }
            _ => {}
        }
        let path = Marker::path(state, sibling);
        match std::fs::remove_file(&path) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                Err(error).with_context(|| format!("cannot remove {}", path.display()))
            }
            _ => Ok(()),
        }
    }

    /// Every marker in `state` that reads, with its file name's sibling.
    fn all(state: &Path) -> Result<Vec<Marker>> {
        let directory = drills_directory(state);
        let entries = match std::fs::read_dir(&directory) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => {
                return Err(error).with_context(|| format!("cannot list {}", directory.display()));
            }
        };
        let mut markers = Vec::new();
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot list {}", directory.display()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(sibling) = name.strip_suffix(".json") else {
                continue;
            };
            let read = crate::system::files::read_regular(&entry.path(), MARKER_LIMIT)
                .ok()
                .and_then(|bytes| serde_json::from_slice::<Marker>(&bytes).ok());
            // A marker that does not read still names its sibling: pid 0 is never alive.
            let marker = read.unwrap_or(Marker {
                pid: 0,
                sibling: sibling.to_string(),
                backup: String::new(),
            });
            if marker.sibling == sibling {
                markers.push(marker);
            }
        }
        Ok(markers)
    }
}

/// Whether process `pid` is running (or exists, as a zombie not yet reaped).
fn is_alive(pid: u32) -> bool {
    if pid == 0 || pid > i32::MAX as u32 {
        return false;
    }
    // SAFETY: kill(2) with signal 0 only checks that the process exists.
    let result = unsafe { libc::kill(pid as i32, 0) };
    result == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Removes everything of `sibling`, a drill of `live`: its helper containers, its containers,
/// networks and volumes (by their compose project label and the drill label), then its
/// generated files and marker.
pub fn remove_sibling(engine: &Engine, state: &Path, live: &str, sibling: &str) -> Result<()> {
    if is_sibling_of(sibling, live) {
        // Helpers first: one still holds the volume it was restoring into.
        engine.remove_stale_helpers(sibling)?;
        engine.remove_labelled(&[
            format!("com.docker.compose.project={sibling}"),
            format!("{DRILL_LABEL}={live}"),
        ])?;
    }
    Marker::remove(state, sibling)
}

/// Removes what drills of `live` that were killed left (their process is gone), saying so.
pub fn clear_abandoned(engine: &Engine, state: &Path, live: &str, printer: &Printer) -> Result<()> {
    for marker in Marker::all(state)? {
        if marker.pid == std::process::id() || is_alive(marker.pid) {
            continue;
        }
        remove_sibling(engine, state, live, &marker.sibling).with_context(|| {
            format!(
                "cannot remove the sibling project {} an interrupted drill left",
                marker.sibling
            )
        })?;
        printer.info(format!(
            "removed the sibling project {} of an interrupted drill",
            marker.sibling
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sibling_names_are_recognised_and_nothing_else_is() {
        let name = sibling_name("shop", 4242);
        assert!(name.starts_with("shop-drill-"), "{name}");
        assert!(is_sibling_of(&name, "shop"));
        for other in [
            "shop",
            "shop-drill-",
            "shop-drill-12345",
            "shop-drill-1234567",
            "shop-drill-12345z",
            "other-drill-123456",
            "shop-fidelity",
        ] {
            assert!(!is_sibling_of(other, "shop"), "{other}");
        }
    }

    #[test]
    fn markers_round_trip_and_a_broken_one_still_names_its_sibling() {
        let state = tempfile::tempdir().unwrap();
        let marker = Marker {
            pid: 7,
            sibling: "shop-drill-00abcd".into(),
            backup: "20260101T000000Z".into(),
        };
        marker.save(state.path()).unwrap();
        std::fs::write(
            drills_directory(state.path()).join("shop-drill-00beef.json"),
            "{not json",
        )
        .unwrap();
        let mut all = Marker::all(state.path()).unwrap();
        all.sort_by(|a, b| a.sibling.cmp(&b.sibling));
        assert_eq!(all[0], marker);
        assert_eq!(all[1].sibling, "shop-drill-00beef");
        assert_eq!(all[1].pid, 0);
        Marker::remove(state.path(), "shop-drill-00abcd").unwrap();
        assert_eq!(Marker::all(state.path()).unwrap().len(), 1);
    }

    #[test]
    fn this_process_is_alive_and_pid_zero_is_not() {
        assert!(is_alive(std::process::id()));
        assert!(!is_alive(0));
        assert!(!is_alive(u32::MAX));
    }
}
