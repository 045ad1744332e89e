//! What `up` checks before it starts anything: every variable the compose files require
//! (referenced without a default) is set, and the variables satisfy the profile's env schema.

use anyhow::Result;

use crate::project::Project;
use crate::report::failure::Failure;

/// Refuses to start when a variable the compose files require (referenced without a
/// default) is unset, or when the variables break the profile's env schema.
pub fn check(project: &Project) -> Result<()> {
    let env_files = project.env_file_paths();
    let defined = crate::compose::variables::defined_variables(&env_files);
    let mut missing: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for file in project.compose_file_paths() {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let shown = crate::doctor::finding::shown(&file, project.root.path());
        for reference in crate::compose::variables::references(&text) {
            if reference.is_unset_in(&defined) {
                missing.entry(reference.name).or_default().push(format!(
                    "{}:{}:{}",
                    shown.display(),
                    reference.line,
                    reference.column
                ));
            }
        }
    }
    let mut problems: Vec<String> = missing
        .iter()
        .map(|(name, places)| format!("{name} (used at {})", places.join(", ")))
        .collect();
    if let Some(schema) = &project.env_schema {
        problems.extend(schema.problems(&defined));
    }
    if problems.is_empty() {
        return Ok(());
    }
    let env_files: Vec<String> = env_files
        .iter()
        .map(|path| {
            crate::doctor::finding::shown(path, project.root.path())
                .display()
                .to_string()
        })
        .collect();
    let schema_problems = problems.len() - missing.len();
    let what = match (missing.len(), schema_problems) {
        (1, 0) => "a required variable is unset",
        (_, 0) => "required variables are unset",
        (0, _) => "the variables do not satisfy doctor.env_schema",
        _ => "required variables are unset or invalid",
    };
    Err(Failure::bad_input(format!(
        "refusing to start: {what}:\n  {}",
        problems.join("\n  ")
    ))
    .hint(format!(
        "set them in the environment or in {}, give each a default (${{NAME:-value}}), or pass --skip-env-check (DEVCTL_SKIP_ENV_CHECK=1)",
        env_files.join(", ")
    ))
    .into())
}
