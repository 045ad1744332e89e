//! `Engine`: direct Docker Engine API calls (through bollard) for the facts compose's CLI is
//! slow or poor at: container state, health logs, mounts, log tails.
//!
//! The endpoint follows the docker CLI's rules, so a remote engine works the same way:
//! `--context`, else `DOCKER_HOST`, else `DOCKER_CONTEXT`, else the current context in
//! `$DOCKER_CONFIG/config.json`, else the local socket.

use std::collections::HashMap;

use anyhow::{Context, Result};
use bollard::Docker;
use bollard::models::ContainerInspectResponse;
use bollard::query_parameters::{ListContainersOptions, LogsOptions};
use futures_util::StreamExt;

use crate::engine::endpoint::{Endpoint, Transport};
use crate::report::failure::Failure;

/// Label on every helper container devctl creates, and the project it serves.
const HELPER_LABEL: &str = "dev.devctl.helper";
const HELPER_PROJECT_LABEL: &str = "dev.devctl.project";

/// How long the engine has to answer devctl's first call, unless `DEVCTL_ENGINE_TIMEOUT` says.
const ANSWER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// An image no engine has: the bind source probe's containers are never created.
const PROBE_IMAGE: &str = "devctl-bind-source-probe:absent";

/// Who an engine is, by its `/info`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineIdentity {
    /// The engine's ID (`WNKR:WFPW:…` on older engines, a UUID on newer ones).
    pub id: Option<String>,
    /// The engine's name: the host name of the machine it runs on.
    pub name: Option<String>,
}

/// A connection to the engine devctl's compose calls talk to.
pub struct Engine {
    docker: Docker,
    runtime: tokio::runtime::Runtime,
    endpoint: Endpoint,
}

/// How long a request may take before bollard gives up on it, in seconds.
const REQUEST_TIMEOUT: u64 = 120;

/// The failure for an engine that cannot be reached at `endpoint`, with what to do.
fn unreachable(endpoint: &Endpoint, detail: String) -> Failure {
    if let (Some(tls), true) = (&endpoint.tls, detail.contains("invalid peer certificate")) {
        // The engine answered: its certificate is what failed.
        return Failure::engine(format!(
            "the Docker engine at {} is not trusted: its certificate does not pass the check against the CA {}: {detail}",
            endpoint.label(),
            tls.ca.display()
        ))
        .hint(match &endpoint.context {
            Some(context) => format!(
                "context {context} must hold the CA that signed the engine's certificate, for the host name it is reached by: remove it (`docker context rm {context}`) and make it again with that CA as `ca=`; devctl never skips the check"
            ),
            None => "DOCKER_CERT_PATH must hold, as ca.pem, the CA that signed the engine's certificate, for the host name it is reached by; devctl never skips the check".to_string(),
        });
    }
    if detail.contains("HTTP request to an HTTPS server") {
        return Failure::engine(format!(
            "the Docker engine at {} answered that it speaks only TLS: {detail}",
            endpoint.label()
        ))
        .hint(format!(
            "the engine at {} speaks TLS: set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH (the folder with ca.pem, cert.pem, key.pem), or use a docker context made with `ca=`, `cert=` and `key=`",
            endpoint.host
        ));
    }
    let hint = match endpoint.transport() {
        Transport::Ssh => match crate::engine::ssh::Destination::parse(&endpoint.host) {
            Ok(destination) => format!(
                "`{} docker version` must work without a question (devctl runs `docker system dial-stdio` there, as the docker CLI does); keys, agent and known hosts come from your ssh configuration",
                destination.login()
            ),
            Err(failure) => failure.message,
        },
        Transport::Tls => "check the engine listens there with --tlsverify and that the CA, certificate and key belong to it".to_string(),
        _ => "start it: `sudo systemctl start docker` or `dockerd` (Linux), Docker Desktop (macOS, Windows); \
scripts/prepare-engine.sh starts one here; or point DOCKER_HOST / --context at a running engine".to_string(),
    };
    Failure::engine(format!(
        "the Docker engine at {} is not answering: {detail}",
        endpoint.label()
    ))
    .hint(hint)
}

