//! devctl against raw `docker compose` and raw `docker`, side by side.
//!
//! Measures, in one run, the median wall time of each side over several runs taken in turn
//! (devctl, the other, devctl, the other, …) so that drift hits every side equally.
//!
//! On a private copy of the demo stack, `--runs N` runs (default 10):
//!
//! 1. `devctl --version` (target: under 5 ms; `docker compose version` shown for scale);
//! 2. a no-op `devctl up` against `docker compose … up -d --wait` (target: ratio ≤ 1.05);
//! 3. `devctl status --json` against `docker compose … ps --format json` (target: ≤ 1.15);
//! 4. a warm `devctl up --fidelity` (sources unchanged) against
//!    `docker compose -f GENERATED --project-directory DEMO -p PROJECT-fidelity up -d --build
//!    --wait` on the same generated fidelity file (target: ≤ 1.1);
//! 5. `devctl compose ps --format json`, the guarded passthrough of a safe command, against
//!    the same `docker compose … ps --format json` (target: ≤ 1.1).
//!
//! On a ~300 MiB volume of mixed data (half `/dev/urandom`, half generated logs and notes),
//! `--volume-runs N` runs (default 5):
//!
//! 6. backup: `devctl backup --volume data` (method live, zstd) against
//!    `docker cp APP:/data - > /dev/null` from the running app container (target: ratio
//!    ≤ 1.3), and against the usual script
//!    `docker run --rm -v VOLUME:/data devctl-test/busybox:1 tar czf - -C /data . > FILE`
//!    (target: that takes at least 3 times as long as devctl);
//! 7. the restore step alone, from an already verified backup, no safety backup: devctl's
//!    own code path called as a library (`Engine::create_helper` on the volume,
//!    `DockerCli::copy_in` fed by `archive::unpack_into`, the helper removed; all
//!    timed) against `docker cp - HELPER:/ < FILE.tar` (the same tar, decompressed
//!    beforehand, into the same kind of helper, created and removed untimed); each run writes
//!    into a freshly created, empty volume (target: ratio ≤ 1.3);
//! 8. the full `devctl restore ID --confirm PROJECT` (verify, safety backup, replace the
//!    volume, restore, start and wait): median only.
//!
//! The `--demo DIR` project is copied into a temporary directory, given the compose project
//! name `devctl-bench-<pid>` and free host ports, and brought up once with devctl. The volume
//! project `devctl-bench-vol-<pid>` is written into another temporary directory: one busybox
//! service `app` (`init: true`) mounting the named volume `data` at /data, and a devctl
//! profile with `backup: {method: live}` (and `compression_level` when
//! `--compression-level N` is given). devctl gets temporary `DEVCTL_STATE_DIR` and
//! `DEVCTL_BACKUP_DIR`; backups are removed between runs so the disk does not fill. Each
//! side gets one warm-up run; each timed run of a command is one child process, output
//! captured or redirected, timed with `Instant` from spawn to exit. Both projects are always
//! removed at the end (containers, helper containers, networks, volumes, backups, files),
//! also on error or panic; the demo stack is removed before the volume project is made.
//!
//! Usage: `cargo bench --bench compare -- --demo examples/demo [--runs N] [--volume-runs N]
//! [--compression-level N] [--volume-only] [--json]`.
//! The exit status is 0 even when a target is missed; it is 1 when a command fails.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use devctl::backup::archive;
use devctl::backup::store::{BackupStore, StoredBackup};
use devctl::compose::program::DockerCli;
use devctl::engine::api::Engine;
use serde_json::{Value, json};

const DEVCTL: &str = env!("CARGO_BIN_EXE_devctl");

/// The image of the volume project's service and of every helper container.
const IMAGE: &str = "devctl-test/busybox:1";

const MEBIBYTE: u64 = 1 << 20;

struct Options {
    demo: PathBuf,
    runs: usize,
    volume_runs: usize,
    compression_level: Option<i32>,
    volume_only: bool,
    json: bool,
}

fn parse_options() -> Result<Options> {
    let mut options = Options {
        demo: PathBuf::from("examples/demo"),
        runs: 10,
        volume_runs: 5,
        compression_level: None,
        volume_only: false,
        json: false,
    };
    let mut arguments = std::env::args().skip(1);
    while let Some(argument) = arguments.next() {
        match argument.as_str() {
            "--demo" => options.demo = arguments.next().context("--demo needs a DIR")?.into(),
            "--runs" => {
                let value = arguments.next().context("--runs needs a number")?;
                options.runs = value.parse().context("--runs needs a number")?;
            }
            "--volume-runs" => {
                let value = arguments.next().context("--volume-runs needs a number")?;
                options.volume_runs = value.parse().context("--volume-runs needs a number")?;
            }
            "--compression-level" => {
                let value = arguments
                    .next()
                    .context("--compression-level needs a number")?;
                let level = value
                    .parse()
                    .context("--compression-level needs a number")?;
                options.compression_level = Some(level);
            }
            "--volume-only" => options.volume_only = true,
            "--json" => options.json = true,
            "--bench" => {} // cargo bench passes it to every bench binary
            other => bail!(
                "unknown argument `{other}` (expected --demo DIR, --runs N, --volume-runs N, \
--compression-level N, --volume-only, --json)"
            ),
        }
    }
    if options.runs < 10 {
        bail!("--runs must be at least 10");
    }
    if options.volume_runs < 5 {
        bail!("--volume-runs must be at least 5");
    }
    Ok(options)
}

