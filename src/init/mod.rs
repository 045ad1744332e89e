//! `devctl init`: sets up an existing compose project in one step. It reads the project as
//! compose resolves it (`config --format json`, every compose profile active), chooses the
//! compose files, finds the volumes that hold database data, the backup each gets and the
//! stage each built service ships, and writes commented profiles (`default`, and one per
//! compose profile), a Makefile block and `.env.example`. It never overwrites a file: where
//! `profiles/` exists it writes nothing and says what it would add.

pub mod compose_files;
pub mod detect;
pub mod extras;
pub mod render;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::Value;

use crate::compose::model::ComposeModel;
use crate::compose::program::{ComposeCommand, ComposeProgram, error_line};
use crate::compose::resolved::{Resolved, resolve};
use crate::doctor::rule_id::Severity;
use crate::guard::confirmation::can_prompt;
use crate::init::compose_files::ComposeFiles;
use crate::init::detect::DataSource;
use crate::init::render::Setup;
use crate::project::profile::Profile;
use crate::project::root::ProjectRoot;
use crate::project::state_layout::StateLayout;
use crate::report::exit_status::ExitStatus;
use crate::report::failure::Failure;
use crate::report::printer::Printer;

/// What `devctl init` is asked to do.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The project directory; else the working directory.
    pub directory: Option<PathBuf>,
    /// Print what would be written, writing nothing.
    pub dry_run: bool,
}

/// One file init writes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Planned {
    /// Relative to the root.
    path: String,
    content: String,
    /// Appended to an existing file (the Makefile) rather than created.
    append: bool,
}

/// Compose, run on the project's files for what init reads.
struct Reader {
    compose: ComposeProgram,
    root: PathBuf,
}

impl Reader {
    /// Compose's model of `files` with every compose profile active.
    fn model(&self, files: &[String], interpolate: bool) -> Result<Value> {
        let mut argv = self.compose.argv.clone();
        for file in files {
            argv.extend(["-f".to_string(), file.clone()]);
        }
        argv.extend(["--profile", "*", "config"].map(String::from));
        if !interpolate {
            argv.push("--no-interpolate".into());
        }
        argv.extend(["--format", "json"].map(String::from));
        let command = ComposeCommand {
            argv,
            directory: self.root.clone(),
            env: Default::default(),
        };
        let stderr = match resolve(&command)? {
            Resolved::Model(model) => return Ok(model),
            Resolved::Refused(stderr) => stderr,
        };
        Err(anyhow::Error::msg(stderr.trim().to_string()).context(
                Failure::bad_input(format!(
                    "compose cannot read {}: {}",
                    files.join(", "),
                    error_line(&stderr)
                ))
                .hint(format!(
                    "fix what compose says, then run devctl init again; `{}` shows compose's own message",
                    command.line()
                )),
            ))
    }

    /// How many services `file` defines alone, or `None` when compose cannot read it alone.
    fn service_count(&self, file: &str) -> Option<usize> {
        let model = self.model(&[file.to_string()], true).ok()?;
        Some(model.get("services")?.as_object()?.len())
    }
}

