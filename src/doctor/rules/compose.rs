//! Compose rules about how the project holds together: whether compose can read it, its
//! volumes, healthchecks, images, dependencies, host ports and container names shared
//! between services, its name and obsolete keys. They read compose's resolved model, its
//! model without interpolation, and the compose files as written (for positions, and for
//! what compose itself refuses).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::compose::model::published_port;
use crate::compose::model::{entries, items, text};
use crate::doctor::finding::{Finding, Location};
use crate::doctor::lint_input::{BuildSource, LintInput};
use crate::doctor::rule::{Check, LintRule};
use crate::doctor::rule_id::RuleId;
use crate::doctor::rule_id::Severity::{Error, Info, Warning};
use crate::doctor::rules::reading::{StageHealthcheck, stage_healthcheck, stage_index, unpinned};

pub(super) const COMPOSE_INVALID: LintRule = LintRule {
    id: RuleId::ComposeInvalid,
    severity: Error,
    summary: "compose cannot read the project, so only the rules that read the files as written could run",
    fix: "run `docker compose config` to see compose's message, and fix the file it names",
    check: Check::Project(compose_invalid),
    #[cfg(test)]
    example: tests::compose_invalid,
};

fn compose_invalid(input: &LintInput) -> Vec<Finding> {
    input
        .invalid
        .iter()
        .map(|cause| {
            COMPOSE_INVALID.finding(
                format!("compose cannot read the project: {cause}"),
                input.first_file(),
            )
        })
        .collect()
}

pub(super) const DATA_VOLUME_UNPROTECTED: LintRule = LintRule {
    id: RuleId::DataVolumeUnprotected,
    severity: Warning,
    summary: "a named volume holds data, yet is neither external nor protected: `down -v` can delete it",
    fix: "list it under guard.protected_volumes in the profile, or declare it `external: true`",
    check: Check::Project(data_volume_unprotected),
    #[cfg(test)]
    example: tests::data_volume_unprotected,
};

/// Each named volume a service mounts, once, unless declared external or protected (by its
/// name in the files or its name on the engine).
fn data_volume_unprotected(input: &LintInput) -> Vec<Finding> {
    let declared = input.model.get("volumes").and_then(Value::as_object);
    let mut reported = BTreeSet::new();
    let mut findings = Vec::new();
    for (name, service) in input.services() {
        for mount in items(service, "volumes") {
            let source = text(mount, "source");
            if text(mount, "type") != "volume" || source.is_empty() {
                continue;
            }
            let declaration = declared.and_then(|volumes| volumes.get(source));
            let external = declaration
                .and_then(|declaration| declaration.get("external"))
                .and_then(Value::as_bool)
                == Some(true);
            let engine_name = declaration.map(|d| text(d, "name")).unwrap_or_default();
            let protected = input
                .protected
                .iter()
                .any(|entry| entry == source || entry == engine_name);
            if !external && !protected && reported.insert(source.to_string()) {
                findings.push(DATA_VOLUME_UNPROTECTED.finding(format!(
                        "volume `{source}` (mounted by {name} at {}) is neither external nor protected",
                        text(mount, "target")
                    ),
                    input.locate(&["volumes", source]).or_else(|| {
                        input.locate_item(name, "volumes", |item| mount_matches(item, mount))
                    }),
                ));
            }
        }
    }
    findings
}

pub(super) const NO_HEALTHCHECK: LintRule = LintRule {
    id: RuleId::NoHealthcheck,
    severity: Warning,
    summary: "a long-running service has no healthcheck, so nothing can wait for it to be ready",
    fix: "add a healthcheck (test, interval, retries, start_period)",
    check: Check::Project(no_healthcheck),
    #[cfg(test)]
    example: tests::no_healthcheck,
};

/// Services without a healthcheck, in compose or in the Dockerfile stage they build (its
/// own HEALTHCHECK or the one of the stage it is built FROM), but for one-off jobs (those
/// others wait on with `service_completed_successfully`).
fn no_healthcheck(input: &LintInput) -> Vec<Finding> {
    let services = input.services();
    let mut jobs = BTreeSet::new();
    for (_, service) in &services {
        for (name, dependency) in entries(service, "depends_on") {
            if text(dependency, "condition") == "service_completed_successfully" {
                jobs.insert(name.as_str());
            }
        }
    }
    let mut findings = Vec::new();
    for (name, service) in &services {
        if service.get("healthcheck").is_some() || jobs.contains(name.as_str()) {
            continue;
        }
        let message = match built_healthcheck(input, name) {
            Some((_, StageHealthcheck::Checks(_))) => continue,
            Some((build, StageHealthcheck::Disabled(check))) => format!(
                "service `{name}` has no healthcheck: {}:{} turns the image's off (HEALTHCHECK NONE)",
                build.dockerfile_path.display(),
                check.line
            ),
            _ => format!("service `{name}` has no healthcheck"),
        };
        findings.push(NO_HEALTHCHECK.finding(message, input.locate_in_service(name, &[])));
    }
    findings
}

/// The healthcheck of the Dockerfile stage service `name` builds (its `build.target`, else
/// the last stage), with the build; `None` when it builds none that can be read.
fn built_healthcheck<'a>(
    input: &'a LintInput,
    name: &str,
) -> Option<(&'a BuildSource, StageHealthcheck<'a>)> {
    let build = input.builds.iter().find(|build| build.service == name)?;
    let dockerfile = build.dockerfile.as_ref()?;
    let index = stage_index(dockerfile, build.target.as_deref())?;
    Some((build, stage_healthcheck(dockerfile, index)))
}