/// `devctl ARGUMENTS`, run in `directory` with only the DEVCTL_* variables given.
fn devctl_command(directory: &Path, arguments: &[&str], variables: &[(&str, &Path)]) -> Command {
    let mut command = Command::new(DEVCTL);
    command.args(arguments).current_dir(directory);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("DEVCTL_") {
            command.env_remove(name);
        }
    }
    for (name, value) in variables {
        command.env(name, value);
    }
    command
}

/// The private copy of the demo stack; dropping it removes the stack, then the directory.
struct Sandbox {
    project: String,
    directory: PathBuf,
    state: PathBuf,
    _temporary: tempfile::TempDir,
}

impl Sandbox {
    fn create(demo: &Path) -> Result<Sandbox> {
        let temporary = tempfile::Builder::new().prefix("devctl-bench-").tempdir()?;
        let directory = temporary.path().join("demo");
        let state = temporary.path().join("state");
        copy_tree(demo, &directory).with_context(|| format!("cannot copy {}", demo.display()))?;
        let project = format!("devctl-bench-{}", std::process::id());
        let profile = directory.join("profiles/default.yaml");
        rewrite_lines(&profile, |line| {
            let key = line.trim_start();
            key.starts_with("project_name:").then(|| {
                let indent = &line[..line.len() - key.len()];
                format!("{indent}project_name: {project}")
            })
        })?;
        // Both listeners stay bound until both ports are picked, so the two differ.
        let listeners = [
            TcpListener::bind("127.0.0.1:0")?,
            TcpListener::bind("127.0.0.1:0")?,
        ];
        let ports = [
            ("BACKEND_PORT=", listeners[0].local_addr()?.port()),
            ("ADMIN_PORT=", listeners[1].local_addr()?.port()),
        ];
        rewrite_lines(&directory.join(".env"), |line| {
            let line = line.trim_start();
            let (key, port) = ports.iter().find(|(key, _)| line.starts_with(key))?;
            Some(format!("{key}{port}"))
        })?;
        Ok(Sandbox {
            project,
            directory,
            state,
            _temporary: temporary,
        })
    }

    /// `devctl ARGUMENTS`, run in the copy with only the bench's DEVCTL_* variables.
    fn devctl(&self, arguments: &[&str]) -> Command {
        devctl_command(
            &self.directory,
            arguments,
            &[("DEVCTL_STATE_DIR", &self.state)],
        )
    }

    /// `docker compose ARGUMENTS`, run in the copy.
    fn compose(&self, arguments: &[&str]) -> Command {
        let mut command = Command::new("docker");
        command
            .arg("compose")
            .args(arguments)
            .current_dir(&self.directory);
        command
    }

    /// `docker compose -f compose.yaml --env-file .env -p PROJECT ARGUMENTS`.
    fn compose_project(&self, arguments: &[&str]) -> Command {
        let mut command = self.compose(&["-f", "compose.yaml", "--env-file", ".env"]);
        command.args(["-p", &self.project]).args(arguments);
        command
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let fidelity = format!("{}-fidelity", self.project);
        for project in [self.project.as_str(), fidelity.as_str()] {
            let down = ["-p", project, "--profile", "*", "down", "-v"];
            let mut command = self.compose(&down);
            command.arg("--remove-orphans");
            if let Err(error) = run_timed(&mut command) {
                eprintln!("warning: cleaning up project {project} failed: {error:#}");
            }
        }
        // The images the fidelity stack built, named after its project.
        let listed = Command::new("docker")
            .args(["images", "-q", "--filter"])
            .arg(format!("reference={fidelity}-*"))
            .output();
        if let Ok(listed) = listed {
            let ids: Vec<String> = String::from_utf8_lossy(&listed.stdout)
                .split_whitespace()
                .map(String::from)
                .collect();
            if !ids.is_empty() {
                let _ = Command::new("docker")
                    .args(["rmi", "-f"])
                    .args(&ids)
                    .output();
            }
        }
    }
}

