//! `DeletionPlan`: exactly which volumes a destructive step deletes, and which it keeps and why.
//!
//! The plan is what the guard lists before asking, what it backs up before deleting, and —
//! for `down` — what devctl removes itself, by name, after compose has removed the containers.
//! Protected volumes (the profile's `guard.protected_volumes`) and external ones are kept.

use std::collections::BTreeMap;

use anyhow::Result;
use bollard::models::ContainerInspectResponse;

use crate::backup::target::{self, VolumeTarget};
use crate::backup::workspace::Workspace;
use crate::compose::model::ComposeModel;
use crate::compose::verb_plan::DeletionNote;
use crate::engine::service_status::is_engine_generated;
use crate::project::profile_file::BackupMethod;
use crate::report::exit_status::ExitStatus;
use crate::report::failure::Failure;
use crate::report::units::human_bytes;

/// Which volumes a command reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// `down -v`: every volume the project's services mount, named and anonymous.
    Project,
    /// `down -v SERVICE…`: the volumes these services mount, named and anonymous; a volume
    /// that another service mounts too is kept.
    Services(Vec<String>),
    /// `rm -v`, `up -V`: the anonymous volumes of these services' containers (every
    /// service's when none is named).
    Anonymous(Vec<String>),
    /// `up`, `create`: the named volumes (engine names) whose declaration changed, which
    /// compose deletes and creates afresh.
    Recreated(Vec<String>),
    /// A command devctl cannot read: any volume of the project, protected ones included.
    Everything,
}

impl Reach {
    /// Whether devctl removes the volumes itself, by name (`down`), and so can keep some.
    pub fn removed_by_devctl(&self) -> bool {
        matches!(self, Reach::Project | Reach::Services(_))
    }
}

/// A volume the step leaves in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub name: String,
    pub reason: &'static str,
}

#[derive(Debug, Clone, Default)]
pub struct DeletionPlan {
    /// What the step deletes; each is backed up first (as a raw copy, services stopped).
    pub doomed: Vec<VolumeTarget>,
    pub kept: Vec<Kept>,
    /// Engine-reported sizes, by volume name.
    pub sizes: BTreeMap<String, u64>,
}

impl DeletionPlan {
    /// The plan for `reach` in `workspace`'s project (whose model covers every service).
    pub fn new(
        workspace: &Workspace,
        containers: &[ContainerInspectResponse],
        reach: &Reach,
    ) -> Result<DeletionPlan> {
        let targets = target::select(
            &workspace.model,
            containers,
            &workspace.project.profile.backup,
            &[],
            true,
        )?;
        let existing: Vec<VolumeTarget> = targets
            .into_iter()
            .filter(|target| {
                target.anonymous || matches!(workspace.engine.volume(&target.name), Ok(Some(_)))
            })
            .collect();
        let (doomed, kept) = partition(
            existing,
            &workspace.project.profile.protected_volumes,
            reach,
        )?;
        let sizes = if doomed.is_empty() {
            BTreeMap::new()
        } else {
            workspace.volume_sizes().clone()
        };
        Ok(DeletionPlan {
            doomed,
            kept,
            sizes,
        })
    }

    /// `name (size)` of each doomed volume, anonymous ones with their service and path.
    pub fn doomed_lines(&self) -> Vec<String> {
        self.doomed
            .iter()
            .map(|target| {
                let size = self
                    .sizes
                    .get(&target.name)
                    .map(|bytes| human_bytes(*bytes))
                    .unwrap_or_else(|| "size unknown".into());
                if target.anonymous {
                    format!(
                        "{} (anonymous, {}, {size})",
                        target.key,
                        short(&target.name)
                    )
                } else {
                    format!("{} ({size})", target.name)
                }
            })
            .collect()
    }

    /// `name (why)` of each kept volume.
    pub fn kept_lines(&self) -> Vec<String> {
        self.kept
            .iter()
            .map(|kept| format!("{} ({})", kept.name, kept.reason))
            .collect()
    }

