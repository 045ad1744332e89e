//! The doctor's project rules, over what a project is made of: compose's resolved model and
//! its model without interpolation, the raw compose files (for positions and variables), the
//! Dockerfiles the services build with their `.dockerignore`, and `.env.example`.
//!
//! `lint` is a pure function of a `LintInput`, which `LintInput::collect` assembles from a
//! project on disk. Every rule is listed in `lint_rule::RULES` and docs/rules.md.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::compose::model::published_port;
use crate::compose::variables::{self, Reference};
use crate::doctor::dockerfile::{self, Dockerfile, Instruction};
use crate::doctor::finding::{Finding, Location};
use crate::doctor::yaml_positions::YamlPositions;

/// One compose file as written.
#[derive(Debug, Clone)]
pub struct ComposeSource {
    /// As shown in findings (relative to the root when inside it).
    pub path: PathBuf,
    pub text: String,
    pub positions: YamlPositions,
    /// The file as data, for finding list items by content.
    pub value: Value,
}

/// A service's build: its Dockerfile and its context's `.dockerignore`.
#[derive(Debug, Clone)]
pub struct BuildSource {
    pub service: String,
    /// The context directory on disk.
    pub context: PathBuf,
    /// The Dockerfile as shown in findings.
    pub dockerfile_path: PathBuf,
    /// `None` when the file cannot be read.
    pub dockerfile: Option<Dockerfile>,
    pub target: Option<String>,
    pub dockerignore: Option<String>,
    /// Whether the context holds a `.env` file.
    pub context_has_env: bool,
}

#[derive(Debug, Clone, Default)]
pub struct LintInput {
    /// Compose's resolved model (`config --format json`).
    pub model: Value,
    /// The same without interpolation (`config --no-interpolate --format json`).
    pub raw_model: Value,
    pub files: Vec<ComposeSource>,
    pub builds: Vec<BuildSource>,
    /// The profile's protected volumes.
    pub protected: Vec<String>,
    /// Whether the profile sets compose.project_name.
    pub profile_names_project: bool,
    /// `.env.example`: where, and its text.
    pub env_example: Option<(PathBuf, String)>,
    /// The variables set for compose (environment and env files).
    pub defined: BTreeMap<String, String>,
}

impl LintInput {
    /// The location of `path` in the compose files: the last file that has the most of it.
    fn locate(&self, path: &[&str]) -> Option<Location> {
        let mut best: Option<(usize, Location)> = None;
        for file in &self.files {
            if let Some(((line, column), matched)) = file.positions.locate(path)
                && best.as_ref().is_none_or(|(length, _)| matched >= *length)
            {
                best = Some((matched, Location::at(&file.path, line, column)));
            }
        }
        best.map(|(_, location)| location)
            .or_else(|| self.files.first().map(|file| Location::file(&file.path)))
    }

    /// The position of the item of `services.SERVICE.LIST` that `matches`, found by content
    /// (indexes differ between files, and compose merges the lists of several).
    fn locate_item(
        &self,
        service: &str,
        list: &str,
        matches: impl Fn(&Value) -> bool,
    ) -> Option<Location> {
        for file in self.files.iter().rev() {
            let items = file
                .value
                .get("services")
                .and_then(|services| services.get(service))
                .and_then(|definition| definition.get(list))
                .and_then(Value::as_array);
            if let Some(index) = items.and_then(|items| items.iter().position(&matches)) {
                let index = index.to_string();
                if let Some(((line, column), _)) =
                    file.positions.locate(&["services", service, list, &index])
                {
                    return Some(Location::at(&file.path, line, column));
                }
            }
        }
        self.locate(&["services", service, list])
    }

    fn services(&self) -> Vec<(&String, &Value)> {
        self.model
            .get("services")
            .and_then(Value::as_object)
            .map(|services| services.iter().collect())
            .unwrap_or_default()
    }
}

/// Every finding of every project rule, in rule order then location.
pub fn lint(input: &LintInput) -> Vec<Finding> {
    let mut findings = Vec::new();
    compose_rules(input, &mut findings);
    variable_rules(input, &mut findings);
    for build in &input.builds {
        dockerfile_rules(build, &mut findings);
    }
    findings
}

fn text<'a>(value: &'a Value, field: &str) -> &'a str {
    value.get(field).and_then(Value::as_str).unwrap_or_default()
}

