//! The volume's part: a project holding a ~300 MiB volume, then devctl's backup, its restore
//! step, its full restore and a drill of it against raw `docker cp` and `tar czf`.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use devctl::backup::archive;
use devctl::backup::store::{BackupStore, StoredBackup};
use devctl::compose::program::DockerCli;
use devctl::engine::api::Engine;

use crate::measurement::{Measurement, Side, Target, describe, measure_sides, median, run_timed};
use crate::options::Options;
use crate::remote::{self, RemoteEngine};
use crate::report::VolumeReport;
use crate::sandbox::{self, Sandbox};
use crate::volume_data::{Generator, write_text_tree};

/// The image of the volume project's service and of every helper container.
const IMAGE: &str = "devctl-test/busybox:1";

/// devctl's backup of the volume, as measured.
const BACKUP_ARGUMENTS: [&str; 3] = ["backup", "--volume", "data"];

/// The volume project's compose file: one service that keeps the volume mounted.
const VOLUME_COMPOSE_FILE: &str = r#"# devctl bench: one service holding the named volume `data`.
services:
  app:
    image: devctl-test/busybox:1
    init: true
    command: ["sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 1 & wait $$!; done"]
    volumes:
      - data:/data
    stop_grace_period: 2s

volumes:
  data:
"#;

/// The volume project; dropping it removes its helper containers and the restore volume, then
/// (as a `Sandbox`) its containers, network and volumes, then its directory (profile, state,
/// backups, scratch files).
struct VolumeSandbox {
    sandbox: Sandbox,
    directory: PathBuf,
    state: PathBuf,
    backups: PathBuf,
    /// Temporary files of the raw side: the tar.gz of `tar czf`, the uncompressed tar.
    scratch: PathBuf,
    /// The engine's name of the project's `data` volume.
    volume: String,
    /// A volume of the bench's own, recreated empty before each run of the restore step.
    restore_volume: String,
    engine: Engine,
    docker: DockerCli,
    /// The docker context of the engine the project lives on; none for the local one.
    context: Option<String>,
}

impl VolumeSandbox {
    fn create(compression_level: Option<i32>, context: Option<&str>) -> Result<VolumeSandbox> {
        let engine = Engine::connect(&devctl::engine::endpoint::Endpoint::resolve(context)?)?;
        let docker = DockerCli::locate(context)?;
        let project = match context {
            None => format!("devctl-bench-vol-{}", std::process::id()),
            Some(_) => format!("devctl-bench-remote-{}", std::process::id()),
        };
        let sandbox = Sandbox::new("devctl-bench-vol-", project.clone())?;
        let directory = sandbox.path().join("project");
        let scratch = sandbox.path().join("scratch");
        std::fs::create_dir_all(directory.join("profiles"))?;
        std::fs::create_dir_all(&scratch)?;
        std::fs::write(directory.join("compose.yaml"), VOLUME_COMPOSE_FILE)?;
        let mut profile = format!(
            "description: \"devctl bench: a ~300 MiB volume\"\ncompose:\n  project_name: {project}\n  files: [compose.yaml]\nbackup:\n  method: live\n"
        );
        if let Some(level) = compression_level {
            profile.push_str(&format!("  compression_level: {level}\n"));
        }
        std::fs::write(directory.join("profiles/default.yaml"), profile)?;
        Ok(VolumeSandbox {
            volume: format!("{project}_data"),
            restore_volume: format!("{project}_restore"),
            directory,
            state: sandbox.path().join("state"),
            backups: sandbox.path().join("backups"),
            scratch,
            engine,
            docker,
            context: context.map(String::from),
            sandbox,
        })
    }

    /// `docker`, with `--context` for a project on another engine.
    fn docker_command(&self) -> Command {
        let mut command = Command::new("docker");
        if let Some(context) = &self.context {
            command.args(["--context", context]);
        }
        command
    }

    fn project(&self) -> &str {
        self.sandbox.project()
    }

    /// `devctl ARGUMENTS`, run in the project with the bench's state and backup directories.
    fn devctl(&self, arguments: &[&str]) -> Command {
        let mut command = sandbox::devctl(&self.directory);
        if let Some(context) = &self.context {
            command.args(["--context", context]);
        }
        command
            .args(arguments)
            .env("DEVCTL_STATE_DIR", &self.state)
            .env("DEVCTL_BACKUP_DIR", &self.backups);
        command
    }

    /// `devctl backup --volume data`, timed; the backup is removed after.
    fn timed_backup(&self) -> Result<std::time::Duration> {
        let elapsed = run_timed(&mut self.devctl(&BACKUP_ARGUMENTS))?;
        self.remove_backups(None)?;
        Ok(elapsed)
    }

