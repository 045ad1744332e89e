//! `devctl profiles`: list the project's devctl profiles, or show one with `extends` applied.

use anyhow::Result;
use serde_json::json;

use crate::cli::{Format, GlobalArgs, ProfilesAction, ProfilesArgs};
use crate::compose::verb_plan::SCHEMA_VERSION;
use crate::project::profile::Profile;
use crate::project::profile_set::ProfileSet;
use crate::project::root::ProjectRoot;
use crate::report::exit_status::ExitStatus;
use crate::report::printer::Printer;

pub fn run(args: &ProfilesArgs, global: &GlobalArgs, printer: &Printer) -> Result<ExitStatus> {
    let working = std::env::current_dir()?;
    let root = ProjectRoot::discover(&working, global.project_dir.as_deref())?;
    let set = ProfileSet::load(&root.profiles_dir())?;
    match &args.action {
        None => list(&set, global, args.format.resolved(), printer),
        Some(ProfilesAction::Show { name, format }) => {
            let profile = set.resolve(name)?;
            show(&profile, format.resolved(), printer);
            Ok(ExitStatus::Success)
        }
    }
}

fn list(
    set: &ProfileSet,
    global: &GlobalArgs,
    format: Format,
    printer: &Printer,
) -> Result<ExitStatus> {
    let selected = set.select(global.profile_name()).ok().flatten();
    let profiles: Vec<Profile> = if set.is_empty() {
        vec![Profile::implicit()]
    } else {
        set.names()
            .iter()
            .map(|name| set.resolve(name))
            .collect::<Result<_>>()?
    };
    let selected = selected.unwrap_or_else(|| "default".into());
    match format {
        Format::Json => {
            let document = json!({
                "schema_version": SCHEMA_VERSION,
                "selected": selected,
                "profiles": profiles,
            });
            printer.data(format!("{document:#}\n"));
        }
        Format::Table => {
            let rows: Vec<Vec<String>> = profiles
                .iter()
                .map(|profile| {
                    let marker = if profile.name == selected { "*" } else { " " };
                    vec![
                        format!("{marker} {}", profile.name),
                        profile
                            .extends
                            .first()
                            .cloned()
                            .unwrap_or_else(|| "-".into()),
                        profile.compose_profiles.join(", "),
                        profile.description.clone().unwrap_or_else(|| {
                            if profile.is_implicit() {
                                "(implicit: the compose file as it is)".into()
                            } else {
                                String::new()
                            }
                        }),
                    ]
                })
                .collect();
            printer.data(crate::report::table::render(
                &["  PROFILE", "EXTENDS", "COMPOSE PROFILES", "DESCRIPTION"],
                &rows,
            ));
        }
    }
    Ok(ExitStatus::Success)
}

