//! The doctor's report as text: grouped human output (environment, then findings by file),
//! or one JSON document. SARIF is `doctor::sarif`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use console::style;
use serde_json::{Value, json};

use crate::compose::verb_plan::SCHEMA_VERSION;
use crate::doctor::environment::Check;
use crate::doctor::finding::Finding;
use crate::doctor::rule_id::Severity;
use crate::project::Project;

/// How many findings there are of each severity.
fn summary(findings: &[Finding]) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::from([("error", 0), ("warning", 0), ("info", 0)]);
    for finding in findings {
        *counts.entry(finding.severity.name()).or_default() += 1;
    }
    counts
}

/// The JSON report.
pub(crate) fn json(
    project: &Project,
    checks: &[Check],
    findings: &[Finding],
    passed: bool,
) -> Value {
    json!({
        "schema_version": SCHEMA_VERSION,
        "project": project.profile.project_name,
        "profile": project.profile.name,
        "environment": checks,
        "findings": findings,
        "summary": summary(findings),
        "passed": passed,
    })
}

fn mark(severity: Severity) -> String {
    match severity {
        Severity::Off => style("✔").green().to_string(),
        Severity::Info => style("i").blue().to_string(),
        Severity::Warning => style("!").yellow().to_string(),
        Severity::Error => style("✘").red().to_string(),
    }
}

/// The environment checks, one a line, with their fixes.
pub(crate) fn environment_text(checks: &[Check]) -> String {
    let mut text = format!("{}\n", style("Environment").bold());
    for check in checks {
        text.push_str(&format!(
            "  {} {:<15} {}\n",
            mark(check.severity),
            check.name,
            check.detail
        ));
        if let Some(fix) = &check.fix {
            text.push_str(&format!("    {} {fix}\n", style("fix:").cyan()));
        }
    }
    text.trim_end().to_string()
}

/// The human report: the environment, the findings grouped by file, and the counts.
pub(crate) fn human(project: &Project, checks: &[Check], findings: &[Finding]) -> String {
    let mut text = format!("{}\n", environment_text(checks));
    text.push_str(&format!(
        "\n{} (profile {})\n",
        style("Project").bold(),
        project.profile.name
    ));
    let mut current: Option<PathBuf> = None;
    for finding in findings {
        let file = finding
            .location
            .as_ref()
            .map(|location| location.file.clone());
        if file != current {
            text.push_str(&format!(
                "  {}\n",
                style(
                    file.as_ref()
                        .map_or("(project)".to_string(), |f| f.display().to_string())
                )
                .underlined()
            ));
            current = file;
        }
        text.push_str(&finding_text(finding));
    }
    if findings.is_empty() {
        text.push_str(&format!("  {} no findings\n", mark(Severity::Off)));
    }
    let counts = summary(findings);
    text.push_str(&format!(
        "\n{} error(s), {} warning(s), {} note(s)\n",
        counts["error"], counts["warning"], counts["info"]
    ));
    format!("{}\n", text.trim_end())
}

/// One finding: its position in the file, severity, rule and message, then its fix.
fn finding_text(finding: &Finding) -> String {
    let position = finding
        .location
        .as_ref()
        .and_then(|location| {
            location
                .line
                .map(|line| format!("{line}:{}", location.column.unwrap_or(1)))
        })
        .unwrap_or_default();
    let severity = match finding.severity {
        Severity::Error => style("error").red().bold(),
        Severity::Warning => style("warning").yellow(),
        _ => style("info").blue(),
    };
    format!(
        "    {position:<7} {severity:<7} {} {}\n            {} {}\n",
        style(finding.rule).dim(),
        finding.message,
        style("fix:").cyan(),
        finding.hint
    )
}
