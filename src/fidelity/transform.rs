//! The fidelity transform: compose's resolved model of the iteration stack, turned into a
//! stack that runs freshly built images with no source mounts, beside the iteration stack.
//!
//! It is a pure function of the model, the profile's `fidelity:` settings and the project
//! root. It drops bind mounts from inside the project (unless kept), keeps file-based secrets
//! and configs, builds every service that has a `build:` section (with the profile's target,
//! under an image name of its own), drops `develop` and `profiles`, renames the project,
//! makes fixed container and volume names distinct (or refuses), moves published host ports,
//! refuses to share external volumes unless allowed, and applies environment overrides. Each
//! change is recorded, service by service, for `devctl plan --fidelity`.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde::Serialize;
use serde_json::{Value, json};

use crate::compose::model::published_port;
use crate::project::profile::FidelitySettings;
use crate::project::profile_file::FixedNames;
use crate::report::failure::Failure;

/// Appended to fixed names and to the default project name.
pub const SUFFIX: &str = "fidelity";

/// A published host port, moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortMove {
    pub service: String,
    pub host_ip: Option<String>,
    pub target: u64,
    pub protocol: String,
    pub from: u16,
    pub to: u16,
}

impl PortMove {
    /// The key under which a chosen port is remembered between runs.
    pub fn key(service: &str, target: u64, protocol: &str, from: u16) -> String {
        format!("{service}/{target}/{protocol}/{from}")
    }

    pub fn describe(&self) -> String {
        let ip = self
            .host_ip
            .as_deref()
            .map(|ip| format!("{ip}:"))
            .unwrap_or_default();
        format!(
            "{} {ip}{} → {ip}{} (container {}/{})",
            self.service, self.from, self.to, self.target, self.protocol
        )
    }
}

/// The fidelity stack's model and what changed.
#[derive(Debug, Clone, Serialize)]
pub struct Transformed {
    /// The fidelity stack's compose project name.
    pub project: String,
    #[serde(skip)]
    pub model: Value,
    /// What changed, service by service (services without changes are absent).
    pub services: BTreeMap<String, Vec<String>>,
    /// Changes to volumes and networks.
    pub stack: Vec<String>,
    pub ports: Vec<PortMove>,
    /// Services built in this run, with the image name each gets.
    pub images: BTreeMap<String, String>,
    /// Bind mounts from inside the project kept by `fidelity.keep_mounts`, as `service:target`.
    pub kept_mounts: Vec<String>,
}

/// Gives a host port for a port key (`PortMove::key`) and host IP, when no offset is set,
/// never one of the ports given to avoid (the live stack's).
pub type PortChooser<'a> = dyn FnMut(&str, Option<&str>, &[u16]) -> Result<u16, Failure> + 'a;