/// `error` and each error under it (`source`), as `error: cause: cause`, without a cause
/// its error already quotes and without the trailing blank lines an engine's message can
/// carry: hyper's `client error (Connect)` alone hides whether the engine's certificate,
/// the address or the network failed.
fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string().trim_end().to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        let cause_text = cause_text.trim_end();
        if !cause_text.is_empty() && !text.contains(cause_text) {
            text.push_str(": ");
            text.push_str(cause_text);
        }
        source = cause.source();
    }
    text
}

impl Engine {
    /// Connects to the endpoint the docker CLI would use (see `engine::endpoint`) over its
    /// transport (local socket, plain TCP, TLS or ssh) and checks the engine answers.
    pub fn connect(endpoint: &Endpoint) -> Result<Engine> {
        let endpoint = endpoint.clone();
        let host = endpoint.host.clone();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let mut ssh_stderr = None;
        let docker = match (endpoint.transport(), &endpoint.tls) {
            (Transport::Ssh, _) => {
                let destination = crate::engine::ssh::Destination::parse(&host)?;
                let (docker, stderr) = {
                    let _entered = runtime.enter();
                    crate::engine::ssh::connect(&destination)?
                };
                ssh_stderr = Some(stderr);
                docker
            }
            (Transport::Tls, Some(tls)) => Docker::connect_with_ssl(
                &host,
                &tls.key,
                &tls.cert,
                &tls.ca,
                REQUEST_TIMEOUT,
                bollard::API_DEFAULT_VERSION,
            )
            .map_err(|error| unreachable(&endpoint, with_causes(&error)))?,
            _ => Docker::connect_with_host(&host)
                .map_err(|error| unreachable(&endpoint, with_causes(&error)))?,
        };
        // An endpoint that accepts connections but never answers (a stuck daemon, a wrong
        // port, a dead ssh tunnel) is reported within seconds, not after bollard's two minutes.
        let limit = crate::report::units::duration_from_environment(
            "DEVCTL_ENGINE_TIMEOUT",
            ANSWER_TIMEOUT,
        )?;
        let answer = runtime
            .block_on(async { tokio::time::timeout(limit, docker.negotiate_version()).await });
        // ssh's own words (`Permission denied (publickey)`) say more than hyper's.
        let ssh_said = || {
            ssh_stderr
                .as_ref()
                .map(|stderr| {
                    let kept = stderr.lock().unwrap_or_else(|poison| poison.into_inner());
                    String::from_utf8_lossy(&kept).trim().to_string()
                })
                .filter(|text| !text.is_empty())
        };
        let docker = match answer {
            Err(_) => {
                return Err(unreachable(
                    &endpoint,
                    format!(
                        "no answer within {} (DEVCTL_ENGINE_TIMEOUT){}",
                        humantime::format_duration(limit),
                        ssh_said()
                            .map(|text| format!("; ssh said: {text}"))
                            .unwrap_or_default()
                    ),
                )
                .into());
            }
            Ok(Err(error)) => {
                let detail = ssh_said()
                    .map(|text| format!("ssh said: {text}"))
                    .unwrap_or_else(|| with_causes(&error));
                return Err(unreachable(&endpoint, detail).into());
            }
            Ok(Ok(docker)) => docker,
        };
        Ok(Engine {
            docker,
            runtime,
            endpoint,
        })
    }

    /// The engine's version, as it reports it.
    pub fn server_version(&self) -> Option<String> {
        self.runtime
            .block_on(self.docker.version())
            .ok()
            .and_then(|version| version.version)
    }

    pub fn host(&self) -> &str {
        &self.endpoint.host
    }

