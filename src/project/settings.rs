//! A resolved profile as `KEY VALUE` rows, one per setting, in the order the profile file
//! lists its sections (`devctl profiles show`).

use crate::project::profile::Profile;

/// One setting: its dotted key (`backup.method`) and its value as shown.
pub(crate) type Setting = (String, String);

/// Every setting of `profile`, defaults filled in, section by section.
pub(crate) fn rows(profile: &Profile) -> Vec<Setting> {
    let mut rows = identity(profile);
    rows.extend(compose(profile));
    rows.extend(paths(profile));
    rows.extend(backup(profile));
    rows.extend(guard(profile));
    rows.extend(fidelity(profile));
    rows.extend(doctor(profile));
    rows
}

fn setting(key: &str, value: impl Into<String>) -> Setting {
    (key.to_string(), value.into())
}

/// Items joined with commas, or `-` when there are none.
fn list(items: &[String]) -> String {
    match items.is_empty() {
        true => "-".to_string(),
        false => items.join(", "),
    }
}

fn identity(profile: &Profile) -> Vec<Setting> {
    vec![
        setting("name", profile.name.clone()),
        setting(
            "source",
            profile
                .source
                .as_ref()
                .map_or("-".into(), |path| path.display().to_string()),
        ),
        setting("extends", list(&profile.extends)),
        setting(
            "description",
            profile.description.clone().unwrap_or_else(|| "-".into()),
        ),
    ]
}

fn compose(profile: &Profile) -> Vec<Setting> {
    vec![
        setting(
            "compose.project_name",
            profile
                .project_name
                .clone()
                .unwrap_or_else(|| "(compose decides)".into()),
        ),
        setting("compose.files", list(&profile.compose_files)),
        setting("compose.env_files", list(&profile.env_files)),
        setting("compose.profiles", list(&profile.compose_profiles)),
        setting(
            "up.wait_timeout",
            humantime::format_duration(profile.wait_timeout).to_string(),
        ),
        setting(
            "up.allow_unshared_bind_sources",
            profile.allow_unshared_bind_sources.to_string(),
        ),
    ]
}

fn paths(profile: &Profile) -> Vec<Setting> {
    let or_default = |path: &Option<String>| path.clone().unwrap_or_else(|| "(default)".into());
    vec![
        setting("paths.backup_dir", or_default(&profile.backup_dir)),
        setting("paths.state_dir", or_default(&profile.state_dir)),
    ]
}

fn backup(profile: &Profile) -> Vec<Setting> {
    let backup = &profile.backup;
    let mut rows = vec![
        setting(
            "backup.method",
            format!("{:?}", backup.method).to_lowercase(),
        ),
        setting("backup.anonymous", backup.anonymous.to_string()),
        setting(
            "backup.compression_level",
            backup.compression_level.to_string(),
        ),
    ];
    for (key, volume) in &backup.volumes {
        let method = volume.method.map_or_else(
            || "(backup.method)".to_string(),
            |method| format!("{method:?}").to_lowercase(),
        );
        let detail = match (&volume.service, &volume.command) {
            (Some(service), Some(command)) => {
                format!("{method} in {service}: {}", command.join(" "))
            }
            _ => method,
        };
        rows.push(setting(&format!("backup.volumes.{key}"), detail));
    }
    rows
}

fn guard(profile: &Profile) -> Vec<Setting> {
    vec![
        setting("guard.protected_volumes", list(&profile.protected_volumes)),
        setting(
            "guard.keep_automatic_backups",
            profile.keep_automatic_backups.to_string(),
        ),
    ]
}

fn fidelity(profile: &Profile) -> Vec<Setting> {
    let fidelity = &profile.fidelity;
    let build_targets: Vec<String> = fidelity
        .build_targets
        .iter()
        .map(|(service, target)| format!("{service}: {target}"))
        .collect();
    let environment: Vec<String> = fidelity
        .environment
        .iter()
        .flat_map(|(service, variables)| {
            variables
                .iter()
                .map(move |(name, value)| format!("{service}: {name}={value}"))
        })
        .collect();
    vec![
        setting(
            "fidelity.project_name",
            fidelity
                .project_name
                .clone()
                .unwrap_or_else(|| "(<project>-fidelity)".into()),
        ),
        setting("fidelity.build_targets", list(&build_targets)),
        setting("fidelity.keep_mounts", list(&fidelity.keep_mounts)),
        setting("fidelity.drop_mounts", list(&fidelity.drop_mounts)),
        setting(
            "fidelity.port_offset",
            fidelity
                .port_offset
                .map_or("(free ports)".into(), |offset| offset.to_string()),
        ),
        setting(
            "fidelity.fixed_names",
            format!("{:?}", fidelity.fixed_names).to_lowercase(),
        ),
        setting(
            "fidelity.share_external_volumes",
            fidelity.share_external_volumes.to_string(),
        ),
        setting("fidelity.environment", list(&environment)),
    ]
}

fn doctor(profile: &Profile) -> Vec<Setting> {
    let doctor = &profile.doctor;
    let rules: Vec<String> = doctor
        .rules
        .iter()
        .flatten()
        .map(|(rule, severity)| format!("{rule}: {}", severity.name()))
        .collect();
    let images: Vec<String> = doctor
        .images
        .iter()
        .flatten()
        .map(|(service, _)| service.clone())
        .collect();
    vec![
        setting("doctor.rules", list(&rules)),
        setting(
            "doctor.env_schema",
            doctor.env_schema.clone().unwrap_or_else(|| "-".into()),
        ),
        setting("doctor.images", list(&images)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_implicit_profile_shows_every_section_with_its_defaults() {
        let rows = rows(&Profile::implicit());
        let keys: Vec<&str> = rows.iter().map(|(key, _)| key.as_str()).collect();
        let sections: Vec<&str> = keys
            .iter()
            .filter_map(|key| key.split_once('.').map(|(section, _)| section))
            .fold(Vec::new(), |mut sections, section| {
                if sections.last() != Some(&section) {
                    sections.push(section);
                }
                sections
            });
        assert_eq!(&keys[..4], ["name", "source", "extends", "description"]);
        assert_eq!(
            sections,
            [
                "compose", "up", "paths", "backup", "guard", "fidelity", "doctor"
            ]
        );
        let value = |wanted: &str| {
            rows.iter()
                .find(|(key, _)| key == wanted)
                .map(|(_, value)| value.as_str())
        };
        assert_eq!(value("compose.project_name"), Some("(compose decides)"));
        assert_eq!(value("paths.backup_dir"), Some("(default)"));
        assert_eq!(value("fidelity.port_offset"), Some("(free ports)"));
        assert_eq!(value("doctor.rules"), Some("-"));
    }
}
