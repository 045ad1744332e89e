//! `devctl doctor`: the environment (docker, engine, compose, buildx, disk, context), the
//! project's rules over its compose files, Dockerfiles and env files, and with `--images` the
//! runtime contract of its built images — as grouped human output, JSON or SARIF. Exit 1 when
//! anything is an error (with `--strict`, a warning too).

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Result;
use console::style;
use serde::Serialize;
use serde_json::{Value, json};

use crate::cli::{DoctorArgs, DoctorFormat, GlobalArgs};
use crate::compose::model::ComposeModel;
use crate::compose::program::DockerCli;
use crate::compose::variables;
use crate::compose::verb_plan::SCHEMA_VERSION;
use crate::doctor::dockerfile::Dockerfile;
use crate::doctor::finding::{Finding, Location};
use crate::doctor::image_contract::{self, ImageFacts};
use crate::doctor::project_rules::{self, BuildSource, ComposeSource, LintInput, shown};
use crate::doctor::rule::Severity;
use crate::doctor::yaml_positions::YamlPositions;
use crate::engine::api::Engine;
use crate::project::env_check::EnvSchema;
use crate::project::{Project, ServiceScope};
use crate::report::exit_status::ExitStatus;
use crate::report::printer::Printer;

/// The free space below which the backup directory is a warning.
const LOW_DISK: u64 = 1024 * 1024 * 1024;

/// One environment check.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    /// `ok` (shown for a passing check), `warning` or `error`.
    #[serde(rename = "status", serialize_with = "check_status")]
    pub severity: Severity,
    pub detail: String,
    /// What to do, when it is not fine.
    pub fix: Option<String>,
}

fn check_status<S: serde::Serializer>(
    severity: &Severity,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(match severity {
        Severity::Off | Severity::Info => "ok",
        other => other.name(),
    })
}

impl Check {
    fn ok(name: &'static str, detail: impl Into<String>) -> Check {
        Check {
            name,
            severity: Severity::Off,
            detail: detail.into(),
            fix: None,
        }
    }

    fn bad(name: &'static str, severity: Severity, detail: impl Into<String>, fix: &str) -> Check {
        Check {
            name,
            severity,
            detail: detail.into(),
            fix: Some(fix.to_string()),
        }
    }
}

pub fn run(args: &DoctorArgs, global: &GlobalArgs, printer: &Printer) -> Result<ExitStatus> {
    let (mut checks, engine) = environment(global);
    let project = match super::open(global, printer) {
        Ok(project) => project,
        Err(error) => {
            // Without compose (or a readable profile) there is no project to check: say what
            // the environment looks like, then why.
            if args.format == DoctorFormat::Human {
                printer.data(format!("{}\n", environment_text(&checks)));
            }
            return Err(error);
        }
    };
    checks.push(Check::ok(
        "compose",
        format!(
            "{} ({})",
            project.compose.version,
            project.compose.argv.join(" ")
        ),
    ));
    checks.push(disk_check(&project));
    // A project compose cannot read is a finding, not the end: the rules that read the files
    // as written still run.
    let model = project.model(ServiceScope::Profile, false, printer);
    let mut findings = project_findings(&project, model.as_ref(), printer)?;
    if args.images {
        match &engine {
            Some(engine) => {
                // Images need the services compose resolved: without them, its error.
                let model = model?;
                findings.extend(image_findings(&project, &model, engine, printer)?)
            }
            None => checks.push(Check::bad(
                "image contract",
                Severity::Error,
                "not checked: the engine is not reachable",
                "start the engine, then run `devctl doctor --images` again",
            )),
        }
    }
    apply_overrides(&project, &mut findings);
    findings.sort_by(|a, b| {
        let file = |f: &Finding| {
            f.location
                .as_ref()
                .map(|l| (l.file.clone(), l.line, l.column))
        };
        file(a)
            .cmp(&file(b))
            .then(b.severity.cmp(&a.severity))
            .then(a.rule.cmp(b.rule))
    });
    let failing = |severity: Severity| {
        severity == Severity::Error || (args.strict && severity == Severity::Warning)
    };
    let failed = checks.iter().any(|check| failing(check.severity))
        || findings.iter().any(|finding| failing(finding.severity));
    match args.format {
        DoctorFormat::Human => print_human(&project, &checks, &findings, printer),
        DoctorFormat::Json => printer.data(format!(
            "{:#}\n",
            json!({
                "schema_version": SCHEMA_VERSION,
                "project": project.profile.project_name,
                "profile": project.profile.name,
                "environment": checks,
                "findings": findings,
                "summary": summary(&findings),
                "passed": !failed,
            })
        )),
        DoctorFormat::Sarif => {
            printer.data(format!("{:#}\n", crate::doctor::sarif::render(&findings)))
        }
    }
    Ok(match failed {
        true => ExitStatus::StepFailed,
        false => ExitStatus::Success,
    })
}