    /// The endpoint this engine was reached at, and how.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Every container (running or not) of compose project `project`, inspected.
    pub fn project_containers(&self, project: &str) -> Result<Vec<ContainerInspectResponse>> {
        self.runtime.block_on(async {
            let filters = HashMap::from([(
                "label".to_string(),
                vec![format!("com.docker.compose.project={project}")],
            )]);
            let options = ListContainersOptions {
                all: true,
                filters: Some(filters),
                ..Default::default()
            };
            let summaries = self
                .docker
                .list_containers(Some(options))
                .await
                .with_context(|| {
                    format!(
                        "cannot list the containers of project {project} on {}",
                        self.host()
                    )
                })?;
            let inspections = summaries
                .iter()
                .filter_map(|summary| summary.id.clone())
                .map(|id| {
                    let docker = &self.docker;
                    async move { docker.inspect_container(&id, None).await }
                });
            let mut containers = Vec::new();
            for result in futures_util::future::join_all(inspections).await {
                match result {
                    Ok(container) => containers.push(container),
                    // Removed between the list and the inspect: it is simply gone.
                    Err(bollard::errors::Error::DockerResponseServerError {
                        status_code: 404,
                        ..
                    }) => {}
                    Err(error) => return Err(error).context("cannot inspect a container"),
                }
            }
            Ok(containers)
        })
    }

    /// Creates (never starts) a container that mounts `volume` at `/devctl-volume`, for
    /// streaming the volume's contents out or in. It runs nothing and has no network.
    pub fn create_helper(&self, project: &str, image: &str, volume: &str) -> Result<String> {
        use bollard::models::{ContainerCreateBody, HostConfig, Mount, MountType};
        let labels = HashMap::from([
            (HELPER_LABEL.to_string(), "volume".to_string()),
            (HELPER_PROJECT_LABEL.to_string(), project.to_string()),
        ]);
        let body = ContainerCreateBody {
            image: Some(image.to_string()),
            // Never started: the entrypoint only has to be set, not to exist.
            entrypoint: Some(vec!["/devctl-volume-helper".to_string()]),
            cmd: Some(Vec::new()),
            labels: Some(labels),
            network_disabled: Some(true),
            host_config: Some(HostConfig {
                mounts: Some(vec![Mount {
                    target: Some(format!("/{}", crate::backup::archive::ROOT)),
                    source: Some(volume.to_string()),
                    typ: Some(MountType::VOLUME),
                    ..Default::default()
                }]),
                network_mode: Some("none".to_string()),
                ..Default::default()
            }),
            ..Default::default()
        };
        self.create_never_started(body, || {
            format!("cannot create a helper container for volume {volume} (image {image})")
        })
    }

    /// Creates a container from `body`; it is never started. `what` says what for, on failure.
    fn create_never_started(
        &self,
        body: bollard::models::ContainerCreateBody,
        what: impl FnOnce() -> String,
    ) -> Result<String> {
        use bollard::query_parameters::CreateContainerOptions;
        let response = self
            .runtime
            .block_on(
                self.docker
                    .create_container(None::<CreateContainerOptions>, body),
            )
            .with_context(what)?;
        Ok(response.id)
    }

    /// Streams the tar archive of `path` in `container` (as `docker cp CONTAINER:PATH -`
    /// writes it) to `consume`, straight from the engine's archive endpoint: the answer is
    /// received on a thread of its own while `consume` reads it on this one, so neither
    /// waits for the other beyond a few chunks. A termination signal ends the stream with an
    /// error.
    pub fn copy_out<T>(
        &self,
        container: &str,
        path: &str,
        consume: impl FnOnce(&mut dyn std::io::Read) -> Result<T>,
    ) -> Result<T> {
        use bollard::query_parameters::DownloadFromContainerOptions;
        let what = || format!("cannot copy {path} out of container {container}");
        let signals_before = crate::system::signals::count();
        let (sender, receiver) = std::sync::mpsc::sync_channel::<std::io::Result<Chunk>>(CHUNKS);
        std::thread::scope(|scope| {
            let receiving = scope.spawn(move || {
                let options = DownloadFromContainerOptions {
                    path: path.to_string(),
                };
                self.runtime.block_on(async {
                    let mut stream = self
                        .docker
                        .download_from_container(container, Some(options));
                    while let Some(chunk) = stream.next().await {
                        let chunk = match chunk {
                            Ok(chunk) => Ok(chunk),
                            Err(error) => Err(std::io::Error::other(error)),
                        };
                        let failed = chunk.is_err();
                        if crate::system::signals::count() != signals_before {
                            let _ = sender.send(Err(std::io::Error::new(
                                std::io::ErrorKind::Interrupted,
                                "interrupted",
                            )));
                            return;
                        }
                        // The reader stopped (it failed, or it has all it wants): stop too.
                        if sender.send(chunk).is_err() || failed {
                            return;
                        }
                    }
                });
            });
            let mut reader = ChunkReader {
                receiver,
                chunk: Chunk::new(),
                offset: 0,
            };
            let consumed = consume(&mut reader);
            // Unblocks the receiving thread if `consume` stopped early.
            drop(reader);
            let _ = receiving.join();
            consumed
        })
        .with_context(what)
    }

