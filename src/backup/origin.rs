//! The engine a backup was made on, against the engine it is restored into: backups live on
//! this machine, so one made on a remote engine can be restored into another. `restore` and
//! `backup list` say when a backup crosses engines.

use crate::backup::manifest::Manifest;
use crate::engine::api::EngineIdentity;
use crate::engine::urls::without_credentials;
use crate::report::text::escaped;

/// How many characters of an engine's ID are shown.
const SHOWN_ID: usize = 14;

/// An engine as a backup names it, or as devctl reaches it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineOrigin {
    /// Its endpoint, without credentials.
    pub host: String,
    pub id: Option<String>,
    pub name: Option<String>,
}

impl EngineOrigin {
    /// The engine `manifest` records (an older manifest may hold the endpoint with its user:
    /// it is shown and compared without).
    pub fn of_backup(manifest: &Manifest) -> EngineOrigin {
        EngineOrigin {
            host: without_credentials(&manifest.engine),
            id: manifest.engine_id.clone(),
            name: manifest.engine_name.clone(),
        }
    }

    /// The engine at `host` that says it is `identity`.
    pub fn reached(host: &str, identity: &EngineIdentity) -> EngineOrigin {
        EngineOrigin {
            host: without_credentials(host),
            id: identity.id.clone(),
            name: identity.name.clone(),
        }
    }

    /// Whether `self` (where a backup was made) is another engine than `here`: by their IDs
    /// when both are known, else (an older backup) by their endpoints.
    pub fn is_other_than(&self, here: &EngineOrigin) -> bool {
        match (&self.id, &here.id) {
            (Some(made), Some(current)) => made != current,
            _ => self.host != here.host,
        }
    }

    /// `engine NAME (ID…) at HOST`, with what is known of it (`the engine at HOST`).
    pub fn describe(&self) -> String {
        let name = match self.name.as_deref() {
            Some(name) => format!("engine {}", escaped(name)),
            None => "the engine".to_string(),
        };
        let id = match self.id.as_deref() {
            Some(id) if id.chars().count() > SHOWN_ID => {
                format!(
                    " ({}…)",
                    escaped(&id.chars().take(SHOWN_ID).collect::<String>())
                )
            }
            Some(id) => format!(" ({})", escaped(id)),
            None => String::new(),
        };
        format!("{name}{id} at {}", escaped(&self.host))
    }
}

/// The note for restoring backup `manifest` into the engine `here`, when it crosses engines.
pub fn crossing_note(manifest: &Manifest, here: &EngineOrigin) -> Option<String> {
    let made = EngineOrigin::of_backup(manifest);
    made.is_other_than(here).then(|| {
        format!(
            "backup {} was made on {}; restoring into {}",
            escaped(&manifest.id),
            made.describe(),
            here.describe()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backup::manifest::{BackupKind, FORMAT_VERSION};

    fn manifest(host: &str, id: Option<&str>, name: Option<&str>) -> Manifest {
        Manifest {
            format_version: FORMAT_VERSION,
            devctl_version: "0.1.0".into(),
            id: "20261122T143005Z".into(),
            kind: BackupKind::Manual,
            project: "shop".into(),
            profile: "default".into(),
            created: "2026-11-22T14:30:07Z".into(),
            label: None,
            engine: host.into(),
            engine_id: id.map(String::from),
            engine_name: name.map(String::from),
            artifacts: Vec::new(),
        }
    }

    fn laptop() -> EngineOrigin {
        EngineOrigin::reached(
            "unix:///var/run/docker.sock",
            &EngineIdentity {
                id: Some("WNKR:WFPW:X3KU:5UWM:4HIQ".into()),
                name: Some("laptop".into()),
            },
        )
    }

    #[test]
    fn a_backup_from_another_engine_is_said_to_cross_with_both_engines_named() {
        let remote = manifest(
            "tcp://build-box:2376",
            Some("4c1e8a52-9b1f-4f7e-a0d3-8c7f0e2b6a11"),
            Some("build-box"),
        );
        assert_eq!(
            crossing_note(&remote, &laptop()).unwrap(),
            "backup 20261122T143005Z was made on engine build-box (4c1e8a52-9b1f-…) at tcp://build-box:2376; restoring into engine laptop (WNKR:WFPW:X3KU…) at unix:///var/run/docker.sock"
        );
        // The same engine reached another way is no crossing; another one at the same
        // endpoint (a rebuilt machine) is.
        let same = manifest(
            "tcp://127.0.0.1:2376",
            Some("WNKR:WFPW:X3KU:5UWM:4HIQ"),
            Some("laptop"),
        );
        assert_eq!(crossing_note(&same, &laptop()), None);
        let rebuilt = manifest("unix:///var/run/docker.sock", Some("other"), None);
        assert_eq!(
            crossing_note(&rebuilt, &laptop()).unwrap(),
            "backup 20261122T143005Z was made on the engine (other) at unix:///var/run/docker.sock; restoring into engine laptop (WNKR:WFPW:X3KU…) at unix:///var/run/docker.sock"
        );
    }

    #[test]
    fn an_older_backup_without_the_engine_s_id_is_compared_by_endpoint() {
        let here = manifest("unix:///var/run/docker.sock", None, None);
        assert_eq!(crossing_note(&here, &laptop()), None);
        let elsewhere = manifest("ssh://build-box", None, None);
        assert_eq!(
            crossing_note(&elsewhere, &laptop()).unwrap(),
            "backup 20261122T143005Z was made on the engine at ssh://build-box; restoring into engine laptop (WNKR:WFPW:X3KU…) at unix:///var/run/docker.sock"
        );
        // The endpoint devctl reaches is compared without its credentials, as recorded.
        let reached = EngineOrigin::reached("ssh://me@build-box", &EngineIdentity::default());
        assert_eq!(reached.host, "ssh://build-box");
        assert_eq!(crossing_note(&elsewhere, &reached), None);
        let with_user = manifest("ssh://me@build-box", None, None);
        assert_eq!(crossing_note(&with_user, &reached), None);
        assert!(
            !crossing_note(&with_user, &laptop())
                .unwrap()
                .contains("me@")
        );
    }
}