/// The environment checks, and the engine when it answers.
fn environment(global: &GlobalArgs) -> (Vec<Check>, Option<Engine>) {
    let mut checks = Vec::new();
    let context = global
        .context
        .as_deref()
        .filter(|context| !context.is_empty());
    let docker = DockerCli::locate(context).ok();
    match docker
        .as_ref()
        .and_then(|docker| docker.first_line_of(&["version", "--format", "{{.Client.Version}}"]))
    {
        Some(version) => checks.push(Check::ok("docker CLI", version)),
        None => checks.push(Check::bad(
            "docker CLI",
            Severity::Error,
            "not found on PATH",
            "install the docker CLI (Debian: apt-get install docker.io; elsewhere Docker Desktop)",
        )),
    }
    match crate::engine::api::endpoint(context) {
        Ok(endpoint) => checks.push(Check::ok(
            "docker context",
            match context.or(std::env::var("DOCKER_CONTEXT").ok().as_deref()) {
                Some(name) => format!("{name} ({endpoint})"),
                None => endpoint,
            },
        )),
        Err(error) => checks.push(Check::bad(
            "docker context",
            Severity::Error,
            format!("{error:#}"),
            "name an existing context (`docker context ls`)",
        )),
    }
    let engine = match Engine::connect(context) {
        Ok(engine) => {
            checks.push(Check::ok(
                "engine",
                format!(
                    "{} at {}",
                    engine
                        .server_version()
                        .unwrap_or_else(|| "version unknown".into()),
                    engine.host()
                ),
            ));
            Some(engine)
        }
        Err(error) => {
            checks.push(Check::bad(
                "engine",
                Severity::Error,
                format!("{error:#}"),
                "start the engine (`dockerd`, `systemctl start docker`, Docker Desktop) or point DOCKER_HOST / --context at one",
            ));
            None
        }
    };
    match docker.as_ref().and_then(|docker| docker.first_line_of(&["buildx", "version"])) {
        Some(version) => checks.push(Check::ok("buildx", version)),
        None => checks.push(Check::bad(
            "buildx",
            Severity::Warning,
            "not installed: compose falls back to the classic builder (no BuildKit features: secrets, cache mounts, multi-platform)",
            "install the buildx plugin (Debian: apt-get install docker-buildx)",
        )),
    }
    (checks, engine)
}

/// The backup directory's free space.
fn disk_check(project: &Project) -> Check {
    let directory = &project.layout.backup_root;
    match crate::backup::take::available_space(directory) {
        Some(free) if free < LOW_DISK => Check::bad(
            "backup disk",
            Severity::Warning,
            format!(
                "{} free in {}",
                crate::report::units::human_bytes(free),
                directory.display()
            ),
            "free some space, or set paths.backup_dir / DEVCTL_BACKUP_DIR to a larger disk",
        ),
        Some(free) => Check::ok(
            "backup disk",
            format!(
                "{} free in {}",
                crate::report::units::human_bytes(free),
                directory.display()
            ),
        ),
        None => Check::bad(
            "backup disk",
            Severity::Warning,
            format!("cannot read the free space of {}", directory.display()),
            "check that the backup directory's disk is mounted",
        ),
    }
}

fn project_findings(
    project: &Project,
    model: Result<&ComposeModel, &anyhow::Error>,
    printer: &Printer,
) -> Result<Vec<Finding>> {
    let root = project.root.path();
    let (model, raw_model, invalid) = match model {
        Ok(model) => (
            model.value().clone(),
            project.uninterpolated_model(printer)?,
            None,
        ),
        Err(error) => (Value::Null, Value::Null, Some(error)),
    };
    let files: Vec<ComposeSource> = project
        .compose_file_paths()
        .into_iter()
        .filter_map(|path| {
            let text = std::fs::read_to_string(&path).ok()?;
            Some(ComposeSource {
                path: shown(&path, root),
                positions: YamlPositions::parse(&text),
                value: serde_saphyr::from_str(&text).unwrap_or(Value::Null),
                text,
            })
        })
        .collect();
    let mut builds = Vec::new();
    for (service, definition) in model
        .get("services")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let Some(build) = definition.get("build") else {
            continue;
        };
        let remote = build
            .get("context")
            .and_then(Value::as_str)
            .is_some_and(|context| context.contains("://") || context.starts_with("git@"));
        if build.get("dockerfile_inline").is_some() || remote {
            continue;
        }
        let context = PathBuf::from(build.get("context").and_then(Value::as_str).unwrap_or("."));
        let context = if context.is_absolute() {
            context
        } else {
            root.join(context)
        };
        let dockerfile = context.join(
            build
                .get("dockerfile")
                .and_then(Value::as_str)
                .unwrap_or("Dockerfile"),
        );
        builds.push(BuildSource {
            service: service.clone(),
            dockerfile_path: shown(&dockerfile, root),
            dockerfile: std::fs::read_to_string(&dockerfile)
                .ok()
                .map(|text| Dockerfile::parse(&text)),
            target: build
                .get("target")
                .and_then(Value::as_str)
                .map(String::from),
            dockerignore: std::fs::read_to_string(context.join(".dockerignore")).ok(),
            context_has_env: context.join(".env").is_file(),
            context: shown(&context, root),
        });
    }
    let env_example = [
        root.to_path_buf(),
        crate::guard::checkout_owner::expected_working_dir(project),
    ]
    .iter()
    .map(|directory| directory.join(".env.example"))
    .find(|path| path.is_file())
    .and_then(|path| Some((shown(&path, root), std::fs::read_to_string(&path).ok()?)));
    let first_file = files.first().map(|file| Location::file(&file.path));
    let input = LintInput {
        model,
        raw_model,
        files,
        builds,
        protected: project.profile.protected_volumes.clone(),
        profile_names_project: project.profile.project_name.is_some(),
        env_example,
        defined: variables::defined_variables(&project.env_file_paths()),
    };
    let mut findings = project_rules::lint(&input);
    if let Some(error) = invalid {
        let cause = error.root_cause().to_string();
        findings.push(Finding::new(
            "compose-invalid",
            format!(
                "compose cannot read the project: {}",
                crate::compose::program::first_line(&cause).trim()
            ),
            first_file,
        ));
    }
    findings.extend(env_schema_findings(project)?);
    Ok(findings)
}

