//! devctl against raw `docker compose`, side by side, on a private copy of the demo stack.
//!
//! Measures, in one run, the median wall time of each side over `--runs N` runs (default 10),
//! taken in turn (devctl, compose, devctl, compose, …) so that drift hits both equally:
//!
//! 1. `devctl --version` (target: under 5 ms; `docker compose version` shown for scale);
//! 2. a no-op `devctl up` against `docker compose … up -d --wait` (target: ratio ≤ 1.05);
//! 3. `devctl status --json` against `docker compose … ps --format json` (target: ≤ 1.15).
//!
//! The `--demo DIR` project is copied into a temporary directory, given the compose project
//! name `devctl-bench-<pid>` and free host ports, and brought up once with devctl; devctl
//! gets a temporary `DEVCTL_STATE_DIR`. Each side gets one warm-up run, then each timed run
//! is one child process, output captured, timed with `Instant` from spawn to exit. The stack
//! is always removed at the end (`down -v --remove-orphans`), also on error or panic.
//!
//! Usage: `cargo bench --bench compare -- --demo examples/demo [--runs N] [--json]`.
//! The exit status is 0 even when a target is missed; it is 1 when a command fails.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::json;

const DEVCTL: &str = env!("CARGO_BIN_EXE_devctl");

struct Options {
    demo: PathBuf,
    runs: usize,
    json: bool,
}

fn parse_options() -> Result<Options> {
    let mut options = Options {
        demo: PathBuf::from("examples/demo"),
        runs: 10,
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
            "--json" => options.json = true,
            "--bench" => {} // cargo bench passes it to every bench binary
            other => bail!("unknown argument `{other}` (expected --demo DIR, --runs N, --json)"),
        }
    }
    if options.runs < 10 {
        bail!("--runs must be at least 10");
    }
    Ok(options)
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
        let mut command = Command::new(DEVCTL);
        command.args(arguments).current_dir(&self.directory);
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("DEVCTL_") {
                command.env_remove(name);
            }
        }
        command.env("DEVCTL_STATE_DIR", &self.state);
        command
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
        let down = ["-p", &self.project, "--profile", "*", "down", "-v"];
        let mut command = self.compose(&down);
        command.arg("--remove-orphans");
        if let Err(error) = run_timed(&mut command) {
            eprintln!(
                "warning: cleaning up project {} failed: {error:#}",
                self.project
            );
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
    /// devctl median ÷ compose median must be at most this.
    RatioAtMost(f64),
}

struct Measurement {
    name: &'static str,
    devctl_line: String,
    compose_line: String,
    devctl_median: Duration,
    compose_median: Duration,
    target: Target,
}

impl Measurement {
    fn ratio(&self) -> f64 {
        self.devctl_median.as_secs_f64() / self.compose_median.as_secs_f64()
    }

    fn target_text(&self) -> String {
        match self.target {
            Target::DevctlUnder(limit) => format!("< {limit} ms"),
            Target::RatioAtMost(limit) => format!("≤ {limit:.2}"),
        }
    }

    fn met(&self) -> bool {
        match self.target {
            Target::DevctlUnder(limit) => milliseconds(self.devctl_median) < limit,
            Target::RatioAtMost(limit) => self.ratio() <= limit,
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
        compose_line: describe(&compose),
        devctl_median: median(devctl_times),
        compose_median: median(compose_times),
        target,
    })
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

fn print_table(sandbox: &Sandbox, runs: usize, measurements: &[Measurement]) {
    println!(
        "devctl vs docker compose: project {}, median of {runs} alternating runs each",
        sandbox.project
    );
    println!(
        "\n{:<16} {:>12} {:>12} {:>7}  {:<8}",
        "measurement", "devctl", "compose", "ratio", "target"
    );
    for measurement in measurements {
        println!(
            "{:<16} {:>9.1} ms {:>9.1} ms {:>7.2}  {:<8} {}",
            measurement.name,
            milliseconds(measurement.devctl_median),
            milliseconds(measurement.compose_median),
            measurement.ratio(),
            measurement.target_text(),
            if measurement.met() { "✔" } else { "✘" }
        );
    }
    println!("\ncommand lines (run in {}):", sandbox.directory.display());
    for measurement in measurements {
        println!("  {}", measurement.name);
        println!("    devctl:  {}", measurement.devctl_line);
        println!("    compose: {}", measurement.compose_line);
    }
    println!(
        "  devctl runs with DEVCTL_STATE_DIR={}",
        sandbox.state.display()
    );
}

fn print_json(sandbox: &Sandbox, runs: usize, measurements: &[Measurement]) {
    let rows: Vec<_> = measurements
        .iter()
        .map(|measurement| {
            json!({
                "measurement": measurement.name,
                "devctl_median_ms": milliseconds(measurement.devctl_median),
                "compose_median_ms": milliseconds(measurement.compose_median),
                "ratio": measurement.ratio(),
                "target": measurement.target_text(),
                "met": measurement.met(),
                "devctl_command": measurement.devctl_line,
                "compose_command": measurement.compose_line,
            })
        })
        .collect();
    let document = json!({
        "project": sandbox.project,
        "directory": sandbox.directory,
        "state_dir": sandbox.state,
        "runs": runs,
        "measurements": rows,
    });
    println!("{document:#}");
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

/// Measures and prints; the sandbox is removed when this returns or unwinds.
fn run() -> Result<()> {
    let options = parse_options()?;
    let sandbox = Sandbox::create(&options.demo)?;
    eprintln!("bringing up {} with devctl …", sandbox.project);
    run_timed(&mut sandbox.devctl(&["up"]))?;
    let runs = options.runs;
    let measurements = [
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
    ];
    if options.json {
        print_json(&sandbox, runs, &measurements);
    } else {
        print_table(&sandbox, runs, &measurements);
    }
    Ok(())
}