/// Transforms `model` (the iteration stack, as `compose config --format json` prints it).
/// `choose_port(key, host_ip)` gives a free host port when no offset is set.
pub fn transform(
    model: &Value,
    settings: &FidelitySettings,
    root: &Path,
    choose_port: &mut PortChooser,
) -> Result<Transformed, Failure> {
    let live = model
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| Failure::bad_input("compose's model has no project name"))?
        .to_string();
    let project = settings
        .project_name
        .clone()
        .unwrap_or_else(|| format!("{live}-{SUFFIX}"));
    if project == live {
        return Err(Failure::bad_input(format!(
            "fidelity.project_name is `{project}`, the live stack's own name"
        ))
        .hint(
            "the fidelity stack needs a project of its own: remove the key, or choose another name",
        ));
    }
    let mut output = model.clone();
    output["name"] = json!(project);
    let mut result = Transformed {
        project: project.clone(),
        model: Value::Null,
        services: BTreeMap::new(),
        stack: Vec::new(),
        ports: Vec::new(),
        images: BTreeMap::new(),
        kept_mounts: Vec::new(),
    };
    let live_ports = published_ports(model);
    // Named volumes that are bind mounts of a folder in the project (`driver_opts` with
    // `o: bind` and a `device`): source, like a bind mount.
    let source_volumes: BTreeMap<String, PathBuf> = model
        .get("volumes")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(key, volume)| {
            let options = volume.get("driver_opts")?;
            let device = PathBuf::from(options.get("device")?.as_str()?);
            let binds = text(options, "o").split(',').any(|option| option == "bind")
                || text(options, "type") == "none";
            (binds && relative_inside(&device, root).is_some()).then(|| (key.clone(), device))
        })
        .collect();
    // Images the live stack builds: a service that runs one runs the fidelity build instead.
    let live_builds: BTreeMap<String, String> = model
        .get("services")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(_, service)| service.get("build").is_some())
        .filter_map(|(name, service)| {
            let image = service.get("image")?.as_str()?;
            Some((image.to_string(), format!("{project}-{name}")))
        })
        .collect();
    for (name, network) in model
        .get("networks")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let external = network.get("external").and_then(Value::as_bool) == Some(true);
        let fixed_subnet = network
            .pointer("/ipam/config")
            .and_then(Value::as_array)
            .is_some_and(|configs| configs.iter().any(|config| config.get("subnet").is_some()));
        if fixed_subnet && !external {
            return Err(Failure::bad_input(format!(
                "network `{name}` has a fixed subnet: a second network with the same subnet beside the live stack's would overlap, and the engine refuses it"
            ))
            .hint("remove the ipam subnet (and fixed ipv4_address / ipv6_address) from the compose file the fidelity stack is made from, e.g. in an override file that only the live profile uses"));
        }
    }
    for (kind, noun) in [("volumes", "volume"), ("networks", "network")] {
        let Some(entries) = output.get_mut(kind).and_then(Value::as_object_mut) else {
            continue;
        };
        for (key, entry) in entries.iter_mut() {
            rename_resource(
                noun,
                key,
                entry,
                &live,
                &project,
                settings,
                &mut result.stack,
            )?;
        }
    }
    let services = output
        .get_mut("services")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| Failure::bad_input("compose's model has no services"))?;
    for (name, service) in services.iter_mut() {
        let mut changes = Vec::new();
        let Some(definition) = service.as_object_mut() else {
            continue;
        };
        if definition.remove("develop").is_some() {
            changes.push("develop/watch section dropped".to_string());
        }
        definition.remove("profiles");
        if let Some(mounts) = definition.get_mut("volumes").and_then(Value::as_array_mut) {
            let mut kept = Vec::new();
            for mount in mounts.drain(..) {
                let decision = match source_volumes.get(&text(&mount, "source")) {
                    Some(device) if text(&mount, "type") == "volume" => {
                        let relative = relative_inside(device, root).unwrap_or_default();
                        let listed = settings
                            .keep_mounts
                            .iter()
                            .any(|entry| normalize(Path::new(entry)) == relative);
                        match listed {
                            true => MountDecision::KeepListed,
                            false => {
                                MountDecision::Drop("a volume bound to a folder inside the project")
                            }
                        }
                    }
                    _ => mount_decision(&mount, root, settings),
                };
                match decision {
                    MountDecision::Keep => kept.push(mount),
                    MountDecision::KeepListed => {
                        result
                            .kept_mounts
                            .push(format!("{name}:{}", text(&mount, "target")));
                        changes.push(format!(
                            "bind mount {} → {} kept (fidelity.keep_mounts)",
                            shown_source(&mount, root),
                            text(&mount, "target")
                        ));
                        kept.push(mount);
                    }
                    MountDecision::Drop(why) => changes.push(format!(
                        "bind mount {} → {} dropped ({why})",
                        shown_source(&mount, root),
                        text(&mount, "target")
                    )),
                }
            }
            *mounts = kept;
        }
        if let Some(build) = definition.get_mut("build").and_then(Value::as_object_mut) {
            let before = build
                .get("target")
                .and_then(Value::as_str)
                .map(String::from);
            if let Some(target) = settings.build_targets.get(name) {
                build.insert("target".into(), json!(target));
                changes.push(match before {
                    Some(before) => format!("build target {before} → {target}"),
                    None => format!("build target {target}"),
                });
            }
            if build.remove("tags").is_some() {
                changes.push("build.tags dropped: the live stack's tags are its own".to_string());
            }
            let image = format!("{project}-{name}");
            changes.push(format!("built in this run as image {image}"));
            definition.insert("image".into(), json!(image));
            result.images.insert(name.clone(), image);
        } else if let Some((before, image)) = definition
            .get("image")
            .and_then(Value::as_str)
            .and_then(|before| {
                live_builds
                    .get(before)
                    .map(|image| (before.to_string(), image.clone()))
            })
        {
            changes.push(format!(
                "image {before} → {image} (built in this run by the service that builds it)"
            ));
            definition.insert("image".into(), json!(image));
        } else if settings.build_targets.contains_key(name) {
            return Err(Failure::bad_input(format!(
                "fidelity.build_targets names service `{name}`, which has no build section"
            ))
            .hint("only services built from a Dockerfile have a build target"));
        }
        if let Some(fixed) = definition
            .get("container_name")
            .and_then(Value::as_str)
            .map(String::from)
        {
            if settings.fixed_names == FixedNames::Refuse {
                return Err(Failure::bad_input(format!(
                    "service `{name}` has the fixed container_name `{fixed}`: the fidelity stack would collide with the live one"
                ))
                .hint("remove container_name, or set fidelity.fixed_names: rename to give the fidelity container its own name"));
            }
            let renamed = format!("{fixed}-{SUFFIX}");
            changes.push(format!("container_name {fixed} → {renamed}"));
            definition.insert("container_name".into(), json!(renamed));
        }
        if let Some(ports) = definition.get_mut("ports").and_then(Value::as_array_mut) {
            for port in ports.iter_mut() {
                let Some(from) = published_port(port) else {
                    continue;
                };
                // A host range for one container port (`28300-28310:80`) moves as a whole.
                let (from, range_end) = match from.split_once('-') {
                    Some((start, end)) => (start.to_string(), end.parse::<u16>().ok()),
                    None => (from.clone(), None),
                };
                let from: u16 = from.parse().map_err(|_| {
                    Failure::bad_input(format!(
                        "service `{name}` publishes port `{from}`, which devctl cannot move"
                    ))
                })?;
                if range_end.is_some() && settings.port_offset.is_none() {
                    return Err(Failure::bad_input(format!(
                        "service `{name}` publishes the host port range starting at {from}: free ports are chosen one by one"
                    ))
                    .hint("set fidelity.port_offset in the profile to move the range as a whole"));
                }
                let target = port
                    .get("target")
                    .and_then(Value::as_u64)
                    .unwrap_or_default();
                let protocol = port
                    .get("protocol")
                    .and_then(Value::as_str)
                    .unwrap_or("tcp")
                    .to_string();
                let host_ip = port
                    .get("host_ip")
                    .and_then(Value::as_str)
                    .map(String::from);
                let to = match settings.port_offset {
                    Some(offset) => from.checked_add(offset).ok_or_else(|| {
                        Failure::bad_input(format!(
                            "fidelity.port_offset {offset} moves port {from} of `{name}` past 65535"
                        ))
                        .hint("choose a smaller offset, or leave it unset for free ports")
                    })?,
                    None => choose_port(
                        &PortMove::key(name, target, &protocol, from),
                        host_ip.as_deref(),
                        &live_ports,
                    )?,
                };
                let end = match range_end {
                    Some(end) => Some(end.checked_add(to - from).ok_or_else(|| {
                        Failure::bad_input(format!(
                            "fidelity.port_offset moves the range of `{name}` past 65535"
                        ))
                    })?),
                    None => None,
                };
                if let Some(taken) = (to..=end.unwrap_or(to)).find(|port| live_ports.contains(port))
                {
                    return Err(Failure::bad_input(format!(
                        "fidelity.port_offset moves port {from} of `{name}` to {taken}, which the live stack publishes"
                    ))
                    .hint("choose another offset, or leave it unset for free ports"));
                }
                port["published"] = json!(match end {
                    Some(end) => format!("{to}-{end}"),
                    None => to.to_string(),
                });
                let moved = PortMove {
                    service: name.clone(),
                    host_ip,
                    target,
                    protocol,
                    from,
                    to,
                };
                changes.push(format!("port {}", moved.describe()));
                result.ports.push(moved);
            }
        }
        if let Some(overrides) = settings.environment.get(name) {
            let environment = definition.entry("environment").or_insert_with(|| json!({}));
            if let Some(environment) = environment.as_object_mut() {
                for (variable, value) in overrides {
                    environment.insert(variable.clone(), json!(value));
                    changes.push(format!("environment {variable}={value}"));
                }
            }
        }
        if !changes.is_empty() {
            result.services.insert(name.clone(), changes);
        }
    }
    for service in settings
        .environment
        .keys()
        .chain(settings.build_targets.keys())
    {
        if !services.contains_key(service) {
            return Err(Failure::bad_input(format!(
                "the profile's fidelity section names service `{service}`, which this profile does not run"
            ))
            .hint(format!(
                "services: {}",
                services.keys().cloned().collect::<Vec<_>>().join(", ")
            )));
        }
    }
    result.model = output;
    Ok(result)
}