    /// `docker cp CONTAINER:/data -` on the project's engine, and its line for the report.
    fn copy_out(&self, container: &str) -> (Command, String) {
        let mut command = self.docker_command();
        command.args(["cp", &format!("{container}:/data"), "-"]);
        let line = format!(
            "{} > /dev/null (from the running app container)",
            describe(&command)
        );
        (command, line)
    }

    /// The id of the `app` service's container.
    fn app_container(&self) -> Result<String> {
        self.engine
            .project_containers(self.project())?
            .iter()
            .find(|container| {
                devctl::engine::service_status::service_of(container).as_deref() == Some("app")
            })
            .and_then(|container| container.id.clone())
            .with_context(|| format!("project {} has no app container", self.project()))
    }

    /// Fills the volume through the app container: half random, half text.
    fn fill(&self, container: &str) -> Result<()> {
        // 10 files each of 1, 4 and 10 MiB: 150 MiB.
        let random = "mkdir -p /data/blobs && for size in 1 4 10; do i=1; \
while [ $i -le 10 ]; do \
dd if=/dev/urandom of=/data/blobs/blob-$size-$i.bin bs=1048576 count=$size 2>/dev/null || exit 1; \
i=$((i + 1)); done; done";
        run_timed(
            self.docker_command()
                .args(["exec", container, "sh", "-c", random]),
        )?;
        let mut generator = Generator {
            state: 0x5eed_1234_abcd_0001,
        };
        self.docker
            .copy_in(container, "/data", &mut |sink| {
                write_text_tree(&mut generator, sink)
            })
            .context("cannot copy the text files into the volume")?;
        Ok(())
    }

    /// The backups of the project, as devctl keeps them.
    fn store(&self) -> BackupStore {
        BackupStore::new(
            self.backups.join(self.project()),
            devctl::report::command_line::Stack::live(),
        )
    }

    /// Removes every backup of the project (finished or not) but `keep`.
    fn remove_backups(&self, keep: Option<&str>) -> Result<()> {
        let directory = self.backups.join(self.project());
        if !directory.is_dir() {
            return Ok(());
        }
        for entry in std::fs::read_dir(&directory)? {
            let entry = entry?;
            if keep.is_some_and(|keep| entry.file_name() == keep) {
                continue;
            }
            let path = entry.path();
            let removed = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            removed.with_context(|| format!("cannot remove {}", path.display()))?;
        }
        Ok(())
    }

    /// Removes the restore volume if it exists.
    fn remove_restore_volume(&self) -> Result<()> {
        if self.engine.volume(&self.restore_volume)?.is_some() {
            self.engine.remove_volume(&self.restore_volume)?;
        }
        Ok(())
    }

    /// Creates the restore volume anew, empty.
    fn recreate_restore_volume(&self) -> Result<()> {
        self.remove_restore_volume()?;
        let labels = BTreeMap::from([("dev.devctl.bench".to_string(), self.project().to_string())]);
        self.engine
            .create_volume(&self.restore_volume, "local", &BTreeMap::new(), &labels)
    }
}

impl Drop for VolumeSandbox {
    /// The helper containers first, as they mount the volumes; the project itself goes when
    /// its `Sandbox` is dropped, right after.
    fn drop(&mut self) {
        let mut failures = Vec::new();
        if let Err(error) = self.engine.remove_stale_helpers(self.project()) {
            failures.push(error);
        }
        if let Some(context) = &self.context
            && let Err(error) = sandbox::remove_project_from(Some(context), self.project())
        {
            failures.push(error.into());
        }
        let removed = self
            .engine
            .volume(&self.restore_volume)
            .and_then(|found| match found {
                Some(_) => self.engine.remove_volume(&self.restore_volume),
                None => Ok(()),
            });
        if let Err(error) = removed {
            failures.push(error);
        }
        for error in failures {
            eprintln!(
                "warning: cleaning up project {} failed: {error:#}",
                self.project()
            );
        }
    }
}

