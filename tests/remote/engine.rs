//! The second engine for a test run: started with scripts/remote-engine.sh before the first
//! test and stopped after the last one (unless another test run still uses it), and a
//! temporary HOME and DOCKER_CONFIG holding two docker contexts that reach it, one over TLS
//! and one over ssh, with the test key, an ssh config and known hosts. The user's own
//! ~/.docker and ~/.ssh are never read or written.

use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::harness::repository;

/// The context that reaches the second engine over TLS (tcp://127.0.0.1:PORT, --tlsverify).
pub const TLS: &str = "remote-tls";
/// The context that reaches the second engine over ssh (`docker system dial-stdio`).
pub const SSH: &str = "remote-ssh";

/// Where the second engine listens and its keys live, as `remote-engine.sh env` prints them.
pub struct Endpoints {
    pub tls_host: String,
    pub cert_dir: PathBuf,
    pub ssh_host: String,
    pub ssh_port: u16,
    pub ssh_key: PathBuf,
    pub ssh_host_key: PathBuf,
}

impl Endpoints {
    fn parse(text: &str) -> Endpoints {
        let value = |name: &str| -> String {
            text.lines()
                .find_map(|line| line.strip_prefix(&format!("{name}=")))
                .unwrap_or_else(|| panic!("remote-engine.sh printed no {name}:\n{text}"))
                .to_string()
        };
        Endpoints {
            tls_host: value("DEVCTL_REMOTE_TLS_HOST"),
            cert_dir: value("DEVCTL_REMOTE_CERT_DIR").into(),
            ssh_host: value("DEVCTL_REMOTE_SSH_HOST"),
            ssh_port: value("DEVCTL_REMOTE_SSH_PORT").parse().unwrap(),
            ssh_key: value("DEVCTL_REMOTE_SSH_KEY").into(),
            ssh_host_key: value("DEVCTL_REMOTE_SSH_HOST_KEY").into(),
        }
    }
}

/// The second engine, running for this test run, and the temporary HOME that reaches it.
/// Dropping it stops the engine, unless another test run still holds it.
pub struct RemoteEngine {
    pub endpoints: Endpoints,
    home: tempfile::TempDir,
    users: File,
}

fn script() -> PathBuf {
    repository().join("scripts/remote-engine.sh")
}

/// A lock every test run holds shared while it uses the engine; the last one to leave (the
/// one that can take it exclusively) stops the engine.
fn users_lock() -> File {
    let path = std::env::temp_dir().join("devctl-remote-engine.users.lock");
    File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn flock(file: &File, operation: libc::c_int) -> bool {
    // SAFETY: flock(2) on a descriptor this File owns.
    unsafe { libc::flock(file.as_raw_fd(), operation) == 0 }
}

/// Runs `scripts/remote-engine.sh ACTION`; its stdout, or what failed.
fn run_script(action: &str) -> Result<String, String> {
    let output = Command::new(script())
        .arg(action)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|error| format!("{}: {error}", script().display()))?;
    if !output.status.success() {
        return Err(format!(
            "scripts/remote-engine.sh {action} failed ({})",
            output.status
        ));
    }
    String::from_utf8(output.stdout).map_err(|error| error.to_string())
}

impl RemoteEngine {
    /// Starts the second engine and points this process's HOME, DOCKER_CONFIG and PATH
    /// (which every child inherits) at a temporary home with its contexts. Call it before
    /// any other thread runs.
    pub fn start() -> RemoteEngine {
        let users = users_lock();
        assert!(flock(&users, libc::LOCK_SH), "locking the engine's users");
        let started = run_script("start").unwrap_or_else(|error| {
            // What did start (a dockerd without its sshd) is stopped too, unless another
            // test run uses it.
            if flock(&users, libc::LOCK_EX | libc::LOCK_NB)
                && let Err(stop) = run_script("stop")
            {
                eprintln!("remote engine: {stop}");
            }
            panic!("{error}")
        });
        let endpoints = Endpoints::parse(&started);
        let home = tempfile::Builder::new()
            .prefix("devctl-remote-home-")
            .tempdir()
            .unwrap();
        let engine = RemoteEngine {
            endpoints,
            home,
            users,
        };
        engine.make_home();
        engine
    }