/// Every host port the model publishes (range ends included).
fn published_ports(model: &Value) -> Vec<u16> {
    let mut ports = Vec::new();
    for service in model
        .get("services")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|services| services.values())
    {
        for port in service
            .get("ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let published = published_port(port).unwrap_or_default();
            let (start, end) = published
                .split_once('-')
                .unwrap_or((&published, &published));
            if let (Ok(start), Ok(end)) = (start.parse::<u16>(), end.parse::<u16>()) {
                ports.extend(start..=end);
            }
        }
    }
    ports
}

enum MountDecision {
    Keep,
    KeepListed,
    Drop(&'static str),
}

fn mount_decision(mount: &Value, root: &Path, settings: &FidelitySettings) -> MountDecision {
    if mount.get("type").and_then(Value::as_str) != Some("bind") {
        return MountDecision::Keep;
    }
    let source = PathBuf::from(text(mount, "source"));
    match relative_inside(&source, root) {
        Some(relative) => {
            let listed = settings
                .keep_mounts
                .iter()
                .any(|entry| normalize(Path::new(entry)) == relative);
            if listed {
                MountDecision::KeepListed
            } else {
                MountDecision::Drop("source inside the project")
            }
        }
        None => {
            let listed = settings
                .drop_mounts
                .iter()
                .any(|entry| normalize(Path::new(entry)) == normalize(&source));
            if listed {
                MountDecision::Drop("fidelity.drop_mounts")
            } else {
                MountDecision::Keep
            }
        }
    }
}

/// `path` relative to `root` when it lies inside it (symbolic links resolved where they
/// exist, so a link into the project counts as inside).
pub fn relative_inside(path: &Path, root: &Path) -> Option<PathBuf> {
    let root = root.canonicalize().unwrap_or_else(|_| normalize(root));
    let path = path.canonicalize().unwrap_or_else(|_| normalize(path));
    path.strip_prefix(&root).ok().map(Path::to_path_buf)
}

/// The path without `.` components, trailing slashes or `..` where it can be folded.
fn normalize(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !normal.pop() {
                    normal.push("..");
                }
            }
            other => normal.push(other),
        }
    }
    normal
}