/// The backup and restore measurements on the volume project.
pub(crate) fn measure_volume(options: &Options) -> Result<VolumeReport> {
    let sandbox = VolumeSandbox::create(options.compression_level, None)?;
    let runs = options.volume_runs;
    eprintln!("bringing up {} with devctl …", sandbox.project());
    run_timed(&mut sandbox.devctl(&["up"]))?;
    let container = sandbox.app_container()?;
    eprintln!("filling volume {} with ~300 MiB …", sandbox.volume);
    sandbox.fill(&container)?;
    let mut measurements = Vec::new();

    // Backup: devctl, docker cp, tar czf, in turn.
    let (mut docker_copy, docker_copy_line) = sandbox.copy_out(&container);
    let gzip_file = sandbox.scratch.join("volume.tar.gz");
    let mut tar_gzip = Command::new("docker");
    tar_gzip.args(["run", "--rm", "-v", &format!("{}:/data", sandbox.volume)]);
    tar_gzip.args([IMAGE, "tar", "czf", "-", "-C", "/data", "."]);
    let tar_gzip_line = format!("{} > {}", describe(&tar_gzip), gzip_file.display());
    let mut gzip_bytes = 0;
    let medians = {
        let mut sides: Vec<Side> = vec![
            Box::new(|| sandbox.timed_backup()),
            Box::new(|| run_timed(docker_copy.stdout(Stdio::null()))),
            Box::new(|| {
                let output = File::create(&gzip_file)
                    .with_context(|| format!("cannot create {}", gzip_file.display()))?;
                let elapsed = run_timed(tar_gzip.stdout(output))?;
                gzip_bytes = std::fs::metadata(&gzip_file)?.len();
                std::fs::remove_file(&gzip_file)?;
                Ok(elapsed)
            }),
        ];
        measure_sides("backup", runs, &mut sides)?
    };
    let devctl_backup_line = describe(&sandbox.devctl(&BACKUP_ARGUMENTS));
    measurements.push(Measurement {
        name: "backup",
        devctl_line: devctl_backup_line.clone(),
        baseline_line: Some(docker_copy_line),
        devctl_median: medians[0],
        baseline_median: Some(medians[1]),
        target: Target::RatioAtMost(1.3),
    });
    measurements.push(Measurement {
        name: "backup, tar czf",
        devctl_line: devctl_backup_line,
        baseline_line: Some(tar_gzip_line),
        devctl_median: medians[0],
        baseline_median: Some(medians[2]),
        target: Target::SpeedupAtLeast(3.0),
    });

    // The backup the restores read.
    eprintln!("taking the backup to restore …");
    run_timed(&mut sandbox.devctl(&BACKUP_ARGUMENTS))?;
    let source: StoredBackup = sandbox.store().latest()?;
    let artifact = source
        .manifest
        .artifacts
        .iter()
        .find(|artifact| artifact.key == "data")
        .context("the backup holds no artifact of volume data")?;
    let archive = source.directory.join(&artifact.file);
    let volume_bytes = sandbox
        .docker
        .volume_sizes()
        .ok()
        .and_then(|sizes| sizes.get(&sandbox.volume).copied());

    // The restore step alone: devctl's code path against docker cp of the same tar.
    let tar_file = sandbox.scratch.join("volume.tar");
    zstd::stream::copy_decode(
        File::open(&archive).with_context(|| format!("cannot open {}", archive.display()))?,
        File::create(&tar_file).with_context(|| format!("cannot create {}", tar_file.display()))?,
    )
    .with_context(|| format!("cannot decompress {}", archive.display()))?;
    let mut helper_times = Vec::new();
    let medians = {
        let mut sides: Vec<Side> = vec![
            Box::new(|| {
                sandbox.recreate_restore_volume()?;
                let started = Instant::now();
                let helper = sandbox.engine.create_helper(
                    sandbox.project(),
                    IMAGE,
                    &sandbox.restore_volume,
                )?;
                let created = started.elapsed();
                let copied = sandbox.docker.copy_in(&helper, "/", &mut |sink| {
                    archive::unpack_into(&archive, sink, &|_| {})
                });
                let removing = Instant::now();
                let removed = sandbox.engine.remove_container(&helper);
                let elapsed = started.elapsed();
                helper_times.push(created + removing.elapsed());
                let copied = copied?;
                removed?;
                if copied != artifact.stats.raw_bytes {
                    bail!(
                        "the restore step streamed {copied} bytes, not the {} of the backup",
                        artifact.stats.raw_bytes
                    );
                }
                Ok(elapsed)
            }),
            Box::new(|| raw_copy_in(&sandbox, &tar_file)),
        ];
        measure_sides("the restore step", runs, &mut sides)?
    };
    measurements.push(Measurement {
        name: "restore step",
        devctl_line: format!(
            "(library) Engine::create_helper({}, {IMAGE}, {}); DockerCli::copy_in(HELPER, \"/\", \
archive::unpack_into({})) = docker cp -a - HELPER:/; Engine::remove_container(HELPER)",
            sandbox.project(),
            sandbox.restore_volume,
            archive.display()
        ),
        baseline_line: Some(format!(
            "docker cp - HELPER:/ < {} (HELPER: the same kind of helper container, created and removed untimed)",
            tar_file.display()
        )),
        devctl_median: medians[0],
        baseline_median: Some(medians[1]),
        target: Target::RatioAtMost(1.3),
    });

    // The full restore sequence against the same raw `docker cp -` of the same tar.
    let id = source.manifest.id.clone();
    let restore_arguments = ["restore", id.as_str(), "--confirm", sandbox.project()];
    let medians = {
        let mut sides: Vec<Side> = vec![
            Box::new(|| {
                let elapsed = run_timed(&mut sandbox.devctl(&restore_arguments))?;
                sandbox.remove_backups(Some(&id))?;
                Ok(elapsed)
            }),
            Box::new(|| raw_copy_in(&sandbox, &tar_file)),
        ];
        measure_sides("the full restore", runs, &mut sides)?
    };
    measurements.push(Measurement {
        name: "full restore",
        devctl_line: describe(&sandbox.devctl(&restore_arguments)),
        baseline_line: Some(format!(
            "docker cp - HELPER:/ < {} (as for the restore step)",
            tar_file.display()
        )),
        devctl_median: medians[0],
        baseline_median: Some(medians[1]),
        target: Target::RatioAtMost(2.5),
    });

    // A drill of the same backup (a sibling stack created, restored, waited for, removed)
    // against the same raw `docker cp -` of the same tar.
    let drill_arguments = ["backup", "drill", id.as_str()];
    let medians = {
        let mut sides: Vec<Side> = vec![
            Box::new(|| run_timed(&mut sandbox.devctl(&drill_arguments))),
            Box::new(|| raw_copy_in(&sandbox, &tar_file)),
        ];
        measure_sides("the drill", runs, &mut sides)?
    };
    sandbox.remove_restore_volume()?;
    std::fs::remove_file(&tar_file)?;
    measurements.push(Measurement {
        name: "drill",
        devctl_line: describe(&sandbox.devctl(&drill_arguments)),
        baseline_line: Some(format!(
            "docker cp - HELPER:/ < {} (as for the restore step)",
            tar_file.display()
        )),
        devctl_median: medians[0],
        baseline_median: Some(medians[1]),
        target: Target::RatioAtMost(3.0),
    });

    measurements.push(measure_backup_over_tls(options)?);

    Ok(VolumeReport {
        project: sandbox.project().to_string(),
        directory: sandbox.directory.clone(),
        state: sandbox.state.clone(),
        backups: sandbox.backups.clone(),
        volume: sandbox.volume.clone(),
        runs,
        processors: std::thread::available_parallelism().map_or(1, |count| count.get()),
        compression_level: options.compression_level,
        volume_bytes,
        tar_bytes: artifact.stats.raw_bytes,
        stored_bytes: artifact.stats.stored_bytes,
        entries: artifact.stats.entries,
        gzip_bytes,
        helper_median: median(helper_times),
        measurements,
    })
}

