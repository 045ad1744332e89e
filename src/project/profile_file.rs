//! `ProfileFile`: one `profiles/NAME.yaml` as written, before `extends` is applied.
//!
//! Every key is optional so that a child profile can inherit it. Each section is its own
//! struct with `deny_unknown_fields`; adding a section means adding a struct, a field here and
//! its `merge`. Unknown keys are errors that name the closest valid key.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::report::failure::Failure;

/// A profile file as written.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileFile {
    /// One line shown by `devctl profiles`.
    pub description: Option<String>,
    /// Another profile in the same folder whose keys this one inherits.
    pub extends: Option<String>,
    #[serde(default)]
    pub compose: ComposeSection,
    #[serde(default)]
    pub up: UpSection,
    #[serde(default)]
    pub paths: PathsSection,
    #[serde(default)]
    pub backup: BackupSection,
    #[serde(default)]
    pub guard: GuardSection,
    #[serde(default)]
    pub fidelity: FidelitySection,
    #[serde(default)]
    pub doctor: DoctorSection,
}

/// Settings of `devctl doctor` (and of `up`'s env check).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DoctorSection {
    /// Rule severities by rule id: `off`, `info`, `warning` or `error`.
    pub rules: Option<std::collections::BTreeMap<String, crate::doctor::rule_id::Severity>>,
    /// A JSON Schema the variables set for compose must satisfy (relative to the root).
    pub env_schema: Option<String>,
    /// The runtime contract of each service's deployable image.
    pub images: Option<std::collections::BTreeMap<String, ImageContract>>,
}

/// What a service's deployable image must be (`devctl doctor --images`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ImageContract {
    /// The image to check; default: the service's image as compose builds or names it.
    pub image: Option<String>,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    /// Ports the image exposes, as `8080/tcp`.
    pub exposed_ports: Option<Vec<String>>,
    /// The image's USER must not be root (or empty).
    pub non_root: Option<bool>,
    /// The image must define a HEALTHCHECK.
    pub healthcheck: Option<bool>,
    /// Variables the image's environment must set.
    pub environment: Option<Vec<String>>,
    /// Paths that must not exist in the image (compilers, package managers, test runners, VCS).
    pub forbidden_paths: Option<Vec<String>>,
    /// The largest the image may be: `200MiB`, `1GB`, or bytes.
    pub max_size: Option<String>,
}
/// How compose is invoked.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ComposeSection {
    /// The compose project name (`-p`).
    pub project_name: Option<String>,
    /// Compose files (`-f`), relative to the project root.
    pub files: Option<Vec<String>>,
    /// Env files (`--env-file`), relative to the project root.
    pub env_files: Option<Vec<String>>,
    /// Compose profiles to activate (`--profile`).
    pub profiles: Option<Vec<String>>,
}

/// Settings of `devctl up`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UpSection {
    /// How long to wait for health, e.g. `90s` or `2m`.
    #[serde(default, deserialize_with = "deserialize_duration")]
    pub wait_timeout: Option<String>,
    /// Start services whose bind-mounted folders the engine's host does not have (default:
    /// refused; the engine would run them on empty folders of its own).
    pub allow_unshared_bind_sources: Option<bool>,
}

/// Where devctl keeps backups and per-project state.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PathsSection {
    pub backup_dir: Option<String>,
    pub state_dir: Option<String>,
}

/// How `devctl backup` makes each volume consistent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackupMethod {
    /// Stop the services that mount the volume, copy it, start them again.
    Stop,
    /// Run a dump command in a service and store its output.
    Hook,
    /// Copy the volume as it is, while it is in use.
    Live,
}

/// Settings of `devctl backup` and `devctl restore`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BackupSection {
    /// The method for volumes not listed under `volumes` (default: stop).
    pub method: Option<BackupMethod>,
    /// Also back up anonymous volumes (default: false).
    pub anonymous: Option<bool>,
    /// zstd level, 1 (fastest) to 19 (smallest) (default: 1).
    pub compression_level: Option<i32>,
    /// Per-volume settings, by compose volume key.
    pub volumes: Option<std::collections::BTreeMap<String, VolumeBackup>>,
    /// What `devctl backup drill` checks in the restored sibling stack.
    pub drill: Option<DrillSection>,
}

/// Settings of `devctl backup drill`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DrillSection {
    /// Commands run in the sibling's services once they are healthy; all must pass.
    pub checks: Option<Vec<DrillCheck>>,
}