/// The ways the variables set for compose break the profile's env schema, located at the
/// schema.
fn env_schema_findings(project: &Project) -> Result<Vec<Finding>> {
    let Some(schema) = EnvSchema::load(&project.root, &project.profile)? else {
        return Ok(Vec::new());
    };
    let defined = variables::defined_variables(&project.env_file_paths());
    let location = Location::file(shown(&schema.path, project.root.path()));
    Ok(schema
        .problems(&defined)
        .into_iter()
        .map(|problem| Finding::new("required-variable-unset", problem, Some(location.clone())))
        .collect())
}

fn image_findings(
    project: &Project,
    model: &ComposeModel,
    engine: &Engine,
    printer: &Printer,
) -> Result<Vec<Finding>> {
    let mut findings = Vec::new();
    let Some(contracts) = &project.profile.doctor.images else {
        printer.warn("--images: the profile declares no image contract (doctor.images)");
        return Ok(findings);
    };
    let docker = DockerCli::locate(project.context.as_deref())?;
    let origin = project
        .profile
        .source
        .as_ref()
        .map(|path| shown(path, project.root.path()))
        .unwrap_or_else(|| PathBuf::from("(implicit profile)"));
    for (service, contract) in contracts {
        let image = contract.image.clone().or_else(|| {
            model
                .service(service)
                .and_then(|definition| definition.get("image"))
                .and_then(Value::as_str)
                .map(String::from)
        });
        let image = image.unwrap_or_else(|| format!("{}-{service}", model.name()));
        let location = Some(Location::file(&origin));
        if model.service(service).is_none() && contract.image.is_none() {
            findings.push(Finding::new(
                "image-contract",
                format!(
                    "doctor.images names service `{service}`, which this profile does not run (services: {})",
                    model.service_names().join(", ")
                ),
                location,
            ));
            continue;
        }
        match ImageFacts::read(engine, &docker, &image)? {
            None => findings.push(Finding::new(
                "image-contract",
                format!("service `{service}`: image {image} is not on the engine (build it first: `devctl up --build`)"),
                location,
            )),
            Some(facts) => {
                for broken in image_contract::check(contract, &facts) {
                    findings.push(Finding::new(
                        "image-contract",
                        format!("service `{service}`: image {image} {broken}"),
                        location.clone(),
                    ));
                }
            }
        }
    }
    Ok(findings)
}

/// The profile's `doctor.rules`: severities changed, rules turned off.
fn apply_overrides(project: &Project, findings: &mut Vec<Finding>) {
    let Some(rules) = &project.profile.doctor.rules else {
        return;
    };
    for finding in findings.iter_mut() {
        if let Some(severity) = rules.get(finding.rule) {
            finding.severity = *severity;
        }
    }
    findings.retain(|finding| finding.severity != Severity::Off);
}

fn summary(findings: &[Finding]) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::from([("error", 0), ("warning", 0), ("info", 0)]);
    for finding in findings {
        *counts.entry(finding.severity.name()).or_default() += 1;
    }
    counts
}

fn mark(severity: Severity) -> String {
    match severity {
        Severity::Off => style("✔").green().to_string(),
        Severity::Info => style("i").blue().to_string(),
        Severity::Warning => style("!").yellow().to_string(),
        Severity::Error => style("✘").red().to_string(),
    }
}

fn environment_text(checks: &[Check]) -> String {
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

fn print_human(project: &Project, checks: &[Check], findings: &[Finding], printer: &Printer) {
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
        text.push_str(&format!(
            "    {position:<7} {severity:<7} {} {}\n            {} {}\n",
            style(finding.rule).dim(),
            finding.message,
            style("fix:").cyan(),
            finding.hint
        ));
    }
    if findings.is_empty() {
        text.push_str(&format!("  {} no findings\n", mark(Severity::Off)));
    }
    let counts = summary(findings);
    text.push_str(&format!(
        "\n{} error(s), {} warning(s), {} note(s)\n",
        counts["error"], counts["warning"], counts["info"]
    ));
    printer.data(format!("{}\n", text.trim_end()));
}
