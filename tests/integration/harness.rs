//! The test harness: `Fixture`, a project on disk with a unique compose project name that is
//! removed from the engine (containers, networks, volumes) when dropped, even after a failed
//! assertion; `Test`, a builder over the real `devctl` binary; and `snapshot!`, which compares
//! what a run printed with its snapshot in snapshots/.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::sandbox::{self, Sandbox};

/// The image every fixture service runs (built by scripts/prepare-engine.sh).
pub const BUSYBOX: &str = "devctl-test/busybox:1";

static COUNTER: AtomicUsize = AtomicUsize::new(0);
static ENGINE: Once = Once::new();

/// Fails early, with what to do, when the engine the tests need is not there.
pub fn require_engine() {
    ENGINE.call_once(|| {
        let answered = Command::new("docker")
            .args(["image", "inspect", BUSYBOX])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        assert!(
            answered,
            "the Docker engine or the image {BUSYBOX} is missing: run scripts/prepare-engine.sh (make test does)"
        );
    });
}

pub fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub struct Fixture {
    sandbox: Sandbox,
    pub name: String,
    env: Vec<(String, String)>,
}

impl Fixture {
    /// An empty project directory with a unique project name `devctl-t-<label>-<pid>-<n>`.
    pub fn new(label: &str) -> Fixture {
        let name = format!(
            "devctl-t-{label}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let sandbox = Sandbox::new("devctl-test-", name.clone()).unwrap();
        std::fs::create_dir_all(sandbox.path().join("root")).unwrap();
        Fixture {
            sandbox,
            name,
            env: Vec::new(),
        }
    }

    /// A copy of examples/demo under a unique project name, on free host ports (in its
    /// `.env` and in the variables of every run).
    pub fn demo(label: &str) -> Fixture {
        let mut fixture = Fixture::new(label);
        let ports = sandbox::copy_demo(
            &repository().join("examples/demo"),
            &fixture.root(),
            &fixture.name,
        )
        .unwrap();
        for (variable, port) in ports {
            fixture.env.push((variable, port.to_string()));
        }
        fixture
    }

    /// A copy of the directory `source` (absolute, or relative to the repository) as the
    /// project root.
    pub fn copy(label: &str, source: &str) -> Fixture {
        let fixture = Fixture::new(label);
        sandbox::copy_tree(&repository().join(source), &fixture.root()).unwrap();
        fixture
    }

    pub fn root(&self) -> PathBuf {
        self.sandbox.path().join("root")
    }

    /// Variables every devctl run of this fixture gets (e.g. free host ports).
    pub fn variables(&self) -> &[(String, String)] {
        &self.env
    }

    /// Where this fixture's backups go: `<backup dir>/<project>/`.
    pub fn backup_dir(&self) -> PathBuf {
        self.sandbox.path().join("backups").join(&self.name)
    }

    /// Runs `sh -c script` in the first container of `service` and returns its stdout.
    pub fn shell(&self, service: &str, script: &str) -> String {
        let output = Command::new("docker")
            .args([
                "exec",
                &format!("{}-{service}-1", self.name),
                "sh",
                "-c",
                script,
            ])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "`{script}` failed in {service}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    pub fn state_dir(&self) -> PathBuf {
        self.sandbox.path().join("state")
    }

    /// Writes a file under the root; `{project}` and `{busybox}` are replaced.
    pub fn write(&self, path: &str, content: &str) -> &Fixture {
        let target = self.root().join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        let content = content
            .replace("{project}", &self.name)
            .replace("{busybox}", BUSYBOX);
        std::fs::write(target, content).unwrap();
        self
    }

    /// devctl in this project's root, with its own state and backup directories. Its
    /// snapshot shows the root as `[ROOT]`, the temporary directory around it as `[TEMP]`,
    /// the project name as `[PROJECT]` and each variable (a host port) as `[NAME]`.
    pub fn devctl(&self) -> Test {
        let mut test = Test::new(&self.root())
            .filter(&self.root().display().to_string(), "[ROOT]")
            .filter(&self.sandbox.path().display().to_string(), "[TEMP]")
            .filter(self.sandbox.project(), "[PROJECT]");
        test.command
            .env("DEVCTL_STATE_DIR", self.state_dir())
            .env("DEVCTL_BACKUP_DIR", self.sandbox.path().join("backups"));
        for (key, value) in &self.env {
            test.command.env(key, value);
            test = test.filter(value, &format!("[{key}]"));
        }
        test
    }

    /// `devctl status --json` of this project.
    pub fn status(&self) -> serde_json::Value {
        self.devctl()
            .args(["status", "--json"])
            .status(0)
            .run()
            .json()
    }

    /// Names of this project's containers (all states).
    pub fn containers(&self) -> Vec<String> {
        self.engine_list(&["ps", "-a", "--format", "{{.Names}}"])
    }

    pub fn running(&self) -> Vec<String> {
        self.engine_list(&["ps", "--format", "{{.Names}}"])
    }

    pub fn networks(&self) -> Vec<String> {
        self.engine_list(&["network", "ls", "--format", "{{.Name}}"])
    }

    pub fn volumes(&self) -> Vec<String> {
        self.engine_list(&["volume", "ls", "--format", "{{.Name}}"])
    }

    fn engine_list(&self, command: &[&str]) -> Vec<String> {
        let label = format!("label=com.docker.compose.project={}", self.name);
        let output = Command::new("docker")
            .args(command)
            .args(["--filter", &label])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "docker {command:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let mut names: Vec<String> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(String::from)
            .collect();
        names.sort();
        names
    }
}

/// One run of the devctl binary, with expectations checked by `run`.
pub struct Test {
    pub command: Command,
    stdin: Option<String>,
    status: Option<i32>,
    stdout: Vec<String>,
    stderr: Vec<String>,
    stderr_absent: Vec<String>,
    filters: Vec<(String, String)>,
    timeout: std::time::Duration,
}

/// How long a run may take unless a test says otherwise: generous, so that only a hang
/// fails (and the test fails instead of blocking forever).
const RUN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

impl Test {
    /// devctl in `directory`, without colours and without the caller's DEVCTL_* and
    /// COMPOSE_* settings; help is wrapped at clap's default width whatever `COLUMNS` says.
    pub fn new(directory: &Path) -> Test {
        let mut command = sandbox::devctl(directory);
        command.env("NO_COLOR", "1");
        for variable in [
            "COMPOSE_PROJECT_NAME",
            "COMPOSE_FILE",
            "COMPOSE_PROFILES",
            "COLUMNS",
        ] {
            command.env_remove(variable);
        }
        Test {
            command,
            stdin: None,
            status: None,
            stdout: Vec::new(),
            stderr: Vec::new(),
            stderr_absent: Vec::new(),
            filters: Vec::new(),
            timeout: RUN_TIMEOUT,
        }
    }

