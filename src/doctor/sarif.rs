//! The doctor's findings as SARIF 2.1.0, for code-scanning upload: one run, devctl as the
//! tool with every rule, one result per finding with its file and region.

use serde_json::{Value, json};

use crate::doctor::finding::Finding;
use crate::doctor::rule_id::Severity;
use crate::doctor::rules::RULES;

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info | Severity::Off => "note",
    }
}

/// The SARIF log of `findings`.
pub fn render(findings: &[Finding]) -> Value {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|rule| {
            json!({
                "id": rule.id,
                "name": rule.id,
                "shortDescription": {"text": rule.summary},
                "help": {"text": rule.fix},
                "defaultConfiguration": {"level": level(rule.severity)},
            })
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|finding| {
            let mut result = json!({
                "ruleId": finding.rule,
                "ruleIndex": RULES.iter().position(|rule| rule.id == finding.rule),
                "level": level(finding.severity),
                "message": {"text": format!("{} (fix: {})", finding.message, finding.hint)},
            });
            if let Some(location) = &finding.location {
                let mut physical = json!({
                    "artifactLocation": {"uri": location.file.display().to_string().replace('\\', "/")},
                });
                if let Some(line) = location.line {
                    let mut region = json!({"startLine": line.max(1)});
                    if let Some(column) = location.column {
                        region["startColumn"] = json!(column.max(1));
                    }
                    physical["region"] = region;
                }
                result["locations"] = json!([{"physicalLocation": physical}]);
            }
            result
        })
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "devctl",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::lint_input::LintInput;
    use crate::doctor::rules::{examples, lint};

    /// A credential in a URL a Dockerfile installs from never reaches a report: JSON carries
    /// the findings as serialized, SARIF their messages.
    #[test]
    fn credentials_in_findings_are_masked_in_json_and_sarif() {
        let input = LintInput {
            builds: vec![examples::build(
                "FROM a:1\nRUN pip install git+https://user:s3cr3t@git.example.com/app.git\nUSER app\n",
            )],
            ..LintInput::default()
        };
        let findings = lint(&input);
        assert!(!findings.is_empty());
        for report in [
            serde_json::to_string(&findings).unwrap(),
            render(&findings).to_string(),
        ] {
            assert!(!report.contains("s3cr3t"), "{report}");
            assert!(
                report.contains("git+https://***@git.example.com/app.git"),
                "{report}"
            );
        }
    }
}