    /// The engine names of the doomed volumes.
    pub fn doomed_names(&self) -> Vec<String> {
        self.doomed
            .iter()
            .map(|target| target.name.clone())
            .collect()
    }
}

/// Splits the project's existing volumes into doomed and kept for `reach`. Doomed volumes are
/// copied raw with their services stopped (a hook's dump needs a running service, which a
/// step about to delete its data may not have).
pub fn partition(
    targets: Vec<VolumeTarget>,
    protected: &[String],
    reach: &Reach,
) -> Result<(Vec<VolumeTarget>, Vec<Kept>), Failure> {
    let mut doomed = Vec::new();
    let mut kept = Vec::new();
    for mut target in targets {
        let is_protected = protected
            .iter()
            .any(|name| name == &target.key || name == &target.name);
        let reached = match reach {
            Reach::Project | Reach::Everything => true,
            Reach::Services(services) => target
                .services
                .iter()
                .any(|service| services.contains(service)),
            Reach::Anonymous(services) => {
                target.anonymous
                    && (services.is_empty()
                        || target
                            .services
                            .iter()
                            .any(|service| services.contains(service)))
            }
            Reach::Recreated(names) => !target.anonymous && names.contains(&target.name),
        };
        if !reached {
            continue;
        }
        let shared = match reach {
            Reach::Services(services) => target
                .services
                .iter()
                .any(|service| !services.contains(service)),
            _ => false,
        };
        if target.external {
            kept.push(Kept {
                name: target.name,
                reason: "external",
            });
        } else if shared {
            kept.push(Kept {
                name: target.name,
                reason: "also mounted by other services",
            });
        } else if is_protected && reach.removed_by_devctl() {
            kept.push(Kept {
                name: target.name,
                reason: "protected",
            });
        } else if is_protected && matches!(reach, Reach::Recreated(_)) {
            return Err(Failure::new(
                ExitStatus::Refused,
                format!(
                    "refusing: compose would delete and recreate the protected volume {} ({}), whose declaration changed",
                    target.key, target.name
                ),
            )
            .hint("undo the change to the volume's driver, driver_opts or labels in the compose file; to move the data to the new declaration, back it up (`devctl backup`), take the volume off guard.protected_volumes, and run the command again"));
        } else if is_protected {
            // Compose itself deletes what this command reaches: devctl cannot spare it.
            return Err(Failure::new(
                ExitStatus::Refused,
                format!(
                    "refusing: the command would delete the protected volume {} ({}), and compose cannot be told to spare it",
                    target.key, target.name
                ),
            )
            .hint("run it without its volume flag (e.g. `rm` without -v), or take the volume off guard.protected_volumes"));
        } else {
            target.method = BackupMethod::Stop;
            target.hook = None;
            doomed.push(target);
        }
    }
    Ok((doomed, kept))
}

/// The declared volumes `down --volumes` deletes and those it keeps, from the model alone
/// (what `devctl plan down --volumes` shows without asking the engine).
pub fn declared(model: &ComposeModel, protected: &[String]) -> DeletionNote {
    let mut note = DeletionNote {
        volumes: Vec::new(),
        kept: Vec::new(),
    };
    for volume in model.volumes() {
        if volume.external {
            note.kept.push(format!("{} (external)", volume.name));
        } else if volume.is_protected(protected) {
            note.kept.push(format!("{} (protected)", volume.name));
        } else {
            note.volumes.push(volume.name);
        }
    }
    note
}

