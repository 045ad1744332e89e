//! `Profile`: a devctl profile with `extends` applied and defaults filled in.
//!
//! A devctl profile names how to run compose for one way of working (which compose files,
//! env files, compose profiles, project name, timeouts). It is not a compose profile: compose
//! profiles are service tiers inside compose files, which a devctl profile may activate.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use std::collections::BTreeMap;

use crate::project::profile_file::{
    BackupMethod, DrillCheck, FixedNames, ProfileFile, VolumeBackup,
};
use crate::report::failure::Failure;

/// The health-wait timeout when neither the profile nor `--wait-timeout` sets one.
pub const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(120);

/// A resolved devctl profile.
#[derive(Debug, Clone, Serialize)]
pub struct Profile {
    /// The profile's name (its file name without `.yaml`), or `default` when implicit.
    pub name: String,
    /// The file it was read from; none for the implicit profile of a bare compose project.
    pub source: Option<PathBuf>,
    /// The chain of profiles it extends, nearest first.
    pub extends: Vec<String>,
    pub description: Option<String>,
    pub project_name: Option<String>,
    pub compose_files: Vec<String>,
    pub env_files: Vec<String>,
    pub compose_profiles: Vec<String>,
    #[serde(serialize_with = "serialize_duration")]
    pub wait_timeout: Duration,
    /// `up.allow_unshared_bind_sources`: start services whose bind sources the engine's host
    /// does not have.
    pub allow_unshared_bind_sources: bool,
    pub backup_dir: Option<String>,
    pub state_dir: Option<String>,
    pub backup: BackupSettings,
    /// Volumes (compose key or engine name) devctl never deletes; the union over `extends`.
    pub protected_volumes: Vec<String>,
    /// Automatic backups kept per project (the newest; never the one just taken).
    pub keep_automatic_backups: usize,
    pub fidelity: FidelitySettings,
    pub doctor: crate::project::profile_file::DoctorSection,
}

/// The resolved `fidelity:` section.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FidelitySettings {
    /// Unset: `<project>-fidelity`.
    pub project_name: Option<String>,
    pub build_targets: BTreeMap<String, String>,
    pub keep_mounts: Vec<String>,
    pub drop_mounts: Vec<String>,
    /// Unset: free ports chosen at each up.
    pub port_offset: Option<u16>,
    pub fixed_names: FixedNames,
    pub share_external_volumes: bool,
    pub environment: BTreeMap<String, BTreeMap<String, String>>,
}

/// Automatic backups kept per project when the profile does not say.
pub const DEFAULT_KEEP_AUTOMATIC_BACKUPS: usize = 10;

/// The resolved `backup:` section.
#[derive(Debug, Clone, Serialize)]
pub struct BackupSettings {
    /// The method for volumes without their own.
    pub method: BackupMethod,
    pub anonymous: bool,
    pub compression_level: i32,
    /// Per-volume settings, by compose volume key.
    pub volumes: BTreeMap<String, VolumeBackup>,
    /// `backup.drill.checks`: what a drill checks in the restored sibling stack.
    pub drill_checks: Vec<DrillCheck>,
}

impl BackupSettings {
    /// The method for the volume with compose key `key`.
    pub fn method_of(&self, key: &str) -> BackupMethod {
        self.volumes
            .get(key)
            .and_then(|volume| volume.method)
            .unwrap_or(self.method)
    }
}

impl Profile {
    /// The profile used when a project has no `profiles/` folder: compose's own defaults.
    pub fn implicit() -> Profile {
        Profile::from_file("default".into(), None, Vec::new(), ProfileFile::default())
            .expect("the empty profile is valid")
    }

    /// Builds the resolved profile from a file whose `extends` chain is already merged in.
    pub fn from_file(
        name: String,
        source: Option<PathBuf>,
        extends: Vec<String>,
        file: ProfileFile,
    ) -> Result<Profile, Failure> {
        let origin = source.as_ref().map_or_else(
            || "the implicit profile".to_string(),
            |path| path.display().to_string(),
        );
        let backup = backup_settings(&file, &origin)?;
        if let Some(written) = &file.fidelity.project_name {
            // The checkout's name takes the placeholder's place, and is always valid there.
            let name = &written.replace(crate::project::root::CHECKOUT_PLACEHOLDER, "checkout");
            let valid = name
                .chars()
                .next()
                .is_some_and(|first| first.is_ascii_lowercase() || first.is_ascii_digit())
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
            if !valid {
                return Err(Failure::bad_input(format!(
                    "{origin}: fidelity.project_name is `{written}`, which is not a compose project name"
                ))
                .hint("use lower-case letters, digits, `-` and `_`, starting with a letter or digit (or remove the key for <project>-fidelity)"));
            }
        }
        for (service, contract) in file.doctor.images.iter().flatten() {
            if let Some(size) = &contract.max_size
                && crate::report::units::parse_size(size).is_none()
            {
                return Err(Failure::bad_input(format!(
                    "{origin}: doctor.images.{service}.max_size is `{size}`, which is not a size"
                ))
                .hint("write e.g. 200MiB, 1GB or a number of bytes"));
            }
        }
        let keep_automatic_backups = file
            .guard
            .keep_automatic_backups
            .unwrap_or(DEFAULT_KEEP_AUTOMATIC_BACKUPS);
        if keep_automatic_backups == 0 {
            return Err(Failure::bad_input(format!(
                "{origin}: guard.keep_automatic_backups is 0, which would remove the backup just taken"
            ))
            .hint("keep at least 1"));
        }
        let wait_timeout = file
            .up
            .wait_timeout
            .as_deref()
            .and_then(|text| crate::report::units::parse_duration(text).ok())
            .unwrap_or(DEFAULT_WAIT_TIMEOUT);
        Ok(Profile {
            name,
            source,
            extends,
            description: file.description,
            project_name: file.compose.project_name,
            compose_files: file.compose.files.unwrap_or_default(),
            env_files: file.compose.env_files.unwrap_or_default(),
            compose_profiles: file.compose.profiles.unwrap_or_default(),
            wait_timeout,
            allow_unshared_bind_sources: file.up.allow_unshared_bind_sources.unwrap_or(false),
            backup_dir: file.paths.backup_dir,
            state_dir: file.paths.state_dir,
            backup,
            protected_volumes: file.guard.protected_volumes.unwrap_or_default(),
            keep_automatic_backups,
            fidelity: FidelitySettings {
                project_name: file.fidelity.project_name,
                build_targets: file.fidelity.build_targets.unwrap_or_default(),
                keep_mounts: file.fidelity.keep_mounts.unwrap_or_default(),
                drop_mounts: file.fidelity.drop_mounts.unwrap_or_default(),
                port_offset: file.fidelity.port_offset,
                fixed_names: file.fidelity.fixed_names.unwrap_or_default(),
                share_external_volumes: file.fidelity.share_external_volumes.unwrap_or(false),
                environment: file.fidelity.environment.unwrap_or_default(),
            },
            doctor: doctor_settings(file.doctor, &origin)?,
        })
    }

