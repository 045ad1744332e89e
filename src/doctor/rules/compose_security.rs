//! Compose rules about what a service exposes or may reach on the host: literal secrets,
//! ports on every interface, the Docker socket and sensitive host paths, privileges, host
//! namespaces, powerful capabilities and the root user. They read compose's resolved model
//! (literal secrets: its model without interpolation) and the compose files as written, for
//! positions.

use serde_json::Value;

use crate::compose::model::published_port;
use crate::compose::model::{entries, items, text};
use crate::compose::secrets::is_secret_name;
use crate::doctor::finding::Finding;
use crate::doctor::lint_input::LintInput;
use crate::doctor::rule::{Check, LintRule};
use crate::doctor::rule_id::RuleId;
use crate::doctor::rule_id::Severity::{Error, Warning};
use crate::doctor::rules::compose::{mount_matches, port_matches};

pub(super) const LITERAL_SECRET: LintRule = LintRule {
    id: RuleId::LiteralSecret,
    severity: Error,
    summary: "a secret-looking variable, or a URL with a password, has a literal value in the compose file",
    fix: "move the value to an env file kept out of version control, and write `${NAME}` in the compose file (or use secrets:)",
    check: Check::Project(literal_secret),
    #[cfg(test)]
    example: tests::literal_secret,
};

/// Read without interpolation: `${NAME}` is not a literal, and a flag (`yes`, `0`, …) is
/// not a secret.
fn literal_secret(input: &LintInput) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (name, _) in input.services() {
        let Some(raw) = input.raw_service(name) else {
            continue;
        };
        for (variable, value) in entries(raw, "environment") {
            let value = value.as_str().unwrap_or_default();
            let flag = matches!(
                value.to_lowercase().as_str(),
                "yes" | "no" | "true" | "false" | "0" | "1" | "on" | "off"
            );
            let written = !value.is_empty() && !value.contains('$');
            let what = if written && is_secret_name(variable) && !flag {
                "a literal value"
            } else if written && has_url_password(value) {
                "a URL with a literal password"
            } else {
                continue;
            };
            findings.push(LITERAL_SECRET.finding(
                format!("service `{name}` sets {variable} to {what}"),
                input.locate_in_service(name, &["environment", variable]),
            ));
        }
    }
    findings
}

/// Whether `value` holds a URL whose user information has a password
/// (`postgres://shop:hunter2@db/shop`), whatever the variable's name.
fn has_url_password(value: &str) -> bool {
    value.split("://").skip(1).any(|rest| {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        authority
            .rsplit_once('@')
            .and_then(|(user_information, _)| user_information.split_once(':'))
            .is_some_and(|(_, password)| !password.is_empty())
    })
}

pub(super) const PORT_ALL_INTERFACES: LintRule = LintRule {
    id: RuleId::PortAllInterfaces,
    severity: Warning,
    summary: "a port is published on every interface (0.0.0.0), reachable from the network",
    fix: "bind it to the loopback interface: \"127.0.0.1:8080:80\" (\"127.0.0.1::80\" for a host port the engine picks), or use `expose:` where only other services reach it",
    check: Check::Project(port_all_interfaces),
    #[cfg(test)]
    example: tests::port_all_interfaces,
};

fn port_all_interfaces(input: &LintInput) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (name, service) in input.services() {
        for port in items(service, "ports") {
            if !matches!(text(port, "host_ip"), "" | "0.0.0.0" | "::") {
                continue;
            }
            // A port's tcp and udp halves are two findings: each says which it is.
            let protocol = match text(port, "protocol") {
                "" | "tcp" => String::new(),
                protocol => format!("/{protocol}"),
            };
            match published_port(port) {
                Some(published) => findings.push(PORT_ALL_INTERFACES.finding(
                    format!(
                        "service `{name}` publishes port {published}{protocol} on every interface"
                    ),
                    input.locate_item(name, "ports", |item| port_matches(item, &published)),
                )),
                // A container port alone (`- 8080`) is published too, on a host port the
                // engine picks, on every interface.
                None => {
                    let target = port.get("target").map(Value::to_string).unwrap_or_default();
                    findings.push(PORT_ALL_INTERFACES.finding(
                        format!(
                            "service `{name}` publishes container port {target}{protocol} on every interface, on a host port the engine picks"
                        ),
                        input.locate_item(name, "ports", |item| container_port_matches(item, &target)),
                    ));
                }
            }
        }
    }
    findings
}