/// One drill check: `sh -c COMMAND` in a service of the sibling stack.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DrillCheck {
    /// The service to run it in.
    pub service: String,
    /// A shell command (run with `sh -c`); it passes when it exits 0.
    pub command: String,
    /// Text its output must contain as well.
    pub expect: Option<String>,
}

/// Settings of the guard in front of every destructive step.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GuardSection {
    /// Volumes (compose key or engine name) devctl never deletes, even when confirmed.
    pub protected_volumes: Option<Vec<String>>,
    /// How many automatic backups (taken before a deletion or a restore) to keep per project.
    pub keep_automatic_backups: Option<usize>,
}

/// What to do with a fixed `container_name` or volume `name:` in fidelity mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FixedNames {
    /// Give the fidelity stack its own: the name with `-fidelity` appended.
    #[default]
    Rename,
    /// Refuse to start the fidelity stack, explaining which name is fixed.
    Refuse,
}

/// How `devctl up --fidelity` turns the iteration stack into the fidelity stack.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FidelitySection {
    /// The fidelity stack's compose project name (default: `<project>-fidelity`).
    pub project_name: Option<String>,
    /// The build target (stage) per service, e.g. `{backend: production}`.
    pub build_targets: Option<std::collections::BTreeMap<String, String>>,
    /// Bind mounts from inside the project to keep (source paths relative to the root).
    pub keep_mounts: Option<Vec<String>>,
    /// Bind mounts from outside the project to drop (source paths as absolute paths).
    pub drop_mounts: Option<Vec<String>>,
    /// Published host ports move by this much (default: free ports chosen at each up).
    pub port_offset: Option<u16>,
    /// `rename` (default) or `refuse` fixed container and volume names.
    pub fixed_names: Option<FixedNames>,
    /// Let the fidelity stack use the live stack's external volumes (default: refused).
    pub share_external_volumes: Option<bool>,
    /// Environment overrides per service: `{backend: {LOG_LEVEL: info}}`.
    pub environment:
        Option<std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>>,
}

/// Backup settings of one volume.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct VolumeBackup {
    pub method: Option<BackupMethod>,
    /// `hook`: the service the commands run in.
    pub service: Option<String>,
    /// `hook`: the backup command; its standard output is the artifact.
    pub command: Option<Vec<String>>,
    /// `hook`: the restore command; the artifact is streamed to its standard input.
    pub restore: Option<Vec<String>>,
}

/// Two optional maps merged by key, the child's entries winning.
fn merge_maps<V>(
    parent: Option<std::collections::BTreeMap<String, V>>,
    child: Option<std::collections::BTreeMap<String, V>>,
) -> Option<std::collections::BTreeMap<String, V>> {
    match (parent, child) {
        (Some(mut inherited), Some(own)) => {
            inherited.extend(own);
            Some(inherited)
        }
        (inherited, own) => own.or(inherited),
    }
}

impl FidelitySection {
    /// Scalars and lists as everywhere; the per-service maps merge by service (and the
    /// environment by variable), the child's entries winning.
    fn merge(self, parent: FidelitySection) -> FidelitySection {
        let build_targets = match (parent.build_targets, self.build_targets) {
            (Some(mut inherited), Some(own)) => {
                inherited.extend(own);
                Some(inherited)
            }
            (inherited, own) => own.or(inherited),
        };
        let environment = match (parent.environment, self.environment) {
            (Some(mut inherited), Some(own)) => {
                for (service, variables) in own {
                    inherited.entry(service).or_default().extend(variables);
                }
                Some(inherited)
            }
            (inherited, own) => own.or(inherited),
        };
        FidelitySection {
            project_name: self.project_name.or(parent.project_name),
            build_targets,
            keep_mounts: self.keep_mounts.or(parent.keep_mounts),
            drop_mounts: self.drop_mounts.or(parent.drop_mounts),
            port_offset: self.port_offset.or(parent.port_offset),
            fixed_names: self.fixed_names.or(parent.fixed_names),
            share_external_volumes: self
                .share_external_volumes
                .or(parent.share_external_volumes),
            environment,
        }
    }
}

impl ProfileFile {
    /// Parses a profile's text; `path` is only used in error messages.
    pub fn parse(text: &str, path: &Path) -> Result<ProfileFile, Failure> {
        if text.trim().is_empty() {
            return Ok(ProfileFile::default());
        }
        serde_saphyr::from_str(text).map_err(|error| describe_error(&error, path))
    }

