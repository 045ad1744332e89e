//! A doctor run: the environment checks, the project rules over what `LintInput` collects,
//! with `images` the runtime contract of the built images and the services against them,
//! the profile's severity changes, and the report in the chosen format. Exit 1
//! (`StepFailed`) when anything is an error (with `strict`, a warning too).

use std::path::PathBuf;

use anyhow::Result;
use serde_json::Value;

use crate::compose::model::ComposeModel;
use crate::compose::program::DockerCli;
use crate::doctor::environment::{self, Check};
use crate::doctor::finding::{Finding, shown};
use crate::doctor::image_contract::{ImageFacts, Wanted};
use crate::doctor::image_files::Lookup;
use crate::doctor::image_fit::misfits;
use crate::doctor::lint_input::LintInput;
use crate::doctor::lint_input::{ComposeService, ImageInput, ImageState};
use crate::doctor::rule_id::Severity;
use crate::doctor::rules;
use crate::engine::api::Engine;
use crate::project::{Project, ServiceScope};
use crate::report::exit_status::ExitStatus;
use crate::report::printer::Printer;

/// How the report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Grouped and coloured, for a person.
    Human,
    Json,
    /// SARIF 2.1.0, for code-scanning upload.
    Sarif,
}

/// What a doctor run does.
#[derive(Debug, Clone)]
pub struct Options {
    pub format: Format,
    /// Fail on warnings too.
    pub strict: bool,
    /// Also check the built images against the profile's contract.
    pub images: bool,
    /// The docker context named on the command line (not empty).
    pub context: Option<String>,
}

/// Runs the doctor: checks the environment, then opens the project with `open` and checks
/// it, and prints the report.
pub fn run(
    options: &Options,
    open: impl FnOnce() -> Result<Project>,
    printer: &Printer,
) -> Result<ExitStatus> {
    let (mut checks, engine) = environment::check(options.context.as_deref());
    let project = match open() {
        Ok(project) => project,
        Err(error) => {
            // Without compose (or a readable profile) there is no project to check: say what
            // the environment looks like, then why.
            if options.format == Format::Human {
                printer.data(format!(
                    "{}\n",
                    crate::doctor::output::environment_text(&checks)
                ));
            }
            return Err(error);
        }
    };
    checks.push(environment::compose_check(&project));
    checks.push(environment::disk_check(&project));
    let mut findings = findings(&project, options, engine.as_ref(), &mut checks, printer)?;
    apply_overrides(&project, &mut findings);
    sort(&mut findings);
    let failing = |severity: Severity| {
        severity == Severity::Error || (options.strict && severity == Severity::Warning)
    };
    let failed = checks.iter().any(|check| failing(check.severity))
        || findings.iter().any(|finding| failing(finding.severity));
    printer.data(match options.format {
        Format::Human => crate::doctor::output::human(&project, &checks, &findings),
        Format::Json => format!(
            "{:#}\n",
            crate::doctor::output::json(&project, &checks, &findings, !failed)
        ),
        Format::Sarif => format!("{:#}\n", crate::doctor::sarif::render(&findings)),
    });
    Ok(match failed {
        true => ExitStatus::StepFailed,
        false => ExitStatus::Success,
    })
}

/// The project rules' findings and, with `images`, the image rules' (when the engine does
/// not answer, a failed check instead).
fn findings(
    project: &Project,
    options: &Options,
    engine: Option<&Engine>,
    checks: &mut Vec<Check>,
    printer: &Printer,
) -> Result<Vec<Finding>> {
    // A project compose cannot read is a finding, not the end: the rules that read the files
    // as written still run.
    let model = project.model(ServiceScope::Profile, false, printer);
    let input = LintInput::collect(project, model.as_ref(), printer)?;
    let mut findings = rules::lint(&input);
    if options.images {
        match engine {
            Some(engine) => {
                // Images need the services compose resolved: without them, its error.
                let model = model?;
                findings.extend(image_findings(project, &model, &input, engine, printer)?)
            }
            None => checks.push(Check::bad(
                "image contract",
                Severity::Error,
                "not checked: the engine is not reachable",
                format!(
                    "start the engine, then run `{}` again",
                    project.stack().devctl("doctor --images")
                ),
            )),
        }
    }
    Ok(findings)
}

