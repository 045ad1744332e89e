//! `Project`: a project root with its selected profile, state layout and compose program.
//!
//! It turns the profile into compose's global arguments (`-f`, `--env-file`, `--profile`,
//! `-p`) and resolves the compose model through the model cache.

pub mod env_check;
pub mod lock;
pub mod profile;
pub mod profile_file;
pub mod profile_set;
pub mod required_variables;
pub mod root;
pub mod settings;
pub mod state_layout;

use std::collections::BTreeMap;

use std::path::PathBuf;

use anyhow::{Context, Result};
use serde_json::Value;

use crate::compose::inputs::ComposeInputs;
use crate::compose::model::ComposeModel;
use crate::compose::model_cache::ModelCache;
use crate::compose::program::{ComposeCommand, ComposeProgram, error_line};
use crate::compose::resolved::{Resolved, resolve};
use crate::engine::endpoint::Endpoint;
use crate::fidelity::stack::FidelityStack;
use crate::project::profile::Profile;
use crate::project::profile_set::ProfileSet;
use crate::project::root::{COMPOSE_FILE_NAMES, COMPOSE_OVERRIDE_NAMES, ProjectRoot};
use crate::project::state_layout::StateLayout;
use crate::report::command_line::Stack;
use crate::report::failure::Failure;
use crate::report::printer::Printer;

/// Which compose profiles a command activates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceScope {
    /// The devctl profile's compose profiles.
    Profile,
    /// Every compose profile (`--profile '*'`): all of the project's services.
    Everything,
}

#[derive(Debug, Clone)]
pub struct Project {
    pub root: ProjectRoot,
    pub profile: Profile,
    pub layout: StateLayout,
    pub compose: ComposeProgram,
    pub context: Option<String>,
    /// The engine `context` (or the environment) names, as API calls reach it.
    pub endpoint: Endpoint,
    /// `--quiet`: compose prints no progress either.
    pub quiet: bool,
    /// The profile's env schema (`doctor.env_schema`), compiled once when the project opens.
    pub env_schema: Option<env_check::EnvSchema>,
    /// The fidelity stack, when commands address it (`--fidelity`).
    pub fidelity: Option<FidelityStack>,
}

/// What selects a project: the settings of `Project::open`, resolved from the command line
/// and the environment by the caller.
#[derive(Debug, Clone, Default)]
pub struct ProjectOptions {
    /// The project directory; else the nearest one upwards from the working directory.
    pub directory: Option<PathBuf>,
    /// The profile; else the default one.
    pub profile: Option<String>,
    /// The docker context (never empty); else the environment's endpoint.
    pub context: Option<String>,
    /// compose prints no progress either.
    pub quiet: bool,
}

impl Project {
    /// Finds the project, selects and resolves its profile, and locates compose.
    pub fn open(options: &ProjectOptions) -> Result<Project> {
        let working = std::env::current_dir().context("cannot read the working directory")?;
        let root = ProjectRoot::discover(&working, options.directory.as_deref())?;
        let profiles = ProfileSet::load(&root.profiles_dir())?;
        let mut profile = profiles.resolve_selected(options.profile.as_deref())?;
        let checkout = root.checkout_name();
        for name in [
            &mut profile.project_name,
            &mut profile.fidelity.project_name,
        ]
        .into_iter()
        .flatten()
        {
            *name = name.replace(root::CHECKOUT_PLACEHOLDER, &checkout);
        }
        let env_schema = check_files(&root, &profile)?;
        let context = options.context.clone();
        // Resolved once, before any compose call: a named docker context that does not exist
        // fails here.
        let endpoint = Endpoint::resolve(context.as_deref())?;
        let layout = StateLayout::resolve(&profile, &root)?;
        let compose = ComposeProgram::locate(&layout.compose_probe())?;
        Ok(Project {
            root,
            profile,
            layout,
            compose,
            context,
            endpoint,
            quiet: options.quiet,
            env_schema,
            fidelity: None,
        })
    }

