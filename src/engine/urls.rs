//! Where a service answers: its published TCP ports as URLs a browser on this machine can
//! open — `http://127.0.0.1:PORT` for a local engine, the engine's host for a remote one.

/// The address a published port is reached at from here, for an engine at `endpoint`
/// (`unix:///var/run/docker.sock`, `tcp://10.0.0.5:2376`, `ssh://me@build-box`).
pub fn engine_address(endpoint: &str) -> String {
    let Some((scheme, rest)) = endpoint.split_once("://") else {
        return "127.0.0.1".into();
    };
    if matches!(scheme, "unix" | "npipe") {
        return "127.0.0.1".into();
    }
    let authority = rest.split('/').next().unwrap_or_default();
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = match host.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    match host.is_empty() {
        true => "127.0.0.1".into(),
        false => host.to_string(),
    }
}

/// `endpoint` without the user and password it may carry (`ssh://me@build-box:22` →
/// `ssh://build-box:22`), as it may be written where others read it (a backup's manifest).
pub fn without_credentials(endpoint: &str) -> String {
    let Some((scheme, rest)) = endpoint.split_once("://") else {
        return endpoint.to_string();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    format!("{scheme}://{host}{path}")
}

/// Whether the engine at `endpoint` runs on this machine, so that its published ports are
/// this machine's: a local socket, or a `tcp://`/`ssh://` address on the loopback interface.
/// A port held by a process there can be seen from here only then.
pub fn is_this_machine(endpoint: &str) -> bool {
    let address = engine_address(endpoint);
    address.eq_ignore_ascii_case("localhost")
        || address
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The URLs of `ports` (as `ServiceStatus` shows them: `127.0.0.1:8080->80/tcp`,
/// `[::]:8080->80/tcp`, `8080->80/tcp`): one per published TCP port, with `address` for
/// the wildcard and loopback bindings, the bound address otherwise.
pub fn urls(ports: &[String], address: &str) -> Vec<String> {
    let found: Vec<String> = ports
        .iter()
        .filter_map(|port| {
            let (published, private) = port.split_once("->")?;
            if !private.ends_with("/tcp") {
                return None;
            }
            let (ip, number) = match published.rsplit_once(':') {
                Some((ip, number)) => (ip.trim_start_matches('[').trim_end_matches(']'), number),
                None => ("", published),
            };
            number.parse::<u16>().ok()?;
            let host = match ip {
                "" | "0.0.0.0" | "::" | "127.0.0.1" | "::1" | "localhost" => address.to_string(),
                ip if ip.contains(':') => format!("[{ip}]"),
                ip => ip.to_string(),
            };
            let host = match host.contains(':') && !host.starts_with('[') {
                true => format!("[{host}]"),
                false => host,
            };
            Some(format!("http://{host}:{number}"))
        })
        .collect();
    let mut unique = Vec::new();
    for url in found {
        if !unique.contains(&url) {
            unique.push(url);
        }
    }
    unique
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_engine_is_reached_on_loopback_and_a_remote_one_at_its_host() {
        assert_eq!(engine_address("unix:///var/run/docker.sock"), "127.0.0.1");
        assert_eq!(
            engine_address("npipe:////./pipe/docker_engine"),
            "127.0.0.1"
        );
        assert_eq!(engine_address("tcp://10.0.0.5:2376"), "10.0.0.5");
        assert_eq!(engine_address("ssh://me@build-box"), "build-box");
        assert_eq!(engine_address("ssh://me@build-box:2222"), "build-box");
        assert_eq!(engine_address("tcp://[fd00::5]:2376"), "fd00::5");
        assert_eq!(engine_address("nonsense"), "127.0.0.1");
    }

    #[test]
    fn credentials_are_left_out_of_an_endpoint() {
        for (endpoint, shown) in [
            ("ssh://me@build-box:2222", "ssh://build-box:2222"),
            ("ssh://me:secret@build-box", "ssh://build-box"),
            (
                "tcp://user:pa@ss@10.0.0.5:2376/v1",
                "tcp://10.0.0.5:2376/v1",
            ),
            ("tcp://10.0.0.5:2376", "tcp://10.0.0.5:2376"),
            ("unix:///var/run/docker.sock", "unix:///var/run/docker.sock"),
            (
                "unix:///home/me@work/docker.sock",
                "unix:///home/me@work/docker.sock",
            ),
            ("nonsense", "nonsense"),
        ] {
            assert_eq!(without_credentials(endpoint), shown, "{endpoint}");
        }
    }

    #[test]
    fn only_a_local_socket_or_a_loopback_address_is_this_machine() {
        for here in [
            "unix:///var/run/docker.sock",
            "npipe:////./pipe/docker_engine",
            "tcp://127.0.0.1:2376",
            "tcp://localhost:2375",
            "tcp://[::1]:2376",
            "ssh://me@localhost:2222",
        ] {
            assert!(is_this_machine(here), "{here}");
        }
        for remote in [
            "tcp://10.0.0.5:2376",
            "tcp://build-box:2376",
            "ssh://me@build-box",
            "ssh://build-box:22",
            "tcp://[fd00::5]:2376",
        ] {
            assert!(!is_this_machine(remote), "{remote}");
        }
    }

    #[test]
    fn tcp_ports_become_urls_once_each() {
        let ports: Vec<String> = [
            "0.0.0.0:8080->80/tcp",
            "[::]:8080->80/tcp",
            "127.0.0.1:5432->5432/tcp",
            "0.0.0.0:5353->53/udp",
            "10.1.2.3:9000->9000/tcp",
            "3000->3000/tcp",
        ]
        .iter()
        .map(|port| port.to_string())
        .collect();
        assert_eq!(
            urls(&ports, "127.0.0.1"),
            [
                "http://127.0.0.1:8080",
                "http://127.0.0.1:5432",
                "http://10.1.2.3:9000",
                "http://127.0.0.1:3000",
            ]
        );
        assert_eq!(urls(&ports[..1], "fd00::5"), ["http://[fd00::5]:8080"]);
        assert_eq!(urls(&ports[..1], "build-box"), ["http://build-box:8080"]);
    }
}
