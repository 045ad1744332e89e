//! Every rule `devctl doctor` checks, in one list (`RULES`), split by what the rules read:
//! compose's models and files (`compose`, `compose_security`), Dockerfiles (`dockerfile`;
//! `packages` for installs and their caches; `run_commands` for what else RUN instructions
//! run), env files and variables (`env`) and built images (`image`). docs/rules.md lists the
//! same rules, in the same order, with the same words (a test keeps them in step).

pub mod compose;
pub mod compose_security;
pub mod dockerfile;
pub mod env;
#[cfg(test)]
pub(crate) mod examples;
pub mod image;
pub mod packages;
pub(crate) mod reading;
pub mod run_commands;
#[cfg(test)]
pub(crate) mod upstream;

use crate::doctor::finding::Finding;
use crate::doctor::lint_input::{ImageInput, LintInput};
use crate::doctor::rule::{Check, LintRule};

/// Every rule, in the order of `RuleId::ALL` and docs/rules.md: compose, Dockerfile, env
/// files, images (the contract, then compose against the image).
pub const RULES: &[LintRule] = &[
    compose::COMPOSE_INVALID,
    compose::DATA_VOLUME_UNPROTECTED,
    compose::NO_HEALTHCHECK,
    compose::HEALTHCHECK_NO_START_PERIOD,
    compose::HEALTHCHECK_NOT_SHIPPED,
    compose_security::LITERAL_SECRET,
    compose::IMAGE_UNPINNED,
    compose_security::PORT_ALL_INTERFACES,
    compose_security::DOCKER_SOCKET,
    compose_security::PRIVILEGED,
    compose_security::HOST_NETWORK,
    compose_security::HOST_NAMESPACE,
    compose_security::SENSITIVE_HOST_PATH,
    compose_security::DANGEROUS_CAPABILITY,
    compose::DUPLICATE_HOST_PORT,
    compose::DUPLICATE_CONTAINER_NAME,
    compose::NO_PROJECT_NAME,
    compose::OBSOLETE_VERSION,
    compose::BUILD_AND_IMAGE,
    compose::DEPENDS_ON_WITHOUT_HEALTH,
    compose_security::ROOT_USER,
    env::REQUIRED_VARIABLE_UNSET,
    dockerfile::DOCKERFILE_MISSING,
    dockerfile::DOCKERFILE_ROOT,
    dockerfile::DOCKERFILE_SECRET,
    dockerfile::COPY_BEFORE_INSTALL,
    packages::UNFROZEN_INSTALL,
    dockerfile::BASE_IMAGE_UNPINNED,
    packages::PACKAGE_CACHE_LEFT,
    dockerfile::ADD_LOCAL_FILE,
    dockerfile::SHELL_FORM_COMMAND,
    dockerfile::PIPE_WITHOUT_PIPEFAIL,
    run_commands::OS_PACKAGE_UNPINNED,
    run_commands::GEM_UNPINNED,
    run_commands::GO_INSTALL_UNPINNED,
    run_commands::SUDO_IN_RUN,
    env::ENV_NOT_DOCKERIGNORED,
    env::ENV_EXAMPLE_MISSING,
    env::ENV_EXAMPLE_UNUSED,
    env::NO_ENV_EXAMPLE,
    image::IMAGE_CONTRACT,
    image::HEALTHCHECK_PROGRAM_MISSING,
    image::SHELL_MISSING,
    image::USER_MISSING,
    image::PORT_NOT_EXPOSED,
    image::ENTRYPOINT_NOT_EXECUTABLE,
];

/// Every finding of every project and build rule, rule by rule (the caller sorts them).
pub fn lint(input: &LintInput) -> Vec<Finding> {
    let mut findings = Vec::new();
    for rule in RULES {
        match rule.check {
            Check::Project(check) => findings.extend(check(input)),
            Check::Build(check) => {
                for build in &input.builds {
                    findings.extend(check(build));
                }
            }
            Check::Image(_) => {}
        }
    }
    findings
}

/// Every finding of the image rules about one service's image.
pub(crate) fn check_image(input: &ImageInput) -> Vec<Finding> {
    let mut findings = Vec::new();
    for rule in RULES {
        if let Check::Image(check) = rule.check {
            findings.extend(check(input));
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::rule_id::RuleId;

    #[test]
    fn rules_are_registered_once_each_in_the_order_of_their_ids() {
        let registered: Vec<RuleId> = RULES.iter().map(|rule| rule.id).collect();
        assert_eq!(registered, RuleId::ALL);
    }

    #[test]
    fn every_rule_finds_its_trigger_example_and_not_its_clean_one() {
        let failures: Vec<String> = RULES
            .iter()
            .filter_map(|rule| (rule.example)().verify(rule).err())
            .collect();
        assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    }

    /// docs/rules.md has a section per rule, in the same order, with its severity, summary
    /// and fix word for word, then its peers: the closest check of hadolint, dclint or
    /// BuildKit, or why none has one.
    #[test]
    fn docs_list_every_rule_as_defined() {
        let docs = include_str!("../../../docs/rules.md");
        let mut from = 0;
        for rule in RULES {
            let section = format!(
                "### `{}`\n\nSeverity: **{}**. Finds: {}.\n\nFix: {}.\n",
                rule.id,
                rule.severity.name(),
                rule.summary,
                rule.fix
            );
            let found = docs[from..].find(&section).unwrap_or_else(|| {
                panic!(
                    "docs/rules.md has no section, after the previous rule's, reading:\n{section}"
                )
            });
            from += found + section.len();
            // Then the closest check of hadolint, dclint or BuildKit, or why there is none.
            let peers = docs[from..].strip_prefix("\nPeers: ").unwrap_or_else(|| {
                panic!(
                    "docs/rules.md: the section of `{}` names no peers after its fix",
                    rule.id
                )
            });
            assert!(
                peers
                    .split('\n')
                    .next()
                    .is_some_and(|line| line.ends_with('.')),
                "docs/rules.md: the peers line of `{}` is not one sentence",
                rule.id
            );
        }
        assert_eq!(
            docs.matches("\n### `").count(),
            RULES.len(),
            "docs/rules.md has a section for a rule that is not in RULES"
        );
        // The README and the CLI reference count them.
        let counted = format!("the project: {} rules over", RULES.len());
        for (name, text) in [
            ("README.md", include_str!("../../../README.md")),
            ("docs/cli.md", include_str!("../../../docs/cli.md")),
        ] {
            assert!(
                text.replace('\n', " ").contains(&counted),
                "{name} does not say `{counted}`"
            );
        }
    }
}