/// An engine-generated name, shortened for reading.
fn short(name: &str) -> String {
    if is_engine_generated(name) {
        name[..12].to_string()
    } else {
        name.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(key: &str, external: bool, anonymous: bool, service: &str) -> VolumeTarget {
        VolumeTarget {
            key: key.into(),
            name: format!("shop_{key}"),
            external,
            anonymous,
            driver: "local".into(),
            driver_options: BTreeMap::new(),
            labels: BTreeMap::new(),
            services: vec![service.into()],
            method: BackupMethod::Hook,
            hook: None,
        }
    }

    fn targets() -> Vec<VolumeTarget> {
        vec![
            target("db-data", false, false, "db"),
            target("uploads", false, false, "app"),
            target("shared", true, false, "app"),
            target("app:/cache", false, true, "app"),
            target("db:/tmp", false, true, "db"),
        ]
    }

    fn keys(doomed: &[VolumeTarget]) -> Vec<&str> {
        doomed.iter().map(|target| target.key.as_str()).collect()
    }

    #[test]
    fn the_declared_plan_keeps_external_and_protected_volumes() {
        let model = ComposeModel::new(serde_json::json!({
            "name": "shop",
            "volumes": {
                "db-data": {},
                "uploads": {"name": "shared-uploads"},
                "cache": {"external": true, "name": "cache"},
                "logs": {},
            },
        }))
        .unwrap();
        let note = declared(&model, &["logs".into(), "shared-uploads".into()]);
        assert_eq!(note.volumes, ["shop_db-data"]);
        assert_eq!(
            note.kept,
            [
                "cache (external)",
                "shop_logs (protected)",
                "shared-uploads (protected)"
            ]
        );
    }

    #[test]
    fn down_keeps_protected_and_external_volumes() {
        let (doomed, kept) = partition(targets(), &["db-data".into()], &Reach::Project).unwrap();
        assert_eq!(keys(&doomed), ["uploads", "app:/cache", "db:/tmp"]);
        assert_eq!(
            kept,
            [
                Kept {
                    name: "shop_db-data".into(),
                    reason: "protected"
                },
                Kept {
                    name: "shop_shared".into(),
                    reason: "external"
                },
            ]
        );
        assert!(
            doomed
                .iter()
                .all(|target| target.method == BackupMethod::Stop)
        );
    }

    #[test]
    fn down_of_some_services_takes_only_the_volumes_they_alone_mount() {
        let mut volumes = targets();
        volumes[1].services.push("worker".into());
        let (doomed, kept) = partition(volumes, &[], &Reach::Services(vec!["app".into()])).unwrap();
        assert_eq!(keys(&doomed), ["app:/cache"]);
        assert_eq!(
            kept,
            [
                Kept {
                    name: "shop_uploads".into(),
                    reason: "also mounted by other services"
                },
                Kept {
                    name: "shop_shared".into(),
                    reason: "external"
                },
            ]
        );
    }

    #[test]
    fn protection_by_engine_name_counts_too() {
        let (doomed, _) = partition(targets(), &["shop_uploads".into()], &Reach::Project).unwrap();
        assert!(!keys(&doomed).contains(&"uploads"));
    }

    #[test]
    fn anonymous_reach_is_limited_to_the_named_services() {
        let (doomed, kept) =
            partition(targets(), &[], &Reach::Anonymous(vec!["app".into()])).unwrap();
        assert_eq!(keys(&doomed), ["app:/cache"]);
        assert!(kept.is_empty());
        let (doomed, _) = partition(targets(), &[], &Reach::Anonymous(Vec::new())).unwrap();
        assert_eq!(keys(&doomed), ["app:/cache", "db:/tmp"]);
    }

    #[test]
    fn a_command_compose_carries_out_is_refused_when_it_reaches_a_protected_volume() {
        for reach in [Reach::Everything, Reach::Anonymous(Vec::new())] {
            let failure = partition(targets(), &["app:/cache".into()], &reach).unwrap_err();
            assert_eq!(failure.status, ExitStatus::Refused);
            assert!(
                failure.message.contains("app:/cache"),
                "{}",
                failure.message
            );
        }
        // Not reached: fine.
        let (doomed, _) = partition(
            targets(),
            &["db-data".into()],
            &Reach::Anonymous(Vec::new()),
        )
        .unwrap();
        assert_eq!(keys(&doomed), ["app:/cache", "db:/tmp"]);
        // An unreadable command backs up every volume it may delete.
        let (doomed, _) = partition(targets(), &[], &Reach::Everything).unwrap();
        assert_eq!(
            keys(&doomed),
            ["db-data", "uploads", "app:/cache", "db:/tmp"]
        );
    }
}