pub(super) const HEALTHCHECK_NO_START_PERIOD: LintRule = LintRule {
    id: RuleId::HealthcheckNoStartPeriod,
    severity: Info,
    summary: "a healthcheck has no start_period, so a slow start counts as failures",
    fix: "add start_period (e.g. 10s) to the healthcheck",
    check: Check::Project(healthcheck_no_start_period),
    #[cfg(test)]
    example: tests::healthcheck_no_start_period,
};

fn healthcheck_no_start_period(input: &LintInput) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (name, service) in input.services() {
        let Some(check) = service.get("healthcheck") else {
            continue;
        };
        // `healthcheck: {disable: false}` (or one with timings only) defines no check: the
        // image's HEALTHCHECK runs, with its own start period.
        let defines_a_test = check.get("test").is_some_and(|test| !test.is_null());
        if defines_a_test && !disabled(check) && check.get("start_period").is_none() {
            findings.push(HEALTHCHECK_NO_START_PERIOD.finding(
                format!("the healthcheck of `{name}` has no start_period"),
                input.locate_in_service(name, &["healthcheck"]),
            ));
        }
    }
    findings
}

pub(super) const HEALTHCHECK_NOT_SHIPPED: LintRule = LintRule {
    id: RuleId::HealthcheckNotShipped,
    severity: Warning,
    summary: "a service relies on a healthcheck (its own in compose, or another service waits for it to be healthy), but the Dockerfile stage that ships has no HEALTHCHECK: run without compose, nothing checks it",
    fix: "add a HEALTHCHECK to the stage that ships (or to a stage it is built FROM), e.g. the compose healthcheck's test as `HEALTHCHECK CMD …`",
    check: Check::Project(healthcheck_not_shipped),
    #[cfg(test)]
    example: tests::healthcheck_not_shipped,
};

/// Services that build their image and rely on a healthcheck, whose shipped stage
/// (`BuildSource::shipped_stage`) has none of its own or from the stages it is built FROM.
fn healthcheck_not_shipped(input: &LintInput) -> Vec<Finding> {
    let mut waiting: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, service) in input.services() {
        for (dependency, condition) in entries(service, "depends_on") {
            if text(condition, "condition") == "service_healthy" {
                waiting.entry(dependency).or_default().push(name);
            }
        }
    }
    let mut findings = Vec::new();
    for build in &input.builds {
        let Some(service) = input.model.pointer(&format!("/services/{}", build.service)) else {
            continue;
        };
        let own = service
            .get("healthcheck")
            .is_some_and(|check| !disabled(check));
        let reliance = match waiting.get(build.service.as_str()) {
            _ if own => format!("service `{}` has a healthcheck in compose", build.service),
            Some(waiters) => format!(
                "{} waits for service `{}` to be healthy",
                waiters.join(" and "),
                build.service
            ),
            None => continue,
        };
        let Some(dockerfile) = &build.dockerfile else {
            continue;
        };
        let shipped = build.shipped_stage();
        let Some(index) = stage_index(dockerfile, shipped.stage.as_deref()) else {
            continue;
        };
        let stage = match &shipped.stage {
            Some(name) => format!("`{name}`"),
            None => "the last".to_string(),
        };
        let lack = match stage_healthcheck(dockerfile, index) {
            StageHealthcheck::Checks(_) => continue,
            StageHealthcheck::Disabled(check) => {
                format!(
                    "turns the HEALTHCHECK off (HEALTHCHECK NONE, line {})",
                    check.line
                )
            }
            StageHealthcheck::Absent => "has no HEALTHCHECK".to_string(),
        };
        let from = dockerfile
            .stages()
            .get(index)
            .and_then(|stage| stage.first())
            .map(|from| Location::at(&build.dockerfile_path, from.line as u64, 1));
        findings.push(HEALTHCHECK_NOT_SHIPPED.finding(
            format!(
                "{reliance}, but the stage that ships from {} ({stage}) {lack}",
                build.dockerfile_path.display()
            ),
            from,
        ));
    }
    findings
}

/// Whether a compose healthcheck is turned off (`disable: true`, or `test: [NONE]`).
fn disabled(check: &Value) -> bool {
    check.get("disable").and_then(Value::as_bool) == Some(true)
        || check
            .get("test")
            .and_then(Value::as_array)
            .and_then(|test| test.first())
            .and_then(Value::as_str)
            == Some("NONE")
}

pub(super) const IMAGE_UNPINNED: LintRule = LintRule {
    id: RuleId::ImageUnpinned,
    severity: Warning,
    summary: "an image is untagged or has a floating tag (`latest`, `stable`, `lts`, …), so the same commit can run different images",
    fix: "pin a tag (or a digest): image: postgres:16.4",
    check: Check::Project(image_unpinned),
    #[cfg(test)]
    example: tests::image_unpinned,
};

/// Images services run without building them (an `image:` beside `build:` names what the
/// service builds).
fn image_unpinned(input: &LintInput) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (name, service) in input.services() {
        let image = text(service, "image");
        if service.get("build").is_some() {
            continue;
        }
        if let Some(why) = unpinned(image).filter(|_| !image.is_empty()) {
            findings.push(IMAGE_UNPINNED.finding(
                format!("service `{name}` runs image `{image}`, which {why}"),
                input.locate_in_service(name, &["image"]),
            ));
        }
    }
    findings
}

pub(super) const DUPLICATE_HOST_PORT: LintRule = LintRule {
    id: RuleId::DuplicateHostPort,
    severity: Error,
    summary: "two services publish the same host port (or overlapping ranges of them)",
    fix: "give each its own host port",
    check: Check::Project(duplicate_host_port),
    #[cfg(test)]
    example: tests::duplicate_host_port,
};

/// One host port (or range) a service publishes.
struct Published<'a> {
    service: &'a str,
    /// As compose's model writes it: `8080`, `8093-9000`.
    text: String,
    /// The first and last port, when `text` is a port or a range of them.
    range: Option<(u32, u32)>,
    protocol: String,
    /// "" for every interface.
    address: String,
}

