//! `Workspace`: a project opened for work on its volumes — its model, the engine, the docker
//! CLI, its backup store and its state directory — which backups, restores and the guard's
//! steps work with.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Result;
use bollard::models::{ContainerInspectResponse, ContainerStateStatusEnum};

use crate::backup::store::BackupStore;
use crate::backup::target::{self, VolumeTarget};
use crate::compose::model::ComposeModel;
use crate::compose::program::DockerCli;
use crate::engine::api::Engine;
use crate::engine::service_status::service_of;
use crate::project::lock::ProjectLock;
use crate::project::{Project, ServiceScope};
use crate::report::failure::Failure;
use crate::report::printer::Printer;

pub struct Workspace {
    pub project: Project,
    pub model: ComposeModel,
    pub engine: Engine,
    pub docker: DockerCli,
    pub store: BackupStore,
    /// The project's state directory (lock, journal, audit log).
    pub state: PathBuf,
    /// The engine's volume sizes, asked once (`volume_sizes`).
    sizes: std::sync::OnceLock<BTreeMap<String, u64>>,
}

impl Workspace {
    /// Resolves `project`'s model for the services `scope` selects (afresh when `fresh`), and
    /// connects to the engine.
    pub fn new(
        project: Project,
        scope: ServiceScope,
        fresh: bool,
        printer: &Printer,
    ) -> Result<Workspace> {
        let model = project.model(scope, fresh, printer)?;
        let engine = Engine::connect(&project.endpoint)?;
        let docker = DockerCli::locate(project.context.as_deref())?;
        let store = BackupStore::new(
            project.layout.project_backups(model.name()),
            project.stack(),
        );
        let state = project.layout.project_state(model.name(), &project.root);
        Ok(Workspace {
            project,
            model,
            engine,
            docker,
            store,
            state,
            sizes: std::sync::OnceLock::new(),
        })
    }

    /// The engine's volume sizes by name (empty when the engine does not say): `docker system
    /// df --verbose` is slow, so a guarded step's plan and the backup after it share one.
    pub fn volume_sizes(&self) -> &BTreeMap<String, u64> {
        self.sizes
            .get_or_init(|| self.docker.volume_sizes().unwrap_or_default())
    }

    /// The directory compose records on the project's containers as their working_dir: the
    /// fidelity stack's, else the folder of the first compose file.
    pub fn working_directory(&self) -> PathBuf {
        match &self.project.fidelity {
            Some(fidelity) => fidelity.directory.clone(),
            None => self.project.compose_directory(),
        }
    }

    /// The volumes of the profile's services (see `target::select`).
    pub fn targets(&self, requested: &[String], anonymous: bool) -> Result<Vec<VolumeTarget>> {
        let containers = self.engine.project_containers(self.model.name())?;
        target::select(
            &self.model,
            &containers,
            &self.project.profile.backup,
            requested,
            anonymous,
        )
    }

    /// Takes the project's lock for `purpose`, then clears what interrupted runs left
    /// (unfinished backup directories, helper containers, drills' sibling projects).
    pub fn lock(&self, purpose: &str, printer: &Printer) -> Result<ProjectLock> {
        let lock = ProjectLock::take(&self.state, self.model.name(), purpose, printer)?;
        self.clear_leftovers(printer)?;
        Ok(lock)
    }

    /// Removes the unfinished backup directories, the helper containers and the drills' sibling
    /// projects of runs that were interrupted (call it holding the lock).
    fn clear_leftovers(&self, printer: &Printer) -> Result<()> {
        for id in self.store.clean_partials()? {
            printer.detail(format!(
                "removed the unfinished backup {id} of an interrupted run"
            ));
        }
        self.engine.remove_stale_helpers(self.model.name())?;
        crate::backup::drill_leftovers::clear_abandoned(
            &self.engine,
            &self.state,
            self.model.name(),
            printer,
        )?;
        Ok(())
    }

    /// Services of the project with a running container.
    pub fn running_services(&self) -> Result<Vec<String>> {
        let mut running: Vec<String> = self
            .engine
            .project_containers(self.model.name())?
            .iter()
            .filter(|container| {
                container.state.as_ref().and_then(|state| state.status)
                    == Some(ContainerStateStatusEnum::RUNNING)
            })
            .filter_map(service_of)
            .collect();
        running.sort();
        running.dedup();
        Ok(running)
    }

    /// Runs `compose <verb> SERVICES…` for the project; nothing when `services` is empty.
    pub fn compose(&self, verb: &[&str], services: &[String], printer: &Printer) -> Result<()> {
        if services.is_empty() {
            return Ok(());
        }
        let mut arguments: Vec<String> = verb.iter().map(|word| word.to_string()).collect();
        arguments.extend(services.iter().cloned());
        let command = self
            .project
            .command(&self.model, ServiceScope::Everything, &arguments);
        printer.detail(format!("running: {}", command.line()));
        let status = command.run_aside()?;
        if !status.is_success() {
            return Err(anyhow::anyhow!(
                "`{}` exited with {}",
                command.line(),
                status.code()
            ));
        }
        Ok(())
    }

    /// An image the engine has, to create a helper container for `target` from.
    /// `containers` are the project's, listed once by the caller for every target.
    pub fn helper_image(
        &self,
        target: &VolumeTarget,
        containers: &[ContainerInspectResponse],
    ) -> Result<String> {
        for container in containers {
            let serves =
                service_of(container).is_some_and(|service| target.services.contains(&service));
            if let (true, Some(image)) = (serves, container.image.clone()) {
                return Ok(image);
            }
        }
        for service in &target.services {
            let image = self
                .model
                .service(service)
                .and_then(|definition| definition.get("image"))
                .and_then(|image| image.as_str());
            if let Some(image) = image.filter(|image| self.engine.has_image(image)) {
                return Ok(image.to_string());
            }
        }
        self.engine.any_image()?.ok_or_else(|| {
            Failure::engine(format!(
                "the engine at {} has no image to mount volume {} with",
                self.engine.host(),
                target.name
            ))
            .hint(format!(
                "a restore streams the data in through a container of any image, never started; bring the project up on that engine first (`{}` builds or pulls its images), then restore again",
                self.project.stack().devctl("up")
            ))
            .into()
        })
    }
}
