//! The remote part: the volume project on a second engine reached over TLS
//! (scripts/remote-engine.sh), devctl's backup against raw `docker --context X cp` of the same
//! volume. The engine is started for the part and stopped after it, unless it was already
//! running or another run still uses it; the context lives in a temporary `DOCKER_CONFIG`, never the user's own.

use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// The context the bench creates for the second engine.
pub(crate) const CONTEXT: &str = "devctl-bench-tls";

/// The second engine, running for the part, and the docker configuration that reaches it.
pub(crate) struct RemoteEngine {
    script: PathBuf,
    started_here: bool,
    _config: tempfile::TempDir,
    /// `DOCKER_CONFIG` as it was before, put back when the part ends.
    previous_config: Option<std::ffi::OsString>,
    /// Held shared while the engine is in use, as the remote tests hold it: only the last
    /// user stops the engine.
    users: std::fs::File,
}

impl RemoteEngine {
    /// Starts the second engine (unless it answers already) and points this process's
    /// `DOCKER_CONFIG`, which devctl and docker inherit, at a configuration holding the TLS
    /// context `CONTEXT` and the compose plugin.
    pub(crate) fn start(repository: &Path) -> Result<RemoteEngine> {
        let script = repository.join("scripts/remote-engine.sh");
        let lock = std::env::temp_dir().join("devctl-remote-engine.users.lock");
        let users = std::fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock)
            .with_context(|| format!("cannot open {}", lock.display()))?;
        // SAFETY: flock(2) on a descriptor `users` owns.
        if unsafe { libc::flock(users.as_raw_fd(), libc::LOCK_SH) } != 0 {
            bail!("cannot lock {}", lock.display());
        }
        let answering = script_output(&script, "env")
            .ok()
            .and_then(|env| value(&env, "DEVCTL_REMOTE_SOCKET"))
            .is_some_and(|socket| {
                Command::new("docker")
                    .args(["-H", &format!("unix://{socket}"), "version"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|status| status.success())
            });
        eprintln!("starting the second engine (scripts/remote-engine.sh start) …");
        let env = script_output(&script, "start")?;
        let engine = RemoteEngine {
            script,
            started_here: !answering,
            previous_config: std::env::var_os("DOCKER_CONFIG"),
            users,
            _config: tempfile::Builder::new()
                .prefix("devctl-bench-docker-")
                .tempdir()?,
        };
        let host = value(&env, "DEVCTL_REMOTE_TLS_HOST").context("no DEVCTL_REMOTE_TLS_HOST")?;
        let certs = PathBuf::from(
            value(&env, "DEVCTL_REMOTE_CERT_DIR").context("no DEVCTL_REMOTE_CERT_DIR")?,
        );
        let config = engine._config.path().to_path_buf();
        let plugins = config.join("cli-plugins");
        std::fs::create_dir_all(&plugins)?;
        let own = std::env::var_os("DOCKER_CONFIG")
            .map(PathBuf::from)
            .or_else(|| dirs::home_dir().map(|home| home.join(".docker")));
        if let Some(compose) = own
            .map(|own| own.join("cli-plugins/docker-compose"))
            .filter(|compose| compose.exists())
        {
            std::os::unix::fs::symlink(compose, plugins.join("docker-compose"))?;
        }
        // SAFETY: the bench runs on one thread.
        unsafe { std::env::set_var("DOCKER_CONFIG", &config) };
        let endpoint = format!(
            "host={host},ca={},cert={},key={}",
            certs.join("ca.pem").display(),
            certs.join("cert.pem").display(),
            certs.join("key.pem").display()
        );
        let output = Command::new("docker")
            .args(["context", "create", CONTEXT, "--docker", &endpoint])
            .output()
            .context("cannot run docker context create")?;
        if !output.status.success() {
            bail!(
                "docker context create {CONTEXT} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(engine)
    }
}

impl Drop for RemoteEngine {
    fn drop(&mut self) {
        // SAFETY: the bench runs on one thread.
        unsafe {
            match &self.previous_config {
                Some(config) => std::env::set_var("DOCKER_CONFIG", config),
                None => std::env::remove_var("DOCKER_CONFIG"),
            }
        }
        // SAFETY: flock(2) on a descriptor `users` owns; shared to exclusive succeeds only
        // for the last user.
        let last =
            unsafe { libc::flock(self.users.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
        if self.started_here
            && last
            && let Err(error) = script_output(&self.script, "stop")
        {
            eprintln!("warning: stopping the second engine failed: {error:#}");
        }
    }
}

/// What `script ACTION` prints on stdout, when it succeeds.
fn script_output(script: &Path, action: &str) -> Result<String> {
    let output = Command::new(script)
        .arg(action)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run {} {action}", script.display()))?;
    if !output.status.success() {
        bail!("{} {action} failed ({})", script.display(), output.status);
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The value of `NAME=value` in the script's output.
fn value(text: &str, name: &str) -> Option<String> {
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{name}=")))
        .map(String::from)
}