impl<'a> Published<'a> {
    fn new(service: &'a str, text: String, protocol: &str, address: &str) -> Published<'a> {
        Published {
            service,
            range: port_range(&text),
            text,
            protocol: protocol.to_lowercase(),
            address: match address {
                "0.0.0.0" => String::new(),
                address => address.to_string(),
            },
        }
    }
}

impl Published<'_> {
    /// Whether both bind one host port on one address: the same protocol, overlapping
    /// addresses (the same one, or every interface) and overlapping ports.
    fn clashes(&self, other: &Published) -> bool {
        let every_interface = |address: &str| matches!(address, "" | "0.0.0.0");
        let addresses = self.address == other.address
            || every_interface(&self.address)
            || every_interface(&other.address);
        let ports = match (self.range, other.range) {
            (Some((start, end)), Some((other_start, other_end))) => {
                start <= other_end && other_start <= end
            }
            _ => self.text == other.text,
        };
        self.protocol == other.protocol && addresses && ports
    }
}

/// The host ports of compose's resolved model.
fn resolved_ports(input: &LintInput) -> Vec<Published<'_>> {
    let mut published = Vec::new();
    for (name, service) in input.services() {
        for port in items(service, "ports") {
            if let Some(host_port) = published_port(port) {
                published.push(Published::new(
                    name,
                    host_port,
                    port.get("protocol")
                        .and_then(Value::as_str)
                        .unwrap_or("tcp"),
                    text(port, "host_ip"),
                ));
            }
        }
    }
    published
}

/// The host ports of the compose files as written, each item once per service.
fn written_ports(input: &LintInput) -> Vec<Published<'_>> {
    let mut published: Vec<Published> = Vec::new();
    for file in &input.files {
        for (name, service) in entries(&file.value, "services") {
            for item in items(service, "ports") {
                let Some(port) = written_port(name, item) else {
                    continue;
                };
                let known = published.iter().any(|other| {
                    other.service == port.service
                        && other.text == port.text
                        && other.protocol == port.protocol
                        && other.address == port.address
                });
                if !known {
                    published.push(port);
                }
            }
        }
    }
    published
}

/// A `ports:` item as written, short (`[IP:]HOST:CONTAINER[/PROTOCOL]`) or long, when it
/// publishes a host port that names no variable.
fn written_port<'a>(service: &'a str, item: &Value) -> Option<Published<'a>> {
    let (text, protocol, address) = match item {
        Value::Object(_) => (
            published_port(item)?,
            item.get("protocol")
                .and_then(Value::as_str)
                .unwrap_or("tcp")
                .to_string(),
            text(item, "host_ip").to_string(),
        ),
        Value::String(short) => {
            let (mapping, protocol) = short.rsplit_once('/').unwrap_or((short, "tcp"));
            // `[::1]:8082:80`: an IPv6 address in brackets.
            let (address, rest) = match mapping.strip_prefix('[') {
                Some(bracketed) => {
                    let (address, rest) = bracketed.split_once("]:")?;
                    (address.to_string(), rest)
                }
                None => match mapping.matches(':').count() {
                    0 | 1 => (String::new(), mapping),
                    _ => {
                        let (address, rest) = mapping.split_once(':')?;
                        (address.to_string(), rest)
                    }
                },
            };
            let (host, _container) = rest.split_once(':')?;
            (host.to_string(), protocol.to_string(), address)
        }
        _ => return None,
    };
    if text.is_empty() || text.contains('$') || address.contains('$') {
        return None;
    }
    Some(Published::new(service, text, &protocol, &address))
}

/// `8080` or `8093-9000` as its first and last port.
fn port_range(text: &str) -> Option<(u32, u32)> {
    let (start, end) = text.split_once('-').unwrap_or((text, text));
    let (start, end) = (start.trim().parse().ok()?, end.trim().parse().ok()?);
    (start <= end).then_some((start, end))
}

/// Host ports (with their protocol) published on addresses that overlap (the same one, or
/// every interface) by more than one service, or twice by one; a range overlaps each port in
/// it. One finding for each port that clashes with one published before it (services in
/// order), naming that one.
///
/// When compose cannot resolve the project, the ports are read from the files as written
/// (those that name a variable are skipped): another mistake in the file does not hide a
/// clash.
fn duplicate_host_port(input: &LintInput) -> Vec<Finding> {
    let published = if input.invalid.is_some() {
        written_ports(input)
    } else {
        resolved_ports(input)
    };
    let mut findings = Vec::new();
    for (index, port) in published.iter().enumerate() {
        let Some(earlier) = published[..index].iter().find(|other| port.clashes(other)) else {
            continue;
        };
        let service = port.service;
        let (text, protocol) = (&port.text, &port.protocol);
        let message = if earlier.service == service {
            format!("service `{service}` publishes host port {text}/{protocol} twice")
        } else if earlier.text == port.text {
            format!(
                "service `{service}` publishes host port {text}/{protocol}, which {} publishes too",
                earlier.service
            )
        } else {
            format!(
                "service `{service}` publishes host port {text}/{protocol}, which {} also publishes (as {})",
                earlier.service, earlier.text
            )
        };
        findings.push(DUPLICATE_HOST_PORT.finding(
            message,
            input.locate_item(service, "ports", |item| port_matches(item, text)),
        ));
    }
    findings
}

pub(super) const DUPLICATE_CONTAINER_NAME: LintRule = LintRule {
    id: RuleId::DuplicateContainerName,
    severity: Error,
    summary: "two services have the same container_name",
    fix: "give each its own name, or remove container_name",
    check: Check::Project(duplicate_container_name),
    #[cfg(test)]
    example: tests::duplicate_container_name,
};