fn is_secret_name(name: &str) -> bool {
    let upper = name.to_uppercase();
    let hints = [
        "PASSWORD",
        "PASSWD",
        "SECRET",
        "TOKEN",
        "API_KEY",
        "APIKEY",
        "PRIVATE_KEY",
        "ACCESS_KEY",
        "CREDENTIAL",
    ];
    let pointer = ["_FILE", "_PATH", "_DIR", "_URL", "_HOST", "_USER", "_NAME"];
    // Settings about a secret, not the secret: ALLOW_EMPTY_PASSWORD, PASSWORD_MIN_LENGTH, …
    let about = [
        "ALLOW", "RANDOM", "LENGTH", "MIN_", "_MIN", "MAX_", "_MAX", "EXPIR", "POLICY", "ROTATION",
    ];
    hints.iter().any(|hint| upper.contains(hint))
        && !pointer.iter().any(|suffix| upper.ends_with(suffix))
        && !about.iter().any(|part| upper.contains(part))
}

fn compose_rules(input: &LintInput, findings: &mut Vec<Finding>) {
    let services = input.services();
    let declared = input.model.get("volumes").and_then(Value::as_object);
    let mut depended_completed = BTreeSet::new();
    for (_, service) in &services {
        for (name, dependency) in service
            .get("depends_on")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if text(dependency, "condition") == "service_completed_successfully" {
                depended_completed.insert(name.clone());
            }
        }
    }
    let mut host_ports: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let mut container_names: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut unprotected = BTreeSet::new();
    for (name, service) in &services {
        let at = |parts: &[&str]| {
            let mut path = vec!["services", name.as_str()];
            path.extend_from_slice(parts);
            input.locate(&path)
        };
        // Volumes and bind mounts.
        for mount in service
            .get("volumes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let source = text(mount, "source");
            match text(mount, "type") {
                "volume" if !source.is_empty() => {
                    let declaration = declared.and_then(|volumes| volumes.get(source));
                    let external = declaration
                        .and_then(|d| d.get("external"))
                        .and_then(Value::as_bool)
                        == Some(true);
                    let engine_name = declaration.map(|d| text(d, "name")).unwrap_or_default();
                    let protected = input
                        .protected
                        .iter()
                        .any(|entry| entry == source || entry == engine_name);
                    if !external && !protected && unprotected.insert(source.to_string()) {
                        findings.push(Finding::new(
                            "data-volume-unprotected",
                            format!("volume `{source}` (mounted by {name} at {}) is neither external nor protected", text(mount, "target")),
                            input.locate(&["volumes", source]).or_else(|| input.locate_item(name, "volumes", |item| mount_matches(item, mount))),
                        ));
                    }
                }
                "bind" => {
                    if matches!(source, "/var/run/docker.sock" | "/run/docker.sock") {
                        findings.push(Finding::new(
                            "docker-socket",
                            format!("service `{name}` mounts the Docker socket ({source})"),
                            input.locate_item(name, "volumes", |item| mount_matches(item, mount)),
                        ));
                    } else if is_sensitive(source) {
                        findings.push(Finding::new(
                            "sensitive-host-path",
                            format!("service `{name}` bind-mounts {source}"),
                            input.locate_item(name, "volumes", |item| mount_matches(item, mount)),
                        ));
                    }
                }
                _ => {}
            }
        }
        // Healthchecks.
        let healthcheck = service.get("healthcheck");
        let disabled = healthcheck
            .map(|check| {
                check.get("disable").and_then(Value::as_bool) == Some(true)
                    || check
                        .get("test")
                        .and_then(Value::as_array)
                        .and_then(|test| test.first())
                        .and_then(Value::as_str)
                        == Some("NONE")
            })
            .unwrap_or(false);
        match healthcheck {
            None if !depended_completed.contains(*name) => findings.push(Finding::new(
                "no-healthcheck",
                format!("service `{name}` has no healthcheck"),
                at(&[]),
            )),
            Some(check) if !disabled && check.get("start_period").is_none() => {
                findings.push(Finding::new(
                    "healthcheck-no-start-period",
                    format!("the healthcheck of `{name}` has no start_period"),
                    at(&["healthcheck"]),
                ))
            }
            _ => {}
        }
        // Images.
        let image = text(service, "image");
        let builds = service.get("build").is_some();
        if !builds && !image.is_empty() && is_unpinned(image) {
            findings.push(Finding::new(
                "image-unpinned",
                format!("service `{name}` runs image `{image}`, which is untagged or latest"),
                at(&["image"]),
            ));
        }
        if builds
            && input
                .raw_service(name)
                .is_some_and(|raw| raw.get("image").is_some())
        {
            findings.push(Finding::new(
                "build-and-image",
                format!("service `{name}` has both build and image (`{image}`)"),
                at(&["image"]),
            ));
        }
        // Ports.
        for port in service
            .get("ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(published) = published_port(port) else {
                continue;
            };
            let host_ip = text(port, "host_ip");
            if matches!(host_ip, "" | "0.0.0.0" | "::") {
                findings.push(Finding::new(
                    "port-all-interfaces",
                    format!("service `{name}` publishes port {published} on every interface"),
                    input.locate_item(name, "ports", |item| port_matches(item, &published)),
                ));
            }
            let protocol = port
                .get("protocol")
                .and_then(Value::as_str)
                .unwrap_or("tcp");
            host_ports
                .entry((format!("{published}/{protocol}"), host_ip.to_string()))
                .or_default()
                .push(name.to_string());
        }
        // Privileges and namespaces.
        if service.get("privileged").and_then(Value::as_bool) == Some(true) {
            findings.push(Finding::new(
                "privileged",
                format!("service `{name}` runs privileged"),
                at(&["privileged"]),
            ));
        }
        if text(service, "network_mode") == "host" {
            findings.push(Finding::new(
                "host-network",
                format!("service `{name}` uses network_mode: host"),
                at(&["network_mode"]),
            ));
        }
        for namespace in ["pid", "ipc"] {
            if text(service, namespace) == "host" {
                findings.push(Finding::new(
                    "host-namespace",
                    format!("service `{name}` sets {namespace}: host"),
                    at(&[namespace]),
                ));
            }
        }
        let capabilities: Vec<&str> = service
            .get("cap_add")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|cap| {
                matches!(
                    cap.trim_start_matches("CAP_").to_uppercase().as_str(),
                    "ALL" | "SYS_ADMIN" | "NET_ADMIN" | "SYS_PTRACE" | "SYS_MODULE"
                )
            })
            .collect();
        let unconfined: Vec<&str> = service
            .get("security_opt")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|option| option.ends_with("unconfined"))
            .collect();
        if !capabilities.is_empty() || !unconfined.is_empty() {
            findings.push(Finding::new(
                "dangerous-capability",
                format!(
                    "service `{name}` adds {}",
                    capabilities
                        .iter()
                        .chain(&unconfined)
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                at(if capabilities.is_empty() {
                    &["security_opt"]
                } else {
                    &["cap_add"]
                }),
            ));
        }
        let user = text(service, "user");
        if user == "root" || user == "0" || user.starts_with("root:") || user.starts_with("0:") {
            findings.push(Finding::new(
                "root-user",
                format!("service `{name}` runs as user `{user}`"),
                at(&["user"]),
            ));
        }
        // depends_on a healthy-able service without waiting for health.
        for (dependency, condition) in service
            .get("depends_on")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let has_health = input
                .model
                .pointer(&format!("/services/{dependency}/healthcheck"))
                .is_some_and(|check| check.get("disable").and_then(Value::as_bool) != Some(true));
            if has_health && text(condition, "condition") == "service_started" {
                findings.push(Finding::new(
                    "depends-on-without-health",
                    format!("service `{name}` depends on `{dependency}` without waiting for it to be healthy"),
                    at(&["depends_on", dependency]),
                ));
            }
        }
        // Literal secrets, read without interpolation.
        if let Some(environment) = input
            .raw_service(name)
            .and_then(|raw| raw.get("environment"))
            .and_then(Value::as_object)
        {
            for (variable, value) in environment {
                let value = value.as_str().unwrap_or_default();
                let flag = matches!(
                    value.to_lowercase().as_str(),
                    "yes" | "no" | "true" | "false" | "0" | "1" | "on" | "off"
                );
                if is_secret_name(variable) && !value.is_empty() && !value.contains('$') && !flag {
                    findings.push(Finding::new(
                        "literal-secret",
                        format!("service `{name}` sets {variable} to a literal value"),
                        at(&["environment", variable]),
                    ));
                }
            }
        }
    }
    // Duplicates across services.
    let mut by_port: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for ((port, ip), names) in &host_ports {
        for service in names {
            by_port
                .entry(port.clone())
                .or_default()
                .push((ip.clone(), service.clone()));
        }
    }
    for (port, users) in by_port {
        let clash = users.iter().enumerate().any(|(index, (ip, _))| {
            users[index + 1..].iter().any(|(other, _)| {
                ip == other
                    || matches!(ip.as_str(), "" | "0.0.0.0")
                    || matches!(other.as_str(), "" | "0.0.0.0")
            })
        });
        if clash {
            let names: Vec<&str> = users.iter().map(|(_, service)| service.as_str()).collect();
            findings.push(Finding::new(
                "duplicate-host-port",
                format!("host port {port} is published by {}", names.join(" and ")),
                input.locate(&["services", names[names.len() - 1], "ports"]),
            ));
        }
    }
    // Read from the files as written: compose itself refuses a project with duplicates.
    for (service, container_name) in written_container_names(input) {
        container_names
            .entry(container_name)
            .or_default()
            .push(service);
    }
    for (container_name, names) in container_names {
        if names.len() > 1 {
            findings.push(Finding::new(
                "duplicate-container-name",
                format!(
                    "container_name `{container_name}` is used by {}",
                    names.join(" and ")
                ),
                input.locate(&["services", &names[1], "container_name"]),
            ));
        }
    }
    // A file that is not YAML says nothing about its name: compose-invalid covers it.
    let all_read = input.files.iter().all(|file| !file.value.is_null());
    if all_read
        && !input.profile_names_project
        && !input.files.iter().any(|file| file.positions.has(&["name"]))
    {
        findings.push(Finding::new(
            "no-project-name",
            "no compose file sets a top-level name, and the profile sets no compose.project_name",
            input.files.first().map(|file| Location::file(&file.path)),
        ));
    }
    for file in &input.files {
        if let Some(((line, column), 1)) = file.positions.locate(&["version"]) {
            findings.push(Finding::new(
                "obsolete-version",
                "the top-level `version:` is obsolete",
                Some(Location::at(&file.path, line, column)),
            ));
        }
    }
}

