//! The Engine API over ssh, as the docker CLI does it: each connection is
//! `ssh -o ConnectTimeout=30 -T [-l USER] [-p PORT] -- HOST docker system dial-stdio`, whose
//! standard input and output carry the HTTP exchange to the remote engine's own socket.
//! The user's ssh configuration, agent, keys and known hosts apply unchanged.
//!
//! Unlike the docker CLI, idle connections are kept for reuse, so a verb's many API calls
//! share a few ssh sessions instead of starting one each.

use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use anyhow::Result;
use bollard::{BollardRequest, Docker};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::AsyncReadExt;
use tokio::process::{Child, ChildStdin, ChildStdout};

use crate::report::failure::Failure;

/// What is kept of ssh's standard error, for the message when a connection fails.
const STDERR_KEPT: usize = 4096;

/// `ssh://[user@]host[:port]` taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Destination {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

impl Destination {
    pub(crate) fn parse(url: &str) -> Result<Destination, Failure> {
        // A password in the address is never repeated in a message.
        let shown = match url.split_once("://").and_then(|(_, rest)| {
            let authority = rest.split(['/', '?', '#']).next()?;
            let (user, _) = authority.rsplit_once('@')?;
            let (_, password) = user.split_once(':')?;
            Some(password)
        }) {
            Some(password) if !password.is_empty() => url.replacen(password, "***", 1),
            _ => url.to_string(),
        };
        let bad = |why: &str| {
            Failure::engine(format!("cannot read the ssh engine address `{shown}`: {why}"))
                .hint("write it as ssh://[USER@]HOST[:PORT], as `docker context create --docker host=...` takes it")
        };
        let rest = url
            .strip_prefix("ssh://")
            .ok_or_else(|| bad("it does not start with ssh://"))?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let (user, address) = match authority.rsplit_once('@') {
            Some((user, address)) => (Some(user.to_string()), address),
            None => (None, authority),
        };
        let (host, port) = match address.strip_prefix('[') {
            Some(bracketed) => {
                let (host, after) = bracketed
                    .split_once(']')
                    .ok_or_else(|| bad("an IPv6 address lacks its closing `]`"))?;
                (host, after.strip_prefix(':'))
            }
            None => match address.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (address, None),
            },
        };
        let port = port
            .map(|port| {
                port.parse::<u16>()
                    .map_err(|_| bad(&format!("`{port}` is not a port number")))
            })
            .transpose()?;
        if host.is_empty() || host.starts_with('-') {
            return Err(bad("it names no host"));
        }
        if user
            .as_deref()
            .is_some_and(|user| user.is_empty() || user.starts_with('-'))
        {
            return Err(bad("the user name is empty or starts with `-`"));
        }
        if user.as_deref().is_some_and(|user| user.contains(':')) {
            return Err(bad(
                "it holds a password, which ssh is never given on its command line (the docker CLI refuses it too); log in with a key or an ssh agent",
            ));
        }
        Ok(Destination {
            user,
            host: host.to_string(),
            port,
        })
    }

    /// The ssh command line that logs in there: `ssh -p 2222 me@build-box`.
    pub(crate) fn login(&self) -> String {
        let mut line = "ssh".to_string();
        if let Some(port) = self.port {
            line.push_str(&format!(" -p {port}"));
        }
        line.push(' ');
        if let Some(user) = &self.user {
            line.push_str(&format!("{user}@"));
        }
        line.push_str(&self.host);
        line
    }

    /// The arguments of `ssh` the docker CLI passes for this destination.
    pub(crate) fn arguments(&self) -> Vec<String> {
        let mut arguments = vec![
            "-o".to_string(),
            "ConnectTimeout=30".to_string(),
            "-T".to_string(),
        ];
        if let Some(user) = &self.user {
            arguments.extend(["-l".to_string(), user.clone()]);
        }
        if let Some(port) = self.port {
            arguments.extend(["-p".to_string(), port.to_string()]);
        }
        arguments.extend(
            ["--", &self.host, "docker", "system", "dial-stdio"]
                .iter()
                .map(|word| word.to_string()),
        );
        arguments
    }
}

/// Opens one `dial-stdio` session per connection hyper asks for.
#[derive(Clone)]
struct Dialer {
    program: PathBuf,
    arguments: Arc<Vec<String>>,
    stderr: Arc<Mutex<Vec<u8>>>,
}

/// A running `ssh … dial-stdio`: its output is the engine's answer, its input the request.
pub(crate) struct DialStream {
    _child: Child,
    stdin: Option<TokioIo<ChildStdin>>,
    stdout: TokioIo<ChildStdout>,
}

impl tower_service::Service<http::Uri> for Dialer {
    type Response = DialStream;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<DialStream>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Uri) -> Self::Future {
        let dialer = self.clone();
        Box::pin(async move {
            let mut child =
                crate::compose::program::spawn_stream(&dialer.program, &dialer.arguments)
                    .map_err(|error| io::Error::other(format!("{error:#}")))?;
            let stdin = child
                .stdin
                .take()
                .ok_or_else(|| io::Error::other("no stdin"))?;
            let stdout = child
                .stdout
                .take()
                .ok_or_else(|| io::Error::other("no stdout"))?;
            if let Some(mut stderr) = child.stderr.take() {
                let kept = dialer.stderr.clone();
                tokio::spawn(async move {
                    let mut buffer = [0u8; 1024];
                    while let Ok(read) = stderr.read(&mut buffer).await {
                        if read == 0 {
                            break;
                        }
                        let mut kept = kept.lock().unwrap_or_else(|poison| poison.into_inner());
                        kept.extend_from_slice(&buffer[..read]);
                        let excess = kept.len().saturating_sub(STDERR_KEPT);
                        kept.drain(..excess);
                    }
                });
            }
            Ok(DialStream {
                _child: child,
                stdin: Some(TokioIo::new(stdin)),
                stdout: TokioIo::new(stdout),
            })
        })
    }
}