    /// The compose arguments that come before the subcommand: the fidelity stack's generated
    /// file once it is entered, else the profile's (`profile_arguments`).
    fn global_arguments(&self, project_name: Option<&str>, scope: ServiceScope) -> Vec<String> {
        let mut argv = self.compose_program();
        if let Some(fidelity) = &self.fidelity {
            // The generated file is compose's own resolved model: no env files, every
            // service active, its own project name.
            argv.extend([
                "-f".to_string(),
                fidelity.file.display().to_string(),
                "--project-directory".to_string(),
                fidelity.directory.display().to_string(),
                "-p".to_string(),
                fidelity.transformed.project.clone(),
            ]);
            return argv;
        }
        self.profile_arguments(argv, project_name, scope)
    }

    /// The compose program's words, with the docker context for the plugin.
    fn compose_program(&self) -> Vec<String> {
        let mut argv = self.compose.argv.clone();
        if let (Some(context), true) = (&self.context, self.compose.is_docker_plugin()) {
            argv.splice(1..1, ["--context".to_string(), context.clone()]);
        }
        argv
    }

    /// `argv` with the profile's compose files, env files, compose profiles and project name.
    fn profile_arguments(
        &self,
        mut argv: Vec<String>,
        project_name: Option<&str>,
        scope: ServiceScope,
    ) -> Vec<String> {
        for file in &self.profile.compose_files {
            argv.extend(["-f".into(), file.clone()]);
        }
        for env_file in &self.profile.env_files {
            argv.extend(["--env-file".into(), env_file.clone()]);
        }
        match scope {
            ServiceScope::Profile => {
                for profile in &self.profile.compose_profiles {
                    argv.extend(["--profile".into(), profile.clone()]);
                }
            }
            ServiceScope::Everything => argv.extend(["--profile".into(), "*".into()]),
        }
        if let Some(name) = project_name.or(self.profile.project_name.as_deref()) {
            argv.extend(["-p".into(), name.to_string()]);
        }
        argv
    }

    /// An exact compose command for `model`'s project: global arguments, then `arguments`.
    pub fn command(
        &self,
        model: &ComposeModel,
        scope: ServiceScope,
        arguments: &[String],
    ) -> ComposeCommand {
        let mut argv = self.global_arguments(Some(model.name()), scope);
        if self.quiet {
            argv.extend(["--progress".into(), "quiet".into()]);
        }
        argv.extend(arguments.iter().cloned());
        self.command_from(argv)
    }

    /// An exact compose command for project `name` described by the generated compose file
    /// `file` (a drill's sibling), with the profile's project directory: global arguments,
    /// then `arguments`.
    pub fn generated_command(
        &self,
        file: &std::path::Path,
        name: &str,
        arguments: &[String],
    ) -> ComposeCommand {
        let mut argv = self.compose_program();
        argv.extend([
            "-f".to_string(),
            file.display().to_string(),
            "--project-directory".to_string(),
            self.compose_directory().display().to_string(),
            "-p".to_string(),
            name.to_string(),
        ]);
        if self.quiet {
            argv.extend(["--progress".into(), "quiet".into()]);
        }
        argv.extend(arguments.iter().cloned());
        self.command_from(argv)
    }

    fn command_from(&self, argv: Vec<String>) -> ComposeCommand {
        let mut env = BTreeMap::new();
        if let (Some(context), false) = (&self.context, self.compose.is_docker_plugin()) {
            env.insert("DOCKER_CONTEXT".to_string(), context.clone());
        }
        ComposeCommand {
            argv,
            directory: self.root.path().to_path_buf(),
            env,
        }
    }

    /// Refuses (bad input) the first of `services` that is not a service of `model`, the
    /// profile's model, naming the profile and listing its services.
    pub fn check_services(&self, model: &ComposeModel, services: &[String]) -> Result<(), Failure> {
        let known = model.service_names();
        match services.iter().find(|service| !known.contains(service)) {
            None => Ok(()),
            Some(unknown) => Err(Failure::bad_input(format!(
                "service `{unknown}` is not in profile `{}`",
                self.profile.name
            ))
            .hint(format!("services: {}", known.join(", ")))),
        }
    }