/// The project rules' findings (not the images'), the profile's severities applied, the most
/// severe first: what `devctl init` shows once the profiles are written.
pub fn project_findings(project: &Project, printer: &Printer) -> Result<Vec<Finding>> {
    let model = project.model(ServiceScope::Profile, false, printer);
    let input = LintInput::collect(project, model.as_ref(), printer)?;
    let mut findings = rules::lint(&input);
    apply_overrides(project, &mut findings);
    sort(&mut findings);
    findings.sort_by_key(|finding| std::cmp::Reverse(finding.severity));
    Ok(findings)
}

/// By file, line and column; then the most severe first; then by rule id.
fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        let file = |f: &Finding| {
            f.location
                .as_ref()
                .map(|l| (l.file.clone(), l.line, l.column))
        };
        file(a)
            .cmp(&file(b))
            .then(b.severity.cmp(&a.severity))
            .then(a.rule.as_str().cmp(b.rule.as_str()))
    });
}

/// The image rules' findings: for each service the profile's `doctor.images` names, its
/// image against its contract; for every service whose image the engine has, the service
/// against its image.
fn image_findings(
    project: &Project,
    model: &ComposeModel,
    input: &LintInput,
    engine: &Engine,
    printer: &Printer,
) -> Result<Vec<Finding>> {
    let mut findings = Vec::new();
    let no_contracts = Default::default();
    let contracts = project
        .profile
        .doctor
        .images
        .as_ref()
        .unwrap_or(&no_contracts);
    let docker = DockerCli::locate(project.context.as_deref())?;
    let origin = project
        .profile
        .source
        .as_ref()
        .map(|path| shown(path, project.root.path()))
        .unwrap_or_else(|| PathBuf::from("(implicit profile)"));
    let service_image = |service: &str| {
        model
            .service(service)
            .and_then(|definition| definition.get("image"))
            .and_then(Value::as_str)
            .map(String::from)
            .unwrap_or_else(|| format!("{}-{service}", model.name()))
    };
    let mut unbuilt = Vec::new();
    let services = model.service_names();
    let uncontracted = services
        .iter()
        .filter(|service| !contracts.contains_key(*service))
        .map(|service| (service.clone(), None));
    let contracted = contracts
        .iter()
        .map(|(service, contract)| (service.clone(), Some(contract)));
    for (service, contract) in contracted.chain(uncontracted) {
        let compose = ComposeService::of(input, &service);
        let image = contract
            .and_then(|contract| contract.image.clone())
            .unwrap_or_else(|| service_image(&service));
        let lookups = |facts: &ImageFacts, files: &mut dyn Lookup| {
            if let Some(compose) = &compose {
                misfits(&compose.definition, &image, facts, files);
            }
        };
        let wanted = Wanted {
            paths: contract
                .and_then(|contract| contract.forbidden_paths.as_ref())
                .is_some_and(|paths| !paths.is_empty()),
            lookups: match compose {
                Some(_) => Some(&lookups),
                None => None,
            },
        };
        let state = if compose.is_none() && contract.is_some_and(|named| named.image.is_none()) {
            ImageState::UnknownService(services.clone())
        } else {
            match ImageFacts::read(engine, &docker, &image, wanted)? {
                None => ImageState::Missing,
                Some(facts) => ImageState::Read(Box::new(facts)),
            }
        };
        // Without a contract, an image the engine lacks is not checked, and said once.
        if contract.is_none() && matches!(state, ImageState::Missing) {
            unbuilt.push(format!("{service} ({image})"));
            continue;
        }
        findings.extend(rules::check_image(&ImageInput {
            service,
            image,
            contract: contract.cloned().unwrap_or_default(),
            origin: origin.clone(),
            state,
            stack: project.stack(),
            compose,
        }));
    }
    if !unbuilt.is_empty() {
        printer.info(format!(
            "--images: not on the engine, so not checked against compose: {} (build them first: `{}`)",
            unbuilt.join(", "),
            project.stack().devctl("up --build")
        ));
    }
    Ok(findings)
}

/// The profile's `doctor.rules`: severities changed, rules turned off.
fn apply_overrides(project: &Project, findings: &mut Vec<Finding>) {
    let Some(rules) = &project.profile.doctor.rules else {
        return;
    };
    for finding in findings.iter_mut() {
        if let Some(severity) = rules.get(finding.rule.as_str()) {
            finding.severity = *severity;
        }
    }
    findings.retain(|finding| finding.severity != Severity::Off);
}