/// Whether a `ports:` item as written publishes container port `target` without a host port
/// (`- 8080`, `- "8080/udp"`, `- {target: 8080}`).
fn container_port_matches(item: &Value, target: &str) -> bool {
    match item {
        Value::Number(number) => number.to_string() == target,
        Value::String(short) => {
            !short.contains(':')
                && short
                    .split('/')
                    .next()
                    .is_some_and(|ports| ports == target || ports.split('-').next() == Some(target))
        }
        Value::Object(_) => {
            published_port(item).is_none()
                && item.get("target").map(Value::to_string).as_deref() == Some(target)
        }
        _ => false,
    }
}

pub(super) const DOCKER_SOCKET: LintRule = LintRule {
    id: RuleId::DockerSocket,
    severity: Error,
    summary: "the Docker socket is mounted into a container, which then controls the host",
    fix: "remove the mount; if a tool needs the engine, give it a socket proxy with only the calls it needs",
    check: Check::Project(docker_socket),
    #[cfg(test)]
    example: tests::docker_socket,
};

fn docker_socket(input: &LintInput) -> Vec<Finding> {
    bind_mounts(input, is_docker_socket, |name, source| {
        (
            &DOCKER_SOCKET,
            format!("service `{name}` mounts the Docker socket ({source})"),
        )
    })
}

fn is_docker_socket(source: &str) -> bool {
    matches!(source, "/var/run/docker.sock" | "/run/docker.sock")
}

pub(super) const SENSITIVE_HOST_PATH: LintRule = LintRule {
    id: RuleId::SensitiveHostPath,
    severity: Warning,
    summary: "a sensitive host path (/, /etc, /root, /proc, /sys, ~/.ssh, …) is bind-mounted",
    fix: "mount only the file or folder the service needs, read-only where possible",
    check: Check::Project(sensitive_host_path),
    #[cfg(test)]
    example: tests::sensitive_host_path,
};

fn sensitive_host_path(input: &LintInput) -> Vec<Finding> {
    let sensitive = |source: &str| !is_docker_socket(source) && is_sensitive(source);
    bind_mounts(input, sensitive, |name, source| {
        (
            &SENSITIVE_HOST_PATH,
            format!("service `{name}` bind-mounts {source}"),
        )
    })
}

fn is_sensitive(source: &str) -> bool {
    let exact = [
        "/",
        "/etc",
        "/root",
        "/var/lib/docker",
        "/proc",
        "/sys",
        "/boot",
        "/dev",
        "/home",
    ];
    let inside = ["/.ssh", "/.aws", "/.docker", "/.kube", "/.gnupg"];
    let trimmed = if source.len() > 1 {
        source.trim_end_matches('/')
    } else {
        source
    };
    exact.contains(&trimmed) || inside.iter().any(|part| source.contains(part))
}