/// The raw side of a restore: `docker cp - HELPER:/ < TAR` into a fresh, empty volume; only
/// the copy is timed (the helper is created and removed untimed).
fn raw_copy_in(sandbox: &VolumeSandbox, tar_file: &std::path::Path) -> Result<std::time::Duration> {
    sandbox.recreate_restore_volume()?;
    let helper = sandbox
        .engine
        .create_helper(sandbox.project(), IMAGE, &sandbox.restore_volume)?;
    let input = File::open(tar_file).with_context(|| format!("cannot open {}", tar_file.display()));
    let copied = input.and_then(|input| {
        run_timed(
            Command::new("docker")
                .args(["cp", "-", &format!("{helper}:/")])
                .stdin(input),
        )
    });
    let removed = sandbox.engine.remove_container(&helper);
    let elapsed = copied?;
    removed?;
    Ok(elapsed)
}

/// devctl's backup of the same kind of volume on a second engine reached over TLS, against
/// `docker --context X cp CONTAINER:/data -` of it, both over the same connection.
fn measure_backup_over_tls(options: &Options) -> Result<Measurement> {
    let _engine = RemoteEngine::start(&PathBuf::from(env!("CARGO_MANIFEST_DIR")))?;
    let sandbox = VolumeSandbox::create(options.compression_level, Some(remote::CONTEXT))?;
    eprintln!(
        "bringing up {} on the second engine (context {}) …",
        sandbox.project(),
        remote::CONTEXT
    );
    run_timed(&mut sandbox.devctl(&["up"]))?;
    let container = sandbox.app_container()?;
    eprintln!("filling volume {} over TLS with ~300 MiB …", sandbox.volume);
    sandbox.fill(&container)?;
    let (mut docker_copy, docker_copy_line) = sandbox.copy_out(&container);
    let medians = {
        let mut sides: Vec<Side> = vec![
            Box::new(|| sandbox.timed_backup()),
            Box::new(|| run_timed(docker_copy.stdout(Stdio::null()))),
        ];
        measure_sides("backup over TLS", options.volume_runs, &mut sides)?
    };
    Ok(Measurement {
        name: "backup over TLS",
        devctl_line: describe(&sandbox.devctl(&BACKUP_ARGUMENTS)),
        baseline_line: Some(docker_copy_line),
        devctl_median: medians[0],
        baseline_median: Some(medians[1]),
        target: Target::RatioAtMost(1.3),
    })
}