/// Read from the files as written: compose itself refuses a project with duplicates.
fn duplicate_container_name(input: &LintInput) -> Vec<Finding> {
    let mut services_by_name: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (service, container_name) in written_container_names(input) {
        services_by_name
            .entry(container_name)
            .or_default()
            .push(service);
    }
    services_by_name
        .into_iter()
        .filter(|(_, services)| services.len() > 1)
        .map(|(container_name, services)| {
            DUPLICATE_CONTAINER_NAME.finding(
                format!(
                    "container_name `{container_name}` is used by {}",
                    services.join(" and ")
                ),
                input.locate_in_service(&services[1], &["container_name"]),
            )
        })
        .collect()
}

/// Each service's `container_name` as the compose files write it (later files win).
fn written_container_names(input: &LintInput) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    for file in &input.files {
        let Ok(parsed) = crate::compose::yaml::from_str::<Value>(&file.text) else {
            continue;
        };
        for (service, definition) in entries(&parsed, "services") {
            if let Some(name) = definition.get("container_name").and_then(Value::as_str) {
                names.insert(service.clone(), name.to_string());
            }
        }
    }
    names
}

pub(super) const NO_PROJECT_NAME: LintRule = LintRule {
    id: RuleId::NoProjectName,
    severity: Info,
    summary: "the project name comes from the folder's name, so two checkouts collide",
    fix: "set a top-level `name:` in the compose file, or compose.project_name in the profile",
    check: Check::Project(no_project_name),
    #[cfg(test)]
    example: tests::no_project_name,
};

fn no_project_name(input: &LintInput) -> Vec<Finding> {
    // A file that is not YAML says nothing about its name: compose-invalid covers it.
    let all_read = input.files.iter().all(|file| !file.value.is_null());
    if all_read
        && !input.profile_names_project
        && !input.files.iter().any(|file| file.positions.has(&["name"]))
    {
        return vec![NO_PROJECT_NAME.finding(
            "no compose file sets a top-level name, and the profile sets no compose.project_name",
            input.first_file(),
        )];
    }
    Vec::new()
}

pub(super) const OBSOLETE_VERSION: LintRule = LintRule {
    id: RuleId::ObsoleteVersion,
    severity: Info,
    summary: "the top-level `version:` is obsolete and ignored by compose",
    fix: "remove the `version:` line",
    check: Check::Project(obsolete_version),
    #[cfg(test)]
    example: tests::obsolete_version,
};

fn obsolete_version(input: &LintInput) -> Vec<Finding> {
    let mut findings = Vec::new();
    for file in &input.files {
        if let Some(((line, column), 1)) = file.positions.locate(&["version"]) {
            findings.push(OBSOLETE_VERSION.finding(
                "the top-level `version:` is obsolete",
                Some(Location::at(&file.path, line, column)),
            ));
        }
    }
    findings
}

pub(super) const BUILD_AND_IMAGE: LintRule = LintRule {
    id: RuleId::BuildAndImage,
    severity: Info,
    summary: "a service has both `build:` and `image:`: the build's result is tagged with that image name, and a pull may replace it (`pull_policy: build` or `never` keeps the build)",
    fix: "keep `image:` only if the name is meant to be pushed; else remove it",
    check: Check::Project(build_and_image),
    #[cfg(test)]
    example: tests::build_and_image,
};

/// Services that build and name an image in the files (compose's resolved model may add
/// an image name of its own), unless their pull_policy never pulls it (`build`, `never`).
fn build_and_image(input: &LintInput) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (name, service) in input.services() {
        let names_image = input
            .raw_service(name)
            .is_some_and(|raw| raw.get("image").is_some());
        if service.get("build").is_none() || !names_image {
            continue;
        }
        let image = text(service, "image");
        let message = match text(service, "pull_policy") {
            "build" | "never" => continue,
            "" | "missing" | "if_not_present" => {
                format!("service `{name}` has both build and image (`{image}`)")
            }
            policy => format!(
                "service `{name}` has both build and image (`{image}`), and pull_policy `{policy}` pulls that image over what it builds"
            ),
        };
        findings.push(BUILD_AND_IMAGE.finding(message, input.locate_in_service(name, &["image"])));
    }
    findings
}

pub(super) const DEPENDS_ON_WITHOUT_HEALTH: LintRule = LintRule {
    id: RuleId::DependsOnWithoutHealth,
    severity: Warning,
    summary: "a service depends on a service that has a healthcheck, but does not wait for it to be healthy",
    fix: "use `depends_on: {SERVICE: {condition: service_healthy}}`",
    check: Check::Project(depends_on_without_health),
    #[cfg(test)]
    example: tests::depends_on_without_health,
};

fn depends_on_without_health(input: &LintInput) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (name, service) in input.services() {
        for (dependency, condition) in entries(service, "depends_on") {
            let has_health = input
                .model
                .pointer(&format!("/services/{dependency}/healthcheck"))
                .is_some_and(|check| check.get("disable").and_then(Value::as_bool) != Some(true));
            if has_health && text(condition, "condition") == "service_started" {
                findings.push(DEPENDS_ON_WITHOUT_HEALTH.finding(format!(
                        "service `{name}` depends on `{dependency}` without waiting for it to be healthy"
                    ),
                    input.locate_in_service(name, &["depends_on", dependency]),
                ));
            }
        }
    }
    findings
}