    /// Creates (never starts) a container of `image`, only to list the image's files.
    pub fn create_inspector(&self, image: &str) -> Result<String> {
        use bollard::models::{ContainerCreateBody, HostConfig};
        let labels = HashMap::from([(HELPER_LABEL.to_string(), "image".to_string())]);
        let body = ContainerCreateBody {
            image: Some(image.to_string()),
            entrypoint: Some(vec!["/devctl-image-inspector".to_string()]),
            cmd: Some(Vec::new()),
            labels: Some(labels),
            network_disabled: Some(true),
            host_config: Some(HostConfig {
                network_mode: Some("none".to_string()),
                ..Default::default()
            }),
            ..Default::default()
        };
        self.create_never_started(body, || {
            format!("cannot create a container of image {image} to list its files")
        })
    }

    /// What `path` is in `container` (its file system, never started: mode and, for a
    /// symbolic link, the path it leads to, resolved inside the container), or `None` when
    /// nothing is there. One HEAD request to the archive endpoint: no file is copied.
    pub fn stat_path(&self, container: &str, path: &str) -> Result<Option<PathStat>> {
        use bollard::query_parameters::ContainerArchiveInfoOptions;
        let options = ContainerArchiveInfoOptions {
            path: path.to_string(),
        };
        match self.runtime.block_on(
            self.docker
                .get_container_archive_info(container, Some(options)),
        ) {
            Ok(stat) => Ok(Some(PathStat {
                mode: stat.file_mode,
                link_target: Some(stat.link_target).filter(|target| !target.is_empty()),
            })),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(error) => Err(error)
                .with_context(|| format!("cannot look up {path} in container {container}")),
        }
    }

    /// The image's configuration and size, when the engine has it.
    pub fn inspect_image(&self, name: &str) -> Option<bollard::models::ImageInspect> {
        self.runtime.block_on(self.docker.inspect_image(name)).ok()
    }

    /// Removes a container, whatever its state.
    pub fn remove_container(&self, id: &str) -> Result<()> {
        use bollard::query_parameters::RemoveContainerOptions;
        let options = RemoveContainerOptions {
            force: true,
            ..Default::default()
        };
        match self
            .runtime
            .block_on(self.docker.remove_container(id, Some(options)))
        {
            Ok(())
            | Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(()),
            Err(error) => Err(error).with_context(|| format!("cannot remove container {id}")),
        }
    }

    /// Every container of every compose project on the engine, as listed (its labels and
    /// state), running or not.
    pub fn compose_containers(&self) -> Result<Vec<bollard::models::ContainerSummary>> {
        let filters = HashMap::from([(
            "label".to_string(),
            vec!["com.docker.compose.project".to_string()],
        )]);
        let options = ListContainersOptions {
            all: true,
            filters: Some(filters),
            ..Default::default()
        };
        self.runtime
            .block_on(self.docker.list_containers(Some(options)))
            .with_context(|| format!("cannot list the containers on {}", self.host()))
    }

    /// Every running container on the engine, as listed (names, labels, published ports).
    pub fn running_containers(&self) -> Result<Vec<bollard::models::ContainerSummary>> {
        self.runtime
            .block_on(
                self.docker
                    .list_containers(Some(ListContainersOptions::default())),
            )
            .with_context(|| format!("cannot list the containers on {}", self.host()))
    }

    /// Whether the engine runs on this machine (a local socket): its published ports are
    /// this machine's.
    pub fn is_local(&self) -> bool {
        self.endpoint.transport() == Transport::Socket
    }

