//! Which engine devctl talks to, and over what: the docker CLI's rules for choosing an
//! endpoint (`--context`, else `DOCKER_HOST`, else `DOCKER_CONTEXT`, else the current context
//! in `$DOCKER_CONFIG/config.json`, else the local socket) and the TLS material that goes
//! with it (`DOCKER_TLS_VERIFY` + `DOCKER_CERT_PATH`, or a context's own under
//! `$DOCKER_CONFIG/contexts/tls/<digest>/docker/`).
//!
//! The API calls connect to exactly this endpoint, and compose and the docker CLI are handed
//! the same context name, which they resolve by the same rules: both talk to one engine.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::report::failure::Failure;

const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// How devctl reaches the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// A socket on this machine (`unix://`, `npipe://`).
    Socket,
    /// Plain TCP (`tcp://`, `http://`): unencrypted, unauthenticated.
    Tcp,
    /// TCP with TLS, the server's certificate checked against a CA, a client certificate.
    Tls,
    /// `ssh://[user@]host[:port]`: `docker system dial-stdio` on the remote host, over ssh.
    Ssh,
}

impl Transport {
    pub fn name(self) -> &'static str {
        match self {
            Transport::Socket => "local socket",
            Transport::Tcp => "plain TCP",
            Transport::Tls => "TLS",
            Transport::Ssh => "ssh",
        }
    }
}

/// The client's TLS material: the CA that signed the engine's certificate, and the client
/// certificate and key the engine asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tls {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A resolved engine endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// As the docker CLI writes it: `unix:///var/run/docker.sock`, `tcp://10.0.0.5:2376`,
    /// `ssh://me@build-box`.
    pub host: String,
    pub tls: Option<Tls>,
    /// The docker context it came from, if one.
    pub context: Option<String>,
}

impl Endpoint {
    /// The endpoint the docker CLI would use with `--context context` (or none) in this
    /// process's environment.
    pub fn resolve(context: Option<&str>) -> Result<Endpoint> {
        resolve(&Inputs::from_environment(context))
    }

    pub fn transport(&self) -> Transport {
        let scheme = self.host.split_once("://").map_or("", |(scheme, _)| scheme);
        match scheme {
            "ssh" => Transport::Ssh,
            "unix" | "npipe" => Transport::Socket,
            _ if self.tls.is_some() => Transport::Tls,
            _ => Transport::Tcp,
        }
    }

    /// The host, with the transport when the engine is not on a local socket:
    /// `tcp://10.0.0.5:2376 over TLS`, for messages.
    pub fn label(&self) -> String {
        match self.transport() {
            Transport::Socket => self.host.clone(),
            transport => format!("{} over {}", self.host, transport.name()),
        }
    }

    /// `tcp://10.0.0.5:2376 over TLS (context build-box)`, for doctor.
    pub fn describe(&self) -> String {
        let mut text = format!("{} over {}", self.host, self.transport().name());
        if let Some(context) = &self.context {
            text.push_str(&format!(" (context {context})"));
        }
        text
    }
}

/// What the resolution reads: the flag, the variables and the CLI's configuration folder.
#[derive(Debug, Default, Clone)]
pub(crate) struct Inputs {
    pub context: Option<String>,
    pub docker_host: Option<String>,
    pub docker_context: Option<String>,
    pub tls_verify: bool,
    pub tls: bool,
    pub cert_path: Option<PathBuf>,
    pub config_directory: Option<PathBuf>,
}

impl Inputs {
    fn from_environment(context: Option<&str>) -> Inputs {
        let variable = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        Inputs {
            context: context.filter(|name| !name.is_empty()).map(String::from),
            docker_host: variable("DOCKER_HOST"),
            docker_context: variable("DOCKER_CONTEXT"),
            tls_verify: variable("DOCKER_TLS_VERIFY").is_some(),
            tls: variable("DOCKER_TLS").is_some(),
            cert_path: variable("DOCKER_CERT_PATH").map(PathBuf::from),
            config_directory: std::env::var_os("DOCKER_CONFIG")
                .filter(|value| !value.is_empty())
                .map(PathBuf::from)
                .or_else(|| dirs::home_dir().map(|home| home.join(".docker"))),
        }
    }

