//! Which compose files `devctl init` sets a project up with: the ones compose itself would use
//! (`compose.yaml` and its override, …); when there is none of those, the compose files
//! present under other names, of which the one that defines the most services is the default.

use std::path::Path;

use anyhow::{Context, Result};

use crate::project::root::{COMPOSE_FILE_NAMES, COMPOSE_OVERRIDE_NAMES};

/// The compose files chosen, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposeFiles {
    /// File names relative to the root, in `-f` order.
    pub files: Vec<String>,
    /// Whether compose finds these by itself (no `compose.files` needed in the profile).
    pub compose_default: bool,
    /// The other candidates when the choice was not compose's own (with their service counts).
    pub others: Vec<(String, usize)>,
    /// Where `COMPOSE_FILE` named the files, when it did (`.env`, the environment).
    pub variable: Option<&'static str>,
}

/// The files `COMPOSE_FILE` names, which compose reads instead of its defaults: from the
/// environment (`environment`), else from `.env` in `root`; split on
/// `COMPOSE_PATH_SEPARATOR` (else `:`). Returns them and where the variable was set.
pub fn from_variable(
    root: &Path,
    environment: impl Fn(&str) -> Option<String>,
) -> Option<(Vec<String>, &'static str)> {
    let dotenv = std::fs::read_to_string(root.join(".env")).unwrap_or_default();
    let from_dotenv = |key: &str| {
        dotenv.lines().find_map(|line| {
            let line = line.trim_start();
            let line = line.strip_prefix("export ").unwrap_or(line);
            let value = line.strip_prefix(key)?.trim_start().strip_prefix('=')?;
            Some(value.trim().trim_matches(['"', '\'']).to_string())
        })
    };
    let (files, origin) = match environment("COMPOSE_FILE").filter(|value| !value.is_empty()) {
        Some(files) => (files, "COMPOSE_FILE in the environment"),
        None => (
            from_dotenv("COMPOSE_FILE").filter(|value| !value.is_empty())?,
            "COMPOSE_FILE in .env",
        ),
    };
    let separator = environment("COMPOSE_PATH_SEPARATOR")
        .or_else(|| from_dotenv("COMPOSE_PATH_SEPARATOR"))
        .filter(|value| !value.is_empty())
        .unwrap_or_else(|| ":".into());
    let files: Vec<String> = files
        .split(separator.as_str())
        .filter(|file| !file.is_empty())
        .map(String::from)
        .collect();
    (!files.is_empty()).then_some((files, origin))
}

/// The files compose reads by itself in `root`: the first default name and the first
/// override name present.
pub fn compose_defaults(root: &Path) -> Vec<String> {
    let first = |names: &[&str]| {
        names
            .iter()
            .find(|name| root.join(name).is_file())
            .map(|name| name.to_string())
    };
    first(&COMPOSE_FILE_NAMES)
        .into_iter()
        .chain(first(&COMPOSE_FILE_NAMES).and(first(&COMPOSE_OVERRIDE_NAMES)))
        .collect()
}

/// The compose files in `root` under other names (`docker-compose.dev.yml`,
/// `compose.postgres.yaml`, `app.compose.yml`), sorted by name.
pub fn other_candidates(root: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    let entries = std::fs::read_dir(root)
        .with_context(|| format!("cannot list the project directory {}", root.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", root.display()))?;
        let name = entry.file_name().to_string_lossy().to_string();
        let lower = name.to_lowercase();
        let yaml = lower.ends_with(".yml") || lower.ends_with(".yaml");
        if yaml && lower.contains("compose") && entry.path().is_file() {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// Of `counted` (a file name and how many services it defines, `None` when compose cannot
/// read it alone), the one with the most services; ties go to name order.
pub fn most_services(counted: &[(String, Option<usize>)]) -> Option<&str> {
    let mut best: Option<(&str, usize)> = None;
    for (name, count) in counted {
        let Some(count) = *count else { continue };
        if best.is_none_or(|(_, most)| count > most) {
            best = Some((name, count));
        }
    }
    best.map(|(name, _)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_defaults_take_the_first_name_and_its_override() {
        let temp = tempfile::tempdir().unwrap();
        let root = temp.path();
        std::fs::write(root.join("docker-compose.override.yml"), "").unwrap();
        assert!(
            compose_defaults(root).is_empty(),
            "an override alone is no default"
        );
        std::fs::write(root.join("docker-compose.yml"), "").unwrap();
        std::fs::write(root.join("compose.yaml"), "").unwrap();
        assert_eq!(
            compose_defaults(root),
            ["compose.yaml", "docker-compose.override.yml"]
        );
    }

    #[test]
    fn compose_file_in_the_environment_or_in_dotenv_wins() {
        let temp = tempfile::tempdir().unwrap();
        let root = temp.path();
        let none = |_: &str| None;
        assert_eq!(from_variable(root, none), None);
        std::fs::write(
            root.join(".env"),
            "A=1\nCOMPOSE_FILE=\"base.yml;dev.yml\"\nCOMPOSE_PATH_SEPARATOR=;\n",
        )
        .unwrap();
        assert_eq!(
            from_variable(root, none),
            Some((
                vec!["base.yml".into(), "dev.yml".into()],
                "COMPOSE_FILE in .env"
            ))
        );
        let set = |key: &str| (key == "COMPOSE_FILE").then(|| "a.yml;b.yml".to_string());
        assert_eq!(
            from_variable(root, set),
            Some((
                vec!["a.yml".into(), "b.yml".into()],
                "COMPOSE_FILE in the environment"
            ))
        );
    }

    #[test]
    fn other_names_are_candidates_in_name_order() {
        let temp = tempfile::tempdir().unwrap();
        let root = temp.path();
        for name in [
            "docker-compose.prod.yml",
            "docker-compose.dev.yaml",
            "notes.yml",
            "Compose.ci.YML",
        ] {
            std::fs::write(root.join(name), "").unwrap();
        }
        std::fs::create_dir(root.join("compose.d.yml")).unwrap();
        assert_eq!(
            other_candidates(root).unwrap(),
            [
                "Compose.ci.YML",
                "docker-compose.dev.yaml",
                "docker-compose.prod.yml"
            ]
        );
    }

    #[test]
    fn the_most_services_wins_and_ties_go_to_name_order() {
        let counted = [
            ("a.yml".to_string(), Some(2)),
            ("b.yml".to_string(), None),
            ("c.yml".to_string(), Some(3)),
            ("d.yml".to_string(), Some(3)),
        ];
        assert_eq!(most_services(&counted), Some("c.yml"));
        assert_eq!(most_services(&counted[..2]), Some("a.yml"));
        assert_eq!(most_services(&counted[1..2]), None);
    }
}
