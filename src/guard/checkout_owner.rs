//! Whose checkout a compose project name belongs to.
//!
//! Two checkouts of one repository (a clone, a `git worktree`) or two unrelated projects can
//! use the same compose project name; a step from one would then act on the other's
//! containers and volumes. Compose records the project's working directory on every
//! container it creates (`com.docker.compose.project.working_dir`); volumes carry no such
//! label, so devctl keeps its own record too: after every command that creates containers,
//! the checkout that ran it, in its state on this machine, keyed by engine and project name.
//! Before a destructive step, and before anything that creates or recreates containers,
//! devctl compares both with this checkout and refuses when another checkout owns the name,
//! unless `--allow-other-checkout` says otherwise.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use bollard::models::ContainerInspectResponse;
use sha2::{Digest, Sha256};

use crate::backup::workspace::Workspace;
use crate::report::exit_status::ExitStatus;
use crate::report::failure::Failure;

use crate::compose::labels::WORKING_DIR as WORKING_DIR_LABEL;

/// The working directories recorded on `containers` that are not `expected`.
pub fn foreign_working_dirs(
    containers: &[ContainerInspectResponse],
    expected: &Path,
) -> Vec<String> {
    let expected = canonical(expected);
    let found: BTreeSet<String> = containers
        .iter()
        .filter_map(|container| {
            container
                .config
                .as_ref()
                .and_then(|config| config.labels.as_ref())
                .and_then(|labels| labels.get(WORKING_DIR_LABEL))
                .cloned()
        })
        .filter(|directory| canonical(Path::new(directory)) != expected)
        .collect();
    found.into_iter().collect()
}

/// Another checkout that owns a project name, and how devctl knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// The project's containers were created from these directories.
    Containers(Vec<String>),
    /// No container is left, but the project's volumes are, and devctl's record names this
    /// checkout as the last to create the project's containers.
    Recorded(PathBuf),
}

impl Owner {
    fn path(&self) -> String {
        match self {
            Owner::Containers(directories) => directories[0].clone(),
            Owner::Recorded(path) => path.display().to_string(),
        }
    }
}

/// Who else owns the project name: the containers' working directories first; with no
/// container left and `volumes_remain`, the `recorded` checkout, when it is another one that
/// still exists here.
pub fn other_owner(
    expected: &Path,
    containers: &[ContainerInspectResponse],
    recorded: Option<&Path>,
    volumes_remain: bool,
) -> Option<Owner> {
    let foreign = foreign_working_dirs(containers, expected);
    if !foreign.is_empty() {
        return Some(Owner::Containers(foreign));
    }
    let recorded = recorded?;
    let another = containers.is_empty()
        && volumes_remain
        && recorded.is_dir()
        && canonical(recorded) != canonical(expected);
    another.then(|| Owner::Recorded(recorded.to_path_buf()))
}

/// Refuses when another checkout owns `workspace`'s project name on its engine (see
/// `other_owner`), unless `allowed`. `containers` are the project's.
pub fn check(
    workspace: &Workspace,
    containers: &[ContainerInspectResponse],
    allowed: bool,
) -> Result<()> {
    if allowed {
        return Ok(());
    }
    let record = OwnerRecord::of(workspace);
    let recorded = record.read();
    let volumes_remain = match (&recorded, containers.is_empty()) {
        (Some(_), true) => project_volumes_remain(workspace)?,
        _ => false,
    };
    let expected = workspace.working_directory();
    match other_owner(&expected, containers, recorded.as_deref(), volumes_remain) {
        None => Ok(()),
        Some(owner) => Err(refusal(workspace.model.name(), &expected, &owner).into()),
    }
}

/// The refusal for `owner`, with what to do.
fn refusal(project: &str, expected: &Path, owner: &Owner) -> Failure {
    let message = match owner {
        Owner::Containers(directories) => format!(
            "project name `{project}` belongs to another checkout: its containers were created from {}, not {}",
            directories.join(", "),
            expected.display()
        ),
        Owner::Recorded(path) => format!(
            "project name `{project}` belongs to another checkout: it has no containers now, but its volumes remain, and devctl's record on this machine names {} as the checkout that last created its containers",
            path.display()
        ),
    };
    Failure::new(ExitStatus::Refused, message).hint(format!(
        "give each checkout its own stack: `project_name: {project}-{{checkout}}` under `compose:` in the profile names it after the checkout's folder; or act from {}; --allow-other-checkout goes ahead anyway",
        owner.path()
    ))
}

