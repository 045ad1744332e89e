//! `devctl profiles`: list the project's devctl profiles, or show one with `extends` applied.

use anyhow::Result;
use serde_json::json;

use crate::cli::{Format, GlobalArgs, ProfilesAction, ProfilesArgs};
use crate::compose::verb_plan::SCHEMA_VERSION;
use crate::project::profile::Profile;
use crate::project::profile_set::ProfileSet;
use crate::project::root::ProjectRoot;
use crate::project::settings;
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
            let rows: Vec<Vec<String>> = settings::rows(profile)
                .into_iter()
                .map(|(key, value)| vec![key, value])
                .collect();
            printer.data(crate::report::table::render(&["KEY", "VALUE"], &rows));
        }
    }
}
