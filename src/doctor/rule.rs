//! What a lint rule is: its id (`rule_id::RuleId`), its default severity, what it finds, how
//! to fix it, and the check that finds it over what the rule reads. The rules themselves, and
//! the one list of them, are in `doctor::rules`.

use crate::doctor::finding::{Finding, Location, masked};
use crate::doctor::lint_input::ImageInput;
use crate::doctor::lint_input::{BuildSource, LintInput};
use crate::doctor::rule_id::{RuleId, Severity};

/// A rule's check, by what it reads. Each gives only findings of its own rule.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Check {
    /// The project: compose's models, the compose files as written, the env files.
    Project(fn(&LintInput) -> Vec<Finding>),
    /// One service's build: its Dockerfile and its context.
    Build(fn(&BuildSource) -> Vec<Finding>),
    /// One service's built image, against its runtime contract.
    Image(fn(&ImageInput) -> Vec<Finding>),
}

/// One rule: its id, default severity, what it finds, how to fix it, and its check.
#[derive(Debug, Clone, Copy)]
pub struct LintRule {
    pub id: RuleId,
    pub severity: Severity,
    /// What the rule finds, in one line.
    pub summary: &'static str,
    /// How to fix what it finds.
    pub fix: &'static str,
    pub(crate) check: Check,
    /// An input that triggers the rule, with the findings it gives, and one that does not.
    #[cfg(test)]
    pub(crate) example: fn() -> crate::doctor::rules::examples::Example,
}

impl LintRule {
    /// A finding of this rule at its default severity, with the rule's fix as the hint, and
    /// the credentials of URLs in its message masked (`finding::masked`): what the human,
    /// JSON and SARIF reports show.
    pub(crate) fn finding(
        &self,
        message: impl Into<String>,
        location: Option<Location>,
    ) -> Finding {
        Finding {
            rule: self.id,
            severity: self.severity,
            message: masked(&message.into()),
            location,
            hint: self.fix.to_string(),
        }
    }
}
