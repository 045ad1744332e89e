//! `Project`: a project root with its selected profile, state layout and compose program.
//!
//! It turns the profile into compose's global arguments (`-f`, `--env-file`, `--profile`,
//! `-p`) and resolves the compose model through the model cache.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use serde_json::Value;

use crate::cli::GlobalArgs;
use crate::compose::{ComposeCommand, ComposeProgram, first_line};
use crate::compose_inputs::ComposeInputs;
use crate::compose_model::ComposeModel;
use crate::failure::Failure;
use crate::model_cache::ModelCache;
use crate::printer::Printer;
use crate::profile::Profile;
use crate::profile_set::ProfileSet;
use crate::project_root::{COMPOSE_FILE_NAMES, ProjectRoot};
use crate::state_layout::StateLayout;

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
    /// `--quiet`: compose prints no progress either.
    pub quiet: bool,
}

impl Project {
    /// Finds the project, selects and resolves its profile, and locates compose.
    pub fn open(global: &GlobalArgs) -> Result<Project> {
        let working = std::env::current_dir().context("cannot read the working directory")?;
        let root = ProjectRoot::discover(&working, global.project_dir.as_deref())?;
        let profiles = ProfileSet::load(&root.profiles_dir())?;
        let profile = profiles.resolve_selected(global.profile_name())?;
        check_files(&root, &profile)?;
        let context = global.context.clone().filter(|context| !context.is_empty());
        // Fails early, before any compose call, when the named docker context does not exist.
        crate::engine::endpoint(context.as_deref())?;
        let layout = StateLayout::resolve(&profile, &root)?;
        let compose = ComposeProgram::locate(&layout.compose_probe())?;
        Ok(Project {
            root,
            profile,
            layout,
            compose,
            context,
            quiet: global.quiet,
        })
    }

    /// The compose arguments that come before the subcommand.
    fn global_arguments(&self, project_name: Option<&str>, scope: ServiceScope) -> Vec<String> {
        let mut argv = self.compose.argv.clone();
        if let (Some(context), true) = (&self.context, self.compose.is_docker_plugin()) {
            argv.splice(1..1, ["--context".to_string(), context.clone()]);
        }

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
        let inputs = ComposeInputs::collect(
            self.root.path(),
            &self.profile.compose_files,
            &self.profile.env_files,
        );
        printer.detail(format!("running: {}", command.line()));
        let output = command.capture()?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(anyhow::Error::msg(stderr.trim().to_string()).context(
                Failure::bad_input(format!(
                    "compose cannot resolve the project: {}",
                    first_line(&stderr).trim()
                ))
                .hint(format!(
                    "check the compose files and env files of profile `{}`; `{}` shows compose's own message",
                    self.profile.name,
                    command.line()
                )),
            ));
        }
        let value: Value = serde_json::from_slice(&output.stdout)
            .with_context(|| format!("`{}` printed something that is not JSON", command.line()))?;
        let model = ComposeModel::new(value)?;
        if inputs.uncacheable.is_none() {
            cache.store(&identity, inputs, model.value());
        }
        Ok(model)
    }
}

/// The profile's files must exist before compose is asked, so the error can name the profile.
fn check_files(root: &ProjectRoot, profile: &Profile) -> Result<()> {
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
    Ok(())
}
