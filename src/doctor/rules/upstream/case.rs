//! One upstream case (`Case`): the situation, the devctl rule that covers its risk, the
//! peer's verdict, and, where devctl differs on purpose, why.

use crate::doctor::rule::LintRule;
use crate::doctor::rules::examples::{Input, build, run};

/// What the peer expects in a case's situation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The peer's rule reports it.
    Finds,
    /// The peer's rule reports nothing.
    Clean,
}

/// One upstream case.
pub(crate) struct Case {
    /// The peer's code or rule: `DL3013`, `no-build-and-image`.
    pub upstream: &'static str,
    /// The upstream case it mirrors, in a few words.
    pub mirrors: &'static str,
    /// The devctl rule that covers the same risk.
    pub rule: &'static LintRule,
    pub input: Input,
    /// When set, only findings whose message holds this text count (a peer that reports
    /// per service or per port: "`web`").
    pub subject: Option<&'static str>,
    pub verdict: Verdict,
    /// Why devctl deliberately gives the other verdict (excluded from the agreement).
    pub deliberate: Option<&'static str>,
}

impl Case {
    /// A hadolint case: `dockerfile` as the spec lints it (a snippet without `FROM` is
    /// given one, `FROM debian:12`, since devctl reads the instructions from the first FROM).
    pub(crate) fn hadolint(
        code: &'static str,
        rule: &'static LintRule,
        mirrors: &'static str,
        dockerfile: &str,
        verdict: Verdict,
    ) -> Case {
        let text = if dockerfile
            .lines()
            .any(|line| line.trim_start().to_uppercase().starts_with("FROM "))
        {
            dockerfile.to_string()
        } else {
            format!("FROM debian:12\n{dockerfile}")
        };
        Case {
            upstream: code,
            mirrors,
            rule,
            input: Input::Build(build(&text)),
            subject: None,
            verdict,
            deliberate: None,
        }
    }

    /// A docker-compose-linter case over `input` (see `examples::project`).
    pub(crate) fn dclint(
        rule_name: &'static str,
        rule: &'static LintRule,
        mirrors: &'static str,
        input: impl Into<Input>,
        verdict: Verdict,
    ) -> Case {
        Case {
            upstream: rule_name,
            mirrors,
            rule,
            input: input.into(),
            subject: None,
            verdict,
            deliberate: None,
        }
    }

    /// Only findings naming `subject` count.
    pub(crate) fn about(mut self, subject: &'static str) -> Case {
        self.subject = Some(subject);
        self
    }

    /// devctl gives the other verdict on purpose, for this reason.
    pub(crate) fn deliberately(mut self, why: &'static str) -> Case {
        self.deliberate = Some(why);
        self
    }

    /// devctl's verdict in this case.
    pub(super) fn devctl(&self) -> Verdict {
        let findings = run(self.rule, &self.input).unwrap_or_else(|error| panic!("{error}"));
        let found = findings.iter().any(|finding| {
            self.subject
                .is_none_or(|subject| finding.message.contains(subject))
        });
        if found {
            Verdict::Finds
        } else {
            Verdict::Clean
        }
    }
}