fn text(value: &Value, field: &str) -> String {
    value
        .get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn shown_source(mount: &Value, root: &Path) -> String {
    let source = PathBuf::from(text(mount, "source"));
    match relative_inside(&source, root) {
        Some(relative) => format!("./{}", relative.display()),
        None => source.display().to_string(),
    }
}

/// Gives a volume or network the fidelity stack's own name; external ones are shared only
/// when allowed (volumes) or always (networks, which hold no data).
fn rename_resource(
    noun: &str,
    key: &str,
    entry: &mut Value,
    live: &str,
    project: &str,
    settings: &FidelitySettings,
    changes: &mut Vec<String>,
) -> Result<(), Failure> {
    let external = entry.get("external").and_then(Value::as_bool) == Some(true);
    let name = entry
        .get("name")
        .and_then(Value::as_str)
        .map(String::from)
        .unwrap_or_else(|| format!("{live}_{key}"));
    if external {
        if noun == "network" {
            changes.push(format!(
                "external network {name} shared with the live stack"
            ));
            return Ok(());
        }
        if !settings.share_external_volumes {
            return Err(Failure::bad_input(format!(
                "volume `{key}` is external ({name}): the fidelity stack would share its data with the live stack"
            ))
            .hint("set fidelity.share_external_volumes: true in the profile to share it on purpose"));
        }
        changes.push(format!(
            "external volume {name} SHARED with the live stack (fidelity.share_external_volumes)"
        ));
        return Ok(());
    }
    let derived = format!("{live}_{key}");
    let renamed = if name == derived {
        let renamed = format!("{project}_{key}");
        changes.push(format!("{noun} {key}: {name} → {renamed}"));
        renamed
    } else {
        if settings.fixed_names == FixedNames::Refuse {
            return Err(Failure::bad_input(format!(
                "{noun} `{key}` has the fixed name `{name}`: both stacks would use the same {noun}, and `down -v` on either would delete the other's data"
            ))
            .hint("remove its `name:`, or set fidelity.fixed_names: rename to give the fidelity stack its own"));
        }
        let renamed = format!("{name}-{SUFFIX}");
        changes.push(format!("{noun} {key}: fixed name {name} → {renamed}"));
        renamed
    };
    entry["name"] = json!(renamed);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(root: &Path) -> Value {
        let root = root.display();
        serde_json::from_str(&format!(
            r#"{{
  "name": "shop",
  "networks": {{"default": {{"name": "shop_default"}}}},
  "volumes": {{"data": {{"name": "shop_data"}}, "fixed": {{"name": "my-fixed"}}}},
  "secrets": {{"key": {{"name": "shop_key", "file": "{root}/key.txt"}}}},
  "services": {{
    "app": {{
      "profiles": ["x"],
      "develop": {{"watch": []}},
      "container_name": "shop-app",
      "build": {{"context": "{root}/app", "dockerfile": "Dockerfile", "target": "dev"}},
      "image": "shop/app:dev",
      "environment": {{"MODE": "dev"}},
      "volumes": [
        {{"type": "bind", "source": "{root}/app", "target": "/src"}},
        {{"type": "bind", "source": "{root}/config/app.conf", "target": "/etc/app.conf"}},
        {{"type": "bind", "source": "/etc/hostname", "target": "/host"}},
        {{"type": "bind", "source": "/var/run/docker.sock", "target": "/var/run/docker.sock"}},
        {{"type": "volume", "source": "data", "target": "/data"}},
        {{"type": "volume", "target": "/anon"}}
      ],
      "secrets": [{{"source": "key", "target": "/run/secrets/key"}}],
      "ports": [{{"target": 80, "published": "18080", "host_ip": "127.0.0.1", "protocol": "tcp"}}]
    }},
    "db": {{
      "image": "postgres:15",
      "volumes": [{{"type": "volume", "source": "fixed", "target": "/var/lib/db"}}]
    }}
  }}
}}"#
        ))
        .unwrap()
    }

    fn settings() -> FidelitySettings {
        FidelitySettings {
            build_targets: BTreeMap::from([("app".into(), "production".into())]),
            keep_mounts: vec!["./config/app.conf".into()],
            drop_mounts: vec!["/var/run/docker.sock".into()],
            environment: BTreeMap::from([(
                "app".into(),
                BTreeMap::from([("MODE".into(), "production".into())]),
            )]),
            ..FidelitySettings::default()
        }
    }

    fn run(settings: &FidelitySettings) -> Result<Transformed, Failure> {
        let root = Path::new("/srv/shop");
        let mut next = 40000;
        transform(&model(root), settings, root, &mut |_, _, _| {
            next += 1;
            Ok(next)
        })
    }

    fn targets(transformed: &Transformed, service: &str) -> Vec<String> {
        transformed.model["services"][service]["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|mount| text(mount, "target"))
            .collect()
    }

    #[test]
    fn source_mounts_go_declared_inputs_stay() {
        let transformed = run(&settings()).unwrap();
        assert_eq!(
            targets(&transformed, "app"),
            ["/etc/app.conf", "/host", "/data", "/anon"]
        );
        assert_eq!(transformed.kept_mounts, ["app:/etc/app.conf"]);
        let app = &transformed.model["services"]["app"];
        assert_eq!(app["secrets"][0]["source"], "key");
        assert_eq!(
            transformed.model["secrets"]["key"]["file"],
            "/srv/shop/key.txt"
        );
        assert!(app.get("develop").is_none() && app.get("profiles").is_none());
        let changes = &transformed.services["app"];
        assert!(
            changes
                .iter()
                .any(|c| c == "bind mount ./app → /src dropped (source inside the project)"),
            "{changes:#?}"
        );
        assert!(
            changes.iter().any(|c| c.contains(
                "/var/run/docker.sock → /var/run/docker.sock dropped (fidelity.drop_mounts)"
            )),
            "{changes:#?}"
        );
    }

    #[test]
    fn builds_the_named_target_under_its_own_image_name() {
        let transformed = run(&settings()).unwrap();
        let app = &transformed.model["services"]["app"];
        assert_eq!(app["build"]["target"], "production");
        assert_eq!(app["image"], "shop-fidelity-app");
        assert_eq!(transformed.images["app"], "shop-fidelity-app");
        assert_eq!(transformed.model["services"]["db"]["image"], "postgres:15");
        assert!(transformed.services["app"].contains(&"build target dev → production".to_string()));
    }

    #[test]
    fn names_and_ports_are_the_fidelity_stack_s_own() {
        let transformed = run(&settings()).unwrap();
        assert_eq!(transformed.project, "shop-fidelity");
        assert_eq!(transformed.model["name"], "shop-fidelity");
        assert_eq!(
            transformed.model["volumes"]["data"]["name"],
            "shop-fidelity_data"
        );
        assert_eq!(
            transformed.model["volumes"]["fixed"]["name"],
            "my-fixed-fidelity"
        );
        assert_eq!(
            transformed.model["networks"]["default"]["name"],
            "shop-fidelity_default"
        );
        assert_eq!(
            transformed.model["services"]["app"]["container_name"],
            "shop-app-fidelity"
        );
        assert_eq!(
            transformed.model["services"]["app"]["ports"][0]["published"],
            "40001"
        );
        assert_eq!(transformed.ports[0].from, 18080);
        assert_eq!(
            transformed.model["services"]["app"]["environment"]["MODE"],
            "production"
        );
        let offset = FidelitySettings {
            port_offset: Some(1000),
            ..settings()
        };
        let transformed = run(&offset).unwrap();
        assert_eq!(
            transformed.model["services"]["app"]["ports"][0]["published"],
            "19080"
        );
        let too_far = FidelitySettings {
            port_offset: Some(60000),
            ..settings()
        };
        assert!(run(&too_far).unwrap_err().message.contains("past 65535"));
    }

    #[test]
    fn fixed_names_and_external_volumes_can_be_refused() {
        let refuse = FidelitySettings {
            fixed_names: FixedNames::Refuse,
            ..settings()
        };
        let failure = run(&refuse).unwrap_err();
        assert!(
            failure.message.contains("fixed name `my-fixed`"),
            "{}",
            failure.message
        );
        let root = Path::new("/srv/shop");
        let mut external = model(root);
        external["volumes"]["data"] = json!({"name": "shared-data", "external": true});
        let mut port = |_: &str, _: Option<&str>, _: &[u16]| Ok(40000);
        let failure = transform(&external, &settings(), root, &mut port).unwrap_err();
        assert!(failure.message.contains("external"), "{}", failure.message);
        let shared = FidelitySettings {
            share_external_volumes: true,
            ..settings()
        };
        let transformed = transform(&external, &shared, root, &mut port).unwrap();
        assert_eq!(transformed.model["volumes"]["data"]["name"], "shared-data");
        assert!(
            transformed
                .stack
                .iter()
                .any(|change| change.contains("SHARED"))
        );
    }

    #[test]
    fn settings_naming_unknown_services_or_the_live_project_are_refused() {
        let mut unknown = settings();
        unknown.build_targets.insert("ghost".into(), "prod".into());
        assert!(run(&unknown).unwrap_err().message.contains("`ghost`"));
        let same = FidelitySettings {
            project_name: Some("shop".into()),
            ..settings()
        };
        assert!(
            run(&same)
                .unwrap_err()
                .message
                .contains("live stack's own name")
        );
        let mut unbuilt = settings();
        unbuilt.build_targets.insert("db".into(), "prod".into());
        assert!(
            run(&unbuilt)
                .unwrap_err()
                .message
                .contains("no build section")
        );
    }

    #[test]
    fn moved_ports_avoid_the_live_stack_and_ranges_move_whole() {
        let root = Path::new("/srv/shop");
        let mut ranged = model(root);
        ranged["services"]["db"]["ports"] = json!([
            {"target": 5432, "published": "19080", "host_ip": "127.0.0.1", "protocol": "tcp"},
            {"target": 80, "published": "28300-28310", "protocol": "tcp"}
        ]);
        let offset = FidelitySettings {
            port_offset: Some(1000),
            ..settings()
        };
        let mut never =
            |_: &str, _: Option<&str>, _: &[u16]| -> Result<u16, Failure> { unreachable!() };
        // app's 18080 + 1000 lands on db's live 19080.
        let failure = transform(&ranged, &offset, root, &mut never).unwrap_err();
        assert!(
            failure.message.contains("which the live stack publishes"),
            "{}",
            failure.message
        );
        ranged["services"]["db"]["ports"][0]["published"] = json!("15432");
        let moved = transform(&ranged, &offset, root, &mut never).unwrap();
        assert_eq!(
            moved.model["services"]["db"]["ports"][1]["published"],
            "29300-29310"
        );
        // Free ports are chosen avoiding every live port; a range needs an offset.
        let mut avoided = Vec::new();
        let mut choose = |_: &str, _: Option<&str>, avoid: &[u16]| {
            avoided = avoid.to_vec();
            Ok(40000)
        };
        let failure = transform(&ranged, &settings(), root, &mut choose).unwrap_err();
        assert!(
            failure.message.contains("host port range"),
            "{}",
            failure.message
        );
        ranged["services"]["db"]["ports"] = json!([]);
        transform(&ranged, &settings(), root, &mut choose).unwrap();
        assert!(avoided.contains(&18080), "{avoided:?}");
    }

    #[test]
    fn live_images_tags_subnets_and_source_volumes() {
        let root = Path::new("/srv/shop");
        let mut live = model(root);
        live["services"]["app"]["build"]["tags"] = json!(["shop/app:extra"]);
        live["services"]["worker"] = json!({"image": "shop/app:dev"});
        live["volumes"]["served"] = json!({"name": "shop_served", "driver_opts": {"type": "none", "o": "bind", "device": "/srv/shop/app/www"}});
        live["services"]["db"]["volumes"] =
            json!([{"type": "volume", "source": "served", "target": "/www"}]);
        let mut port = |_: &str, _: Option<&str>, _: &[u16]| Ok(40000);
        let moved = transform(&live, &settings(), root, &mut port).unwrap();
        assert!(
            moved.model["services"]["app"]["build"]
                .get("tags")
                .is_none()
        );
        assert_eq!(
            moved.model["services"]["worker"]["image"],
            "shop-fidelity-app"
        );
        assert_eq!(moved.model["services"]["db"]["volumes"], json!([]));
        live["networks"]["default"]["ipam"] = json!({"config": [{"subnet": "172.31.250.0/24"}]});
        let failure = transform(&live, &settings(), root, &mut port).unwrap_err();
        assert!(
            failure.message.contains("fixed subnet"),
            "{}",
            failure.message
        );
    }
}