/// Whether a `volumes:` item as written is the resolved `mount` (same container path).
pub(super) fn mount_matches(item: &Value, mount: &Value) -> bool {
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
pub(super) fn port_matches(item: &Value, published: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::doctor::rules::examples::{
        Example, build, compose_file, findings, project, service_build,
    };

    const APP: &str = "services:\n  app:\n    image: a:1\n";

    pub(super) fn compose_invalid() -> Example {
        let mut invalid = project(APP);
        invalid.model = Value::Null;
        invalid.raw_model = Value::Null;
        invalid.invalid = Some("services.app.ports must be a list".into());
        Example::new(
            invalid,
            &["compose.yaml compose cannot read the project: services.app.ports must be a list"],
            project(APP),
        )
    }

    pub(super) fn data_volume_unprotected() -> Example {
        let written = "services:\n  app:\n    image: a:1\n    volumes:\n      - {type: volume, source: data, target: /data}\nvolumes:\n  data: {}\n";
        let mut protected = project(written);
        protected.protected = vec!["data".into()];
        Example::new(
            project(written),
            &[
                "compose.yaml:7:3 volume `data` (mounted by app at /data) is neither external nor protected",
            ],
            protected,
        )
    }

    #[test]
    fn a_volume_is_protected_by_its_engine_name_or_external_and_reported_once() {
        let two = "services:\n  app:\n    image: a:1\n    volumes:\n      - {type: volume, source: data, target: /data}\n  copy:\n    image: a:1\n    volumes:\n      - {type: volume, source: data, target: /copy}\nvolumes:\n  data: {name: shop_data}\n";
        assert_eq!(
            findings(&DATA_VOLUME_UNPROTECTED, project(two)),
            [
                "compose.yaml:11:3 volume `data` (mounted by app at /data) is neither external nor protected"
            ]
        );
        let mut by_engine_name = project(two);
        by_engine_name.protected = vec!["shop_data".into()];
        assert!(findings(&DATA_VOLUME_UNPROTECTED, by_engine_name).is_empty());
        let external = two.replace("{name: shop_data}", "{external: true}");
        assert!(findings(&DATA_VOLUME_UNPROTECTED, project(&external)).is_empty());
        // Bind mounts and anonymous volumes hold no named data.
        let others = "services:\n  app:\n    image: a:1\n    volumes:\n      - {type: bind, source: /srv, target: /srv}\n      - {type: volume, target: /cache}\n";
        assert!(findings(&DATA_VOLUME_UNPROTECTED, project(others)).is_empty());
    }

    #[test]
    fn a_volume_is_located_where_a_file_declares_it_else_at_the_first_file() {
        let mut input =
            project("services:\n  app:\n    image: a:1\n    volumes:\n      - 'data:/data'\n");
        input.model = json!({"services": {"app": {"image": "a:1", "volumes": [
            {"type": "volume", "source": "data", "target": "/data"}
        ]}}, "volumes": {"data": {"name": "shop_data"}}});
        let message = "volume `data` (mounted by app at /data) is neither external nor protected";
        assert_eq!(
            findings(&DATA_VOLUME_UNPROTECTED, input.clone()),
            [format!("compose.yaml {message}")]
        );
        input.files.push(compose_file(
            "compose.override.yaml",
            "volumes:\n  data: {}\n",
        ));
        assert_eq!(
            findings(&DATA_VOLUME_UNPROTECTED, input),
            [format!("compose.override.yaml:2:3 {message}")]
        );
    }

    pub(super) fn no_healthcheck() -> Example {
        Example::new(
            project(APP),
            &["compose.yaml:2:3 service `app` has no healthcheck"],
            project(
                "services:\n  app:\n    image: a:1\n    healthcheck: {test: [CMD, 'true'], start_period: 5s}\n",
            ),
        )
    }

    /// `yaml` as the project, service `app` building `dockerfile` (from context `app`).
    fn building(yaml: &str, dockerfile: &str) -> LintInput {
        let mut input = project(yaml);
        input.builds.push(build(dockerfile));
        input
    }

    #[test]
    fn a_healthcheck_in_the_dockerfile_stage_the_service_builds_counts() {
        let compose = "services:\n  app:\n    build: {context: app}\n";
        let targeted = "services:\n  app:\n    build: {context: app, target: dev}\n";
        let dockerfile = "FROM alpine:3.20 AS base\nHEALTHCHECK CMD wget -q -O /dev/null http://localhost/\nFROM base AS dev\nRUN true\nFROM alpine:3.20 AS production\nRUN true\n";
        // The last stage has none; the target `dev` inherits the one of `base`.
        assert_eq!(
            findings(&NO_HEALTHCHECK, building(compose, dockerfile)),
            ["compose.yaml:2:3 service `app` has no healthcheck"]
        );
        let mut dev = building(targeted, dockerfile);
        dev.builds[0].target = Some("dev".into());
        assert!(findings(&NO_HEALTHCHECK, dev).is_empty());
        let direct = "FROM alpine:3.20\nHEALTHCHECK --interval=5s CMD [\"/healthcheck\"]\n";
        assert!(findings(&NO_HEALTHCHECK, building(compose, direct)).is_empty());
        // HEALTHCHECK NONE turns off the one the stage inherits.
        let none = "FROM alpine:3.20 AS base\nHEALTHCHECK CMD true\nFROM base\nHEALTHCHECK NONE\n";
        assert_eq!(
            findings(&NO_HEALTHCHECK, building(compose, none)),
            [
                "compose.yaml:2:3 service `app` has no healthcheck: app/Dockerfile:4 turns the image's off (HEALTHCHECK NONE)"
            ]
        );
        // Another service's Dockerfile is not this one's.
        let other =
            "services:\n  app:\n    build: {context: app}\n  web:\n    build: {context: web}\n";
        assert_eq!(
            findings(&NO_HEALTHCHECK, building(other, direct)),
            ["compose.yaml:4:3 service `web` has no healthcheck"]
        );
    }

    #[test]
    fn a_job_others_wait_to_complete_needs_no_healthcheck() {
        let input = project(
            "services:\n  migrate:\n    image: a:1\n  app:\n    image: a:1\n    healthcheck: {test: [CMD, 'true']}\n    depends_on:\n      migrate: {condition: service_completed_successfully}\n",
        );
        assert!(findings(&NO_HEALTHCHECK, input).is_empty());
    }

    pub(super) fn healthcheck_no_start_period() -> Example {
        Example::new(
            project(
                "services:\n  app:\n    image: a:1\n    healthcheck:\n      test: [CMD, 'true']\n",
            ),
            &["compose.yaml:4:5 the healthcheck of `app` has no start_period"],
            project(
                "services:\n  app:\n    image: a:1\n    healthcheck:\n      test: [CMD, 'true']\n      start_period: 10s\n  image_s_own:\n    image: a:1\n    healthcheck: {disable: false, interval: 5s}\n",
            ),
        )
    }

    pub(super) fn healthcheck_not_shipped() -> Example {
        let compose = "services:\n  app:\n    build: {context: app}\n    healthcheck: {test: [CMD, /healthcheck]}\n  worker:\n    build: {context: worker, target: dev}\n  web:\n    image: a:1\n    depends_on:\n      worker: {condition: service_healthy}\n";
        let with = |app: &str, worker: &str| {
            let mut input = project(compose);
            input.builds.push(build(app));
            let mut worker = service_build("worker", worker);
            worker.target = Some("dev".into());
            input.builds.push(worker);
            input
        };
        // The worker's dev target inherits a HEALTHCHECK; its production stage has none.
        let worker = "FROM alpine:3.20 AS base\nHEALTHCHECK CMD [\"/healthcheck\"]\nFROM base AS dev\nFROM alpine:3.20 AS production\nRUN true\n";
        Example::new(
            with("FROM alpine:3.20\nCMD [\"/app\"]\n", worker),
            &[
                "app/Dockerfile:1:1 service `app` has a healthcheck in compose, but the stage that ships from app/Dockerfile (the last) has no HEALTHCHECK",
                "worker/Dockerfile:4:1 web waits for service `worker` to be healthy, but the stage that ships from worker/Dockerfile (`production`) has no HEALTHCHECK",
            ],
            with(
                "FROM alpine:3.20\nHEALTHCHECK CMD [\"/healthcheck\"]\nCMD [\"/app\"]\n",
                "FROM alpine:3.20 AS base\nHEALTHCHECK CMD [\"/healthcheck\"]\nFROM base AS dev\nFROM base AS production\nRUN true\n",
            ),
        )
    }

    #[test]
    fn a_shipped_healthcheck_is_needed_only_where_one_is_relied_on() {
        let plain = "FROM alpine:3.20\nCMD [\"/app\"]\n";
        for compose in [
            // No healthcheck in compose, and nobody waits for it to be healthy.
            "services:\n  app:\n    build: {context: app}\n  web:\n    image: a:1\n    depends_on:\n      app: {condition: service_started}\n",
            // Turned off in compose.
            "services:\n  app:\n    build: {context: app}\n    healthcheck: {disable: true}\n",
        ] {
            let mut input = project(compose);
            input.builds.push(build(plain));
            assert!(
                findings(&HEALTHCHECK_NOT_SHIPPED, input).is_empty(),
                "{compose}"
            );
        }
        // HEALTHCHECK NONE in the shipped stage turns off the one it inherits.
        let mut input = project(
            "services:\n  app:\n    build: {context: app}\n    healthcheck: {test: [CMD, /healthcheck]}\n",
        );
        input.builds.push(build(
            "FROM alpine:3.20 AS base\nHEALTHCHECK CMD [\"/healthcheck\"]\nFROM base\nHEALTHCHECK NONE\n",
        ));
        assert_eq!(
            findings(&HEALTHCHECK_NOT_SHIPPED, input),
            [
                "app/Dockerfile:3:1 service `app` has a healthcheck in compose, but the stage that ships from app/Dockerfile (the last) turns the HEALTHCHECK off (HEALTHCHECK NONE, line 4)"
            ]
        );
    }

    #[test]
    fn a_disabled_healthcheck_needs_no_start_period() {
        for check in ["{disable: true}", "{test: [NONE]}"] {
            let input = project(&format!("{APP}    healthcheck: {check}\n"));
            assert!(
                findings(&HEALTHCHECK_NO_START_PERIOD, input).is_empty(),
                "{check}"
            );
        }
        // Nor is a service without one this rule's finding.
        assert!(findings(&HEALTHCHECK_NO_START_PERIOD, project(APP)).is_empty());
    }

    pub(super) fn image_unpinned() -> Example {
        Example::new(
            project(
                "services:\n  app:\n    image: nginx\n  web:\n    image: nginx:latest\n  node:\n    image: node:lts-alpine\n",
            ),
            &[
                "compose.yaml:3:5 service `app` runs image `nginx`, which is untagged",
                "compose.yaml:7:5 service `node` runs image `node:lts-alpine`, which has the floating tag `lts-alpine`",
                "compose.yaml:5:5 service `web` runs image `nginx:latest`, which has the floating tag `latest`",
            ],
            project(
                "services:\n  app:\n    image: nginx:1.27\n  web:\n    build: {context: web}\n    image: web\n  node:\n    image: node:22-alpine\n",
            ),
        )
    }

    #[test]
    fn an_image_a_service_builds_may_have_any_tag() {
        let input = project(
            "services:\n  app:\n    build: {context: app}\n    image: shop/app:latest\n  web:\n    build: {context: web}\n    image: shop/web:dev\n",
        );
        assert!(findings(&IMAGE_UNPINNED, input).is_empty());
    }

    pub(super) fn duplicate_host_port() -> Example {
        let ports = |second: &str| {
            project(&format!(
                "services:\n  app:\n    image: a:1\n    ports:\n      - {{target: 80, published: '8080'}}\n  web:\n    image: a:1\n    ports:\n      - {{{second}}}\n"
            ))
        };
        Example::new(
            ports("target: 81, published: '8080', host_ip: 127.0.0.1"),
            &[
                "compose.yaml:9:9 service `web` publishes host port 8080/tcp, which app publishes too",
            ],
            ports("target: 81, published: '8081'"),
        )
    }

    #[test]
    fn host_ports_clash_on_the_same_address_and_protocol_only() {
        let two = |first: &str, second: &str| {
            project(&format!(
                "services:\n  app:\n    image: a:1\n    ports:\n      - {{{first}}}\n  web:\n    image: a:1\n    ports:\n      - {{{second}}}\n"
            ))
        };
        let same = "target: 80, published: 8080, host_ip: 127.0.0.1";
        assert_eq!(
            findings(&DUPLICATE_HOST_PORT, two(same, same)),
            [
                "compose.yaml:9:9 service `web` publishes host port 8080/tcp, which app publishes too"
            ]
        );
        let other_address = "target: 80, published: 8080, host_ip: 127.0.0.2";
        assert!(findings(&DUPLICATE_HOST_PORT, two(same, other_address)).is_empty());
        let udp = "target: 80, published: 8080, host_ip: 127.0.0.1, protocol: udp";
        assert!(findings(&DUPLICATE_HOST_PORT, two(same, udp)).is_empty());
        let unpublished = "target: 80";
        assert!(findings(&DUPLICATE_HOST_PORT, two(unpublished, unpublished)).is_empty());
    }

    #[test]
    fn when_compose_cannot_resolve_the_project_host_ports_are_read_as_written() {
        let mut input = project(
            "services:\n  a:\n    image: a:1\n    ports: ['8080', '127.0.0.1::81']\n  b:\n    image: a:1\n    ports: ['0.0.0.0:8080:80/tcp', '$PORT:80', '9000-9010:80']\n  c:\n    image: a:1\n    ports:\n      - {target: 80, published: 8080, host_ip: 127.0.0.1}\n      - '[::1]:9005:80'\n      - '127.0.0.1:8080:80/udp'\n  d:\n    image: a:1\n    ports: [{target: 80, published: '${PORT}'}, '8080:80/udp']\n",
        );
        input.model = Value::Null;
        input.raw_model = Value::Null;
        input.invalid = Some("invalid hostPort: -9000".into());
        assert_eq!(
            findings(&DUPLICATE_HOST_PORT, input),
            [
                "compose.yaml:11:9 service `c` publishes host port 8080/tcp, which b publishes too",
                "compose.yaml:12:9 service `c` publishes host port 9005/tcp, which b also publishes (as 9000-9010)",
                "compose.yaml:16:49 service `d` publishes host port 8080/udp, which c publishes too",
            ]
        );
    }

    #[test]
    fn host_port_ranges_overlap_single_ports_and_other_ranges() {
        let two = |first: &str, second: &str| {
            project(&format!(
                "services:\n  app:\n    image: a:1\n    ports:\n      - {{{first}}}\n  web:\n    image: a:1\n    ports:\n      - {{{second}}}\n"
            ))
        };
        // As compose resolves "8093-9000:80": one port, its published range a string.
        let range = "target: 80, published: '8093-9000', protocol: tcp";
        assert_eq!(
            findings(
                &DUPLICATE_HOST_PORT,
                two(range, "target: 5432, published: '8094'")
            ),
            [
                "compose.yaml:9:9 service `web` publishes host port 8094/tcp, which app also publishes (as 8093-9000)"
            ]
        );
        assert_eq!(
            findings(
                &DUPLICATE_HOST_PORT,
                two(
                    "target: 1000, published: '8080-8090'",
                    "target: 80, published: '8090-8099'"
                )
            ),
            [
                "compose.yaml:9:9 service `web` publishes host port 8090-8099/tcp, which app also publishes (as 8080-8090)"
            ]
        );
        for apart in [
            "target: 80, published: '9001'",
            "target: 80, published: '8000-8092'",
        ] {
            assert!(
                findings(&DUPLICATE_HOST_PORT, two(range, apart)).is_empty(),
                "{apart}"
            );
        }
        let udp = "target: 80, published: '8094', protocol: udp";
        assert!(findings(&DUPLICATE_HOST_PORT, two(range, udp)).is_empty());
        // Each port is reported once, naming the first that it clashes with; one service
        // may clash with itself.
        let three = project(
            "services:\n  a:\n    image: a:1\n    ports: [{target: 80, published: '8000-8010'}]\n  b:\n    image: a:1\n    ports: [{target: 80, published: '8010'}]\n  c:\n    image: a:1\n    ports: [{target: 80, published: '8010', host_ip: 127.0.0.1}]\n  d:\n    image: a:1\n    ports: [{target: 80, published: '8200'}, {target: 81, published: '8200'}]\n",
        );
        assert_eq!(
            findings(&DUPLICATE_HOST_PORT, three),
            [
                "compose.yaml:7:13 service `b` publishes host port 8010/tcp, which a also publishes (as 8000-8010)",
                "compose.yaml:10:13 service `c` publishes host port 8010/tcp, which a also publishes (as 8000-8010)",
                "compose.yaml:13:13 service `d` publishes host port 8200/tcp twice",
            ]
        );
        assert_eq!(port_range("8080"), Some((8080, 8080)));
        assert_eq!(port_range("9000-8000"), None);
        assert_eq!(port_range("http"), None);
    }

    pub(super) fn duplicate_container_name() -> Example {
        let named = |second: &str| {
            project(&format!(
                "services:\n  app:\n    image: a:1\n    container_name: shop\n  web:\n    image: a:1\n    container_name: {second}\n"
            ))
        };
        Example::new(
            named("shop"),
            &["compose.yaml:7:5 container_name `shop` is used by app and web"],
            named("shop-web"),
        )
    }

    #[test]
    fn container_names_are_read_from_the_files_as_written_later_files_winning() {
        let mut input = project(
            "services:\n  app:\n    image: a:1\n    container_name: shop\n  web:\n    image: a:1\n    container_name: shop\n",
        );
        // Compose refuses the duplicate, so its model is empty: the files still tell.
        input.model = Value::Null;
        input.files.push(compose_file(
            "compose.override.yaml",
            "services:\n  web:\n    container_name: shop-web\n",
        ));
        assert!(findings(&DUPLICATE_CONTAINER_NAME, input.clone()).is_empty());
        input.files.pop();
        assert_eq!(
            findings(&DUPLICATE_CONTAINER_NAME, input),
            ["compose.yaml:7:5 container_name `shop` is used by app and web"]
        );
    }

    pub(super) fn no_project_name() -> Example {
        Example::new(
            project(APP),
            &[
                "compose.yaml no compose file sets a top-level name, and the profile sets no compose.project_name",
            ],
            project(&format!("name: shop\n{APP}")),
        )
    }

    #[test]
    fn a_project_named_by_the_profile_or_a_file_that_is_not_yaml_has_no_finding() {
        let mut named = project(APP);
        named.profile_names_project = true;
        assert!(findings(&NO_PROJECT_NAME, named).is_empty());
        let mut unreadable = project(APP);
        unreadable
            .files
            .push(compose_file("broken.yaml", ": : not yaml"));
        assert!(findings(&NO_PROJECT_NAME, unreadable).is_empty());
    }

    pub(super) fn obsolete_version() -> Example {
        Example::new(
            project(&format!("version: '3'\n{APP}")),
            &["compose.yaml:1:1 the top-level `version:` is obsolete"],
            project(&format!("{APP}    labels: {{version: '3'}}\n")),
        )
    }

    pub(super) fn build_and_image() -> Example {
        Example::new(
            project("services:\n  app:\n    build: {context: app}\n    image: shop/app\n"),
            &["compose.yaml:4:5 service `app` has both build and image (`shop/app`)"],
            project(
                "services:\n  app:\n    build: {context: app}\n  db:\n    image: postgres:16\n",
            ),
        )
    }

    #[test]
    fn a_pull_policy_that_never_pulls_keeps_the_build() {
        let policy = |policy: &str| {
            project(&format!(
                "services:\n  app:\n    build: {{context: app}}\n    image: shop/app\n    pull_policy: {policy}\n"
            ))
        };
        for never_pulls in ["build", "never"] {
            assert!(
                findings(&BUILD_AND_IMAGE, policy(never_pulls)).is_empty(),
                "{never_pulls}"
            );
        }
        for missing in ["missing", "if_not_present"] {
            assert_eq!(
                findings(&BUILD_AND_IMAGE, policy(missing)),
                ["compose.yaml:4:5 service `app` has both build and image (`shop/app`)"]
            );
        }
        for pulls in ["always", "daily", "every_12h"] {
            assert_eq!(
                findings(&BUILD_AND_IMAGE, policy(pulls)),
                [format!(
                    "compose.yaml:4:5 service `app` has both build and image (`shop/app`), and pull_policy `{pulls}` pulls that image over what it builds"
                )]
            );
        }
    }

    #[test]
    fn an_image_name_compose_adds_to_a_build_is_not_the_files() {
        let mut input = project("services:\n  app:\n    build: {context: app}\n");
        input.model =
            json!({"services": {"app": {"build": {"context": "app"}, "image": "shop-app"}}});
        assert!(findings(&BUILD_AND_IMAGE, input).is_empty());
    }

    pub(super) fn depends_on_without_health() -> Example {
        let depending = |condition: &str| {
            project(&format!(
                "services:\n  app:\n    image: a:1\n    depends_on:\n      db: {{condition: {condition}}}\n  db:\n    image: b:1\n    healthcheck: {{test: [CMD, 'true']}}\n"
            ))
        };
        Example::new(
            depending("service_started"),
            &[
                "compose.yaml:5:7 service `app` depends on `db` without waiting for it to be healthy",
            ],
            depending("service_healthy"),
        )
    }

    #[test]
    fn depending_on_a_service_without_a_working_healthcheck_is_fine() {
        for check in ["", "    healthcheck: {disable: true}\n"] {
            let input = project(&format!(
                "services:\n  app:\n    image: a:1\n    depends_on:\n      db: {{condition: service_started}}\n  db:\n    image: b:1\n{check}"
            ));
            assert!(
                findings(&DEPENDS_ON_WITHOUT_HEALTH, input).is_empty(),
                "{check}"
            );
        }
    }

    #[test]
    fn list_items_written_in_either_form_match_what_compose_resolved() {
        let mount = json!({"type": "bind", "source": "/srv", "target": "/data"});
        assert!(mount_matches(&json!("/srv:/data:ro"), &mount));
        assert!(mount_matches(&json!({"target": "/data"}), &mount));
        assert!(!mount_matches(&json!("/srv:/other"), &mount));
        assert!(mount_matches(
            &json!("/data"),
            &json!({"type": "volume", "target": "/data"})
        ));
        assert!(port_matches(&json!("127.0.0.1:8080:80"), "8080"));
        assert!(port_matches(&json!("8080-8090:80-90"), "8080"));
        assert!(port_matches(
            &json!({"target": 80, "published": 8080}),
            "8080"
        ));
        assert!(!port_matches(&json!("80"), "80"));
        assert!(!port_matches(&json!("9090:80"), "8080"));
    }
}
