//! The stage of a service's Dockerfile that ships, by one rule for every part of devctl that
//! reasons about it (the fidelity stack, the doctor): the profile's `fidelity.build_targets`
//! entry; else, when the compose file builds a named target and the Dockerfile has a
//! production-like stage, that stage; else the compose file's target; else the last stage.
//! Also where a service's Dockerfile is, from compose's resolved `build:` section.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::ser::SerializeStruct;
use serde_json::Value;

/// The names of stages that are taken to be the one that ships, compared case-insensitively.
pub const PRODUCTION_LIKE: [&str; 4] = ["production", "prod", "release", "runtime"];

/// The stage that ships, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShippedStage {
    /// The build target to build; `None` builds the Dockerfile's last stage.
    pub stage: Option<String>,
    pub reason: StageReason,
}

/// Why a stage is the one that ships.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StageReason {
    /// The profile's `fidelity.build_targets` names it; `instead_of` is the compose file's
    /// target when that is another.
    Profile { instead_of: Option<String> },
    /// The Dockerfile's production-like stage, instead of the compose file's target.
    ProductionLike { instead_of: String },
    /// The compose file's target, itself a production-like stage.
    ComposeTargetProductionLike,
    /// The compose file's target: the Dockerfile has no production-like stage.
    ComposeTarget,
    /// The compose file's target: the Dockerfile could not be read to look for a
    /// production-like stage (missing, or a remote context).
    ComposeTargetUnread,
    /// No target anywhere: the Dockerfile's last stage.
    LastStage,
}

impl StageReason {
    /// A short word for JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            StageReason::Profile { .. } => "profile",
            StageReason::ProductionLike { .. } => "production_like",
            StageReason::ComposeTargetProductionLike
            | StageReason::ComposeTarget
            | StageReason::ComposeTargetUnread => "compose_target",
            StageReason::LastStage => "last_stage",
        }
    }
}

impl fmt::Display for StageReason {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StageReason::Profile { instead_of: None } => {
                write!(formatter, "the profile's fidelity.build_targets")
            }
            StageReason::Profile {
                instead_of: Some(target),
            } => write!(
                formatter,
                "the profile's fidelity.build_targets, instead of the compose file's target `{target}`"
            ),
            StageReason::ProductionLike { instead_of } => write!(
                formatter,
                "the Dockerfile's production-like stage, instead of the compose file's target `{instead_of}`"
            ),
            StageReason::ComposeTargetProductionLike => write!(
                formatter,
                "the compose file's target, a production-like stage"
            ),
            StageReason::ComposeTarget => write!(
                formatter,
                "the compose file's target; the Dockerfile has no production-like stage ({})",
                PRODUCTION_LIKE.join(", ")
            ),
            StageReason::ComposeTargetUnread => write!(
                formatter,
                "the compose file's target; the Dockerfile could not be read to look for a production-like stage"
            ),
            StageReason::LastStage => write!(
                formatter,
                "the Dockerfile's last stage, as the compose file names no target"
            ),
        }
    }
}

impl fmt::Display for ShippedStage {
    /// `production: the Dockerfile's production-like stage, instead of …`; the reason alone
    /// for the last stage.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.stage {
            Some(stage) => write!(formatter, "{stage}: {}", self.reason),
            None => write!(formatter, "{}", self.reason),
        }
    }
}

impl Serialize for ShippedStage {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut object = serializer.serialize_struct("ShippedStage", 3)?;
        object.serialize_field("stage", &self.stage)?;
        object.serialize_field("reason", self.reason.kind())?;
        object.serialize_field("why", &self.reason.to_string())?;
        object.end()
    }
}

/// The stage of a service's build that ships: `profile_target` (the profile's
/// `fidelity.build_targets` entry), `compose_target` (the build's `target:`), and
/// `dockerfile_stages` (the names the Dockerfile gives its stages, `None` when it cannot be
/// read). Of several production-like stages, the last in the Dockerfile.
pub fn shipped_stage(
    profile_target: Option<&str>,
    compose_target: Option<&str>,
    dockerfile_stages: Option<&[String]>,
) -> ShippedStage {
    let shipped = |stage: Option<&str>, reason| ShippedStage {
        stage: stage.map(String::from),
        reason,
    };
    if let Some(profile_target) = profile_target {
        let instead_of = compose_target
            .filter(|target| !target.eq_ignore_ascii_case(profile_target))
            .map(String::from);
        return shipped(Some(profile_target), StageReason::Profile { instead_of });
    }
    let Some(compose_target) = compose_target else {
        return shipped(None, StageReason::LastStage);
    };
    if is_production_like(compose_target) {
        return shipped(
            Some(compose_target),
            StageReason::ComposeTargetProductionLike,
        );
    }
    let Some(stages) = dockerfile_stages else {
        return shipped(Some(compose_target), StageReason::ComposeTargetUnread);
    };
    match stages.iter().rev().find(|stage| is_production_like(stage)) {
        Some(stage) => shipped(
            Some(stage),
            StageReason::ProductionLike {
                instead_of: compose_target.to_string(),
            },
        ),
        None => shipped(Some(compose_target), StageReason::ComposeTarget),
    }
}