    /// The compose files compose reads for this profile, as they are on disk.
    pub fn compose_file_paths(&self) -> Vec<PathBuf> {
        with_included(self.listed_compose_files())
    }

    /// The compose files compose is given: the profile's, else `COMPOSE_FILE`'s, else the
    /// default file (and its override) in the root.
    fn listed_compose_files(&self) -> Vec<PathBuf> {
        let root = self.root.path();
        if !self.profile.compose_files.is_empty() {
            return self
                .profile
                .compose_files
                .iter()
                .map(|file| root.join(file))
                .collect();
        }
        if let Ok(files) = std::env::var("COMPOSE_FILE") {
            let separator = std::env::var("COMPOSE_PATH_SEPARATOR").unwrap_or_else(|_| ":".into());
            return files
                .split(separator.as_str())
                .filter(|file| !file.is_empty())
                .map(|file| root.join(file))
                .collect();
        }
        let first = |names: &[&str]| {
            names
                .iter()
                .map(|name| root.join(name))
                .find(|path| path.is_file())
        };
        first(&COMPOSE_FILE_NAMES)
            .into_iter()
            .chain(first(&COMPOSE_OVERRIDE_NAMES))
            .collect()
    }

    /// The stack this project's commands address, for the devctl command lines hints name.
    pub fn stack(&self) -> Stack {
        let stack = match self.fidelity {
            Some(_) => Stack::fidelity(),
            None => Stack::live(),
        };
        stack.through(self.context.as_deref())
    }

    /// Compose's project directory for the profile's files (which it records on containers
    /// as `working_dir`): the first compose file's folder, else the root.
    pub fn compose_directory(&self) -> PathBuf {
        self.listed_compose_files()
            .first()
            .and_then(|file| file.parent())
            .map_or_else(|| self.root.path().to_path_buf(), PathBuf::from)
    }

    /// The env files compose reads for this profile: the profile's, else `.env` in the
    /// project directory (the first compose file's folder).
    pub fn env_file_paths(&self) -> Vec<PathBuf> {
        let root = self.root.path();
        if !self.profile.env_files.is_empty() {
            return self
                .profile
                .env_files
                .iter()
                .map(|file| root.join(file))
                .collect();
        }
        vec![self.compose_directory().join(".env")]
    }

    /// Compose's model without interpolation (`config --no-interpolate`): `${VAR}` as written
    /// in the profile's compose files — also on the fidelity stack, whose generated file holds
    /// compose's resolved values (interpolated, and with the transform's changes).
    pub fn uninterpolated_model(&self, printer: &Printer) -> Result<Value> {
        let mut argv = self.profile_arguments(self.compose_program(), None, ServiceScope::Profile);
        argv.extend(["config", "--no-interpolate", "--format", "json"].map(String::from));
        let command = self.command_from(argv);
        printer.detail(format!("running: {}", command.line()));
        match resolve(&command)? {
            Resolved::Model(model) => Ok(model),
            Resolved::Refused(stderr) => Err(Failure::bad_input(format!(
                "compose cannot read the project without interpolation: {}",
                error_line(&stderr)
            ))
            .into()),
        }
    }

