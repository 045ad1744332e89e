//! `LintInput`: what the project rules read — compose's resolved model and its model without
//! interpolation, the compose files as written (for positions and variables), the
//! Dockerfiles the services build with their `.dockerignore`, `.env.example`, the variables
//! set for compose and the profile's env schema. `LintInput::collect` assembles it from a
//! project on disk; the rules are pure functions of it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde_json::Value;

use crate::compose::build_stage::{
    DockerfileSource, ShippedStage, dockerfile_source, shipped_stage,
};
use crate::compose::model::ComposeModel;
use crate::compose::variables;
use crate::doctor::dockerfile::Dockerfile;
use crate::doctor::finding::{Location, shown};
use crate::doctor::image_contract::ImageFacts;
use crate::doctor::yaml_positions::YamlPositions;
use crate::project::Project;
use crate::project::env_check::EnvSchema;
use crate::project::profile_file::ImageContract;
use crate::report::command_line::Stack;
use crate::report::printer::Printer;

/// One compose file as written.
#[derive(Debug, Clone)]
pub struct ComposeSource {
    /// As shown in findings (relative to the root when inside it).
    pub path: PathBuf,
    pub text: String,
    pub positions: YamlPositions,
    /// The file as data, for finding list items by content.
    pub value: Value,
}

/// A service's build: its Dockerfile and its context's `.dockerignore`.
#[derive(Debug, Clone)]
pub struct BuildSource {
    pub service: String,
    /// The context directory on disk.
    pub context: PathBuf,
    /// The Dockerfile as shown in findings.
    pub dockerfile_path: PathBuf,
    /// `None` when the file cannot be read.
    pub dockerfile: Option<Dockerfile>,
    /// Why the Dockerfile cannot be read, when it exists yet cannot be (not a regular file,
    /// too large, unreadable).
    pub unreadable: Option<String>,
    /// The compose file's `build.target`.
    pub target: Option<String>,
    /// The profile's `fidelity.build_targets` entry for the service.
    pub profile_target: Option<String>,
    pub dockerignore: Option<String>,
    /// Whether the context holds a `.env` file.
    pub context_has_env: bool,
    /// The images the project's services build (their `image:` beside `build:`), which a
    /// FROM may name whatever their tag.
    pub project_images: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct LintInput {
    /// Compose's resolved model (`config --format json`).
    pub model: Value,
    /// The same without interpolation (`config --no-interpolate --format json`).
    pub raw_model: Value,
    /// Why compose cannot resolve the project (its error line, not a warning printed before
    /// it), when it cannot; the models are then `Null`.
    pub invalid: Option<String>,
    pub files: Vec<ComposeSource>,
    pub builds: Vec<BuildSource>,
    /// The profile's protected volumes.
    pub protected: Vec<String>,
    /// Whether the profile sets compose.project_name.
    pub profile_names_project: bool,
    /// `.env.example`: where, and its text.
    pub env_example: Option<(PathBuf, String)>,
    /// The variables set for compose (environment and env files).
    pub defined: BTreeMap<String, String>,
    /// The profile's env schema (doctor.env_schema): where findings about it point, and the
    /// schema.
    pub env_schema: Option<(PathBuf, EnvSchema)>,
}

impl LintInput {
    /// Reads what the rules need from `project`, given compose's resolved `model` (or why
    /// compose cannot resolve it: the rules that read the files as written still run).
    pub fn collect(
        project: &Project,
        model: Result<&ComposeModel, &anyhow::Error>,
        printer: &Printer,
    ) -> Result<LintInput> {
        let root = project.root.path();
        let (model, raw_model, invalid) = match model {
            // Compose may resolve a project it cannot read without interpolation (a variable
            // where its schema wants a fixed word: `pull_policy: ${POLICY:-always}`); then
            // the compose files as written stand in for that model.
            Ok(model) => match project.uninterpolated_model(printer) {
                Ok(raw_model) => (model.value().clone(), raw_model, None),
                Err(error) => {
                    printer.warn(format!(
                        "{error:#}; the rules read the compose files as written for what they say before interpolation"
                    ));
                    (model.value().clone(), Value::Null, None)
                }
            },
            Err(error) => {
                let cause = error.root_cause().to_string();
                let line = crate::compose::program::error_line(&cause);
                (Value::Null, Value::Null, Some(line))
            }
        };
        let files: Vec<ComposeSource> = project
            .compose_file_paths()
            .into_iter()
            .filter_map(|path| {
                let text = std::fs::read_to_string(&path).ok()?;
                Some(ComposeSource {
                    path: shown(&path, root),
                    positions: YamlPositions::parse(&text),
                    value: crate::compose::yaml::from_str(&text).unwrap_or(Value::Null),
                    text,
                })
            })
            .collect();
        let raw_model = if raw_model.is_null() && invalid.is_none() {
            as_written(&files)
        } else {
            raw_model
        };
        let builds = BuildSource::collect(&model, project);
        let env_example = [root.to_path_buf(), project.compose_directory()]
            .iter()
            .map(|directory| directory.join(".env.example"))
            .find(|path| path.is_file())
            .and_then(|path| Some((shown(&path, root), read_text(&path).ok()?)));
        let env_schema = project
            .env_schema
            .clone()
            .map(|schema| (shown(&schema.path, root), schema));
        Ok(LintInput {
            model,
            raw_model,
            invalid,
            files,
            builds,
            protected: project.profile.protected_volumes.clone(),
            profile_names_project: project.profile.project_name.is_some(),
            env_example,
            defined: variables::defined_variables(&project.env_file_paths()),
            env_schema,
        })
    }