    /// This profile with every unset key taken from `parent`.
    ///
    /// Scalars override and lists replace; lists of protections (added by later sections)
    /// union, so a child can never drop a parent's protection.
    pub fn merge(self, parent: ProfileFile) -> ProfileFile {
        ProfileFile {
            description: self.description.or(parent.description),
            extends: parent.extends,
            compose: ComposeSection {
                project_name: self.compose.project_name.or(parent.compose.project_name),
                files: self.compose.files.or(parent.compose.files),
                env_files: self.compose.env_files.or(parent.compose.env_files),
                profiles: self.compose.profiles.or(parent.compose.profiles),
            },
            up: UpSection {
                wait_timeout: self.up.wait_timeout.or(parent.up.wait_timeout),
                allow_unshared_bind_sources: self
                    .up
                    .allow_unshared_bind_sources
                    .or(parent.up.allow_unshared_bind_sources),
            },
            paths: PathsSection {
                backup_dir: self.paths.backup_dir.or(parent.paths.backup_dir),
                state_dir: self.paths.state_dir.or(parent.paths.state_dir),
            },
            backup: BackupSection {
                method: self.backup.method.or(parent.backup.method),
                anonymous: self.backup.anonymous.or(parent.backup.anonymous),
                compression_level: self
                    .backup
                    .compression_level
                    .or(parent.backup.compression_level),
                // Per-volume entries merge by key: the child's entry for a key replaces the
                // parent's, other keys are inherited.
                volumes: match (parent.backup.volumes, self.backup.volumes) {
                    (Some(mut inherited), Some(own)) => {
                        inherited.extend(own);
                        Some(inherited)
                    }
                    (inherited, own) => own.or(inherited),
                },
                // The child's checks replace the parent's as a whole.
                drill: self.backup.drill.or(parent.backup.drill),
            },
            guard: GuardSection {
                // A child can add protections, never drop its parent's.
                protected_volumes: match (
                    parent.guard.protected_volumes,
                    self.guard.protected_volumes,
                ) {
                    (Some(mut inherited), Some(own)) => {
                        for volume in own {
                            if !inherited.contains(&volume) {
                                inherited.push(volume);
                            }
                        }
                        Some(inherited)
                    }
                    (inherited, own) => own.or(inherited),
                },
                keep_automatic_backups: self
                    .guard
                    .keep_automatic_backups
                    .or(parent.guard.keep_automatic_backups),
            },
            fidelity: self.fidelity.merge(parent.fidelity),
            doctor: DoctorSection {
                rules: merge_maps(parent.doctor.rules, self.doctor.rules),
                env_schema: self.doctor.env_schema.or(parent.doctor.env_schema),
                images: merge_maps(parent.doctor.images, self.doctor.images),
            },
        }
    }
}

fn deserialize_duration<'de, D>(deserializer: D) -> Result<Option<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let text = String::deserialize(deserializer)?;
    crate::report::units::parse_duration(&text).map_err(serde::de::Error::custom)?;
    Ok(Some(text))
}