    pub fn is_implicit(&self) -> bool {
        self.source.is_none()
    }
}

/// Checks the `backup:` section: hooks need a service and both commands; levels are 1–19.
fn backup_settings(file: &ProfileFile, origin: &str) -> Result<BackupSettings, Failure> {
    let section = &file.backup;
    // Level 1: on mixed volume data it is as small as 3 and twice as fast, and a backup on a
    // small machine is bound by compression.
    let compression_level = section.compression_level.unwrap_or(1);
    if !(1..=19).contains(&compression_level) {
        return Err(Failure::bad_input(format!(
            "{origin}: backup.compression_level is {compression_level}; it must be 1 (fastest) to 19 (smallest)"
        )));
    }
    let method = section.method.unwrap_or(BackupMethod::Stop);
    if method == BackupMethod::Hook {
        return Err(Failure::bad_input(format!(
            "{origin}: backup.method cannot be hook for every volume"
        ))
        .hint(
            "set method: hook under backup.volumes.<key>, with its service, command and restore",
        ));
    }
    let volumes = section.volumes.clone().unwrap_or_default();
    for (key, volume) in &volumes {
        if volume.method != Some(BackupMethod::Hook) {
            continue;
        }
        let missing: Vec<&str> = [
            ("service", volume.service.is_none()),
            ("command", volume.command.as_ref().is_none_or(Vec::is_empty)),
            ("restore", volume.restore.as_ref().is_none_or(Vec::is_empty)),
        ]
        .into_iter()
        .filter_map(|(name, absent)| absent.then_some(name))
        .collect();
        if !missing.is_empty() {
            return Err(Failure::bad_input(format!(
                "{origin}: backup.volumes.{key} uses method hook but sets no {}",
                missing.join(", ")
            ))
            .hint("a hook names the service to run in, the backup command (its output is stored) and the restore command (fed that output)"));
        }
    }
    let drill_checks = section
        .drill
        .as_ref()
        .and_then(|drill| drill.checks.clone())
        .unwrap_or_default();
    for (index, check) in drill_checks.iter().enumerate() {
        for (field, value) in [("service", &check.service), ("command", &check.command)] {
            if value.trim().is_empty() {
                return Err(Failure::bad_input(format!(
                    "{origin}: backup.drill.checks[{index}].{field} is empty"
                ))
                .hint("each check names a service and a shell command to run in it, e.g. {service: db, command: \"psql -tAc 'select 1'\", expect: \"1\"}"));
            }
        }
    }
    Ok(BackupSettings {
        method,
        anonymous: section.anonymous.unwrap_or(false),
        compression_level,
        volumes,
        drill_checks,
    })
}

/// Checks the `doctor:` section: every rule it names must exist.
fn doctor_settings(
    section: crate::project::profile_file::DoctorSection,
    origin: &str,
) -> Result<crate::project::profile_file::DoctorSection, Failure> {
    for id in section.rules.iter().flat_map(|rules| rules.keys()) {
        if crate::doctor::rule_id::RuleId::parse(id).is_none() {
            let closest = crate::doctor::rule_id::RuleId::ALL
                .iter()
                .map(|rule| rule.as_str())
                .max_by(|a, b| strsim::jaro_winkler(id, a).total_cmp(&strsim::jaro_winkler(id, b)))
                .unwrap_or_default();
            return Err(Failure::bad_input(format!(
                "{origin}: doctor.rules names `{id}`, which is not a rule"
            ))
            .hint(format!(
                "did you mean `{closest}`? docs/rules.md lists every rule"
            )));
        }
    }
    Ok(section)
}

fn serialize_duration<S: serde::Serializer>(
    duration: &Duration,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&humantime::format_duration(*duration).to_string())
}