impl LintInput {
    fn raw_service(&self, name: &str) -> Option<&Value> {
        self.raw_model
            .get("services")
            .and_then(|services| services.get(name))
    }
}

/// Each service's `container_name` as the compose files write it (later files win).
fn written_container_names(input: &LintInput) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    for file in &input.files {
        let Ok(parsed) = serde_saphyr::from_str::<Value>(&file.text) else {
            continue;
        };
        for (service, definition) in parsed
            .get("services")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if let Some(name) = definition.get("container_name").and_then(Value::as_str) {
                names.insert(service.clone(), name.to_string());
            }
        }
    }
    names
}

/// Whether a `volumes:` item as written is the resolved `mount` (same container path).
fn mount_matches(item: &Value, mount: &Value) -> bool {
    let target = text(mount, "target");
    match item {
        Value::String(short) => {
            let parts: Vec<&str> = short.split(':').collect();
            match parts.len() {
                1 => parts[0] == target,
                _ => parts[1] == target,
            }
        }
        Value::Object(_) => text(item, "target") == target,
        _ => false,
    }
}

/// Whether a `ports:` item as written publishes host port `published` (or a range from it).
fn port_matches(item: &Value, published: &str) -> bool {
    let host = match item {
        Value::String(short) => {
            let parts: Vec<&str> = short.split(':').collect();
            match parts.len() {
                1 => return false,
                length => parts[length - 2].to_string(),
            }
        }
        Value::Object(_) => match published_port(item) {
            Some(port) => port,
            None => return false,
        },
        _ => return false,
    };
    host == published || host.split('-').next() == Some(published)
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

/// Untagged or `latest`, not pinned by digest.
fn is_unpinned(image: &str) -> bool {
    if image.contains('@') || image.contains('$') {
        return false;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        None => true,
        Some((_, tag)) => tag == "latest",
    }
}

fn variable_rules(input: &LintInput, findings: &mut Vec<Finding>) {
    let mut used: BTreeMap<String, (PathBuf, Reference)> = BTreeMap::new();
    for file in &input.files {
        for reference in variables::references(&file.text) {
            if reference.is_unset_in(&input.defined) {
                findings.push(Finding::new(
                    "required-variable-unset",
                    format!(
                        "${{{}}} is required (no default) but not set",
                        reference.name
                    ),
                    Some(Location::at(
                        &file.path,
                        reference.line as u64,
                        reference.column as u64,
                    )),
                ));
            }
            used.entry(reference.name.clone())
                .or_insert((file.path.clone(), reference));
        }
    }
    match &input.env_example {
        None if !used.is_empty() => findings.push(Finding::new(
            "no-env-example",
            format!(
                "the compose files use {} variable(s) ({}) that no .env.example documents",
                used.len(),
                used.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
            input.files.first().map(|file| Location::file(&file.path)),
        )),
        None => {}
        Some((path, text)) => {
            let listed = variables::env_file_names(text);
            for (name, (file, reference)) in &used {
                if !listed.contains_key(name) {
                    findings.push(Finding::new(
                        "env-example-missing",
                        format!("{name} is used here but missing from {}", path.display()),
                        Some(Location::at(
                            file,
                            reference.line as u64,
                            reference.column as u64,
                        )),
                    ));
                }
            }
            for (name, line) in &listed {
                if !used.contains_key(name) {
                    findings.push(Finding::new(
                        "env-example-unused",
                        format!("{name} is not used by any compose file"),
                        Some(Location::at(path, *line as u64, 1)),
                    ));
                }
            }
        }
    }
}

fn dockerfile_rules(build: &BuildSource, findings: &mut Vec<Finding>) {
    let path = &build.dockerfile_path;
    let at = |instruction: &Instruction| Some(Location::at(path, instruction.line as u64, 1));
    if build.context_has_env && !ignores_env(build.dockerignore.as_deref()) {
        findings.push(Finding::new(
            "env-not-dockerignored",
            format!(
                "the build context of `{}` holds .env, and {} does not exclude it",
                build.service,
                match build.dockerignore {
                    Some(_) => ".dockerignore",
                    None => "there is no .dockerignore that",
                }
            ),
            Some(Location::file(build.context.join(".dockerignore"))),
        ));
    }
    let Some(dockerfile) = &build.dockerfile else {
        findings.push(Finding::new(
            "dockerfile-missing",
            format!(
                "service `{}` builds with {}, which does not exist",
                build.service,
                path.display()
            ),
            Some(Location::file(path)),
        ));
        return;
    };
    let stage_names = dockerfile.stage_names();
    let stages = dockerfile.stages();
    for stage in &stages {
        let mut copied_all: Option<&Instruction> = None;
        let pipefail_shell = stage
            .iter()
            .any(|i| i.keyword == "SHELL" && i.arguments.contains("pipefail"));
        for instruction in stage.iter() {
            let arguments = instruction.arguments.as_str();
            match instruction.keyword.as_str() {
                "FROM" => {
                    let image = dockerfile::from_image(arguments);
                    let is_stage = stage_names.contains(&image.to_lowercase());
                    if image != "scratch" && !is_stage && is_unpinned(image) {
                        findings.push(Finding::new(
                            "base-image-unpinned",
                            format!("FROM {image} is untagged or latest"),
                            at(instruction),
                        ));
                    }
                }
                "ARG" | "ENV" => {
                    for (name, value) in assignments(&instruction.keyword, arguments) {
                        if is_secret_name(&name) && !value.is_empty() && !value.starts_with('$') {
                            findings.push(Finding::new(
                                "dockerfile-secret",
                                format!(
                                    "{} {name} has a value in the Dockerfile",
                                    instruction.keyword
                                ),
                                at(instruction),
                            ));
                        }
                    }
                }
                "COPY" | "ADD" => {
                    let words: Vec<&str> = arguments
                        .split_whitespace()
                        .filter(|word| !word.starts_with("--"))
                        .collect();
                    if words.len() >= 2
                        && words[..words.len() - 1].contains(&".")
                        && copied_all.is_none()
                    {
                        copied_all = Some(instruction);
                    }
                    if instruction.keyword == "ADD"
                        && words.len() >= 2
                        && words[..words.len() - 1]
                            .iter()
                            .all(|source| is_local_plain(source))
                    {
                        findings.push(Finding::new(
                            "add-local-file",
                            format!("ADD {}", words[..words.len() - 1].join(" ")),
                            at(instruction),
                        ));
                    }
                }
                "RUN" => {
                    if let (Some(copy), true) = (copied_all, installs_dependencies(arguments)) {
                        findings.push(Finding::new(
                            "copy-before-install",
                            format!(
                                "line {} copies the whole context before this install on line {}",
                                copy.line, instruction.line
                            ),
                            at(copy),
                        ));
                        copied_all = None;
                    }
                    if let Some(why) = unfrozen(arguments) {
                        findings.push(Finding::new("unfrozen-install", why, at(instruction)));
                    }
                    if let Some(why) = cache_left(arguments) {
                        findings.push(Finding::new("package-cache-left", why, at(instruction)));
                    }
                    if arguments.contains(" | ")
                        && !arguments.contains("pipefail")
                        && !pipefail_shell
                    {
                        findings.push(Finding::new(
                            "pipe-without-pipefail",
                            "RUN pipes commands without pipefail",
                            at(instruction),
                        ));
                    }
                }
                "CMD" | "ENTRYPOINT" if !arguments.trim_start().starts_with('[') => {
                    findings.push(Finding::new(
                        "shell-form-command",
                        format!("{} {arguments}", instruction.keyword),
                        at(instruction),
                    ));
                }
                _ => {}
            }
        }
    }
    // The stage that runs: the build target, else the last.
    let final_stage = build
        .target
        .as_ref()
        .and_then(|target| {
            stages.iter().find(|stage| {
                stage.first().is_some_and(|from| {
                    from.arguments
                        .to_lowercase()
                        .split_whitespace()
                        .last()
                        .is_some_and(|name| name == target.to_lowercase())
                })
            })
        })
        .or(stages.last());
    if let Some(stage) = final_stage {
        // A stage built FROM another stage starts as that stage's user.
        let mut user = stage.iter().rev().find(|i| i.keyword == "USER");
        let mut parent = stage
            .first()
            .map(|from| dockerfile::from_image(&from.arguments).to_lowercase());
        let mut hops = 0;
        while let (None, Some(name), true) = (user, parent.clone(), hops < 16) {
            hops += 1;
            let found = stages.iter().find(|candidate| {
                candidate.first().is_some_and(|from| {
                    let words: Vec<String> = from
                        .arguments
                        .to_lowercase()
                        .split_whitespace()
                        .map(String::from)
                        .collect();
                    words.len() >= 3
                        && words[words.len() - 2] == "as"
                        && words[words.len() - 1] == name
                })
            });
            let Some(found) = found else {
                break;
            };
            user = found.iter().rev().find(|i| i.keyword == "USER");
            parent = found
                .first()
                .map(|from| dockerfile::from_image(&from.arguments).to_lowercase());
        }
        let root = match user {
            None => true,
            Some(user) => {
                let name = user.arguments.split(':').next().unwrap_or_default().trim();
                name == "root" || name == "0"
            }
        };
        if root {
            findings.push(Finding::new(
                "dockerfile-root",
                match user {
                    None => "the final stage sets no USER: the image runs as root".to_string(),
                    Some(user) => format!("the final stage runs as USER {}", user.arguments),
                },
                user.or(stage.first()).and_then(at),
            ));
        }
    }
}

/// `NAME=value` pairs of an ARG or ENV (`ENV NAME value` too).
fn assignments(keyword: &str, arguments: &str) -> Vec<(String, String)> {
    if !arguments.contains('=') {
        let mut words = arguments.splitn(2, char::is_whitespace);
        let name = words.next().unwrap_or_default().to_string();
        let value = if keyword == "ENV" {
            words.next().unwrap_or_default().trim().to_string()
        } else {
            String::new()
        };
        return vec![(name, value)];
    }
    arguments
        .split_whitespace()
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, value)| {
            (
                name.to_string(),
                value.trim_matches('"').trim_matches('\'').to_string(),
            )
        })
        .collect()
}