/// Sets up the project `options` name, or prints what it would write; exit 0 also where it
/// is already set up.
pub fn run(options: &Options, printer: &Printer) -> Result<ExitStatus> {
    let working = std::env::current_dir().context("cannot read the working directory")?;
    let directory = options
        .directory
        .clone()
        .unwrap_or_else(|| PathBuf::from("."));
    let root = ProjectRoot::discover(&working, Some(&directory))?;
    let layout = StateLayout::resolve(&Profile::implicit(), &root)?;
    let compose = ComposeProgram::locate(&layout.compose_probe())?;
    let reader = Reader {
        compose,
        root: root.path().to_path_buf(),
    };
    // Questions only when init is going to write: not for a dry run, nor where profiles/ is.
    let ask = can_prompt() && !options.dry_run && !root.profiles_dir().exists();
    let chosen = choose_files(&reader, ask)?;
    let resolved = ComposeModel::new(reader.model(&chosen.files, true)?)?;
    let written = reader.model(&chosen.files, false)?;
    let mut setup = setup(&chosen, &resolved, root.path());
    if ask {
        ask_protections(&mut setup, &resolved)?;
    }
    let planned = plan(&setup, root.path())?;
    report_choices(&chosen, &setup, &written, root.path(), printer);
    if options.dry_run {
        for file in &planned {
            let verb = if file.append { "append to" } else { "write" };
            printer.data(format!(
                "# devctl init would {verb} {}:\n{}",
                file.path, file.content
            ));
        }
        printer.info(format!(
            "dry run: init would write {} file(s) and wrote nothing",
            planned.len()
        ));
        return Ok(ExitStatus::Success);
    }
    if root.profiles_dir().exists() {
        return Ok(already_set_up(&planned, root.path(), printer));
    }
    write(&planned, root.path())?;
    for file in &planned {
        let verb = if file.append {
            "appended devctl's block to"
        } else {
            "wrote"
        };
        printer.info(format!("{verb} {}", file.path));
    }
    doctor_summary(root.path(), printer);
    printer.info("next: `devctl up` starts the stack; `devctl doctor` checks the project; `devctl profiles` lists the profiles");
    Ok(ExitStatus::Success)
}

/// How many findings the doctor shows with the new profiles, and the three that matter most.
/// The profiles are written by then: a doctor that cannot run is said, not a failure.
fn doctor_summary(root: &Path, printer: &Printer) {
    let options = crate::project::ProjectOptions {
        directory: Some(root.to_path_buf()),
        ..Default::default()
    };
    let findings = crate::project::Project::open(&options)
        .and_then(|project| crate::doctor::run::project_findings(&project, printer));
    let findings = match findings {
        Ok(findings) => findings,
        Err(error) => {
            printer.warn(format!("doctor could not check the project: {error:#}"));
            return;
        }
    };
    let shown: Vec<_> = findings
        .iter()
        .filter(|finding| finding.severity > Severity::Info)
        .collect();
    if shown.is_empty() {
        printer.info(format!(
            "doctor: no warnings or errors ({} notes; `devctl doctor` shows them)",
            findings.len()
        ));
        return;
    }
    printer.info(format!(
        "doctor: {} warning(s) or error(s); the {} that matter most (`devctl doctor` shows all):",
        shown.len(),
        shown.len().min(3)
    ));
    for finding in shown.iter().take(3) {
        let location = finding
            .location
            .as_ref()
            .map(|location| format!(" ({})", location.text()))
            .unwrap_or_default();
        printer.info(format!(
            "  {} {}: {}{location}",
            finding.severity.name(),
            finding.rule.as_str(),
            finding.message
        ));
    }
}

/// The compose files: compose's own defaults, else the candidate with the most services (on
/// a terminal, the person's choice among the candidates).
fn choose_files(reader: &Reader, ask: bool) -> Result<ComposeFiles> {
    if let Some((files, variable)) =
        compose_files::from_variable(&reader.root, |name| std::env::var(name).ok())
    {
        return Ok(ComposeFiles {
            files,
            compose_default: false,
            others: Vec::new(),
            variable: Some(variable),
        });
    }
    let defaults = compose_files::compose_defaults(&reader.root);
    if !defaults.is_empty() {
        return Ok(ComposeFiles {
            files: defaults,
            compose_default: true,
            others: Vec::new(),
            variable: None,
        });
    }
    let candidates = compose_files::other_candidates(&reader.root)?;
    if candidates.is_empty() {
        return Err(Failure::bad_input(format!(
            "no compose file in {}",
            reader.root.display()
        ))
        .hint("run devctl init in the folder of the project's compose file (compose.yaml, docker-compose.yml, or any *compose*.yml), or pass --project-dir")
        .into());
    }
    let counted: Vec<(String, Option<usize>)> = candidates
        .iter()
        .map(|name| (name.clone(), reader.service_count(name)))
        .collect();
    let Some(best) = compose_files::most_services(&counted).map(String::from) else {
        return Err(Failure::bad_input(format!(
            "compose cannot read any of the compose files in {}: {}",
            reader.root.display(),
            candidates.join(", ")
        ))
        .hint(format!(
            "check one with `docker compose -f {} config`",
            candidates[0]
        ))
        .into());
    };
    let readable: Vec<(String, usize)> = counted
        .iter()
        .filter_map(|(name, count)| Some((name.clone(), (*count)?)))
        .collect();
    let mut file = best;
    if ask && readable.len() > 1 {
        let items: Vec<String> = readable
            .iter()
            .map(|(name, count)| format!("{name} ({})", services(*count)))
            .collect();
        let default = readable
            .iter()
            .position(|(name, _)| *name == file)
            .unwrap_or_default();
        let picked = dialoguer::Select::new()
            .with_prompt("Which compose file does this project run with?")
            .items(&items)
            .default(default)
            .interact()
            .map_err(|error| {
                Failure::new(
                    ExitStatus::Refused,
                    format!("no compose file chosen: {error}"),
                )
            })?;
        file = readable[picked].0.clone();
    }
    Ok(ComposeFiles {
        files: vec![file],
        compose_default: false,
        others: readable,
        variable: None,
    })
}