    /// Fails the test (killing devctl) when the run takes longer than `limit`.
    pub fn timeout(mut self, limit: std::time::Duration) -> Test {
        self.timeout = limit;
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Test
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.command.args(args);
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Test {
        self.command.env(key, value);
        self
    }

    /// Runs devctl with this umask (the child's alone).
    pub fn umask(mut self, mask: libc::mode_t) -> Test {
        use std::os::unix::process::CommandExt;
        // SAFETY: umask(2) is async-signal-safe and touches only the child's process.
        unsafe {
            self.command.pre_exec(move || {
                libc::umask(mask);
                Ok(())
            });
        }
        self
    }

    pub fn stdin(mut self, text: &str) -> Test {
        self.stdin = Some(text.to_string());
        self
    }

    /// The exit code expected.
    pub fn status(mut self, code: i32) -> Test {
        self.status = Some(code);
        self
    }

    /// Text stdout must contain.
    pub fn stdout(mut self, text: &str) -> Test {
        self.stdout.push(text.to_string());
        self
    }

    /// Text stderr must not contain.
    pub fn stderr_absent(mut self, text: &str) -> Test {
        self.stderr_absent.push(text.to_string());
        self
    }

    /// Text stderr must contain.
    pub fn stderr(mut self, text: &str) -> Test {
        self.stderr.push(text.to_string());
        self
    }

    /// In the snapshot, `text` (a path, a name, a port: what differs from run to run) is
    /// shown as `placeholder`, wherever it stands as a whole word. Filters added first apply
    /// first, so a path goes before the directory around it.
    pub fn filter(mut self, text: &str, placeholder: &str) -> Test {
        self.filters
            .push((text.to_string(), placeholder.to_string()));
        if let Ok(canonical) = std::fs::canonicalize(text) {
            let canonical = canonical.display().to_string();
            if canonical != text {
                self.filters.push((canonical, placeholder.to_string()));
            }
        }
        self
    }

    /// Runs devctl through `wrapper` (a program and its first arguments, e.g. `unshare …
    /// sh -c SCRIPT`), which gets devctl's path and arguments after its own; the directory
    /// and the environment stay as set.
    pub fn inside(mut self, wrapper: &[&str]) -> Test {
        let mut command = Command::new(wrapper[0]);
        command
            .args(&wrapper[1..])
            .arg(self.command.get_program())
            .args(self.command.get_args());
        for (key, value) in self.command.get_envs() {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        if let Some(directory) = self.command.get_current_dir() {
            command.current_dir(directory);
        }
        self.command = command;
        self
    }

    /// Starts devctl without waiting (stdout and stderr piped).
    pub fn spawn(mut self) -> Child {
        self.command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Runs devctl, checks every expectation, and returns what it printed.
    pub fn run(mut self) -> Outcome {
        self.command
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.command.spawn().expect("devctl starts");
        if let Some(text) = &self.stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        let output = wait_with_timeout(child, self.timeout).unwrap_or_else(|(stdout, stderr)| {
            panic!(
                "devctl {:?} did not finish within {:?} (killed)\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
                self.command.get_args().collect::<Vec<_>>(),
                self.timeout
            )
        });
        let mut outcome = Outcome::from(output);
        outcome.filters = self.filters;
        let context = format!(
            "devctl {:?}\nexit: {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.command.get_args().collect::<Vec<_>>(),
            outcome.code,
            outcome.stdout,
            outcome.stderr
        );
        assert!(
            !outcome.stderr.contains("devctl hit a bug"),
            "devctl panicked\n{context}"
        );
        if let Some(expected) = self.status {
            assert_eq!(
                outcome.code,
                Some(expected),
                "unexpected exit code\n{context}"
            );
        }
        for text in &self.stdout {
            assert!(
                outcome.stdout.contains(text.as_str()),
                "stdout lacks {text:?}\n{context}"
            );
        }
        for text in &self.stderr {
            assert!(
                outcome.stderr.contains(text.as_str()),
                "stderr lacks {text:?}\n{context}"
            );
        }
        for text in &self.stderr_absent {
            assert!(
                !outcome.stderr.contains(text.as_str()),
                "stderr has {text:?}\n{context}"
            );
        }
        outcome
    }
}

/// Waits for `child` (stdout and stderr piped) up to `limit`; past it, kills it and returns
/// what it had printed.
fn wait_with_timeout(
    mut child: Child,
    limit: std::time::Duration,
) -> Result<Output, (String, String)> {
    use std::io::Read;
    let reader = |stream: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut stream) = stream {
                let _ = stream.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = reader(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let stderr = reader(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let deadline = std::time::Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if std::time::Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    match status {
        Some(status) => Ok(Output {
            status,
            stdout,
            stderr,
        }),
        None => Err((
            String::from_utf8_lossy(&stdout).into_owned(),
            String::from_utf8_lossy(&stderr).into_owned(),
        )),
    }
}

pub struct Outcome {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    filters: Vec<(String, String)>,
}

impl From<Output> for Outcome {
    fn from(output: Output) -> Outcome {
        Outcome {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            filters: Vec::new(),
        }
    }
}

/// The row of `service` in `devctl status --json` output.
pub fn service_row(status: &serde_json::Value, service: &str) -> serde_json::Value {
    status["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["service"] == service)
        .cloned()
        .unwrap_or_else(|| panic!("{service} missing from {status:#}"))
}

impl Outcome {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|error| panic!("stdout is not JSON ({error}):\n{}", self.stdout))
    }

    /// The exit code, stdout and stderr as one text, with the filters of its `Test` applied:
    /// what a snapshot holds. Each stream ends with a line of its own, so a missing or
    /// extra final newline shows.
    pub fn transcript(&self) -> String {
        let mut text = format!(
            "success: {}\nexit_code: {}\n----- stdout -----\n{}\n----- stderr -----\n{}\n----- end -----\n",
            self.code == Some(0),
            self.code
                .map_or("none (killed by a signal)".to_string(), |code| code
                    .to_string()),
            self.stdout,
            self.stderr,
        );
        for (value, placeholder) in &self.filters {
            text = replace_words(&text, value, placeholder);
        }
        text
    }
}

/// `text` with each occurrence of `value` that stands as a whole word (no letter or digit
/// right before or after it) replaced by `placeholder`.
fn replace_words(text: &str, value: &str, placeholder: &str) -> String {
    if value.is_empty() {
        return text.to_string();
    }
    let mut replaced = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(value) {
        let end = start + value.len();
        let before = rest[..start].chars().next_back();
        let after = rest[end..].chars().next();
        let alone = !before.is_some_and(|c| c.is_ascii_alphanumeric())
            && !after.is_some_and(|c| c.is_ascii_alphanumeric());
        replaced.push_str(&rest[..start]);
        replaced.push_str(if alone { placeholder } else { value });
        rest = &rest[end..];
    }
    replaced.push_str(rest);
    replaced
}

/// Compares what a run printed (`Outcome::transcript`: exit code, stdout, stderr) with the
/// snapshot `snapshots/<module>__<name>.snap`; optional `(regex, placeholder)` pairs mask
/// more. A missing or different snapshot fails the test (with `CI` set, nothing is written;
/// else the new text is written beside it as `.snap.new`, for `cargo insta review`).
macro_rules! snapshot {
    ($name:expr, $outcome:expr) => {
        $crate::harness::snapshot!($name, $outcome, [("", ""); 0])
    };
    ($name:expr, $outcome:expr, $filters:expr) => {{
        let transcript = $outcome.transcript();
        let mut settings = insta::Settings::clone_current();
        settings.set_omit_expression(true);
        for (pattern, placeholder) in $filters {
            settings.add_filter(pattern, placeholder);
        }
        settings.bind(|| insta::assert_snapshot!($name, transcript));
    }};
}
pub(crate) use snapshot;

/// A host port that was free a moment ago.
pub fn free_port() -> u16 {
    sandbox::free_ports(1).unwrap()[0]
}

/// An executable script at `path`.
pub fn script(path: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Runs `devctl ARGUMENTS` in `fixture` on a terminal (`script` gives it one) and types
/// `text` into it; returns the exit code and what the terminal showed.
pub fn typed_on_terminal(fixture: &Fixture, arguments: &str, text: &str) -> (Option<i32>, String) {
    let devctl = env!("CARGO_BIN_EXE_devctl");
    let output = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "(sleep 2; printf '{text}\\n') | script -qec '{devctl} {arguments}' /dev/null"
        ))
        .current_dir(fixture.root())
        .env("DEVCTL_STATE_DIR", fixture.state_dir())
        .env("DEVCTL_BACKUP_DIR", fixture.backup_dir().parent().unwrap())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}