impl DialStream {
    fn stdin(self: Pin<&mut Self>) -> io::Result<Pin<&mut TokioIo<ChildStdin>>> {
        self.get_mut()
            .stdin
            .as_mut()
            .map(Pin::new)
            .ok_or_else(|| io::ErrorKind::BrokenPipe.into())
    }
}

impl hyper::rt::Read for DialStream {
    fn poll_read(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stdout).poll_read(context, buffer)
    }
}

impl hyper::rt::Write for DialStream {
    fn poll_write(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.stdin()?.poll_write(context, buffer)
    }

    fn poll_flush(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stdin()?.poll_flush(context)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.as_mut().stdin()?.poll_shutdown(context))?;
        self.get_mut().stdin.take();
        Poll::Ready(Ok(()))
    }
}

impl Connection for DialStream {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

/// A `Docker` client whose connections are `ssh … docker system dial-stdio` to
/// `destination`, and the standard error those sessions print (for failure messages).
pub(crate) fn connect(destination: &Destination) -> Result<(Docker, Arc<Mutex<Vec<u8>>>)> {
    let program = crate::compose::program::find_program("ssh").ok_or_else(|| {
        Failure::engine(format!(
            "reaching the engine at ssh://{} needs the `ssh` program, which is not on PATH",
            destination.host
        ))
        .hint("install an OpenSSH client (Debian: apt-get install openssh-client)")
    })?;
    let stderr = Arc::new(Mutex::new(Vec::new()));
    let dialer = Dialer {
        program,
        arguments: Arc::new(destination.arguments()),
        stderr: stderr.clone(),
    };
    let client: Client<Dialer, RequestBody> = Client::builder(TokioExecutor::new())
        .pool_idle_timeout(std::time::Duration::from_secs(30))
        .build(dialer);
    let client = Arc::new(client);
    let docker = Docker::connect_with_custom_transport(
        move |request: BollardRequest| {
            let client = client.clone();
            async move {
                client
                    .request(request)
                    .await
                    .map_err(bollard::errors::Error::from)
            }
        },
        // The connection itself is ssh's; this only names the requests' authority.
        Some("http://docker"),
        120,
        bollard::API_DEFAULT_VERSION,
    )?;
    Ok((docker, stderr))
}

/// The body type of bollard's requests.
type RequestBody = <BollardRequest as HasBody>::Body;

trait HasBody {
    type Body;
}

impl<B> HasBody for http::Request<B> {
    type Body = B;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_addresses_become_the_docker_cli_s_ssh_arguments() {
        let cases = [
            (
                "ssh://build-box",
                "-o ConnectTimeout=30 -T -- build-box docker system dial-stdio",
            ),
            (
                "ssh://me@10.0.0.5:2222",
                "-o ConnectTimeout=30 -T -l me -p 2222 -- 10.0.0.5 docker system dial-stdio",
            ),
            (
                "ssh://me@[fe80::1]:22/",
                "-o ConnectTimeout=30 -T -l me -p 22 -- fe80::1 docker system dial-stdio",
            ),
            (
                "ssh://[::1]",
                "-o ConnectTimeout=30 -T -- ::1 docker system dial-stdio",
            ),
        ];
        for (url, expected) in cases {
            let destination = Destination::parse(url).unwrap();
            assert_eq!(destination.arguments().join(" "), expected, "{url}");
        }
        for (url, expected) in [
            ("ssh://build-box", "ssh build-box"),
            ("ssh://me@10.0.0.5:2222", "ssh -p 2222 me@10.0.0.5"),
        ] {
            assert_eq!(Destination::parse(url).unwrap().login(), expected);
        }
    }

    #[test]
    fn ssh_addresses_that_could_pass_options_to_ssh_are_refused() {
        for (url, why) in [
            ("ssh://-oProxyCommand=evil", "it names no host"),
            ("ssh://-x@host", "the user name is empty or starts with `-`"),
            ("ssh://@host", "the user name is empty or starts with `-`"),
            ("ssh://host:port", "`port` is not a port number"),
            ("ssh://[::1", "an IPv6 address lacks its closing `]`"),
            ("ssh://", "it names no host"),
            ("tcp://host", "it does not start with ssh://"),
        ] {
            let error = Destination::parse(url).unwrap_err();
            assert_eq!(
                error.message,
                format!("cannot read the ssh engine address `{url}`: {why}"),
                "{url}"
            );
        }
        // A password is refused, and not shown.
        for url in ["ssh://me:s3cret@host:22", "ssh://me:s3cret@[::1]"] {
            let error = Destination::parse(url).unwrap_err();
            assert!(
                error.message.contains("holds a password"),
                "{}",
                error.message
            );
            assert!(!error.message.contains("s3cret"), "{}", error.message);
            assert!(error.message.contains("me:***@"), "{}", error.message);
        }
        // A user name alone is shown as it is.
        let error = Destination::parse("ssh://me@host:port").unwrap_err();
        assert_eq!(
            error.message,
            "cannot read the ssh engine address `ssh://me@host:port`: `port` is not a port number"
        );
    }
}