/// What init learned from compose's model.
fn setup(chosen: &ComposeFiles, model: &ComposeModel, root: &Path) -> Setup {
    let services = model.service_names();
    let mut compose_profiles: Vec<String> = Vec::new();
    let mut ungated = Vec::new();
    for service in &services {
        let profiles: Vec<String> = model
            .service(service)
            .and_then(|definition| definition.get("profiles"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect();
        if profiles.is_empty() {
            ungated.push(service.clone());
        }
        compose_profiles.extend(profiles);
    }
    compose_profiles.sort();
    compose_profiles.dedup();
    let default_profiles = match (ungated.is_empty(), compose_profiles.first()) {
        (true, Some(first)) => match compose_profiles.iter().any(|name| name == "default") {
            true => vec!["default".to_string()],
            false => vec![first.clone()],
        },
        _ => Vec::new(),
    };
    let (compose_files, compose_files_reason) = match chosen.compose_default {
        true => (Vec::new(), chosen.files.join(" and ")),
        false => (
            chosen.files.clone(),
            match (chosen.variable, chosen.others.len()) {
                (Some(variable), _) => format!("the files {variable} names"),
                (None, 1) => "the project's only compose file".to_string(),
                (None, count) => format!(
                    "of the {count} compose files here, the one that defines the most services (ties: name order)"
                ),
            },
        ),
    };
    Setup {
        compose_files,
        compose_files_reason,
        services,
        ungated,
        compose_profiles,
        default_profiles,
        databases: detect::database_mounts(model, root),
        built: detect::built_services(model, root),
        ..Setup::default()
    }
}

/// On a terminal: which of the project's named volumes to protect, the database ones
/// preselected.
fn ask_protections(setup: &mut Setup, model: &ComposeModel) -> Result<()> {
    let mut volumes: Vec<String> = model
        .volumes()
        .into_iter()
        .map(|volume| volume.key)
        .collect();
    if volumes.is_empty() {
        return Ok(());
    }
    volumes.sort();
    let protected = setup.protected_volumes();
    let preselected: Vec<bool> = volumes.iter().map(|key| protected.contains(key)).collect();
    let picked = dialoguer::MultiSelect::new()
        .with_prompt("Which volumes must devctl never delete? (space toggles, enter accepts)")
        .items(&volumes)
        .defaults(&preselected)
        .interact()
        .map_err(|error| {
            Failure::new(ExitStatus::Refused, format!("no volumes chosen: {error}"))
        })?;
    let picked: Vec<String> = picked
        .into_iter()
        .map(|index| volumes[index].clone())
        .collect();
    setup.databases.retain(|mount| match &mount.source {
        DataSource::Volume(key) => picked.contains(key),
        _ => true,
    });
    setup.extra_protected = picked
        .into_iter()
        .filter(|key| !protected.contains(key))
        .collect();
    Ok(())
}

/// Every file init would write for `setup` in `root`.
fn plan(setup: &Setup, root: &Path) -> Result<Vec<Planned>> {
    let mut planned = vec![Planned {
        path: "profiles/default.yaml".into(),
        content: render::default_profile(setup),
        append: false,
    }];
    for (name, activated) in setup.tiers() {
        planned.push(Planned {
            path: format!("profiles/{name}.yaml"),
            content: render::tier_profile(&activated),
            append: false,
        });
    }
    let makefile = ["Makefile", "makefile", "GNUmakefile"]
        .iter()
        .find(|name| root.join(name).is_file());
    match makefile {
        Some(name) => {
            let path = root.join(name);
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            if !extras::has_block(&text) {
                let appended = extras::with_block(&text);
                planned.push(Planned {
                    path: name.to_string(),
                    content: appended[text.len()..].to_string(),
                    append: true,
                });
            }
        }
        None => planned.push(Planned {
            path: "Makefile".into(),
            content: extras::with_block(""),
            append: false,
        }),
    }
    let env = root.join(".env");
    let has_example = extras::ENV_EXAMPLES
        .iter()
        .any(|name| root.join(name).exists());
    if env.is_file() && !has_example {
        let text = std::fs::read_to_string(&env)
            .with_context(|| format!("cannot read {}", env.display()))?;
        planned.push(Planned {
            path: ".env.example".into(),
            content: extras::env_example(&text),
            append: false,
        });
    }
    Ok(planned)
}

/// Says every choice init made (or would make).
fn report_choices(
    chosen: &ComposeFiles,
    setup: &Setup,
    written: &Value,
    root: &Path,
    printer: &Printer,
) {
    if let Some(variable) = chosen.variable {
        printer.info(format!(
            "compose files: {} (named by {variable}; listed in compose.files so that every devctl command uses them)",
            chosen.files.join(", ")
        ));
    } else {
        report_candidates(chosen, setup, printer);
    }
    report_rest(setup, written, root, printer);
}

fn report_candidates(chosen: &ComposeFiles, setup: &Setup, printer: &Printer) {
    match chosen.compose_default {
        true => printer.info(format!(
            "compose files: {} (the ones compose reads by itself)",
            chosen.files.join(", ")
        )),
        false => printer.info(format!(
            "compose files: {} — {}; the others: {}. To use another, edit compose.files in profiles/default.yaml",
            chosen.files.join(", "),
            setup.compose_files_reason,
            match chosen.others.len() {
                1 => "none".to_string(),
                _ => chosen
                    .others
                    .iter()
                    .filter(|(name, _)| !chosen.files.contains(name))
                    .map(|(name, count)| format!("{name} ({})", services(*count)))
                    .collect::<Vec<_>>()
                    .join(", "),
            }
        )),
    }
}

fn report_rest(setup: &Setup, written: &Value, root: &Path, printer: &Printer) {
    let env = root.join(".env");
    if env.is_file() {
        printer.info("env: compose reads .env for interpolation");
    } else if let Some(example) = extras::ENV_EXAMPLES
        .iter()
        .find(|name| root.join(name).is_file())
    {
        printer.warn(format!(
            "env: there is no .env, but {example} exists: create it with `cp {example} .env` and fill it in"
        ));
    }
    for service in &setup.services {
        let env_files: Vec<String> = written
            .pointer(&format!(
                "/services/{}/env_file",
                service.replace('~', "~0").replace('/', "~1")
            ))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|entry| entry.get("path").and_then(Value::as_str))
            .map(|path| {
                Path::new(path)
                    .strip_prefix(root)
                    .map(|relative| relative.display().to_string())
                    .unwrap_or_else(|_| path.to_string())
            })
            .collect();
        if !env_files.is_empty() {
            printer.info(format!(
                "env: service {service} reads {}",
                env_files.join(", ")
            ));
        }
    }
    match setup.default_profiles.as_slice() {
        [] => printer.info(format!(
            "profiles: default ({} services no compose profile gates){}",
            setup.ungated.len(),
            tier_list(setup)
        )),
        activated => printer.info(format!(
            "profiles: default activates compose profile {} (every service sits behind one){}",
            activated.join(", "),
            tier_list(setup)
        )),
    }
    for mount in &setup.databases {
        let line = match &mount.source {
            DataSource::Volume(key) => {
                let backup = match detect::dump_hook(mount.store) {
                    Some(_) => "backed up by a dump hook",
                    None => "backed up with its services stopped",
                };
                format!(
                    "protected: volume {key} ({} data of service {} at {}), {backup}",
                    mount.store, mount.service, mount.target
                )
            }
            DataSource::Bind(path) => format!(
                "not a volume: {} data of service {} is kept in the host folder {path}; compose never deletes it and devctl backup does not copy it — back it up from the host, or move it into a named volume",
                mount.store, mount.service
            ),
            DataSource::Anonymous => format!(
                "unprotectable: {} data of service {} at {} is in an anonymous volume; name it to protect it",
                mount.store, mount.service, mount.target
            ),
            DataSource::Unmounted => format!(
                "unprotectable: {} data of service {} is in no volume; mount a named volume at {} to keep, guard and back it up",
                mount.store, mount.service, mount.target
            ),
        };
        printer.info(line);
    }
    for key in &setup.extra_protected {
        printer.info(format!("protected: volume {key} (chosen)"));
    }
    if setup.databases.is_empty() && setup.extra_protected.is_empty() {
        printer.info("protected: no volume holds database data that init recognises; list others under guard.protected_volumes");
    }
    for (service, stage, reason) in setup.build_targets() {
        match stage {
            Some(stage) => printer.info(format!(
                "fidelity: {service} ships stage {stage} ({reason})"
            )),
            None => printer.info(format!("fidelity: {service} ships {reason}")),
        }
    }
    for built in &setup.built {
        for (source, target) in &built.source_mounts {
            printer.info(format!(
                "fidelity: drops the source mount {source} -> {target} of {} (keep it with fidelity.keep_mounts)",
                built.service
            ));
        }
    }
}

/// `1 service`, `3 services`.
fn services(count: usize) -> String {
    match count {
        1 => "1 service".into(),
        count => format!("{count} services"),
    }
}

fn tier_list(setup: &Setup) -> String {
    let tiers = setup.tiers();
    match tiers.is_empty() {
        true => String::new(),
        false => format!(
            ", and {} for the compose profiles",
            tiers
                .iter()
                .map(|(name, _)| name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// With `profiles/` there: writes nothing, and says whether anything is missing.
fn already_set_up(planned: &[Planned], root: &Path, printer: &Printer) -> ExitStatus {
    let mut missing = Vec::new();
    let mut different = Vec::new();
    for file in planned {
        if file.append {
            missing.push(format!("devctl's block in {}", file.path));
            continue;
        }
        match std::fs::read_to_string(root.join(&file.path)) {
            Ok(text) if text == file.content => {}
            Ok(_) => different.push(file.path.clone()),
            Err(_) => missing.push(file.path.clone()),
        }
    }
    if missing.is_empty() {
        printer.info(format!(
            "the project is already set up ({} exists); init changed nothing",
            root.join("profiles").display()
        ));
        if !different.is_empty() {
            printer.info(format!(
                "kept as they are, though init would now write them otherwise: {}",
                different.join(", ")
            ));
        }
        return ExitStatus::Success;
    }
    printer.warn(format!(
        "profiles/ exists, so init wrote nothing; it would add: {}",
        missing.join(", ")
    ));
    if !different.is_empty() {
        printer.info(format!(
            "and it would write these otherwise: {}",
            different.join(", ")
        ));
    }
    printer.info("`devctl init --dry-run` prints what it would write; copy what you want from it");
    ExitStatus::Success
}

/// Writes the planned files, never replacing one.
fn write(planned: &[Planned], root: &Path) -> Result<()> {
    use std::io::Write;
    let profiles = root.join("profiles");
    std::fs::create_dir(&profiles)
        .with_context(|| format!("cannot create {}", profiles.display()))?;
    for file in planned {
        let path = root.join(&file.path);
        let mut options = std::fs::OpenOptions::new();
        match file.append {
            true => options.append(true),
            false => options.write(true).create_new(true),
        };
        let mut handle = options
            .open(&path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        handle
            .write_all(file.content.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