    /// Removes helper containers an interrupted run of `project` left behind.
    pub fn remove_stale_helpers(&self, project: &str) -> Result<usize> {
        let filters = HashMap::from([(
            "label".to_string(),
            vec![format!("{HELPER_PROJECT_LABEL}={project}")],
        )]);
        let options = ListContainersOptions {
            all: true,
            filters: Some(filters),
            ..Default::default()
        };
        let stale = self
            .runtime
            .block_on(self.docker.list_containers(Some(options)))
            .context("cannot list devctl's helper containers")?;
        for container in &stale {
            if let Some(id) = &container.id {
                self.remove_container(id)?;
            }
        }
        Ok(stale.len())
    }

    /// Removes every container (with its anonymous volumes), network and volume that carries
    /// all of `labels` (`key=value` each), in that order; returns how many of each it found.
    /// Something already gone is no error.
    pub fn remove_labelled(&self, labels: &[String]) -> Result<(usize, usize, usize)> {
        use bollard::query_parameters::{
            ListNetworksOptions, ListVolumesOptions, RemoveContainerOptions, RemoveVolumeOptions,
        };
        let filters = || HashMap::from([("label".to_string(), labels.to_vec())]);
        let gone = |result: Result<(), bollard::errors::Error>| match result {
            Ok(())
            | Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(()),
            Err(error) => Err(error),
        };
        self.runtime.block_on(async {
            let containers = self
                .docker
                .list_containers(Some(ListContainersOptions {
                    all: true,
                    filters: Some(filters()),
                    ..Default::default()
                }))
                .await
                .with_context(|| {
                    format!("cannot list containers labelled {}", labels.join(", "))
                })?;
            for id in containers
                .iter()
                .filter_map(|container| container.id.as_deref())
            {
                let options = RemoveContainerOptions {
                    force: true,
                    v: true,
                    ..Default::default()
                };
                gone(self.docker.remove_container(id, Some(options)).await)
                    .with_context(|| format!("cannot remove container {id}"))?;
            }
            let networks = self
                .docker
                .list_networks(Some(ListNetworksOptions {
                    filters: Some(filters()),
                }))
                .await
                .with_context(|| format!("cannot list networks labelled {}", labels.join(", ")))?;
            for name in networks
                .iter()
                .filter_map(|network| network.name.as_deref())
            {
                gone(self.docker.remove_network(name).await)
                    .with_context(|| format!("cannot remove network {name}"))?;
            }
            let volumes = self
                .docker
                .list_volumes(Some(ListVolumesOptions {
                    filters: Some(filters()),
                }))
                .await
                .with_context(|| format!("cannot list volumes labelled {}", labels.join(", ")))?
                .volumes
                .unwrap_or_default();
            for volume in &volumes {
                gone(
                    self.docker
                        .remove_volume(&volume.name, None::<RemoveVolumeOptions>)
                        .await,
                )
                .with_context(|| format!("cannot remove volume {}", volume.name))?;
            }
            Ok((containers.len(), networks.len(), volumes.len()))
        })
    }

    /// The volume named `name`, if it exists.
    pub fn volume(&self, name: &str) -> Result<Option<bollard::models::Volume>> {
        match self.runtime.block_on(self.docker.inspect_volume(name)) {
            Ok(volume) => Ok(Some(volume)),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(error) => Err(error).with_context(|| format!("cannot inspect volume {name}")),
        }
    }

    /// Creates volume `name` with the driver, options and labels given.
    pub fn create_volume(
        &self,
        name: &str,
        driver: &str,
        options: &std::collections::BTreeMap<String, String>,
        labels: &std::collections::BTreeMap<String, String>,
    ) -> Result<()> {
        use bollard::models::VolumeCreateRequest;
        let request = VolumeCreateRequest {
            name: Some(name.to_string()),
            driver: Some(driver.to_string()),
            driver_opts: Some(options.clone().into_iter().collect()),
            labels: Some(labels.clone().into_iter().collect()),
            ..Default::default()
        };
        self.runtime
            .block_on(self.docker.create_volume(request))
            .with_context(|| format!("cannot create volume {name}"))?;
        Ok(())
    }

    /// Removes volume `name` (it must not be in use).
    pub fn remove_volume(&self, name: &str) -> Result<()> {
        use bollard::query_parameters::RemoveVolumeOptions;
        self.runtime
            .block_on(self.docker.remove_volume(name, None::<RemoveVolumeOptions>))
            .with_context(|| format!("cannot remove volume {name}"))
    }