/// Whether any volume the project declares (not external) exists on the engine.
fn project_volumes_remain(workspace: &Workspace) -> Result<bool> {
    for volume in workspace.model.volumes() {
        if !volume.external && workspace.engine.volume(&volume.name)?.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Records this checkout as the one that last created `workspace`'s project containers on
/// its engine.
pub fn claim(workspace: &Workspace) -> Result<()> {
    OwnerRecord::of(workspace).write(&workspace.working_directory())
}

/// devctl's record of the checkout that last created a project's containers on an engine:
/// `<state root>/owners/<engine hash>/<project>`, holding the checkout's path.
#[derive(Debug, Clone)]
pub struct OwnerRecord {
    path: PathBuf,
}

impl OwnerRecord {
    pub fn new(state_root: &Path, engine: &str, project: &str) -> OwnerRecord {
        let digest = Sha256::digest(engine.as_bytes());
        OwnerRecord {
            path: state_root
                .join("owners")
                .join(hex::encode(&digest[..6]))
                .join(project),
        }
    }

    fn of(workspace: &Workspace) -> OwnerRecord {
        OwnerRecord::new(
            &workspace.project.layout.state_root,
            workspace.engine.host(),
            workspace.model.name(),
        )
    }

    /// The recorded checkout; none when there is no record or it cannot be read (a record
    /// is a hint, never a reason to fail).
    pub fn read(&self) -> Option<PathBuf> {
        let text = std::fs::read_to_string(&self.path).ok()?;
        let line = text.lines().next()?.trim();
        (!line.is_empty()).then(|| PathBuf::from(line))
    }

    pub fn write(&self, checkout: &Path) -> Result<()> {
        let text = format!("{}\n", canonical(checkout).display());
        crate::system::files::write_atomic(&self.path, text.as_bytes()).with_context(|| {
            format!(
                "cannot record the project's checkout in {}",
                self.path.display()
            )
        })
    }
}

/// The path with symbolic links resolved when it exists here, else as written.
fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::ContainerConfig;
    use std::collections::HashMap;

    fn container(working_dir: Option<&str>) -> ContainerInspectResponse {
        let labels: HashMap<String, String> = working_dir
            .map(|directory| HashMap::from([(WORKING_DIR_LABEL.to_string(), directory.into())]))
            .unwrap_or_default();
        ContainerInspectResponse {
            config: Some(ContainerConfig {
                labels: Some(labels),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn other_checkouts_are_found_and_symlinks_are_the_same_place() {
        let temp = tempfile::tempdir().unwrap();
        let mine = temp.path().join("mine");
        std::fs::create_dir(&mine).unwrap();
        let link = temp.path().join("link");
        std::os::unix::fs::symlink(&mine, &link).unwrap();
        let containers = [
            container(Some(mine.to_str().unwrap())),
            container(Some(link.to_str().unwrap())),
            container(None),
        ];
        assert!(foreign_working_dirs(&containers, &mine).is_empty());
        let other = [
            container(Some("/elsewhere/checkout")),
            containers[0].clone(),
        ];
        assert_eq!(foreign_working_dirs(&other, &mine), ["/elsewhere/checkout"]);
    }

    #[test]
    fn the_record_names_the_owner_only_when_no_container_is_left_and_volumes_remain() {
        let temp = tempfile::tempdir().unwrap();
        let (mine, theirs) = (temp.path().join("mine"), temp.path().join("theirs"));
        std::fs::create_dir(&mine).unwrap();
        std::fs::create_dir(&theirs).unwrap();
        let recorded = Some(theirs.as_path());
        assert_eq!(
            other_owner(&mine, &[], recorded, true),
            Some(Owner::Recorded(theirs.clone()))
        );
        // No volume left: nothing of theirs to lose.
        assert_eq!(other_owner(&mine, &[], recorded, false), None);
        // This checkout's own record, or one of a checkout that is gone.
        assert_eq!(other_owner(&mine, &[], Some(mine.as_path()), true), None);
        let gone = temp.path().join("gone");
        assert_eq!(other_owner(&mine, &[], Some(gone.as_path()), true), None);
        // Containers of this checkout: they say who owns the name now.
        let own = [container(Some(mine.to_str().unwrap()))];
        assert_eq!(other_owner(&mine, &own, recorded, true), None);
        // Containers of another checkout win over the record.
        let foreign = [container(Some("/elsewhere"))];
        assert_eq!(
            other_owner(&mine, &foreign, recorded, true),
            Some(Owner::Containers(vec!["/elsewhere".into()]))
        );
    }

    #[test]
    fn records_are_kept_per_engine_and_project() {
        let temp = tempfile::tempdir().unwrap();
        let record = OwnerRecord::new(temp.path(), "unix:///var/run/docker.sock", "shop");
        assert_eq!(record.read(), None);
        record.write(temp.path()).unwrap();
        assert_eq!(record.read(), Some(temp.path().canonicalize().unwrap()));
        let other_engine = OwnerRecord::new(temp.path(), "tcp://10.0.0.2:2376", "shop");
        assert_eq!(other_engine.read(), None);
        let other_project = OwnerRecord::new(temp.path(), "unix:///var/run/docker.sock", "blog");
        assert_eq!(other_project.read(), None);
    }
}