/// Whether a stage's name is one of `PRODUCTION_LIKE`, case aside.
pub fn is_production_like(stage: &str) -> bool {
    PRODUCTION_LIKE
        .iter()
        .any(|name| name.eq_ignore_ascii_case(stage))
}

/// Where a service's Dockerfile is, from its resolved `build:` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DockerfileSource {
    /// A file: the context directory and the Dockerfile's path (relative ones joined to
    /// `root`).
    File {
        context: PathBuf,
        dockerfile: PathBuf,
    },
    /// `dockerfile_inline`: the Dockerfile's text.
    Inline(String),
    /// A remote context (a URL, a git address): nothing to read here.
    Remote,
}

/// The Dockerfile of a `build:` section (compose's resolved model).
pub fn dockerfile_source(build: &Value, root: &Path) -> DockerfileSource {
    if let Some(text) = build.get("dockerfile_inline").and_then(Value::as_str) {
        return DockerfileSource::Inline(text.to_string());
    }
    let context = build.get("context").and_then(Value::as_str).unwrap_or(".");
    if context.contains("://") || context.starts_with("git@") {
        return DockerfileSource::Remote;
    }
    let context = root.join(context);
    let dockerfile = context.join(
        build
            .get("dockerfile")
            .and_then(Value::as_str)
            .unwrap_or("Dockerfile"),
    );
    DockerfileSource::File {
        context,
        dockerfile,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stages(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| name.to_string()).collect()
    }

    /// A profile target, a compose target, the Dockerfile's stages; the stage that ships, and
    /// the sentence it renders as.
    type Case<'a> = (
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a [String]>,
        ShippedStage,
        &'a str,
    );

    /// Every case of the rule, with the sentence each renders as.
    #[test]
    fn every_case_of_the_rule_and_its_sentence() {
        let dev_and_production = stages(&["dev", "production"]);
        let dev_only = stages(&["base", "dev"]);
        let production_first = stages(&["production", "debug"]);
        let cases: Vec<Case> = vec![
            // The profile names the stage: it wins over everything.
            (
                Some("release"),
                Some("dev"),
                Some(&dev_and_production),
                ShippedStage {
                    stage: Some("release".into()),
                    reason: StageReason::Profile {
                        instead_of: Some("dev".into()),
                    },
                },
                "release: the profile's fidelity.build_targets, instead of the compose file's target `dev`",
            ),
            (
                Some("production"),
                Some("PRODUCTION"),
                None,
                ShippedStage {
                    stage: Some("production".into()),
                    reason: StageReason::Profile { instead_of: None },
                },
                "production: the profile's fidelity.build_targets",
            ),
            (
                Some("dev"),
                None,
                Some(&dev_and_production),
                ShippedStage {
                    stage: Some("dev".into()),
                    reason: StageReason::Profile { instead_of: None },
                },
                "dev: the profile's fidelity.build_targets",
            ),
            // A named compose target and a production-like stage: that stage.
            (
                None,
                Some("dev"),
                Some(&dev_and_production),
                ShippedStage {
                    stage: Some("production".into()),
                    reason: StageReason::ProductionLike {
                        instead_of: "dev".into(),
                    },
                },
                "production: the Dockerfile's production-like stage, instead of the compose file's target `dev`",
            ),
            // The compose target is itself production-like: it stays.
            (
                None,
                Some("Release"),
                Some(&dev_and_production),
                ShippedStage {
                    stage: Some("Release".into()),
                    reason: StageReason::ComposeTargetProductionLike,
                },
                "Release: the compose file's target, a production-like stage",
            ),
            // No production-like stage: the compose file's target.
            (
                None,
                Some("dev"),
                Some(&dev_only),
                ShippedStage {
                    stage: Some("dev".into()),
                    reason: StageReason::ComposeTarget,
                },
                "dev: the compose file's target; the Dockerfile has no production-like stage (production, prod, release, runtime)",
            ),
            // The Dockerfile cannot be read: the compose file's target.
            (
                None,
                Some("dev"),
                None,
                ShippedStage {
                    stage: Some("dev".into()),
                    reason: StageReason::ComposeTargetUnread,
                },
                "dev: the compose file's target; the Dockerfile could not be read to look for a production-like stage",
            ),
            // No target: the last stage, even when an earlier one is production-like.
            (
                None,
                None,
                Some(&production_first),
                ShippedStage {
                    stage: None,
                    reason: StageReason::LastStage,
                },
                "the Dockerfile's last stage, as the compose file names no target",
            ),
            (
                None,
                None,
                None,
                ShippedStage {
                    stage: None,
                    reason: StageReason::LastStage,
                },
                "the Dockerfile's last stage, as the compose file names no target",
            ),
        ];
        for (profile, compose, dockerfile, expected, sentence) in cases {
            let shipped = shipped_stage(profile, compose, dockerfile);
            assert_eq!(shipped, expected, "{profile:?} {compose:?} {dockerfile:?}");
            assert_eq!(shipped.to_string(), sentence);
        }
    }

    #[test]
    fn production_like_names_in_any_case_and_the_last_of_several() {
        for name in ["production", "PROD", "Release", "runtime"] {
            assert!(is_production_like(name), "{name}");
            let shipped = shipped_stage(None, Some("dev"), Some(&stages(&["dev", name])));
            assert_eq!(shipped.stage.as_deref(), Some(name));
        }
        for name in ["dev", "test", "build", "productionish", "prod-debug", ""] {
            assert!(!is_production_like(name), "{name}");
        }
        let several = stages(&["runtime", "dev", "production", "debug"]);
        assert_eq!(
            shipped_stage(None, Some("dev"), Some(&several)).stage,
            Some("production".into())
        );
        // Unnamed stages list no names.
        assert_eq!(
            shipped_stage(None, Some("dev"), Some(&[])).reason,
            StageReason::ComposeTarget
        );
    }

    #[test]
    fn serialized_with_the_stage_a_kind_and_the_sentence() {
        let shipped = shipped_stage(None, Some("dev"), Some(&stages(&["dev", "prod"])));
        assert_eq!(
            serde_json::to_value(&shipped).unwrap(),
            json!({
                "stage": "prod",
                "reason": "production_like",
                "why": "the Dockerfile's production-like stage, instead of the compose file's target `dev`"
            })
        );
        let last = shipped_stage(None, None, None);
        assert_eq!(
            serde_json::to_value(&last).unwrap(),
            json!({"stage": null, "reason": "last_stage", "why": last.reason.to_string()})
        );
        for (reason, kind) in [
            (StageReason::Profile { instead_of: None }, "profile"),
            (StageReason::ComposeTargetProductionLike, "compose_target"),
            (StageReason::ComposeTarget, "compose_target"),
            (StageReason::ComposeTargetUnread, "compose_target"),
        ] {
            assert_eq!(reason.kind(), kind);
        }
    }

    #[test]
    fn the_dockerfile_of_a_build_section() {
        let root = Path::new("/srv/shop");
        assert_eq!(
            dockerfile_source(&json!({"context": "/srv/shop/app"}), root),
            DockerfileSource::File {
                context: PathBuf::from("/srv/shop/app"),
                dockerfile: PathBuf::from("/srv/shop/app/Dockerfile"),
            }
        );
        assert_eq!(
            dockerfile_source(
                &json!({"context": "app", "dockerfile": "docker/Prod.Dockerfile"}),
                root
            ),
            DockerfileSource::File {
                context: PathBuf::from("/srv/shop/app"),
                dockerfile: PathBuf::from("/srv/shop/app/docker/Prod.Dockerfile"),
            }
        );
        assert_eq!(
            dockerfile_source(
                &json!({"context": ".", "dockerfile": "/elsewhere/Dockerfile"}),
                root
            ),
            DockerfileSource::File {
                context: PathBuf::from("/srv/shop/."),
                dockerfile: PathBuf::from("/elsewhere/Dockerfile"),
            }
        );
        assert_eq!(
            dockerfile_source(&json!({"dockerfile_inline": "FROM a AS prod\n"}), root),
            DockerfileSource::Inline("FROM a AS prod\n".into())
        );
        for remote in [
            "https://github.com/shop/app.git",
            "git@github.com:shop/app.git",
        ] {
            assert_eq!(
                dockerfile_source(&json!({"context": remote}), root),
                DockerfileSource::Remote
            );
        }
    }
}
