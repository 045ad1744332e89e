//! Env rules: over the variables the compose files use (`${VAR}` references as written),
//! the variables set for compose and the profile's env schema, `.env.example`, and the
//! `.env` file of each build context with its `.dockerignore`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::compose::variables::{self, Reference};
use crate::doctor::finding::{Finding, Location};
use crate::doctor::lint_input::{BuildSource, LintInput};
use crate::doctor::rule::{Check, LintRule};
use crate::doctor::rule_id::RuleId;
use crate::doctor::rule_id::Severity::{Error, Info, Warning};

/// Where `reference` is, in `file`.
fn at(file: &std::path::Path, reference: &Reference) -> Option<Location> {
    Some(Location::at(
        file,
        reference.line as u64,
        reference.column as u64,
    ))
}

/// Each variable the compose files use, with its first use (file, reference), by name.
fn used_variables(input: &LintInput) -> BTreeMap<String, (PathBuf, Reference)> {
    let mut used = BTreeMap::new();
    for file in &input.files {
        for reference in variables::references(&file.text) {
            used.entry(reference.name.clone())
                .or_insert((file.path.clone(), reference));
        }
    }
    used
}

pub(super) const REQUIRED_VARIABLE_UNSET: LintRule = LintRule {
    id: RuleId::RequiredVariableUnset,
    severity: Error,
    summary: "a variable the compose files require (no default) is not set",
    fix: "set it in the environment or an env file, or give it a default: ${NAME:-value}",
    check: Check::Project(required_variable_unset),
    #[cfg(test)]
    example: tests::required_variable_unset,
};

/// Each use of a variable that is required and unset, then each way the variables break
/// the profile's env schema (located at the schema).
fn required_variable_unset(input: &LintInput) -> Vec<Finding> {
    let mut findings = Vec::new();
    for file in &input.files {
        for reference in variables::references(&file.text) {
            if reference.is_unset_in(&input.defined) {
                findings.push(REQUIRED_VARIABLE_UNSET.finding(
                    format!(
                        "${{{}}} is required (no default) but not set",
                        reference.name
                    ),
                    at(&file.path, &reference),
                ));
            }
        }
    }
    if let Some((path, schema)) = &input.env_schema {
        for problem in schema.problems(&input.defined) {
            findings.push(REQUIRED_VARIABLE_UNSET.finding(problem, Some(Location::file(path))));
        }
    }
    findings
}

pub(super) const ENV_NOT_DOCKERIGNORED: LintRule = LintRule {
    id: RuleId::EnvNotDockerignored,
    severity: Error,
    summary: "a build context holds `.env`, and `.dockerignore` does not exclude it: its secrets go into the build (and maybe the image)",
    fix: "add `.env` to the context's .dockerignore",
    check: Check::Build(env_not_dockerignored),
    #[cfg(test)]
    example: tests::env_not_dockerignored,
};

fn env_not_dockerignored(build: &BuildSource) -> Vec<Finding> {
    if !build.context_has_env || ignores_env(build.dockerignore.as_deref()) {
        return Vec::new();
    }
    vec![ENV_NOT_DOCKERIGNORED.finding(
        format!(
            "the build context of `{}` holds .env, and {}",
            build.service,
            match build.dockerignore {
                Some(_) => ".dockerignore does not exclude it",
                None => "there is no .dockerignore to exclude it",
            }
        ),
        Some(Location::file(build.context.join(".dockerignore"))),
    )]
}

/// Whether a `.dockerignore` excludes `.env` at the context's root (its last matching
/// pattern decides).
fn ignores_env(dockerignore: Option<&str>) -> bool {
    let Some(text) = dockerignore else {
        return false;
    };
    let mut ignored = false;
    for line in text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
    {
        let (negated, pattern) = match line.strip_prefix('!') {
            Some(pattern) => (true, pattern),
            None => (false, line),
        };
        let pattern = pattern.trim_start_matches("./").trim_start_matches('/');
        let matches = matches!(
            pattern,
            ".env" | ".env*" | "*.env" | "**/.env" | "**/.env*" | "*" | "**" | "**/*" | ".*"
        );
        if matches {
            ignored = !negated;
        }
    }
    ignored
}