    /// The location of `path` in the compose files: the last file that has the most of it.
    pub(crate) fn locate(&self, path: &[&str]) -> Option<Location> {
        let mut best: Option<(usize, Location)> = None;
        for file in &self.files {
            if let Some(((line, column), matched)) = file.positions.locate(path)
                && best.as_ref().is_none_or(|(length, _)| matched >= *length)
            {
                best = Some((matched, Location::at(&file.path, line, column)));
            }
        }
        best.map(|(_, location)| location)
            .or_else(|| self.first_file())
    }

    /// The location of `services.SERVICE.PARTS…` (see `locate`).
    pub(crate) fn locate_in_service(&self, service: &str, parts: &[&str]) -> Option<Location> {
        let mut path = vec!["services", service];
        path.extend_from_slice(parts);
        self.locate(&path)
    }

    /// The position of the item of `services.SERVICE.LIST` that `matches`, found by content
    /// (indexes differ between files, and compose merges the lists of several).
    pub(crate) fn locate_item(
        &self,
        service: &str,
        list: &str,
        matches: impl Fn(&Value) -> bool,
    ) -> Option<Location> {
        for file in self.files.iter().rev() {
            let items = file
                .value
                .get("services")
                .and_then(|services| services.get(service))
                .and_then(|definition| definition.get(list))
                .and_then(Value::as_array);
            if let Some(index) = items.and_then(|items| items.iter().position(&matches)) {
                let index = index.to_string();
                if let Some(((line, column), _)) =
                    file.positions.locate(&["services", service, list, &index])
                {
                    return Some(Location::at(&file.path, line, column));
                }
            }
        }
        self.locate(&["services", service, list])
    }

    /// The first compose file, for findings about the project as a whole.
    pub(crate) fn first_file(&self) -> Option<Location> {
        self.files.first().map(|file| Location::file(&file.path))
    }

    /// The services of the resolved model, by name.
    pub(crate) fn services(&self) -> Vec<(&String, &Value)> {
        self.model
            .get("services")
            .and_then(Value::as_object)
            .map(|services| services.iter().collect())
            .unwrap_or_default()
    }

    /// A service as the model without interpolation has it.
    pub(crate) fn raw_service(&self, name: &str) -> Option<&Value> {
        self.raw_model
            .get("services")
            .and_then(|services| services.get(name))
    }
}

impl BuildSource {
    /// The stage of this build that ships (`compose::build_stage::shipped_stage`).
    pub(crate) fn shipped_stage(&self) -> ShippedStage {
        let stages = self.dockerfile.as_ref().map(Dockerfile::stage_names);
        shipped_stage(
            self.profile_target.as_deref(),
            self.target.as_deref(),
            stages.as_deref(),
        )
    }

    /// The builds of the services in `model` that build from a local context with a
    /// Dockerfile (not inline, not a remote context).
    fn collect(model: &Value, project: &Project) -> Vec<BuildSource> {
        let root = project.root.path();
        let project_images: Vec<String> = model
            .get("services")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter(|(_, definition)| definition.get("build").is_some())
            .filter_map(|(_, definition)| definition.get("image").and_then(Value::as_str))
            .map(String::from)
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
            let DockerfileSource::File {
                context,
                dockerfile,
            } = dockerfile_source(build, root)
            else {
                continue;
            };
            let read = read_text(&dockerfile);
            builds.push(BuildSource {
                service: service.clone(),
                dockerfile_path: shown(&dockerfile, root),
                dockerfile: read.as_ref().ok().map(|text| Dockerfile::parse(text)),
                unreadable: read.err().flatten(),
                target: build
                    .get("target")
                    .and_then(Value::as_str)
                    .map(String::from),
                profile_target: project.profile.fidelity.build_targets.get(service).cloned(),
                dockerignore: dockerignore_of(&dockerfile, &context),
                context_has_env: context.join(".env").is_file(),
                context: shown(&context, root),
                project_images: project_images.clone(),
            });
        }
        builds
    }
}