/// Turns a YAML or schema error into `file:line:column: what` with a hint.
fn describe_error(error: &serde_saphyr::Error, path: &Path) -> Failure {
    let mut error = error;
    while let serde_saphyr::Error::WithSnippet { error: inner, .. }
    | serde_saphyr::Error::AliasError { error: inner, .. } = error
    {
        error = inner;
    }
    let location = error
        .location()
        .filter(|location| location.line() > 0)
        .map(|location| {
            format!(
                "{}:{}:{}",
                path.display(),
                location.line(),
                location.column()
            )
        })
        .unwrap_or_else(|| path.display().to_string());
    if let serde_saphyr::Error::SerdeUnknownField {
        field, expected, ..
    } = error
    {
        let closest = expected
            .iter()
            .map(|candidate| (strsim::jaro_winkler(field, candidate), candidate))
            .filter(|(score, _)| *score > 0.7)
            .max_by(|a, b| a.0.total_cmp(&b.0));
        let valid = expected
            .iter()
            .map(|key| format!("`{key}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let hint = match closest {
            Some((_, key)) => format!("did you mean `{key}`? Valid keys here: {valid}"),
            None => format!("valid keys here: {valid}"),
        };
        return Failure::bad_input(format!("{location}: unknown key `{field}`")).hint(hint);
    }
    let message = first_line(&error.to_string());
    Failure::bad_input(format!("{location}: {message}"))
        .hint("fix the YAML at that position; docs/profiles.md lists every key")
}

/// serde-saphyr's message without its own `error: line N column M:` prefix (the location is
/// given as `file:line:column` instead) and without the snippet lines that follow.
fn first_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or(message).trim();
    let line = line.strip_prefix("error: ").unwrap_or(line);
    let without_position = line
        .strip_prefix("line ")
        .and_then(|rest| rest.split_once(": "))
        .filter(|(position, _)| position.contains(" column "))
        .map(|(_, message)| message);
    let message = without_position.unwrap_or(line);
    // The position is given as `file:line:column` already.
    let message = match message.rfind(" at line ") {
        Some(index) if message[index..].contains(", column ") => &message[..index],
        _ => message,
    };
    match message {
        // An empty section (`guard:` and nothing under it) reads as null.
        "expected mapping start" => {
            "expected keys under this section (or remove the empty section)".to_string()
        }
        "invalid u64" | "invalid u16" | "invalid i32" | "invalid usize" => {
            format!("{message}: a whole number of the right range is expected here")
        }
        _ => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ProfileFile, Failure> {
        ProfileFile::parse(text, Path::new("profiles/dev.yaml"))
    }

    #[test]
    fn reads_every_section() {
        let profile = parse(
            "description: d\nextends: base\ncompose:\n  project_name: p\n  files: [a.yaml]\n  env_files: [.env]\n  profiles: [tools]\nup:\n  wait_timeout: 2m\npaths:\n  backup_dir: /b\n  state_dir: /s\n",
        )
        .unwrap();
        assert_eq!(profile.compose.files.unwrap(), vec!["a.yaml"]);
        assert_eq!(profile.up.wait_timeout.as_deref(), Some("2m"));
        assert_eq!(profile.paths.state_dir.as_deref(), Some("/s"));
    }

    #[test]
    fn unknown_key_suggests_the_closest_with_location() {
        let failure = parse("compose:\n  fils: [a.yaml]\n").unwrap_err();
        assert!(
            failure.message.starts_with("profiles/dev.yaml:2:"),
            "{}",
            failure.message
        );
        assert!(failure.message.contains("`fils`"), "{}", failure.message);
        assert!(failure.hint.unwrap().contains("did you mean `files`?"));
    }

    #[test]
    fn unknown_top_level_section_suggests() {
        let failure = parse("compse:\n  files: []\n").unwrap_err();
        assert!(failure.hint.unwrap().contains("`compose`"));
    }

    #[test]
    fn malformed_yaml_gives_line_and_column() {
        let failure = parse("compose:\n  files: [a.yaml\n  env_files: x\n").unwrap_err();
        assert!(
            failure.message.starts_with("profiles/dev.yaml:"),
            "{}",
            failure.message
        );
        let position: Vec<&str> = failure.message.split(':').collect();
        assert!(
            position[1].parse::<u32>().is_ok() && position[2].parse::<u32>().is_ok(),
            "{}",
            failure.message
        );
    }

    #[test]
    fn unshared_bind_sources_are_allowed_by_a_boolean_and_inherited() {
        let child = parse("up:\n  wait_timeout: 1m\n").unwrap();
        let parent = parse("up:\n  allow_unshared_bind_sources: true\n").unwrap();
        assert_eq!(
            child.merge(parent).up.allow_unshared_bind_sources,
            Some(true)
        );
        let failure = parse("up:\n  allow_unshared_bind_sources: sometimes\n").unwrap_err();
        assert!(
            failure.message.starts_with("profiles/dev.yaml:2:"),
            "{}",
            failure.message
        );
        let failure = parse("up:\n  allow_unshared_bind_source: true\n").unwrap_err();
        assert!(
            failure
                .hint
                .unwrap()
                .contains("did you mean `allow_unshared_bind_sources`?")
        );
    }

    #[test]
    fn bad_duration_is_located() {
        let failure = parse("up:\n  wait_timeout: soon\n").unwrap_err();
        assert!(failure.message.contains(":2:"), "{}", failure.message);
        assert!(failure.message.contains("`soon`"), "{}", failure.message);
    }

    #[test]
    fn backup_volumes_merge_by_key() {
        let parent = parse(
            "backup:\n  method: live\n  volumes:\n    a: {method: stop}\n    b: {method: live}\n",
        )
        .unwrap();
        let child = parse("backup:\n  volumes:\n    b: {method: hook, service: db, command: [dump], restore: [load]}\n").unwrap();
        let merged = child.merge(parent);
        let volumes = merged.backup.volumes.unwrap();
        assert_eq!(volumes["a"].method, Some(BackupMethod::Stop));
        assert_eq!(volumes["b"].method, Some(BackupMethod::Hook));
        assert_eq!(merged.backup.method, Some(BackupMethod::Live));
    }

    #[test]
    fn protected_volumes_union_across_extends() {
        let parent =
            parse("guard:\n  protected_volumes: [db-data, uploads]\n  keep_automatic_backups: 3\n")
                .unwrap();
        let child = parse("guard:\n  protected_volumes: [cache, db-data]\n").unwrap();
        let merged = child.merge(parent);
        assert_eq!(
            merged.guard.protected_volumes.unwrap(),
            ["db-data", "uploads", "cache"]
        );
        assert_eq!(merged.guard.keep_automatic_backups, Some(3));
    }

    #[test]
    fn fidelity_maps_merge_by_service() {
        let parent = parse("fidelity:\n  build_targets: {backend: production, worker: prod}\n  environment: {backend: {A: '1', B: '2'}}\n  port_offset: 1000\n").unwrap();
        let child = parse("fidelity:\n  build_targets: {worker: release}\n  environment: {backend: {B: '3'}}\n  fixed_names: refuse\n").unwrap();
        let merged = child.merge(parent).fidelity;
        let targets = merged.build_targets.unwrap();
        assert_eq!(targets["backend"], "production");
        assert_eq!(targets["worker"], "release");
        let environment = merged.environment.unwrap();
        assert_eq!(environment["backend"]["A"], "1");
        assert_eq!(environment["backend"]["B"], "3");
        assert_eq!(merged.port_offset, Some(1000));
        assert_eq!(merged.fixed_names, Some(FixedNames::Refuse));
    }

    #[test]
    fn wrong_types_and_empty_sections_say_what_is_expected_once() {
        let failure = parse("guard:\n  keep_automatic_backups: -1\n").unwrap_err();
        assert!(
            failure
                .message
                .contains(":2:27: invalid u64: a whole number"),
            "{}",
            failure.message
        );
        assert!(!failure.message.contains("at line"), "{}", failure.message);
        let failure = parse("guard:\n").unwrap_err();
        assert!(
            failure.message.contains("expected keys under this section"),
            "{}",
            failure.message
        );
    }

    #[test]
    fn unknown_backup_method_is_located() {
        let failure = parse("backup:\n  method: snapshot\n").unwrap_err();
        assert!(failure.message.contains(":2:"), "{}", failure.message);
        assert!(failure.message.contains("snapshot"), "{}", failure.message);
    }

    #[test]
    fn drill_checks_are_read_and_a_child_s_replace_the_parent_s() {
        let parent = parse(
            "backup:\n  drill:\n    checks:\n      - {service: db, command: 'psql -c 1', expect: '1'}\n",
        )
        .unwrap();
        let checks = parent.backup.drill.clone().unwrap().checks.unwrap();
        assert_eq!(checks[0].service, "db");
        assert_eq!(checks[0].expect.as_deref(), Some("1"));
        let child = parse("backup:\n  drill:\n    checks: []\n").unwrap();
        let merged = child.merge(parent.clone());
        assert_eq!(merged.backup.drill.unwrap().checks.unwrap(), Vec::new());
        let unknown =
            parse("backup:\n  drill:\n    checks:\n      - {service: db, cmd: x}\n").unwrap_err();
        assert!(unknown.message.contains("cmd"), "{}", unknown.message);
        let file =
            parse("backup:\n  drill:\n    checks:\n      - {service: db, command: ' '}\n").unwrap();
        let failure =
            crate::project::profile::Profile::from_file("p".into(), None, Vec::new(), file)
                .unwrap_err();
        assert!(
            failure
                .message
                .contains("backup.drill.checks[0].command is empty"),
            "{}",
            failure.message
        );
    }

    #[test]
    fn empty_file_is_an_empty_profile() {
        assert!(parse("# nothing yet\n").unwrap().compose.files.is_none());
    }

    #[test]
    fn child_overrides_scalars_and_replaces_lists() {
        let parent =
            parse("compose:\n  project_name: p\n  files: [a.yaml, b.yaml]\n  profiles: [x]\n")
                .unwrap();
        let child = parse("extends: parent\ncompose:\n  files: [c.yaml]\n").unwrap();
        let merged = child.merge(parent);
        assert_eq!(merged.compose.project_name.as_deref(), Some("p"));
        assert_eq!(merged.compose.files.unwrap(), vec!["c.yaml"]);
        assert_eq!(merged.compose.profiles.unwrap(), vec!["x"]);
    }
}