/// A finding (`found` gives its id and message from the service and the source) for each
/// bind mount whose source `selected`, located at its item in the files.
fn bind_mounts(
    input: &LintInput,
    selected: impl Fn(&str) -> bool,
    found: impl Fn(&str, &str) -> (&'static LintRule, String),
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (name, service) in input.services() {
        for mount in items(service, "volumes") {
            let source = text(mount, "source");
            if text(mount, "type") == "bind" && selected(source) {
                let (rule, message) = found(name, source);
                findings.push(rule.finding(
                    message,
                    input.locate_item(name, "volumes", |item| mount_matches(item, mount)),
                ));
            }
        }
    }
    findings
}

pub(super) const PRIVILEGED: LintRule = LintRule {
    id: RuleId::Privileged,
    severity: Error,
    summary: "a service runs privileged: it can do anything the host kernel allows",
    fix: "drop `privileged: true`; add only the capabilities it needs with cap_add",
    check: Check::Project(privileged),
    #[cfg(test)]
    example: tests::privileged,
};

fn privileged(input: &LintInput) -> Vec<Finding> {
    input
        .services()
        .into_iter()
        .filter(|(_, service)| service.get("privileged").and_then(Value::as_bool) == Some(true))
        .map(|(name, _)| {
            PRIVILEGED.finding(
                format!("service `{name}` runs privileged"),
                input.locate_in_service(name, &["privileged"]),
            )
        })
        .collect()
}

pub(super) const HOST_NETWORK: LintRule = LintRule {
    id: RuleId::HostNetwork,
    severity: Warning,
    summary: "a service uses the host's network namespace",
    fix: "use the project network and publish the ports it needs",
    check: Check::Project(host_network),
    #[cfg(test)]
    example: tests::host_network,
};

fn host_network(input: &LintInput) -> Vec<Finding> {
    input
        .services()
        .into_iter()
        .filter(|(_, service)| text(service, "network_mode") == "host")
        .map(|(name, _)| {
            HOST_NETWORK.finding(
                format!("service `{name}` uses network_mode: host"),
                input.locate_in_service(name, &["network_mode"]),
            )
        })
        .collect()
}

pub(super) const HOST_NAMESPACE: LintRule = LintRule {
    id: RuleId::HostNamespace,
    severity: Warning,
    summary: "a service shares the host's PID or IPC namespace",
    fix: "remove `pid: host` / `ipc: host`",
    check: Check::Project(host_namespace),
    #[cfg(test)]
    example: tests::host_namespace,
};

fn host_namespace(input: &LintInput) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (name, service) in input.services() {
        for namespace in ["pid", "ipc"] {
            if text(service, namespace) == "host" {
                findings.push(HOST_NAMESPACE.finding(
                    format!("service `{name}` sets {namespace}: host"),
                    input.locate_in_service(name, &[namespace]),
                ));
            }
        }
    }
    findings
}

pub(super) const DANGEROUS_CAPABILITY: LintRule = LintRule {
    id: RuleId::DangerousCapability,
    severity: Warning,
    summary: "a service adds a powerful capability or runs unconfined (seccomp/apparmor)",
    fix: "drop the capability or security option; add narrower capabilities",
    check: Check::Project(dangerous_capability),
    #[cfg(test)]
    example: tests::dangerous_capability,
};

/// One finding per service for its powerful capabilities and unconfined security options,
/// located at the capabilities when it adds any.
fn dangerous_capability(input: &LintInput) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (name, service) in input.services() {
        let capabilities: Vec<&str> = items(service, "cap_add")
            .filter_map(Value::as_str)
            .filter(|capability| {
                matches!(
                    capability
                        .trim_start_matches("CAP_")
                        .to_uppercase()
                        .as_str(),
                    "ALL" | "SYS_ADMIN" | "NET_ADMIN" | "SYS_PTRACE" | "SYS_MODULE"
                )
            })
            .collect();
        let unconfined: Vec<&str> = items(service, "security_opt")
            .filter_map(Value::as_str)
            .filter(|option| option.ends_with("unconfined"))
            .collect();
        if capabilities.is_empty() && unconfined.is_empty() {
            continue;
        }
        let added: Vec<&str> = capabilities.iter().chain(&unconfined).copied().collect();
        let field = if capabilities.is_empty() {
            "security_opt"
        } else {
            "cap_add"
        };
        findings.push(DANGEROUS_CAPABILITY.finding(
            format!("service `{name}` adds {}", added.join(", ")),
            input.locate_in_service(name, &[field]),
        ));
    }
    findings
}

pub(super) const ROOT_USER: LintRule = LintRule {
    id: RuleId::RootUser,
    severity: Warning,
    summary: "a service runs as root",
    fix: "set `user:` to an unprivileged user (or fix the image's USER)",
    check: Check::Project(root_user),
    #[cfg(test)]
    example: tests::root_user,
};