/// The most of a Dockerfile, `.dockerignore` or `.env.example` devctl reads: more is not a
/// file a person wrote.
const TEXT_LIMIT: u64 = 4 << 20;

/// A text file a build names, read with invalid UTF-8 replaced; `Err(None)` when it does not
/// exist, `Err(Some(why))` when it exists yet cannot be read as one (a FIFO, a device, a
/// directory, a huge file): a read never blocks nor fills memory.
fn read_text(path: &Path) -> Result<String, Option<String>> {
    use std::io::Read;
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Err(None),
        Err(error) => return Err(Some(format!("cannot be read ({error})"))),
    };
    if !metadata.is_file() {
        return Err(Some("is not a regular file".to_string()));
    }
    if metadata.len() > TEXT_LIMIT {
        return Err(Some(format!(
            "is larger than {} MiB, which no Dockerfile is",
            TEXT_LIMIT >> 20
        )));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(TEXT_LIMIT).read_to_end(&mut bytes))
        .map_err(|error| Some(format!("cannot be read ({error})")))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The ignore file BuildKit uses for a build: `<Dockerfile>.dockerignore` beside the
/// Dockerfile when there is one, else the context's `.dockerignore`.
fn dockerignore_of(dockerfile: &Path, context: &Path) -> Option<String> {
    let beside = dockerfile.file_name().map(|name| {
        let mut name = name.to_os_string();
        name.push(".dockerignore");
        dockerfile.with_file_name(name)
    });
    beside
        .and_then(|path| read_text(&path).ok())
        .or_else(|| read_text(&context.join(".dockerignore")).ok())
}

/// The services of the compose files as written, merged in order (a later file's keys over
/// an earlier's, service by service): the model without interpolation, where compose cannot
/// give it.
fn as_written(files: &[ComposeSource]) -> Value {
    let mut services = serde_json::Map::new();
    for file in files {
        let Some(written) = file.value.get("services").and_then(Value::as_object) else {
            continue;
        };
        for (name, service) in written {
            let merged = services
                .entry(name.clone())
                .or_insert_with(|| Value::Object(serde_json::Map::new()));
            if let (Some(merged), Some(service)) = (merged.as_object_mut(), service.as_object()) {
                for (key, value) in service {
                    merged.insert(key.clone(), value.clone());
                }
            }
        }
    }
    serde_json::json!({ "services": services })
}

/// One service's image, as the image rule reads it.
#[derive(Debug, Clone)]
pub struct ImageInput {
    pub service: String,
    /// The image checked: the contract's, else the service's.
    pub image: String,
    pub contract: ImageContract,
    /// The profile that declares the contract, where findings point.
    pub origin: PathBuf,
    pub state: ImageState,
    /// The stack checked, for the devctl command lines findings name.
    pub stack: Stack,
    /// The service as compose resolves it, for the compose-against-image rules; `None` for
    /// an image only the contract names.
    pub compose: Option<ComposeService>,
}

/// A service as compose resolves it, and where its keys are written.
#[derive(Debug, Clone)]
pub struct ComposeService {
    pub definition: Value,
    /// Where each key the image rules read (`healthcheck`, `command`, `entrypoint`, `user`,
    /// `ports`) is written, and the service itself (`""`).
    pub locations: BTreeMap<&'static str, Location>,
}

impl ComposeService {
    /// Reads `service` of `input`'s resolved model, `None` when there is no such service.
    pub fn of(input: &LintInput, service: &str) -> Option<ComposeService> {
        let definition = input.model.get("services")?.get(service)?.clone();
        let mut locations = BTreeMap::new();
        for key in ["", "healthcheck", "command", "entrypoint", "user", "ports"] {
            let parts: &[&str] = if key.is_empty() { &[] } else { &[key] };
            if let Some(location) = input.locate_in_service(service, parts) {
                locations.insert(key, location);
            }
        }
        Some(ComposeService {
            definition,
            locations,
        })
    }

    /// Where `key` is written, else the service.
    pub fn location(&self, key: &str) -> Option<Location> {
        self.locations
            .get(key)
            .or_else(|| self.locations.get(""))
            .cloned()
    }
}

/// What the engine knows of the image.
#[derive(Debug, Clone)]
pub enum ImageState {
    /// The contract names a service the profile does not run, and no image: the services it
    /// runs.
    UnknownService(Vec<String>),
    /// The engine does not have the image.
    Missing,
    Read(Box<ImageFacts>),
}