pub(super) const ENV_EXAMPLE_MISSING: LintRule = LintRule {
    id: RuleId::EnvExampleMissing,
    severity: Warning,
    summary: "a variable the compose files use is missing from .env.example",
    fix: "add it to .env.example with a placeholder value",
    check: Check::Project(env_example_missing),
    #[cfg(test)]
    example: tests::env_example_missing,
};

/// Each variable used but not in `.env.example`, at its first use.
fn env_example_missing(input: &LintInput) -> Vec<Finding> {
    let Some((path, text)) = &input.env_example else {
        return Vec::new();
    };
    let listed = variables::env_file_names(text);
    used_variables(input)
        .iter()
        .filter(|(name, _)| !listed.contains_key(*name))
        .map(|(name, (file, reference))| {
            ENV_EXAMPLE_MISSING.finding(
                format!("{name} is used here but missing from {}", path.display()),
                at(file, reference),
            )
        })
        .collect()
}

pub(super) const ENV_EXAMPLE_UNUSED: LintRule = LintRule {
    id: RuleId::EnvExampleUnused,
    severity: Info,
    summary: ".env.example lists a variable no compose file uses",
    fix: "remove it from .env.example, or use it",
    check: Check::Project(env_example_unused),
    #[cfg(test)]
    example: tests::env_example_unused,
};

fn env_example_unused(input: &LintInput) -> Vec<Finding> {
    let Some((path, text)) = &input.env_example else {
        return Vec::new();
    };
    let used = used_variables(input);
    variables::env_file_names(text)
        .iter()
        .filter(|(name, _)| !used.contains_key(*name))
        .map(|(name, line)| {
            ENV_EXAMPLE_UNUSED.finding(
                format!("{name} is not used by any compose file"),
                Some(Location::at(path, *line as u64, 1)),
            )
        })
        .collect()
}

pub(super) const NO_ENV_EXAMPLE: LintRule = LintRule {
    id: RuleId::NoEnvExample,
    severity: Info,
    summary: "the compose files use variables, but no .env.example documents them",
    fix: "add .env.example listing each variable with a placeholder",
    check: Check::Project(no_env_example),
    #[cfg(test)]
    example: tests::no_env_example,
};