fn show(profile: &Profile, format: Format, printer: &Printer) {
    match format {
        Format::Json => {
            let document = json!({ "schema_version": SCHEMA_VERSION, "profile": profile });
            printer.data(format!("{document:#}\n"));
        }
        Format::Table => {
            let list = |items: &[String]| {
                if items.is_empty() {
                    "-".to_string()
                } else {
                    items.join(", ")
                }
            };
            let rows = vec![
                vec!["name".into(), profile.name.clone()],
                vec![
                    "source".into(),
                    profile
                        .source
                        .as_ref()
                        .map_or("-".into(), |path| path.display().to_string()),
                ],
                vec!["extends".into(), list(&profile.extends)],
                vec![
                    "description".into(),
                    profile.description.clone().unwrap_or_else(|| "-".into()),
                ],
                vec![
                    "compose.project_name".into(),
                    profile
                        .project_name
                        .clone()
                        .unwrap_or_else(|| "(compose decides)".into()),
                ],
                vec!["compose.files".into(), list(&profile.compose_files)],
                vec!["compose.env_files".into(), list(&profile.env_files)],
                vec!["compose.profiles".into(), list(&profile.compose_profiles)],
                vec![
                    "up.wait_timeout".into(),
                    humantime::format_duration(profile.wait_timeout).to_string(),
                ],
                vec![
                    "paths.backup_dir".into(),
                    profile
                        .backup_dir
                        .clone()
                        .unwrap_or_else(|| "(default)".into()),
                ],
                vec![
                    "paths.state_dir".into(),
                    profile
                        .state_dir
                        .clone()
                        .unwrap_or_else(|| "(default)".into()),
                ],
                vec![
                    "backup.method".into(),
                    format!("{:?}", profile.backup.method).to_lowercase(),
                ],
                vec![
                    "backup.anonymous".into(),
                    profile.backup.anonymous.to_string(),
                ],
                vec![
                    "backup.compression_level".into(),
                    profile.backup.compression_level.to_string(),
                ],
            ];
            let mut rows = rows;
            for (key, volume) in &profile.backup.volumes {
                let method = volume.method.map_or_else(
                    || "(backup.method)".to_string(),
                    |m| format!("{m:?}").to_lowercase(),
                );
                let detail = match (&volume.service, &volume.command) {
                    (Some(service), Some(command)) => {
                        format!("{method} in {service}: {}", command.join(" "))
                    }
                    _ => method,
                };
                rows.push(vec![format!("backup.volumes.{key}"), detail]);
            }
            let fidelity = &profile.fidelity;
            let map = |entries: Vec<String>| match entries.is_empty() {
                true => "-".to_string(),
                false => entries.join(", "),
            };
            rows.extend([
                vec![
                    "guard.protected_volumes".into(),
                    list(&profile.protected_volumes),
                ],
                vec![
                    "guard.keep_automatic_backups".into(),
                    profile.keep_automatic_backups.to_string(),
                ],
                vec![
                    "fidelity.project_name".into(),
                    fidelity
                        .project_name
                        .clone()
                        .unwrap_or_else(|| "(<project>-fidelity)".into()),
                ],
                vec![
                    "fidelity.build_targets".into(),
                    map(fidelity
                        .build_targets
                        .iter()
                        .map(|(service, target)| format!("{service}: {target}"))
                        .collect()),
                ],
                vec!["fidelity.keep_mounts".into(), list(&fidelity.keep_mounts)],
                vec!["fidelity.drop_mounts".into(), list(&fidelity.drop_mounts)],
                vec![
                    "fidelity.port_offset".into(),
                    fidelity
                        .port_offset
                        .map_or("(free ports)".into(), |offset| offset.to_string()),
                ],
                vec![
                    "fidelity.fixed_names".into(),
                    format!("{:?}", fidelity.fixed_names).to_lowercase(),
                ],
                vec![
                    "fidelity.share_external_volumes".into(),
                    fidelity.share_external_volumes.to_string(),
                ],
                vec![
                    "fidelity.environment".into(),
                    map(fidelity
                        .environment
                        .iter()
                        .flat_map(|(service, variables)| {
                            variables
                                .iter()
                                .map(move |(name, value)| format!("{service}: {name}={value}"))
                        })
                        .collect()),
                ],
                vec![
                    "doctor.rules".into(),
                    map(profile
                        .doctor
                        .rules
                        .iter()
                        .flatten()
                        .map(|(rule, severity)| format!("{rule}: {}", severity.name()))
                        .collect()),
                ],
                vec![
                    "doctor.env_schema".into(),
                    profile
                        .doctor
                        .env_schema
                        .clone()
                        .unwrap_or_else(|| "-".into()),
                ],
                vec![
                    "doctor.images".into(),
                    map(profile
                        .doctor
                        .images
                        .iter()
                        .flatten()
                        .map(|(service, _)| service.clone())
                        .collect()),
                ],
            ]);
            printer.data(crate::report::table::render(&["KEY", "VALUE"], &rows));
        }
    }
}