    /// The temporary home: ~/.ssh with the test key, a config and known hosts; an `ssh` on
    /// PATH that reads that config (ssh itself takes the home from passwd, not $HOME);
    /// ~/.docker with the compose plugin and the two contexts.
    fn make_home(&self) {
        let home = self.home.path();
        let ssh = home.join(".ssh");
        std::fs::create_dir_all(&ssh).unwrap();
        std::fs::set_permissions(&ssh, std::fs::Permissions::from_mode(0o700)).unwrap();
        let key = ssh.join("id_ed25519");
        std::fs::copy(&self.endpoints.ssh_key, &key).unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        let host_key = std::fs::read_to_string(&self.endpoints.ssh_host_key).unwrap();
        let host_key: Vec<&str> = host_key.split_whitespace().take(2).collect();
        let known_hosts = ssh.join("known_hosts");
        std::fs::write(
            &known_hosts,
            format!(
                "[127.0.0.1]:{} {}\n",
                self.endpoints.ssh_port,
                host_key.join(" ")
            ),
        )
        .unwrap();
        std::fs::write(
            ssh.join("config"),
            format!(
                "Host 127.0.0.1\n  IdentityFile {}\n  IdentitiesOnly yes\n  UserKnownHostsFile {}\n  StrictHostKeyChecking yes\n  BatchMode yes\n  LogLevel ERROR\n",
                key.display(),
                known_hosts.display()
            ),
        )
        .unwrap();
        let bin = home.join("bin");
        crate::harness::script(
            &bin.join("ssh"),
            "exec /usr/bin/ssh -F \"$HOME/.ssh/config\" \"$@\"",
        );

        // The compose plugin of the docker config this run was started with.
        let real_config = std::env::var_os("DOCKER_CONFIG")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".docker")));
        let docker = home.join(".docker");
        let plugins = docker.join("cli-plugins");
        std::fs::create_dir_all(&plugins).unwrap();
        if let Some(compose) = real_config
            .map(|config| config.join("cli-plugins/docker-compose"))
            .filter(|compose| compose.exists())
        {
            std::os::unix::fs::symlink(compose, plugins.join("docker-compose")).unwrap();
        }

        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut paths = vec![bin];
        paths.extend(std::env::split_paths(&path));
        // SAFETY: called by main before any other thread runs.
        unsafe {
            std::env::set_var("HOME", home);
            std::env::set_var("DOCKER_CONFIG", &docker);
            std::env::set_var("PATH", std::env::join_paths(paths).unwrap());
            // For tests that use the certificates without a context.
            std::env::set_var("DEVCTL_REMOTE_CERT_DIR", &self.endpoints.cert_dir);
            for variable in [
                "DOCKER_HOST",
                "DOCKER_CONTEXT",
                "DOCKER_TLS_VERIFY",
                "DOCKER_CERT_PATH",
            ] {
                std::env::remove_var(variable);
            }
        }

        let certs = &self.endpoints.cert_dir;
        let tls = format!(
            "host={},ca={},cert={},key={}",
            self.endpoints.tls_host,
            certs.join("ca.pem").display(),
            certs.join("cert.pem").display(),
            certs.join("key.pem").display()
        );
        for (name, endpoint) in [
            (TLS, tls),
            (SSH, format!("host={}", self.endpoints.ssh_host)),
        ] {
            let output = Command::new("docker")
                .args(["context", "create", name, "--docker", &endpoint])
                .output()
                .unwrap();
            assert!(
                output.status.success(),
                "docker context create {name}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }
}

impl Drop for RemoteEngine {
    fn drop(&mut self) {
        // Shared to exclusive: only the last test run using the engine gets it.
        if flock(&self.users, libc::LOCK_EX | libc::LOCK_NB) {
            if let Err(error) = run_script("stop") {
                eprintln!("remote engine: {error}");
            }
        } else {
            eprintln!("remote engine: another test run still uses it; leaving it running");
        }
    }
}