fn copy_tree(source: &Path, target: &Path) -> Result<()> {
    std::fs::create_dir_all(target)?;
    for entry in std::fs::read_dir(source)? {
        let entry = entry?;
        let destination = target.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &destination)?;
        } else {
            std::fs::copy(entry.path(), &destination)?;
        }
    }
    Ok(())
}

/// Replaces each line of `file` for which `replace` returns a new line.
fn rewrite_lines(file: &Path, replace: impl Fn(&str) -> Option<String>) -> Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| format!("{}", file.display()))?;
    let lines: Vec<String> = text
        .lines()
        .map(|line| replace(line).unwrap_or_else(|| line.to_string()))
        .collect();
    std::fs::write(file, lines.join("\n") + "\n")?;
    Ok(())
}

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

/// The volume project; dropping it removes its helper containers, containers, network and
/// volumes, then its directory (profile, state, backups, scratch files).
struct VolumeSandbox {
    project: String,
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
    _temporary: tempfile::TempDir,
}

impl VolumeSandbox {
    fn create(compression_level: Option<i32>) -> Result<VolumeSandbox> {
        let engine = Engine::connect(None)?;
        let docker = DockerCli::locate(None)?;
        let temporary = tempfile::Builder::new()
            .prefix("devctl-bench-vol-")
            .tempdir()?;
        let project = format!("devctl-bench-vol-{}", std::process::id());
        let directory = temporary.path().join("project");
        let scratch = temporary.path().join("scratch");
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
            project,
            directory,
            state: temporary.path().join("state"),
            backups: temporary.path().join("backups"),
            scratch,
            engine,
            docker,
            _temporary: temporary,
        })
    }

    /// `devctl ARGUMENTS`, run in the project with the bench's state and backup directories.
    fn devctl(&self, arguments: &[&str]) -> Command {
        devctl_command(
            &self.directory,
            arguments,
            &[
                ("DEVCTL_STATE_DIR", &self.state),
                ("DEVCTL_BACKUP_DIR", &self.backups),
            ],
        )
    }

    /// `docker compose -f compose.yaml -p PROJECT ARGUMENTS`, run in the project.
    fn compose(&self, arguments: &[&str]) -> Command {
        let mut command = Command::new("docker");
        command
            .args(["compose", "-f", "compose.yaml", "-p", &self.project])
            .args(arguments)
            .current_dir(&self.directory);
        command
    }

    /// The id of the `app` service's container.
    fn app_container(&self) -> Result<String> {
        self.engine
            .project_containers(&self.project)?
            .iter()
            .find(|container| {
                devctl::engine::service_status::service_of(container).as_deref() == Some("app")
            })
            .and_then(|container| container.id.clone())
            .with_context(|| format!("project {} has no app container", self.project))
    }

    /// Fills the volume through the app container: half random, half text.
    fn fill(&self, container: &str) -> Result<()> {
        // 10 files each of 1, 4 and 10 MiB: 150 MiB.
        let random = "mkdir -p /data/blobs && for size in 1 4 10; do i=1; \
while [ $i -le 10 ]; do \
dd if=/dev/urandom of=/data/blobs/blob-$size-$i.bin bs=1048576 count=$size 2>/dev/null || exit 1; \
i=$((i + 1)); done; done";
        run_timed(Command::new("docker").args(["exec", container, "sh", "-c", random]))?;
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
        BackupStore::new(self.backups.join(&self.project))
    }

    /// Removes every backup of the project (finished or not) but `keep`.
    fn remove_backups(&self, keep: Option<&str>) -> Result<()> {
        let directory = self.backups.join(&self.project);
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
        let labels = BTreeMap::from([("dev.devctl.bench".to_string(), self.project.clone())]);
        self.engine
            .create_volume(&self.restore_volume, "local", &BTreeMap::new(), &labels)
    }
}

impl Drop for VolumeSandbox {
    fn drop(&mut self) {
        let mut failures = Vec::new();
        if let Err(error) = self.engine.remove_stale_helpers(&self.project) {
            failures.push(error);
        }
        let mut down = self.compose(&["down", "--volumes", "--remove-orphans"]);
        if let Err(error) = run_timed(&mut down) {
            failures.push(error);
        }
        for volume in [&self.volume, &self.restore_volume] {
            let removed = self.engine.volume(volume).and_then(|found| match found {
                Some(_) => self.engine.remove_volume(volume),
                None => Ok(()),
            });
            if let Err(error) = removed {
                failures.push(error);
            }
        }
        for error in failures {
            eprintln!(
                "warning: cleaning up project {} failed: {error:#}",
                self.project
            );
        }
    }
}

/// xorshift64*: a small deterministic generator, so every run writes the same text.
struct Generator {
    state: u64,
}