fn no_env_example(input: &LintInput) -> Vec<Finding> {
    let used = used_variables(input);
    if input.env_example.is_some() || used.is_empty() {
        return Vec::new();
    }
    vec![NO_ENV_EXAMPLE.finding(
        format!(
            "the compose files use {} variable(s) ({}) that no .env.example documents",
            used.len(),
            used.keys().cloned().collect::<Vec<_>>().join(", ")
        ),
        input.first_file(),
    )]
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::doctor::lint_input::LintInput;
    use crate::doctor::rules::examples::{Example, build, compose_file, findings, project};
    use crate::project::env_check::EnvSchema;

    /// A project whose compose file uses `${TAG}` (required), `${MODE:-dev}` and, in a
    /// second file, `${TOKEN:?}`.
    fn using_variables() -> LintInput {
        let mut input = project(
            "services:\n  app:\n    image: 'a:${TAG}'\n    environment:\n      MODE: ${MODE:-dev}\n",
        );
        input.files.push(compose_file(
            "compose.override.yaml",
            "services:\n  app:\n    environment:\n      TOKEN: ${TOKEN:?needed}\n      TAG: $TAG\n",
        ));
        input
    }

    fn with_env_example(text: &str) -> LintInput {
        let mut input = using_variables();
        input.env_example = Some((PathBuf::from(".env.example"), text.to_string()));
        input
    }

    pub(super) fn required_variable_unset() -> Example {
        let mut set = using_variables();
        set.defined = BTreeMap::from([("TAG".into(), "1".into()), ("TOKEN".into(), "t".into())]);
        let mut empty = using_variables();
        empty.defined = BTreeMap::from([("TAG".into(), "1".into()), ("TOKEN".into(), "".into())]);
        Example::new(
            empty,
            &["compose.override.yaml:4:14 ${TOKEN} is required (no default) but not set"],
            set,
        )
    }

    #[test]
    fn every_unset_use_and_every_env_schema_problem_is_a_finding() {
        let mut input = using_variables();
        let schema = json!({"type": "object", "required": ["MODE"]});
        let schema = EnvSchema::compile(
            "env.schema.json",
            PathBuf::from("/project/env.schema.json"),
            &schema,
        )
        .unwrap();
        input.env_schema = Some((PathBuf::from("env.schema.json"), schema));
        assert_eq!(
            findings(&REQUIRED_VARIABLE_UNSET, input.clone()),
            [
                "compose.yaml:3:15 ${TAG} is required (no default) but not set",
                "compose.override.yaml:4:14 ${TOKEN} is required (no default) but not set",
                "compose.override.yaml:5:12 ${TAG} is required (no default) but not set",
                r#"env.schema.json the env does not satisfy env.schema.json: "MODE" is a required property"#,
            ]
        );
        input.defined = BTreeMap::from([
            ("TAG".into(), "1".into()),
            ("TOKEN".into(), "t".into()),
            ("MODE".into(), "dev".into()),
        ]);
        assert!(findings(&REQUIRED_VARIABLE_UNSET, input).is_empty());
    }

    pub(super) fn env_not_dockerignored() -> Example {
        let mut unignored = build("FROM a:1\n");
        unignored.context_has_env = true;
        let mut ignored = unignored.clone();
        ignored.dockerignore = Some("# secrets\n./.env*\n".into());
        Example::new(
            unignored,
            &[
                "app/.dockerignore the build context of `app` holds .env, and there is no .dockerignore to exclude it",
            ],
            ignored,
        )
    }

    #[test]
    fn a_dockerignore_that_lets_env_through_is_named() {
        let mut web = build("FROM a:1\n");
        web.context_has_env = true;
        web.service = "web".into();
        web.context = PathBuf::from("web");
        web.dockerignore = Some("node_modules\n.env\n!.env\n".into());
        assert_eq!(
            findings(&ENV_NOT_DOCKERIGNORED, web),
            [
                "web/.dockerignore the build context of `web` holds .env, and .dockerignore does not exclude it"
            ]
        );
    }

    #[test]
    fn dockerignore_patterns_that_exclude_env() {
        for excluding in [
            ".env",
            "/.env",
            "**/.env*",
            "*",
            ".*\n!README.md",
            "!.env\n.env",
        ] {
            assert!(ignores_env(Some(excluding)), "{excluding}");
        }
        for keeping in ["", "node_modules", "app/.env", ".env\n!.env", "*\n!.env"] {
            assert!(!ignores_env(Some(keeping)), "{keeping}");
        }
        assert!(!ignores_env(None));
        // A context without .env has nothing to exclude.
        assert!(findings(&ENV_NOT_DOCKERIGNORED, build("FROM a:1\n")).is_empty());
    }

    pub(super) fn env_example_missing() -> Example {
        Example::new(
            with_env_example("# placeholders\nexport TAG=1\nMODE=dev\n"),
            &["compose.override.yaml:4:14 TOKEN is used here but missing from .env.example"],
            with_env_example("TAG=1\nMODE=dev\nTOKEN=\n"),
        )
    }

    pub(super) fn env_example_unused() -> Example {
        Example::new(
            with_env_example("TAG=1\nOLD=x\nMODE=dev\nTOKEN=\nLEGACY: y\n"),
            &[
                ".env.example:5:1 LEGACY is not used by any compose file",
                ".env.example:2:1 OLD is not used by any compose file",
            ],
            with_env_example("TAG=1\nMODE=dev\nTOKEN=\n"),
        )
    }

    pub(super) fn no_env_example() -> Example {
        Example::new(
            using_variables(),
            &[
                "compose.yaml the compose files use 3 variable(s) (MODE, TAG, TOKEN) that no .env.example documents",
            ],
            with_env_example(""),
        )
    }

    #[test]
    fn a_project_that_uses_no_variables_needs_no_env_example() {
        assert!(
            findings(
                &NO_ENV_EXAMPLE,
                project("services:\n  app:\n    image: a:1\n")
            )
            .is_empty()
        );
    }
}
