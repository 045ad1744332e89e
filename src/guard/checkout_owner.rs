//! Whose checkout a compose project name belongs to.
//!
//! Two checkouts of one repository (or two unrelated projects) can use the same compose
//! project name; a destructive step from one would then act on the other's containers and
//! volumes. Compose records the project's working directory on every container it creates
//! (`com.docker.compose.project.working_dir`; volumes carry no such label). Before a
//! destructive step devctl compares those labels with this checkout's directory and refuses
//! when another checkout owns the name, unless `--allow-other-checkout` says otherwise.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Result;
use bollard::models::ContainerInspectResponse;

use crate::report::exit_status::ExitStatus;
use crate::report::failure::Failure;

pub const WORKING_DIR_LABEL: &str = "com.docker.compose.project.working_dir";

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

/// Refuses when containers of `project_name` carry another working directory than
/// `expected` (this checkout's), unless `allowed`.
pub fn check(
    expected: &Path,
    project_name: &str,
    containers: &[ContainerInspectResponse],
    allowed: bool,
) -> Result<()> {
    let foreign = foreign_working_dirs(containers, expected);
    if foreign.is_empty() || allowed {
        return Ok(());
    }
    Err(Failure::new(
        ExitStatus::Refused,
        format!(
            "project name `{project_name}` belongs to another checkout: its containers were created from {}, not {}",
            foreign.join(", "),
            expected.display()
        ),
    )
    .hint(format!(
        "give this checkout its own name (compose.project_name in the profile), or act from {}; --allow-other-checkout goes ahead anyway",
        foreign[0]
    ))
    .into())
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
}