impl Generator {
    fn next(&mut self) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const SERVICES: [&str; 6] = ["orders", "billing", "auth", "search", "gateway", "mailer"];
const METHODS: [&str; 5] = ["GET", "GET", "GET", "POST", "PUT"];
const ROUTES: [&str; 8] = [
    "/api/v1/orders/",
    "/api/v1/users/",
    "/api/v1/invoices/",
    "/api/v1/search?page=",
    "/static/bundle.",
    "/api/v1/carts/",
    "/api/v1/sessions/",
    "/healthz?probe=",
];
const STATUSES: [&str; 8] = ["200", "200", "200", "200", "201", "204", "404", "500"];
const FAILURES: [&str; 5] = [
    "connection reset by peer",
    "deadline exceeded after 5000 ms",
    "duplicate key value violates unique constraint \"orders_pkey\"",
    "upstream returned 502 Bad Gateway",
    "token expired for subject",
];
const CLASSES: [&str; 6] = [
    "RequestHandler",
    "OrderService",
    "Repository",
    "ConnectionPool",
    "RetryPolicy",
    "Serializer",
];

/// The vocabulary of the notes, separated by single spaces.
const WORDS: &str = "the volume backup restore service container engine project profile compose \
    network health check running stopped created removed data file directory archive \
    stream hash verify and of to with from into every each when after before is are \
    was not only a new old first last safe fast small";

/// Service log lines, about `bytes` long: timestamps, request lines with ids, latencies and
/// trace ids, some warnings, and errors with stack traces.
fn log_text(generator: &mut Generator, bytes: usize, day: u64) -> String {
    let mut text = String::with_capacity(bytes + 1024);
    let mut millisecond = generator.below(1000);
    while text.len() < bytes {
        millisecond += generator.below(40);
        let time = format!(
            "2026-03-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            day % 28 + 1,
            millisecond / 3_600_000 % 24,
            millisecond / 60_000 % 60,
            millisecond / 1000 % 60,
            millisecond % 1000
        );
        let service = generator.pick(&SERVICES);
        let process = 1000 + generator.below(16);
        let trace = generator.next();
        let roll = generator.below(100);
        if roll < 2 {
            let _ = writeln!(
                text,
                "{time} ERROR {service}[{process}]: request {trace:016x} failed: {}",
                generator.pick(&FAILURES)
            );
            for _ in 0..3 + generator.below(6) {
                let class = generator.pick(&CLASSES);
                let _ = writeln!(
                    text,
                    "    at com.example.{service}.{class}.handle({class}.java:{})",
                    20 + generator.below(400)
                );
            }
        } else if roll < 8 {
            let _ = writeln!(
                text,
                "{time} WARN  {service}[{process}]: slow request {trace:016x}: {} ms over budget, retry {} of 3",
                generator.below(5000),
                1 + generator.below(3)
            );
        } else {
            let _ = writeln!(
                text,
                "{time} INFO  {service}[{process}]: {} {}{} -> {} in {}.{:02} ms (user=u-{}, trace={trace:016x}, bytes={})",
                generator.pick(&METHODS),
                generator.pick(&ROUTES),
                generator.below(100_000),
                generator.pick(&STATUSES),
                generator.below(250),
                generator.below(100),
                generator.below(50_000),
                generator.below(65_536)
            );
        }
    }
    text
}

/// Sentences of common words, about `bytes` long.
fn note_text(generator: &mut Generator, bytes: usize) -> String {
    let vocabulary: Vec<&str> = WORDS.split(' ').collect();
    let mut text = String::with_capacity(bytes + 256);
    while text.len() < bytes {
        let words = 6 + generator.below(14);
        for index in 0..words {
            let word = generator.pick(&vocabulary);
            if index == 0 {
                let mut letters = word.chars();
                if let Some(first) = letters.next() {
                    text.extend(first.to_uppercase());
                    text.push_str(letters.as_str());
                }
            } else {
                text.push(' ');
                text.push_str(word);
            }
        }
        text.push_str(if generator.below(5) == 0 { ".\n" } else { ". " });
    }
    text
}

/// 1024 notes of 8 KiB and 16 logs, 150 MiB in all, as a tar stream into `sink`.
fn write_text_tree(generator: &mut Generator, sink: &mut dyn Write) -> Result<u64> {
    const NOTES: u64 = 1024;
    const NOTE_BYTES: u64 = 8 * 1024;
    const LOGS: u64 = 16;
    const LOG_BYTES: u64 = (150 * MEBIBYTE - NOTES * NOTE_BYTES) / LOGS;
    let mut builder = tar::Builder::new(sink);
    let mut written = 0;
    for directory in ["notes", "logs"] {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Directory);
        header.set_mode(0o755);
        header.set_mtime(1_773_446_400);
        header.set_size(0);
        builder.append_data(&mut header, directory, std::io::empty())?;
    }
    let mut append = |path: String, text: String| -> Result<()> {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mode(0o644);
        header.set_mtime(1_773_446_400);
        header.set_size(text.len() as u64);
        builder.append_data(&mut header, path, text.as_bytes())?;
        written += text.len() as u64;
        Ok(())
    };
    for index in 0..NOTES {
        let text = note_text(generator, NOTE_BYTES as usize);
        append(format!("notes/note-{index:04}.txt"), text)?;
    }
    for index in 0..LOGS {
        let text = log_text(generator, LOG_BYTES as usize, index);
        append(
            format!("logs/{}-{index:02}.log", SERVICES[index as usize % 6]),
            text,
        )?;
    }
    builder.into_inner()?.flush()?;
    Ok(written)
}