    fn current_context(&self) -> Option<String> {
        let path = self.config_directory.as_ref()?.join("config.json");
        let text = std::fs::read_to_string(path).ok()?;
        let config: Value = serde_json::from_str(&text).ok()?;
        config["currentContext"]
            .as_str()
            .filter(|name| !name.is_empty())
            .map(String::from)
    }
}

pub(crate) fn resolve(inputs: &Inputs) -> Result<Endpoint> {
    if let (None, Some(host)) = (&inputs.context, &inputs.docker_host) {
        return from_variables(inputs, host.clone(), None);
    }
    let context = inputs
        .context
        .clone()
        .or_else(|| inputs.docker_context.clone())
        .or_else(|| inputs.current_context());
    match context.as_deref() {
        None => from_variables(
            inputs,
            inputs
                .docker_host
                .clone()
                .unwrap_or_else(|| DEFAULT_HOST.to_string()),
            None,
        ),
        // The default context is the environment's.
        Some("default") => from_variables(
            inputs,
            inputs
                .docker_host
                .clone()
                .unwrap_or_else(|| DEFAULT_HOST.to_string()),
            Some("default".to_string()),
        ),
        Some(name) => from_context(inputs, name),
    }
}

/// `host` with the TLS material `DOCKER_TLS_VERIFY` / `DOCKER_CERT_PATH` name.
fn from_variables(inputs: &Inputs, host: String, context: Option<String>) -> Result<Endpoint> {
    let tls = match (inputs.tls_verify, inputs.tls) {
        (true, _) => {
            let directory = inputs
                .cert_path
                .clone()
                .or_else(|| inputs.config_directory.clone())
                .unwrap_or_default();
            let source = match inputs.cert_path {
                Some(_) => "DOCKER_CERT_PATH",
                None => {
                    "DOCKER_TLS_VERIFY is set and DOCKER_CERT_PATH is not: the docker configuration folder"
                }
            };
            Some(tls_files(&directory, source)?)
        }
        (false, true) => {
            return Err(Failure::engine(format!(
                "DOCKER_TLS asks for TLS to {host} without checking the engine's certificate, which devctl does not do"
            ))
            .hint("set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH to the folder holding ca.pem, cert.pem and key.pem")
            .into());
        }
        (false, false) => None,
    };
    Ok(Endpoint { host, tls, context })
}