/// Services whose `user:` is root (by name or id); the image's own USER is the Dockerfile
/// rules' business.
fn root_user(input: &LintInput) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (name, service) in input.services() {
        let user = text(service, "user");
        if user == "root" || user == "0" || user.starts_with("root:") || user.starts_with("0:") {
            findings.push(ROOT_USER.finding(
                format!("service `{name}` runs as user `{user}`"),
                input.locate_in_service(name, &["user"]),
            ));
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::doctor::rules::examples::{Example, compose_file, findings, project};

    /// Service `app` with `lines` (indented as its keys) after its image.
    fn app(lines: &str) -> crate::doctor::lint_input::LintInput {
        project(&format!("services:\n  app:\n    image: a:1\n{lines}"))
    }

    pub(super) fn literal_secret() -> Example {
        Example::new(
            app(
                "    environment:\n      DB_PASSWORD: hunter2\n      API_TOKEN: abc123\n      DB_USER: shop\n      DATABASE_URL: postgres://shop:hunter2@db:5432/shop\n",
            ),
            &[
                "compose.yaml:6:7 service `app` sets API_TOKEN to a literal value",
                "compose.yaml:8:7 service `app` sets DATABASE_URL to a URL with a literal password",
                "compose.yaml:5:7 service `app` sets DB_PASSWORD to a literal value",
            ],
            app(
                "    environment:\n      DB_PASSWORD: ${DB_PASSWORD}\n      DB_PASSWORD_FILE: /run/secrets/db\n      MYSQL_ALLOW_EMPTY_PASSWORD: 'yes'\n      SECRET_ENABLED: 'true'\n      API_TOKEN: ''\n      DATABASE_URL: postgres://shop:${DB_PASSWORD}@db/shop\n      CACHE_URL: redis://cache:6379/0\n      GIT_REMOTE: ssh://git@example.com/team/app.git\n",
            ),
        )
    }

    #[test]
    fn literal_secrets_are_read_without_interpolation() {
        let mut input = app("    environment:\n      DB_PASSWORD: ${DB_PASSWORD}\n");
        // Interpolated, the model has the value; as written, it is a reference.
        input.model = json!({"services": {"app": {"image": "a:1", "environment": {"DB_PASSWORD": "hunter2"}}}});
        assert!(findings(&LITERAL_SECRET, input).is_empty());
    }

    pub(super) fn port_all_interfaces() -> Example {
        Example::new(
            app(
                "    ports:\n      - {target: 80, published: '8080'}\n      - {target: 81, published: '8081', host_ip: '::'}\n      - {target: 82}\n",
            ),
            &[
                "compose.yaml:5:9 service `app` publishes port 8080 on every interface",
                "compose.yaml:6:9 service `app` publishes port 8081 on every interface",
                "compose.yaml:7:9 service `app` publishes container port 82 on every interface, on a host port the engine picks",
            ],
            app(
                "    ports:\n      - {target: 80, published: '8080', host_ip: 127.0.0.1}\n      - {target: 81, host_ip: 127.0.0.1}\n    expose: ['82']\n",
            ),
        )
    }

    #[test]
    fn ports_are_located_by_content_in_the_file_that_writes_them() {
        let mut input =
            project("services:\n  app:\n    image: a:1\n    ports: ['127.0.0.1:1000:80']\n");
        input.files.push(compose_file(
            "compose.override.yaml",
            "services:\n  app:\n    ports:\n      - '2000:81'\n      - '127.0.0.1:3000:82'\n",
        ));
        input.model = json!({"services": {"app": {"image": "a:1", "ports": [
            {"target": 80, "published": "1000", "host_ip": "127.0.0.1"},
            {"target": 81, "published": "2000"},
            {"target": 82, "published": "3000", "host_ip": "127.0.0.1"},
        ]}}});
        assert_eq!(
            findings(&PORT_ALL_INTERFACES, input),
            ["compose.override.yaml:4:9 service `app` publishes port 2000 on every interface"]
        );
    }

    #[test]
    fn a_port_s_tcp_and_udp_halves_say_which_they_are() {
        let input = app(
            "    ports:\n      - {target: 53, published: '53', protocol: tcp}\n      - {target: 53, published: '53', protocol: udp}\n",
        );
        assert_eq!(
            findings(&PORT_ALL_INTERFACES, input),
            [
                "compose.yaml:5:9 service `app` publishes port 53 on every interface",
                "compose.yaml:5:9 service `app` publishes port 53/udp on every interface",
            ]
        );
    }

    pub(super) fn docker_socket() -> Example {
        Example::new(
            app(
                "    volumes:\n      - {type: bind, source: /var/run/docker.sock, target: /var/run/docker.sock}\n",
            ),
            &["compose.yaml:5:9 service `app` mounts the Docker socket (/var/run/docker.sock)"],
            app(
                "    volumes:\n      - {type: bind, source: /srv/data, target: /data}\n      - {type: volume, source: /var/run/docker.sock, target: /sock}\n",
            ),
        )
    }

    pub(super) fn sensitive_host_path() -> Example {
        Example::new(
            app(
                "    volumes:\n      - {type: bind, source: /etc, target: /host-etc}\n      - {type: bind, source: /home/me/.ssh, target: /keys}\n      - {type: bind, source: /run/docker.sock, target: /sock}\n",
            ),
            &[
                "compose.yaml:5:9 service `app` bind-mounts /etc",
                "compose.yaml:6:9 service `app` bind-mounts /home/me/.ssh",
            ],
            app(
                "    volumes:\n      - {type: bind, source: /etc/localtime, target: /etc/localtime}\n",
            ),
        )
    }

    #[test]
    fn sensitive_paths() {
        for path in [
            "/",
            "/etc/",
            "/root",
            "/proc",
            "/home",
            "/srv/me/.aws/config",
        ] {
            assert!(is_sensitive(path), "{path}");
        }
        for path in [
            "/etc/localtime",
            "/home/me/project",
            "/srv",
            "/var/lib/docker-data",
        ] {
            assert!(!is_sensitive(path), "{path}");
        }
    }

    pub(super) fn privileged() -> Example {
        Example::new(
            app("    privileged: true\n"),
            &["compose.yaml:4:5 service `app` runs privileged"],
            app("    privileged: false\n"),
        )
    }

    pub(super) fn host_network() -> Example {
        Example::new(
            app("    network_mode: host\n"),
            &["compose.yaml:4:5 service `app` uses network_mode: host"],
            app("    network_mode: bridge\n"),
        )
    }

    pub(super) fn host_namespace() -> Example {
        Example::new(
            app("    pid: host\n    ipc: host\n"),
            &[
                "compose.yaml:4:5 service `app` sets pid: host",
                "compose.yaml:5:5 service `app` sets ipc: host",
            ],
            app("    ipc: shareable\n"),
        )
    }

    pub(super) fn dangerous_capability() -> Example {
        Example::new(
            app(
                "    cap_add: [CHOWN, SYS_ADMIN, CAP_NET_ADMIN]\n    security_opt: ['seccomp:unconfined']\n",
            ),
            &["compose.yaml:4:5 service `app` adds SYS_ADMIN, CAP_NET_ADMIN, seccomp:unconfined"],
            app(
                "    cap_add: [CHOWN, NET_BIND_SERVICE]\n    security_opt: ['no-new-privileges:true']\n",
            ),
        )
    }

    #[test]
    fn an_unconfined_service_without_capabilities_is_located_at_its_security_options() {
        assert_eq!(
            findings(
                &DANGEROUS_CAPABILITY,
                app("    security_opt: ['apparmor:unconfined']\n")
            ),
            ["compose.yaml:4:5 service `app` adds apparmor:unconfined"]
        );
    }

    pub(super) fn root_user() -> Example {
        Example::new(
            project(
                "services:\n  app:\n    image: a:1\n    user: root\n  web:\n    image: a:1\n    user: '0:0'\n",
            ),
            &[
                "compose.yaml:4:5 service `app` runs as user `root`",
                "compose.yaml:7:5 service `web` runs as user `0:0`",
            ],
            project(
                "services:\n  app:\n    image: a:1\n    user: '1000'\n  web:\n    image: a:1\n    user: rootless\n",
            ),
        )
    }
}