    /// Whether image `name` is present on the engine.
    pub fn has_image(&self, name: &str) -> bool {
        self.runtime
            .block_on(self.docker.inspect_image(name))
            .is_ok()
    }

    /// The id and creation time (RFC 3339) of image `name`, when the engine has it.
    pub fn image_identity(&self, name: &str) -> Option<(String, String)> {
        let image = self
            .runtime
            .block_on(self.docker.inspect_image(name))
            .ok()?;
        Some((
            image.id?,
            image
                .created
                .map(|time| time.to_string())
                .unwrap_or_default(),
        ))
    }

    /// Any image present on the engine, smallest first (for helpers when no service image is).
    pub fn any_image(&self) -> Result<Option<String>> {
        use bollard::query_parameters::ListImagesOptions;
        let mut images = self
            .runtime
            .block_on(self.docker.list_images(Some(ListImagesOptions::default())))
            .context("cannot list images")?;
        images.sort_by_key(|image| image.size);
        Ok(images.first().map(|image| image.id.clone()))
    }

    /// Of `sources` (absolute paths), those the engine's host does not have, in the order
    /// given. The engine itself is asked, all at once: a container of an image that does not
    /// exist, bind-mounting the path, is created; the engine refuses a missing bind source
    /// before it looks for the image, so `No such image` means the path is there. Nothing
    /// is created (a container that is, should the image exist after all, is removed).
    pub fn missing_bind_sources(&self, sources: &[String]) -> Result<Vec<String>> {
        let probes = sources.iter().map(|source| self.probe_bind_source(source));
        let answers = self
            .runtime
            .block_on(futures_util::future::join_all(probes));
        let mut missing = Vec::new();
        for (source, answer) in sources.iter().zip(answers) {
            if !answer? {
                missing.push(source.clone());
            }
        }
        Ok(missing)
    }