/// A named context's endpoint and TLS material, from the CLI's context store.
fn from_context(inputs: &Inputs, name: &str) -> Result<Endpoint> {
    let missing = || {
        Failure::engine(format!("docker context `{name}` not found")).hint(
            "list contexts with `docker context ls`; choose one with --context or DOCKER_CONTEXT",
        )
    };
    let directory = inputs.config_directory.clone().ok_or_else(missing)?;
    let digest = hex::encode(Sha256::digest(name.as_bytes()));
    let meta = directory
        .join("contexts")
        .join("meta")
        .join(&digest)
        .join("meta.json");
    let text = std::fs::read_to_string(&meta).map_err(|_| missing())?;
    let value: Value = serde_json::from_str(&text)
        .with_context(|| format!("cannot read docker context file {}", meta.display()))?;
    let docker = value.pointer("/Endpoints/docker");
    let host = docker
        .and_then(|docker| docker.get("Host"))
        .and_then(Value::as_str)
        .filter(|host| !host.is_empty())
        .ok_or_else(|| {
            Failure::engine(format!(
                "docker context `{name}` names no docker endpoint ({})",
                meta.display()
            ))
            .hint(format!(
                "`docker context update {name} --docker host=...` sets one"
            ))
        })?
        .to_string();
    let skip_verify = docker
        .and_then(|docker| docker.get("SkipTLSVerify"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let material = directory
        .join("contexts")
        .join("tls")
        .join(&digest)
        .join("docker");
    let tls = match (material.is_dir(), skip_verify) {
        (_, true) => {
            return Err(Failure::engine(format!(
                "docker context `{name}` skips checking the engine's TLS certificate, which devctl does not do"
            ))
            .hint(format!(
                "give the context the engine's CA: `docker context update {name} --docker host={host},ca=CA.pem,cert=CERT.pem,key=KEY.pem`"
            ))
            .into());
        }
        (true, false) if !host.starts_with("ssh://") => {
            Some(tls_files(&material, &format!("docker context `{name}`"))?)
        }
        _ => None,
    };
    Ok(Endpoint {
        host,
        tls,
        context: Some(name.to_string()),
    })
}

/// `ca.pem`, `cert.pem` and `key.pem` in `directory`, all three required.
fn tls_files(directory: &Path, source: &str) -> Result<Tls> {
    let tls = Tls {
        ca: directory.join("ca.pem"),
        cert: directory.join("cert.pem"),
        key: directory.join("key.pem"),
    };
    let missing: Vec<&str> = [
        (&tls.ca, "ca.pem"),
        (&tls.cert, "cert.pem"),
        (&tls.key, "key.pem"),
    ]
    .into_iter()
    .filter(|(path, _)| !path.is_file())
    .map(|(_, name)| name)
    .collect();
    match missing.is_empty() {
        true => Ok(tls),
        false => Err(Failure::engine(format!(
            "TLS to the engine needs {} in {} ({source}), which {} not there",
            missing.join(", "),
            directory.display(),
            if missing.len() == 1 { "is" } else { "are" }
        ))
        .hint("put the engine's CA (ca.pem) and a client certificate (cert.pem) and key (key.pem) there, as `docker --tlsverify` needs them")
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(contexts: &[(&str, &str, bool)], current: Option<&str>) -> tempfile::TempDir {
        let directory = tempfile::tempdir().unwrap();
        for (name, host, tls) in contexts {
            let digest = hex::encode(Sha256::digest(name.as_bytes()));
            let meta = directory.path().join("contexts/meta").join(&digest);
            std::fs::create_dir_all(&meta).unwrap();
            std::fs::write(
                meta.join("meta.json"),
                format!(r#"{{"Name":"{name}","Endpoints":{{"docker":{{"Host":"{host}","SkipTLSVerify":false}}}}}}"#),
            )
            .unwrap();
            if *tls {
                let material = directory
                    .path()
                    .join("contexts/tls")
                    .join(&digest)
                    .join("docker");
                std::fs::create_dir_all(&material).unwrap();
                for file in ["ca.pem", "cert.pem", "key.pem"] {
                    std::fs::write(material.join(file), "pem").unwrap();
                }
            }
        }
        if let Some(current) = current {
            std::fs::write(
                directory.path().join("config.json"),
                format!(r#"{{"currentContext":"{current}"}}"#),
            )
            .unwrap();
        }
        directory
    }

    fn inputs(directory: &Path) -> Inputs {
        Inputs {
            config_directory: Some(directory.to_path_buf()),
            ..Inputs::default()
        }
    }

    #[test]
    fn the_docker_cli_s_order_decides_the_endpoint() {
        let directory = store(
            &[
                ("remote", "tcp://10.0.0.5:2376", true),
                ("box", "ssh://me@box:2222", false),
            ],
            Some("box"),
        );
        let base = inputs(directory.path());
        // The current context, when nothing else says.
        let endpoint = resolve(&base).unwrap();
        assert_eq!(endpoint.host, "ssh://me@box:2222");
        assert_eq!(endpoint.transport(), Transport::Ssh);
        assert_eq!(endpoint.context.as_deref(), Some("box"));
        // DOCKER_CONTEXT over the current context.
        let named = Inputs {
            docker_context: Some("remote".into()),
            ..base.clone()
        };
        let endpoint = resolve(&named).unwrap();
        assert_eq!(endpoint.transport(), Transport::Tls);
        assert_eq!(
            endpoint.tls.unwrap().ca,
            directory
                .path()
                .join("contexts/tls")
                .join(hex::encode(Sha256::digest(b"remote")))
                .join("docker/ca.pem")
        );
        // DOCKER_HOST over both.
        let host = Inputs {
            docker_host: Some("tcp://127.0.0.1:2375".into()),
            ..named.clone()
        };
        let endpoint = resolve(&host).unwrap();
        assert_eq!(endpoint.host, "tcp://127.0.0.1:2375");
        assert_eq!(endpoint.transport(), Transport::Tcp);
        assert_eq!(endpoint.context, None);
        // --context over everything.
        let flag = Inputs {
            context: Some("box".into()),
            ..host.clone()
        };
        assert_eq!(resolve(&flag).unwrap().host, "ssh://me@box:2222");
        // The default context is the environment's.
        let default = Inputs {
            context: Some("default".into()),
            ..host
        };
        assert_eq!(resolve(&default).unwrap().host, "tcp://127.0.0.1:2375");
        // Nothing at all: the local socket.
        let nothing = Inputs::default();
        let endpoint = resolve(&nothing).unwrap();
        assert_eq!(endpoint.host, DEFAULT_HOST);
        assert_eq!(endpoint.transport(), Transport::Socket);
        assert_eq!(
            endpoint.describe(),
            "unix:///var/run/docker.sock over local socket"
        );
    }

    #[test]
    fn tls_variables_name_the_material_and_a_missing_file_is_named() {
        let directory = tempfile::tempdir().unwrap();
        let mut variables = Inputs {
            docker_host: Some("tcp://engine:2376".into()),
            tls_verify: true,
            cert_path: Some(directory.path().to_path_buf()),
            ..Inputs::default()
        };
        let error = resolve(&variables).unwrap_err();
        assert_eq!(
            format!("{error:#}"),
            format!(
                "TLS to the engine needs ca.pem, cert.pem, key.pem in {} (DOCKER_CERT_PATH), which are not there",
                directory.path().display()
            )
        );
        for file in ["ca.pem", "cert.pem", "key.pem"] {
            std::fs::write(directory.path().join(file), "pem").unwrap();
        }
        let endpoint = resolve(&variables).unwrap();
        assert_eq!(endpoint.transport(), Transport::Tls);
        assert_eq!(endpoint.describe(), "tcp://engine:2376 over TLS");
        // Without DOCKER_CERT_PATH, the docker configuration folder, said as such.
        let unset = Inputs {
            cert_path: None,
            config_directory: Some(directory.path().join("config")),
            ..variables.clone()
        };
        let error = resolve(&unset).unwrap_err();
        assert_eq!(
            format!("{error:#}"),
            format!(
                "TLS to the engine needs ca.pem, cert.pem, key.pem in {} (DOCKER_TLS_VERIFY is set and DOCKER_CERT_PATH is not: the docker configuration folder), which are not there",
                directory.path().join("config").display()
            )
        );
        variables.tls_verify = false;
        variables.tls = true;
        let error = resolve(&variables).unwrap_err();
        assert!(
            format!("{error:#}")
                .starts_with("DOCKER_TLS asks for TLS to tcp://engine:2376 without checking")
        );
    }

    #[test]
    fn a_missing_or_unverified_context_is_refused_by_name() {
        let directory = store(&[], None);
        let named = Inputs {
            context: Some("nowhere".into()),
            ..inputs(directory.path())
        };
        assert_eq!(
            format!("{:#}", resolve(&named).unwrap_err()),
            "docker context `nowhere` not found"
        );
        let digest = hex::encode(Sha256::digest(b"loose"));
        let meta = directory.path().join("contexts/meta").join(digest);
        std::fs::create_dir_all(&meta).unwrap();
        std::fs::write(
            meta.join("meta.json"),
            r#"{"Endpoints":{"docker":{"Host":"tcp://h:2376","SkipTLSVerify":true}}}"#,
        )
        .unwrap();
        let loose = Inputs {
            context: Some("loose".into()),
            ..inputs(directory.path())
        };
        assert!(
            format!("{:#}", resolve(&loose).unwrap_err())
                .starts_with("docker context `loose` skips checking the engine's TLS certificate")
        );
    }
}