/// Runs `command` to its end with its output captured; fails unless it exits 0.
fn run_timed(command: &mut Command) -> Result<Duration> {
    let started = Instant::now();
    let output = command
        .output()
        .with_context(|| format!("cannot run {}", describe(command)))?;
    let elapsed = started.elapsed();
    if !output.status.success() {
        bail!(
            "{} failed ({}):\n{}{}",
            describe(command),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(elapsed)
}

fn describe(command: &Command) -> String {
    let mut words = vec![command.get_program().to_string_lossy().into_owned()];
    words.extend(
        command
            .get_args()
            .map(|word| word.to_string_lossy().into_owned()),
    );
    words.join(" ")
}

enum Target {
    /// The devctl median must stay under this many milliseconds.
    DevctlUnder(f64),
    /// devctl median ÷ baseline median must be at most this.
    RatioAtMost(f64),
    /// Baseline median ÷ devctl median must be at least this: devctl that many times as fast.
    SpeedupAtLeast(f64),
    /// Shown, not judged.
    Untargeted,
}

struct Measurement {
    name: &'static str,
    devctl_line: String,
    /// The command devctl is compared with, if any.
    baseline_line: Option<String>,
    devctl_median: Duration,
    baseline_median: Option<Duration>,
    target: Target,
}

impl Measurement {
    /// devctl ÷ baseline, or baseline ÷ devctl for a speed-up target.
    fn ratio(&self) -> Option<f64> {
        let devctl = self.devctl_median.as_secs_f64();
        let baseline = self.baseline_median?.as_secs_f64();
        Some(match self.target {
            Target::SpeedupAtLeast(_) => baseline / devctl,
            _ => devctl / baseline,
        })
    }

    fn target_text(&self) -> String {
        match self.target {
            Target::DevctlUnder(limit) => format!("< {limit} ms"),
            Target::RatioAtMost(limit) => format!("≤ {limit:.2}"),
            Target::SpeedupAtLeast(limit) => format!("≥ {limit:.2}"),
            Target::Untargeted => "-".to_string(),
        }
    }

    fn met(&self) -> Option<bool> {
        match self.target {
            Target::DevctlUnder(limit) => Some(milliseconds(self.devctl_median) < limit),
            Target::RatioAtMost(limit) => self.ratio().map(|ratio| ratio <= limit),
            Target::SpeedupAtLeast(limit) => self.ratio().map(|ratio| ratio >= limit),
            Target::Untargeted => None,
        }
    }
}

/// One warm-up of each side, then `runs` runs of each in turn; returns both medians.
fn measure(
    name: &'static str,
    target: Target,
    runs: usize,
    mut devctl: Command,
    mut compose: Command,
) -> Result<Measurement> {
    eprintln!("measuring {name} ({runs} runs each) …");
    run_timed(&mut devctl)?;
    run_timed(&mut compose)?;
    let (mut devctl_times, mut compose_times) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        devctl_times.push(run_timed(&mut devctl)?);
        compose_times.push(run_timed(&mut compose)?);
    }
    Ok(Measurement {
        name,
        devctl_line: describe(&devctl),
        baseline_line: Some(describe(&compose)),
        devctl_median: median(devctl_times),
        baseline_median: Some(median(compose_times)),
        target,
    })
}

/// One side of a volume measurement: one run, returning the part of it that is timed
/// (preparation and clean-up around it are not).
type Side<'a> = Box<dyn FnMut() -> Result<Duration> + 'a>;

/// One warm-up of each side, then `runs` runs of every side in turn; the median of each.
fn measure_sides(name: &str, runs: usize, sides: &mut [Side]) -> Result<Vec<Duration>> {
    eprintln!("measuring {name} ({runs} runs each) …");
    for side in sides.iter_mut() {
        side()?;
    }
    let mut times = vec![Vec::new(); sides.len()];
    for _ in 0..runs {
        for (side, times) in sides.iter_mut().zip(&mut times) {
            times.push(side()?);
        }
    }
    Ok(times.into_iter().map(median).collect())
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    let middle = times.len() / 2;
    if times.len().is_multiple_of(2) {
        (times[middle - 1] + times[middle]) / 2
    } else {
        times[middle]
    }
}

fn milliseconds(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn mebibytes(bytes: u64) -> f64 {
    bytes as f64 / MEBIBYTE as f64
}

/// What the demo stack's measurements print with.
struct DemoReport {
    project: String,
    directory: PathBuf,
    state: PathBuf,
    runs: usize,
    measurements: Vec<Measurement>,
}

/// What the volume measurements print with.
struct VolumeReport {
    project: String,
    directory: PathBuf,
    state: PathBuf,
    backups: PathBuf,
    volume: String,
    runs: usize,
    /// The processors the machine offers: devctl's compression competes with the engine's
    /// own copying for them.
    processors: usize,
    /// The profile's backup.compression_level; none for devctl's default.
    compression_level: Option<i32>,
    /// The volume's size as the engine reports it (`docker system df`).
    volume_bytes: Option<u64>,
    /// The backup's tar stream, its stored size and its entries, from its manifest.
    tar_bytes: u64,
    stored_bytes: u64,
    entries: u64,
    /// The size of `tar czf`'s output.
    gzip_bytes: u64,
    /// How much of devctl's restore step is creating and removing its helper container.
    helper_median: Duration,
    measurements: Vec<Measurement>,
}

/// The header and one line per measurement; `baseline` names the column compared with.
fn print_rows(baseline: &str, measurements: &[Measurement]) {
    println!(
        "\n{:<20} {:>12} {:>12} {:>7}  {:<8}",
        "measurement", "devctl", baseline, "ratio", "target"
    );
    for measurement in measurements {
        let baseline = measurement.baseline_median.map_or("-".to_string(), |time| {
            format!("{:.1} ms", milliseconds(time))
        });
        let ratio = measurement
            .ratio()
            .map_or("-".to_string(), |ratio| format!("{ratio:.2}"));
        let mark = match measurement.met() {
            Some(true) => "✔",
            Some(false) => "✘",
            None => "",
        };
        let line = format!(
            "{:<20} {:>9.1} ms {:>12} {:>7}  {:<8} {}",
            measurement.name,
            milliseconds(measurement.devctl_median),
            baseline,
            ratio,
            measurement.target_text(),
            mark
        );
        println!("{}", line.trim_end());
    }
}

/// The command lines of each measurement; `baseline` names the compared side.
fn print_command_lines(directory: &Path, baseline: &str, measurements: &[Measurement]) {
    println!("\ncommand lines (run in {}):", directory.display());
    for measurement in measurements {
        println!("  {}", measurement.name);
        println!("    devctl:  {}", measurement.devctl_line);
        if let Some(line) = &measurement.baseline_line {
            println!("    {:<8} {line}", format!("{baseline}:"));
        }
    }
}

fn print_table(demo: Option<&DemoReport>, volume: &VolumeReport) {
    if let Some(demo) = demo {
        println!(
            "devctl vs docker compose: project {}, median of {} alternating runs each",
            demo.project, demo.runs
        );
        print_rows("compose", &demo.measurements);
        print_command_lines(&demo.directory, "compose", &demo.measurements);
        println!(
            "  devctl runs with DEVCTL_STATE_DIR={}",
            demo.state.display()
        );
        println!();
    }
    println!(
        "devctl vs raw docker on a {:.1} MiB volume: project {}, median of {} runs each, taken in turn, {} processors",
        mebibytes(volume.volume_bytes.unwrap_or(volume.tar_bytes)),
        volume.project,
        volume.runs,
        volume.processors
    );
    print_rows("docker", &volume.measurements);
    println!(
        "\nratio: devctl ÷ docker; on `backup, tar czf` tar czf ÷ devctl (devctl that many times as fast)"
    );
    println!(
        "volume {}: {} on the engine (docker system df); tar stream {:.1} MiB in {} entries",
        volume.volume,
        volume
            .volume_bytes
            .map_or("size unknown".to_string(), |bytes| format!(
                "{:.1} MiB",
                mebibytes(bytes)
            )),
        mebibytes(volume.tar_bytes),
        volume.entries
    );
    println!(
        "stored: devctl {:.1} MiB (zstd level {}, {:.0}% of the tar), tar czf {:.1} MiB ({:.0}%)",
        mebibytes(volume.stored_bytes),
        volume
            .compression_level
            .map_or("the profile default".to_string(), |level| level.to_string()),
        100.0 * volume.stored_bytes as f64 / volume.tar_bytes as f64,
        mebibytes(volume.gzip_bytes),
        100.0 * volume.gzip_bytes as f64 / volume.tar_bytes as f64
    );
    println!(
        "devctl's restore step includes creating and removing its helper container: {:.1} ms (median)",
        milliseconds(volume.helper_median)
    );
    print_command_lines(&volume.directory, "docker", &volume.measurements);
    println!(
        "  devctl runs with DEVCTL_STATE_DIR={} DEVCTL_BACKUP_DIR={}",
        volume.state.display(),
        volume.backups.display()
    );
}

/// The rows of one table as JSON; `baseline` names the compared side in the keys.
fn json_rows(baseline: &str, measurements: &[Measurement]) -> Vec<Value> {
    measurements
        .iter()
        .map(|measurement| {
            let mut row = serde_json::Map::new();
            row.insert("measurement".into(), json!(measurement.name));
            row.insert(
                "devctl_median_ms".into(),
                json!(milliseconds(measurement.devctl_median)),
            );
            row.insert(
                format!("{baseline}_median_ms"),
                json!(measurement.baseline_median.map(milliseconds)),
            );
            row.insert("ratio".into(), json!(measurement.ratio()));
            row.insert("target".into(), json!(measurement.target_text()));
            row.insert("met".into(), json!(measurement.met()));
            row.insert("devctl_command".into(), json!(measurement.devctl_line));
            row.insert(
                format!("{baseline}_command"),
                json!(measurement.baseline_line),
            );
            Value::Object(row)
        })
        .collect()
}

fn print_json(demo: Option<&DemoReport>, volume: &VolumeReport) {
    let mut document = serde_json::Map::new();
    if let Some(demo) = demo {
        document.insert("project".into(), json!(demo.project));
        document.insert("directory".into(), json!(demo.directory));
        document.insert("state_dir".into(), json!(demo.state));
        document.insert("runs".into(), json!(demo.runs));
        document.insert(
            "measurements".into(),
            json!(json_rows("compose", &demo.measurements)),
        );
    }
    document.insert(
        "volume".into(),
        json!({
            "project": volume.project,
            "directory": volume.directory,
            "state_dir": volume.state,
            "backup_dir": volume.backups,
            "volume": volume.volume,
            "runs": volume.runs,
            "processors": volume.processors,
            "compression_level": volume.compression_level,
            "volume_bytes": volume.volume_bytes,
            "tar_bytes": volume.tar_bytes,
            "stored_bytes": volume.stored_bytes,
            "entries": volume.entries,
            "gzip_bytes": volume.gzip_bytes,
            "helper_median_ms": milliseconds(volume.helper_median),
            "measurements": json_rows("docker", &volume.measurements),
        }),
    );
    println!("{:#}", Value::Object(document));
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Measures and prints; each project is removed when its part returns or unwinds.
fn run() -> Result<()> {
    let options = parse_options()?;
    let demo = if options.volume_only {
        None
    } else {
        Some(measure_demo(&options)?)
    };
    let volume = measure_volume(&options)?;
    if options.json {
        print_json(demo.as_ref(), &volume);
    } else {
        print_table(demo.as_ref(), &volume);
    }
    Ok(())
}

/// The measurements on the demo stack.
fn measure_demo(options: &Options) -> Result<DemoReport> {
    let sandbox = Sandbox::create(&options.demo)?;
    eprintln!("bringing up {} with devctl …", sandbox.project);
    run_timed(&mut sandbox.devctl(&["up"]))?;
    let runs = options.runs;
    let measurements = vec![
        measure(
            "--version",
            Target::DevctlUnder(5.0),
            runs,
            sandbox.devctl(&["--version"]),
            sandbox.compose(&["version"]),
        )?,
        measure(
            "no-op up",
            Target::RatioAtMost(1.05),
            runs,
            sandbox.devctl(&["up"]),
            sandbox.compose_project(&["up", "-d", "--wait"]),
        )?,
        measure(
            "status --json",
            Target::RatioAtMost(1.15),
            runs,
            sandbox.devctl(&["status", "--json"]),
            sandbox.compose_project(&["ps", "--format", "json"]),
        )?,
        measure_fidelity(&sandbox, runs)?,
        measure(
            "compose ps",
            Target::RatioAtMost(1.1),
            runs,
            sandbox.devctl(&["compose", "ps", "--format", "json"]),
            sandbox.compose_project(&["ps", "--format", "json"]),
        )?,
    ];
    Ok(DemoReport {
        project: sandbox.project.clone(),
        directory: sandbox.directory.clone(),
        state: sandbox.state.clone(),
        runs,
        measurements,
    })
}

/// A warm `devctl up --fidelity` (sources unchanged: the build is all cache hits, nothing is
/// recreated) against `docker compose up -d --build --wait` on the same generated file.
fn measure_fidelity(sandbox: &Sandbox, runs: usize) -> Result<Measurement> {
    eprintln!("bringing up the fidelity stack of {} …", sandbox.project);
    run_timed(&mut sandbox.devctl(&["up", "--fidelity"]))?;
    let output = sandbox
        .devctl(&["plan", "--fidelity", "--json"])
        .output()
        .context("cannot run devctl plan --fidelity")?;
    let plan: Value = serde_json::from_slice(&output.stdout)
        .context("devctl plan --fidelity --json printed no JSON")?;
    let file = plan["fidelity"]["compose_file"]
        .as_str()
        .context("the plan names no fidelity compose file")?
        .to_string();
    let project = plan["fidelity"]["changes"]["project"]
        .as_str()
        .context("the plan names no fidelity project")?
        .to_string();
    let directory = sandbox.directory.display().to_string();
    let baseline = sandbox.compose(&[
        "-f",
        &file,
        "--project-directory",
        &directory,
        "-p",
        &project,
        "up",
        "-d",
        "--build",
        "--wait",
    ]);
    measure(
        "warm up --fidelity",
        Target::RatioAtMost(1.1),
        runs,
        sandbox.devctl(&["up", "--fidelity"]),
        baseline,
    )
}

/// The backup and restore measurements on the volume project.
fn measure_volume(options: &Options) -> Result<VolumeReport> {
    let sandbox = VolumeSandbox::create(options.compression_level)?;
    let runs = options.volume_runs;
    eprintln!("bringing up {} with devctl …", sandbox.project);
    run_timed(&mut sandbox.devctl(&["up"]))?;
    let container = sandbox.app_container()?;
    eprintln!("filling volume {} with ~300 MiB …", sandbox.volume);
    sandbox.fill(&container)?;
    let mut measurements = Vec::new();

    // Backup: devctl, docker cp, tar czf, in turn.
    let backup_arguments = ["backup", "--volume", "data"];
    let mut docker_copy = Command::new("docker");
    docker_copy.args(["cp", &format!("{container}:/data"), "-"]);
    let docker_copy_line = format!(
        "{} > /dev/null (from the running app container)",
        describe(&docker_copy)
    );
    let gzip_file = sandbox.scratch.join("volume.tar.gz");
    let mut tar_gzip = Command::new("docker");
    tar_gzip.args(["run", "--rm", "-v", &format!("{}:/data", sandbox.volume)]);
    tar_gzip.args([IMAGE, "tar", "czf", "-", "-C", "/data", "."]);
    let tar_gzip_line = format!("{} > {}", describe(&tar_gzip), gzip_file.display());
    let mut gzip_bytes = 0;
    let medians = {
        let mut sides: Vec<Side> = vec![
            Box::new(|| {
                let elapsed = run_timed(&mut sandbox.devctl(&backup_arguments))?;
                sandbox.remove_backups(None)?;
                Ok(elapsed)
            }),
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
    let devctl_backup_line = describe(&sandbox.devctl(&backup_arguments));
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
    run_timed(&mut sandbox.devctl(&backup_arguments))?;
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
                    &sandbox.project,
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
            Box::new(|| {
                sandbox.recreate_restore_volume()?;
                let helper = sandbox.engine.create_helper(
                    &sandbox.project,
                    IMAGE,
                    &sandbox.restore_volume,
                )?;
                let input = File::open(&tar_file)
                    .with_context(|| format!("cannot open {}", tar_file.display()));
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
            }),
        ];
        measure_sides("the restore step", runs, &mut sides)?
    };
    sandbox.remove_restore_volume()?;
    std::fs::remove_file(&tar_file)?;
    measurements.push(Measurement {
        name: "restore step",
        devctl_line: format!(
            "(library) Engine::create_helper({}, {IMAGE}, {}); DockerCli::copy_in(HELPER, \"/\", \
archive::unpack_into({})) = docker cp -a - HELPER:/; Engine::remove_container(HELPER)",
            sandbox.project,
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

    // The full restore sequence.
    let id = source.manifest.id.clone();
    let restore_arguments = [
        "restore",
        id.as_str(),
        "--confirm",
        sandbox.project.as_str(),
    ];
    let medians = {
        let mut sides: Vec<Side> = vec![Box::new(|| {
            let elapsed = run_timed(&mut sandbox.devctl(&restore_arguments))?;
            sandbox.remove_backups(Some(&id))?;
            Ok(elapsed)
        })];
        measure_sides("the full restore", runs, &mut sides)?
    };
    measurements.push(Measurement {
        name: "full restore",
        devctl_line: describe(&sandbox.devctl(&restore_arguments)),
        baseline_line: None,
        devctl_median: medians[0],
        baseline_median: None,
        target: Target::Untargeted,
    });

    Ok(VolumeReport {
        project: sandbox.project.clone(),
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