    /// Whether the engine's host has `source` (see `missing_bind_sources`).
    async fn probe_bind_source(&self, source: &str) -> Result<bool> {
        use bollard::models::{ContainerCreateBody, HostConfig, Mount, MountType};
        use bollard::query_parameters::{CreateContainerOptions, RemoveContainerOptions};
        let body = ContainerCreateBody {
            image: Some(PROBE_IMAGE.to_string()),
            labels: Some(HashMap::from([(
                HELPER_LABEL.to_string(),
                "bind-source-probe".to_string(),
            )])),
            network_disabled: Some(true),
            host_config: Some(HostConfig {
                mounts: Some(vec![Mount {
                    target: Some("/probe".to_string()),
                    source: Some(source.to_string()),
                    typ: Some(MountType::BIND),
                    read_only: Some(true),
                    ..Default::default()
                }]),
                network_mode: Some("none".to_string()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let created = self
            .docker
            .create_container(None::<CreateContainerOptions>, body)
            .await;
        match created {
            Ok(response) => {
                let options = RemoveContainerOptions {
                    force: true,
                    ..Default::default()
                };
                self.docker
                    .remove_container(&response.id, Some(options))
                    .await
                    .with_context(|| {
                        format!(
                            "cannot remove the container {} that probed {source}",
                            response.id
                        )
                    })?;
                Ok(true)
            }
            Err(bollard::errors::Error::DockerResponseServerError { message, .. })
                if message.contains("bind source path does not exist") =>
            {
                Ok(false)
            }
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(true),
            Err(error) => Err(error).with_context(|| {
                format!(
                    "cannot ask the engine at {} whether it has {source}",
                    self.host()
                )
            }),
        }
    }

    /// The engine's identity as its `/info` gives it: its ID and its name (the host name of
    /// the machine it runs on), each when given.
    pub fn identity(&self) -> Result<EngineIdentity> {
        let info = self
            .runtime
            .block_on(self.docker.info())
            .with_context(|| format!("cannot ask the engine at {} who it is", self.host()))?;
        Ok(EngineIdentity {
            id: info.id.filter(|id| !id.is_empty()),
            name: info.name.filter(|name| !name.is_empty()),
        })
    }

    /// The last `lines` lines of a container's log (stdout and stderr).
    pub fn log_tail(&self, container: &str, lines: usize) -> Result<String> {
        self.runtime.block_on(async {
            let options = LogsOptions {
                stdout: true,
                stderr: true,
                tail: lines.to_string(),
                ..Default::default()
            };
            let mut stream = self.docker.logs(container, Some(options));
            let mut text = String::new();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.with_context(|| format!("cannot read the log of {container}"))?;
                text.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
            }
            Ok(text)
        })
    }
}

/// What the engine says of a path in a container: Go's `os.FileMode` bits (permissions in the
/// low 9 bits, the file type in the high ones) and where a symbolic link leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathStat {
    pub mode: u32,
    pub link_target: Option<String>,
}

/// A piece of an archive as the engine sends it.
type Chunk = bytes::Bytes;

/// How many chunks may wait between the engine's side and devctl's side of a copy.
const CHUNKS: usize = 64;

/// Reads the chunks a channel delivers as one byte stream; an error delivered is returned
/// once, and the stream ends when the sending side is done.
struct ChunkReader {
    receiver: std::sync::mpsc::Receiver<std::io::Result<Chunk>>,
    chunk: Chunk,
    offset: usize,
}

impl std::io::Read for ChunkReader {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        while self.offset == self.chunk.len() {
            match self.receiver.recv() {
                Ok(chunk) => {
                    self.chunk = chunk?;
                    self.offset = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let available = &self.chunk[self.offset..];
        let count = available.len().min(buffer.len());
        buffer[..count].copy_from_slice(&available[..count]);
        self.offset += count;
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::{Endpoint, unreachable, with_causes};

    #[test]
    fn an_engine_whose_certificate_fails_the_check_is_not_called_silent() {
        let endpoint = Endpoint {
            host: "tcp://build-box:2376".to_string(),
            tls: Some(crate::engine::endpoint::Tls {
                ca: "/home/me/.docker/contexts/tls/abc/docker/ca.pem".into(),
                cert: "/home/me/.docker/contexts/tls/abc/docker/cert.pem".into(),
                key: "/home/me/.docker/contexts/tls/abc/docker/key.pem".into(),
            }),
            context: Some("build-box".to_string()),
        };
        let failure = unreachable(
            &endpoint,
            "error trying to connect: invalid peer certificate: UnknownIssuer".to_string(),
        );
        assert_eq!(
            failure.message,
            "the Docker engine at tcp://build-box:2376 over TLS is not trusted: its certificate does not pass the check against the CA /home/me/.docker/contexts/tls/abc/docker/ca.pem: error trying to connect: invalid peer certificate: UnknownIssuer"
        );
        let hint = failure.hint.unwrap();
        assert!(hint.contains("`docker context rm build-box`"), "{hint}");

        let plain = Endpoint {
            host: "tcp://build-box:2376".to_string(),
            tls: None,
            context: None,
        };
        let failure = unreachable(
            &plain,
            "Docker responded with status code 400: Client sent an HTTP request to an HTTPS server.".to_string(),
        );
        assert!(
            failure.message.starts_with("the Docker engine at tcp://build-box:2376 over plain TCP answered that it speaks only TLS: "),
            "{}",
            failure.message
        );
        assert!(failure.hint.unwrap().contains("DOCKER_TLS_VERIFY=1"));
    }

    /// An error with a message and an optional cause.
    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl std::fmt::Display for Layer {
        fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            formatter.write_str(self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|cause| cause as _)
        }
    }

    #[test]
    fn every_cause_is_named_once_without_trailing_blank_lines() {
        let certificate = Layer("invalid peer certificate: UnknownIssuer", None);
        let connect = Layer("client error (Connect)", Some(Box::new(certificate)));
        let top = Layer(
            "Error in the hyper legacy client: client error (Connect)",
            Some(Box::new(connect)),
        );
        assert_eq!(
            with_causes(&top),
            "Error in the hyper legacy client: client error (Connect): invalid peer certificate: UnknownIssuer"
        );
        let status = Layer(
            "Docker responded with status code 400: Client sent an HTTP request to an HTTPS server.\n\n",
            None,
        );
        assert_eq!(
            with_causes(&status),
            "Docker responded with status code 400: Client sent an HTTP request to an HTTPS server."
        );
    }
}