fn is_local_plain(source: &str) -> bool {
    let archive = [".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".txz"];
    !source.contains("://")
        && !source.starts_with("git@")
        && !archive.iter().any(|suffix| source.ends_with(suffix))
}

fn installs_dependencies(run: &str) -> bool {
    let installs = [
        "npm ci",
        "npm install",
        "npm i ",
        "yarn install",
        "yarn --",
        "pnpm install",
        "pip install",
        "pip3 install",
        "poetry install",
        "pipenv install",
        "bundle install",
        "go mod download",
        "composer install",
        "mix deps.get",
        "cargo fetch",
        "dotnet restore",
        "mvn ",
        "gradle ",
    ];
    installs.iter().any(|install| run.contains(install)) || run.trim() == "yarn"
}

/// Why an install in `run` does not follow a lockfile, if it does not.
fn unfrozen(run: &str) -> Option<String> {
    for command in run.split(['&', ';', '|']) {
        // Skip RUN's own flags (`--mount=…`) and leading assignments (`NODE_ENV=production`),
        // and read `python -m pip` as pip.
        let mut words: Vec<&str> = command
            .split_whitespace()
            .skip_while(|word| {
                word.starts_with("--") || (word.contains('=') && !word.starts_with('-'))
            })
            .collect();
        if words.len() > 2 && words[0].starts_with("python") && words[1] == "-m" {
            words.drain(..2);
        }
        let has = |word: &str| words.contains(&word);
        match words.as_slice() {
            ["npm", "install" | "i", ..] if !has("-g") && !has("--global") => {
                return Some(
                    "`npm install` resolves versions afresh; `npm ci` follows package-lock.json"
                        .into(),
                );
            }
            ["yarn", "install", ..] | ["yarn"]
                if !has("--frozen-lockfile") && !has("--immutable") =>
            {
                return Some("`yarn install` without --frozen-lockfile (or --immutable)".into());
            }
            ["pnpm", "install", ..] if !has("--frozen-lockfile") => {
                return Some("`pnpm install` without --frozen-lockfile".into());
            }
            ["pip" | "pip3", "install", rest @ ..] => {
                let packages: Vec<&&str> = rest
                    .iter()
                    .filter(|word| {
                        !word.starts_with('-')
                            && **word != "."
                            && !word.ends_with(".txt")
                            && !word.ends_with(".whl")
                    })
                    .collect();
                let takes_file = rest
                    .iter()
                    .any(|word| matches!(*word, "-r" | "--requirement" | "-c" | "--constraint"));
                let unpinned: Vec<&&&str> = packages
                    .iter()
                    .filter(|package| !package.contains("==") && !takes_file)
                    .collect();
                if !unpinned.is_empty() {
                    return Some(format!(
                        "`pip install` of unpinned {}",
                        unpinned
                            .iter()
                            .map(|p| p.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
            _ => {}
        }
        if words.iter().any(|word| {
            *word == "--lockfile=false" || *word == "--no-lockfile" || *word == "--no-package-lock"
        }) {
            return Some("the install is told to ignore the lockfile".into());
        }
    }
    None
}

/// Why a package install in `run` leaves its cache behind, if it does.
fn cache_left(run: &str) -> Option<String> {
    if (run.contains("apt-get install") || run.contains("apt install"))
        && !run.contains("/var/lib/apt/lists")
    {
        return Some("apt-get install without removing /var/lib/apt/lists".into());
    }
    if run.contains("apk add") && !run.contains("--no-cache") {
        return Some("apk add without --no-cache".into());
    }
    if (run.contains("pip install") || run.contains("pip3 install"))
        && !run.contains("--no-cache-dir")
    {
        return Some("pip install without --no-cache-dir".into());
    }
    None
}

/// Whether a `.dockerignore` excludes `.env` at the context's root.
fn ignores_env(dockerignore: Option<&str>) -> bool {
    let Some(text) = dockerignore else {
        return false;
    };
    let mut ignored = false;
    for line in text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
    {
        let (negated, pattern) = match line.strip_prefix('!') {
            Some(pattern) => (true, pattern),
            None => (false, line),
        };
        let pattern = pattern.trim_start_matches("./").trim_start_matches('/');
        let matches = matches!(
            pattern,
            ".env" | ".env*" | "*.env" | "**/.env" | "**/.env*" | "*" | "**" | "**/*" | ".*"
        );
        if matches {
            ignored = !negated;
        }
    }
    ignored
}

/// Makes a path relative to `root` when it is inside it, for findings.
pub fn shown(path: &Path, root: &Path) -> PathBuf {
    path.strip_prefix(root)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf())
}