    /// The resolved compose model. With `fresh`, compose is always asked (commands that can
    /// destroy anything); otherwise a cached model is used when none of its inputs changed.
    pub fn model(
        &self,
        scope: ServiceScope,
        fresh: bool,
        printer: &Printer,
    ) -> Result<ComposeModel> {
        let mut argv = self.global_arguments(None, scope);
        argv.extend(["config", "--format", "json"].map(String::from));
        let command = self.command_from(argv);
        let identity = format!(
            "devctl {}\ncompose {}\n{}\n{}\n{}",
            env!("CARGO_PKG_VERSION"),
            self.compose.version,
            command.line(),
            self.root.path().display(),
            serde_json::to_string(&self.profile).unwrap_or_default(),
        );
        let cache = ModelCache::new(self.layout.model_cache(&self.root));
        let cached = if fresh { None } else { cache.lookup(&identity) };
        if let Some(value) = cached {
            printer.detail("compose model: unchanged inputs, using the cached model");
            return Ok(ComposeModel::new(value)?);
        }
        let inputs = match &self.fidelity {
            Some(fidelity) => ComposeInputs::collect(
                self.root.path(),
                &[fidelity.file.display().to_string()],
                &[],
            ),
            None => ComposeInputs::collect(
                self.root.path(),
                &self.profile.compose_files,
                &self.profile.env_files,
            ),
        };
        printer.detail(format!("running: {}", command.line()));
        let value = match resolve(&command)? {
            Resolved::Model(value) => value,
            Resolved::Refused(stderr) => {
                return Err(anyhow::Error::msg(stderr.trim().to_string()).context(
                Failure::bad_input(format!(
                    "compose cannot resolve the project: {}",
                    error_line(&stderr)
                ))
                .hint(format!(
                    "check the compose files and env files of profile `{}`; `{}` shows compose's own message",
                    self.profile.name,
                    command.line()
                )),
            ));
            }
        };
        let model = ComposeModel::new(value)?;
        if inputs.uncacheable.is_none() {
            cache.store(&identity, inputs, model.value());
        }
        Ok(model)
    }
}

/// `files` and the files they pull in (`include:`, `extends.file`), each once, in order.
fn with_included(files: Vec<PathBuf>) -> Vec<PathBuf> {
    let mut all: Vec<PathBuf> = Vec::new();
    let mut pending = files;
    pending.reverse();
    while let Some(file) = pending.pop() {
        if all.contains(&file) || all.len() > 64 {
            continue;
        }
        let directory = file.parent().map(PathBuf::from).unwrap_or_default();
        let parsed: Option<Value> = std::fs::read_to_string(&file)
            .ok()
            .and_then(|text| crate::compose::yaml::from_str(&text).ok());
        all.push(file);
        let Some(parsed) = parsed else {
            continue;
        };
        let mut pulled = Vec::new();
        for entry in parsed
            .get("include")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            match entry {
                Value::String(path) => pulled.push(path.clone()),
                Value::Object(entry) => match entry.get("path") {
                    Some(Value::String(path)) => pulled.push(path.clone()),
                    Some(Value::Array(paths)) => {
                        pulled.extend(paths.iter().filter_map(Value::as_str).map(String::from))
                    }
                    _ => {}
                },
                _ => {}
            }
        }
        for service in parsed
            .get("services")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|services| services.values())
        {
            if let Some(path) = service.pointer("/extends/file").and_then(Value::as_str) {
                pulled.push(path.to_string());
            }
        }
        for path in pulled.into_iter().rev() {
            pending.push(directory.join(path));
        }
    }
    all
}

/// The profile's files must exist before compose is asked, so the error can name the profile.
/// Returns the profile's env schema, compiled.
fn check_files(root: &ProjectRoot, profile: &Profile) -> Result<Option<env_check::EnvSchema>> {
    let origin = profile
        .source
        .as_ref()
        .map(|path| path.display().to_string())
        .unwrap_or_else(|| "the implicit profile".into());
    for (key, files) in [
        ("compose.files", &profile.compose_files),
        ("compose.env_files", &profile.env_files),
    ] {
        for file in files {
            let path = root.path().join(file);
            if !path.is_file() {
                return Err(Failure::bad_input(format!(
                    "{origin}: {key} names `{file}`, which does not exist ({})",
                    path.display()
                ))
                .hint(format!(
                    "create it or fix `{key}` in the profile (paths are relative to {})",
                    root.path().display()
                ))
                .into());
            }
        }
    }
    let env_schema = env_check::EnvSchema::load(root, profile)?;
    let defaults_apply =
        profile.compose_files.is_empty() && std::env::var_os("COMPOSE_FILE").is_none();
    if defaults_apply
        && !COMPOSE_FILE_NAMES
            .iter()
            .any(|name| root.path().join(name).is_file())
    {
        return Err(Failure::bad_input(format!(
            "no compose file in {} and {origin} names none",
            root.path().display()
        ))
        .hint(format!(
            "add one of {} there, or list files under compose.files in the profile",
            COMPOSE_FILE_NAMES.join(", ")
        ))
        .into());
    }
    Ok(env_schema)
}
