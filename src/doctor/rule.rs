//! `LintRule`: every rule `devctl doctor` checks, with its id, default severity, what it
//! finds and how to fix it. docs/rules.md lists the same rules (a test keeps them in step).

use serde::{Deserialize, Serialize};

/// How much a finding matters. `off` only appears in a profile, to disable a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Off,
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Off => "off",
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct LintRule {
    pub id: &'static str,
    pub severity: Severity,
    /// What the rule finds, in one line.
    pub summary: &'static str,
    /// How to fix what it finds.
    pub fix: &'static str,
}

const fn rule(
    id: &'static str,
    severity: Severity,
    summary: &'static str,
    fix: &'static str,
) -> LintRule {
    LintRule {
        id,
        severity,
        summary,
        fix,
    }
}

use Severity::{Error, Info, Warning};

/// Every rule, grouped: compose, Dockerfile, env files, image contract.
pub const RULES: &[LintRule] = &[
    rule(
        "compose-invalid",
        Error,
        "compose cannot read the project, so only the rules that read the files as written could run",
        "run `docker compose config` to see compose's message, and fix the file it names",
    ),
    rule(
        "data-volume-unprotected",
        Warning,
        "a named volume holds data, yet is neither external nor protected: `down -v` can delete it",
        "list it under guard.protected_volumes in the profile, or declare it `external: true`",
    ),
    rule(
        "no-healthcheck",
        Warning,
        "a long-running service has no healthcheck, so nothing can wait for it to be ready",
        "add a healthcheck (test, interval, retries, start_period)",
    ),
    rule(
        "healthcheck-no-start-period",
        Info,
        "a healthcheck has no start_period, so a slow start counts as failures",
        "add start_period (e.g. 10s) to the healthcheck",
    ),
    rule(
        "literal-secret",
        Error,
        "a secret-looking variable has a literal value in the compose file",
        "move the value to an env file kept out of version control, and write `${NAME}` in the compose file (or use secrets:)",
    ),
    rule(
        "image-unpinned",
        Warning,
        "an image is untagged or `latest`, so the same commit can run different images",
        "pin a tag (or a digest): image: postgres:16.4",
    ),
    rule(
        "port-all-interfaces",
        Warning,
        "a port is published on every interface (0.0.0.0), reachable from the network",
        "bind it to the loopback interface: \"127.0.0.1:8080:80\"",
    ),
    rule(
        "docker-socket",
        Error,
        "the Docker socket is mounted into a container, which then controls the host",
        "remove the mount; if a tool needs the engine, give it a socket proxy with only the calls it needs",
    ),
    rule(
        "privileged",
        Error,
        "a service runs privileged: it can do anything the host kernel allows",
        "drop `privileged: true`; add only the capabilities it needs with cap_add",
    ),
    rule(
        "host-network",
        Warning,
        "a service uses the host's network namespace",
        "use the project network and publish the ports it needs",
    ),
    rule(
        "host-namespace",
        Warning,
        "a service shares the host's PID or IPC namespace",
        "remove `pid: host` / `ipc: host`",
    ),
    rule(
        "sensitive-host-path",
        Warning,
        "a sensitive host path (/, /etc, /root, /proc, /sys, ~/.ssh, …) is bind-mounted",
        "mount only the file or folder the service needs, read-only where possible",
    ),
    rule(
        "dangerous-capability",
        Warning,
        "a service adds a powerful capability or runs unconfined (seccomp/apparmor)",
        "drop the capability or security option; add narrower capabilities",
    ),
    rule(
        "duplicate-host-port",
        Error,
        "two services publish the same host port",
        "give each its own host port",
    ),
    rule(
        "duplicate-container-name",
        Error,
        "two services have the same container_name",
        "give each its own name, or remove container_name",
    ),
    rule(
        "no-project-name",
        Info,
        "the project name comes from the folder's name, so two checkouts collide",
        "set a top-level `name:` in the compose file, or compose.project_name in the profile",
    ),
    rule(
        "obsolete-version",
        Info,
        "the top-level `version:` is obsolete and ignored by compose",
        "remove the `version:` line",
    ),
    rule(
        "build-and-image",
        Info,
        "a service has both `build:` and `image:`: the build's result is tagged with that image name, and a pull may replace it",
        "keep `image:` only if the name is meant to be pushed; else remove it",
    ),
    rule(
        "depends-on-without-health",
        Warning,
        "a service depends on a service that has a healthcheck, but does not wait for it to be healthy",
        "use `depends_on: {SERVICE: {condition: service_healthy}}`",
    ),
    rule(
        "root-user",
        Warning,
        "a service runs as root",
        "set `user:` to an unprivileged user (or fix the image's USER)",
    ),
    rule(
        "required-variable-unset",
        Error,
        "a variable the compose files require (no default) is not set",
        "set it in the environment or an env file, or give it a default: ${NAME:-value}",
    ),
    rule(
        "dockerfile-missing",
        Error,
        "a service's build names a Dockerfile that does not exist",
        "fix build.context / build.dockerfile, or add the Dockerfile",
    ),
    rule(
        "dockerfile-root",
        Warning,
        "the image's final stage runs as root (no USER, or USER root)",
        "add `USER` with an unprivileged user at the end of the final stage",
    ),
    rule(
        "dockerfile-secret",
        Error,
        "an ARG or ENV with a secret-looking name has a value, which stays in the image's history",
        "pass secrets at build time with `RUN --mount=type=secret`, and at run time through the environment",
    ),
    rule(
        "copy-before-install",
        Warning,
        "`COPY . .` comes before the dependency install, so any source change reinstalls every dependency",
        "copy the dependency manifests (package.json and lockfile, requirements.txt, …) first, install, then copy the rest",
    ),
    rule(
        "unfrozen-install",
        Warning,
        "a dependency install does not follow a lockfile, so one commit can build different images",
        "use `npm ci`, `yarn install --frozen-lockfile`, `pnpm install --frozen-lockfile`, or pin versions (pip install name==version)",
    ),
    rule(
        "base-image-unpinned",
        Warning,
        "a FROM image is untagged or `latest`",
        "pin the base image's tag (or digest)",
    ),
    rule(
        "package-cache-left",
        Info,
        "a package install leaves its cache in the layer",
        "apt-get: `rm -rf /var/lib/apt/lists/*` in the same RUN; apk: `--no-cache`; pip: `--no-cache-dir`",
    ),
    rule(
        "add-local-file",
        Info,
        "ADD copies a local file; COPY says what it does",
        "use COPY for local files (ADD for URLs and archives to unpack)",
    ),
    rule(
        "shell-form-command",
        Info,
        "CMD or ENTRYPOINT in shell form: the process does not get signals, so stops wait for the timeout",
        "use the exec form: CMD [\"server\", \"--port\", \"8080\"]",
    ),
    rule(
        "pipe-without-pipefail",
        Info,
        "a RUN pipes commands without `set -o pipefail`, so a failing first command goes unnoticed",
        "start the RUN with `set -o pipefail &&`, or set SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]",
    ),
    rule(
        "env-not-dockerignored",
        Error,
        "a build context holds `.env`, and `.dockerignore` does not exclude it: its secrets go into the build (and maybe the image)",
        "add `.env` to the context's .dockerignore",
    ),
    rule(
        "env-example-missing",
        Warning,
        "a variable the compose files use is missing from .env.example",
        "add it to .env.example with a placeholder value",
    ),
    rule(
        "env-example-unused",
        Info,
        ".env.example lists a variable no compose file uses",
        "remove it from .env.example, or use it",
    ),
    rule(
        "no-env-example",
        Info,
        "the compose files use variables, but no .env.example documents them",
        "add .env.example listing each variable with a placeholder",
    ),
    rule(
        "image-contract",
        Error,
        "a built image breaks its runtime contract (the profile's doctor.images)",
        "fix the Dockerfile so the image has what the contract names, or update the contract",
    ),
];

/// The rule with this id.
pub fn find(id: &str) -> Option<&'static LintRule> {
    RULES.iter().find(|rule| rule.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_case_and_documented() {
        let docs = include_str!("../../docs/rules.md");
        for (index, rule) in RULES.iter().enumerate() {
            assert!(
                rule.id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                rule.id
            );
            assert!(
                RULES[index + 1..].iter().all(|other| other.id != rule.id),
                "{} twice",
                rule.id
            );
            assert!(
                docs.contains(&format!("### `{}`", rule.id)),
                "docs/rules.md has no section for {}",
                rule.id
            );
        }
        assert!(RULES.len() >= 25);
    }
}
