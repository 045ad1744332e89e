//! Test support: each rule's examples — an input that triggers it, with every finding it
//! must give, and one that does not — and the helpers that build inputs. The examples sit
//! in each rule's file; `LintRule::example` points at them, so no rule goes without.

use std::path::PathBuf;

use serde_json::Value;

use crate::doctor::dockerfile::Dockerfile;
use crate::doctor::finding::Finding;
use crate::doctor::lint_input::ImageInput;
use crate::doctor::lint_input::{BuildSource, ComposeSource, LintInput};
use crate::doctor::rule::{Check, LintRule};
use crate::doctor::yaml_positions::YamlPositions;

/// What a rule reads, for one example.
pub(crate) enum Input {
    Project(LintInput),
    Build(BuildSource),
    Image(ImageInput),
}

impl From<LintInput> for Input {
    fn from(input: LintInput) -> Input {
        Input::Project(input)
    }
}

impl From<BuildSource> for Input {
    fn from(input: BuildSource) -> Input {
        Input::Build(input)
    }
}

impl From<ImageInput> for Input {
    fn from(input: ImageInput) -> Input {
        Input::Image(input)
    }
}

pub(crate) struct Example {
    pub trigger: Input,
    /// Every finding `trigger` gives, in order, as `location message` (see `described`).
    pub findings: Vec<&'static str>,
    pub clean: Input,
}

impl Example {
    pub(crate) fn new(
        trigger: impl Into<Input>,
        findings: &[&'static str],
        clean: impl Into<Input>,
    ) -> Example {
        Example {
            trigger: trigger.into(),
            findings: findings.to_vec(),
            clean: clean.into(),
        }
    }

    /// Whether `rule` finds exactly the expected findings in the trigger, each of its own
    /// id, severity and fix, and nothing in the clean input.
    pub(crate) fn verify(&self, rule: &LintRule) -> Result<(), String> {
        let triggered = run(rule, &self.trigger)?;
        if let Some(other) = triggered.iter().find(|finding| {
            finding.rule != rule.id || finding.severity != rule.severity || finding.hint != rule.fix
        }) {
            return Err(format!(
                "{}: gives a finding not its own: {other:?}",
                rule.id
            ));
        }
        let described: Vec<String> = triggered.iter().map(described).collect();
        if self.findings.is_empty() || described != self.findings {
            return Err(format!(
                "{}: the trigger example gives {described:#?}, not {:#?}",
                rule.id, self.findings
            ));
        }
        let clean = run(rule, &self.clean)?;
        if !clean.is_empty() {
            return Err(format!("{}: the clean example gives {clean:#?}", rule.id));
        }
        Ok(())
    }
}

/// `rule`'s findings in `input`.
pub(crate) fn run(rule: &LintRule, input: &Input) -> Result<Vec<Finding>, String> {
    match (rule.check, input) {
        (Check::Project(check), Input::Project(input)) => Ok(check(input)),
        (Check::Build(check), Input::Build(input)) => Ok(check(input)),
        (Check::Image(check), Input::Image(input)) => Ok(check(input)),
        _ => Err(format!(
            "{}: an example is not what the rule reads",
            rule.id
        )),
    }
}

/// A finding as `location message`: `compose.yaml:4:5 service `app` runs privileged`.
pub(crate) fn described(finding: &Finding) -> String {
    let location = finding
        .location
        .as_ref()
        .map_or("(project)".to_string(), |location| location.text());
    format!("{location} {}", finding.message)
}

/// The findings of `rule` in `input`, described.
pub(crate) fn findings(rule: &LintRule, input: impl Into<Input>) -> Vec<String> {
    run(rule, &input.into())
        .unwrap()
        .iter()
        .map(described)
        .collect()
}

/// A project of one compose file, `compose.yaml`, with `yaml` as written and as compose's
/// resolved model (so examples write what the model has: long forms of volumes and ports).
pub(crate) fn project(yaml: &str) -> LintInput {
    let mut input = LintInput::default();
    input.files.push(compose_file("compose.yaml", yaml));
    input.model = input.files[0].value.clone();
    input.raw_model = input.model.clone();
    input
}

/// A project of one compose file, `compose.yaml`, written as `yaml`, whose resolved model
/// (with and without interpolation) is `model`: what `docker compose config --format json`
/// gives for it, as JSON text.
pub(crate) fn resolved(yaml: &str, model: &str) -> LintInput {
    let mut input = project(yaml);
    input.model = serde_json::from_str(model).expect("a compose model is JSON");
    input.raw_model = input.model.clone();
    input
}

/// A project of one compose file, `compose.yaml`, written as `yaml`, that compose cannot
/// resolve: `error` is compose's error line.
pub(crate) fn unresolved(yaml: &str, error: &str) -> LintInput {
    let mut input = project(yaml);
    input.model = Value::Null;
    input.raw_model = Value::Null;
    input.invalid = Some(error.to_string());
    input
}

/// `text` as the compose file `path`.
pub(crate) fn compose_file(path: &str, text: &str) -> ComposeSource {
    ComposeSource {
        path: PathBuf::from(path),
        text: text.to_string(),
        positions: YamlPositions::parse(text),
        value: serde_saphyr::from_str(text).unwrap_or(Value::Null),
    }
}

/// Service `app`'s build from context `app` with `dockerfile` as its Dockerfile.
pub(crate) fn build(dockerfile: &str) -> BuildSource {
    service_build("app", dockerfile)
}

/// Service `service`'s build from the context of its name with `dockerfile` as its
/// Dockerfile.
pub(crate) fn service_build(service: &str, dockerfile: &str) -> BuildSource {
    BuildSource {
        service: service.into(),
        context: PathBuf::from(service),
        dockerfile_path: PathBuf::from(service).join("Dockerfile"),
        dockerfile: Some(Dockerfile::parse(dockerfile)),
        unreadable: None,
        target: None,
        profile_target: None,
        dockerignore: None,
        context_has_env: false,
        project_images: Vec::new(),
    }
}
