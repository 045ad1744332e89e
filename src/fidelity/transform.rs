//! The fidelity transform: compose's resolved model of the iteration stack, turned into a
//! stack that runs freshly built images with no source mounts, beside the iteration stack.
//!
//! It is a pure function of the model, the profile's `fidelity:` settings and the project
//! root (and the stage names of the Dockerfiles the services build). It drops bind mounts
//! from inside the project (unless kept), keeps file-based secrets and configs, builds every
//! service that has a `build:` section (the stage that ships, `compose::build_stage`, under an
//! image name of its own), drops `develop` and `profiles`, renames the project,
//! makes fixed container and volume names distinct (or refuses), moves published host ports,
//! refuses to share external volumes unless allowed, and applies environment overrides. Each
//! change is recorded, service by service, for `devctl plan --fidelity`.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::compose::build_stage::{ShippedStage, shipped_stage};
use crate::compose::model::{entries, published_port, text};
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
    /// Services built in this run, with the stage each builds and why.
    pub stages: BTreeMap<String, ShippedStage>,
    /// Bind mounts from inside the project kept by `fidelity.keep_mounts`, as `service:target`.
    pub kept_mounts: Vec<String>,
}

/// Gives a host port for a port key (`PortMove::key`) and host IP, when no offset is set,
/// never one of the ports given to avoid (the live stack's).
pub type PortChooser<'a> = dyn FnMut(&str, Option<&str>, &[u16]) -> Result<u16, Failure> + 'a;

/// The names the Dockerfile of each built service gives its stages (`Dockerfile::stage_names`),
/// by service; a service whose Dockerfile cannot be read is absent.
pub type DockerfileStages = BTreeMap<String, Vec<String>>;

/// Transforms `model` (the iteration stack, as `compose config --format json` prints it).
/// `choose_port(key, host_ip, avoid)` gives a free host port when no offset is set.
pub fn transform(
    model: &Value,
    settings: &FidelitySettings,
    root: &Path,
    dockerfile_stages: &DockerfileStages,
    choose_port: &mut PortChooser,
) -> Result<Transformed, Failure> {
    let live = live_project_name(model)?;
    let project = fidelity_project_name(&live, settings)?;
    let inputs = Inputs {
        settings,
        root,
        project: &project,
        live_ports: published_ports(model),
        source_volumes: source_volumes(model, root),
        live_builds: live_builds(model, &project),
        dockerfile_stages,
    };
    refuse_fixed_subnets(model)?;
    let mut output = model.clone();
    output["name"] = json!(project);
    let mut result = Transformed::empty(&project);
    rename_resources(&mut output, &live, &project, settings, &mut result.stack)?;
    let services = output
        .get_mut("services")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| Failure::bad_input("compose's model has no services"))?;
    for (name, service) in services.iter_mut() {
        if let Some(definition) = service.as_object_mut() {
            transform_service(name, definition, &inputs, choose_port, &mut result)?;
        }
    }
    refuse_unknown_services(settings, services)?;
    result.model = output;
    Ok(result)
}

impl Transformed {
    /// No changes yet, and no model.
    fn empty(project: &str) -> Transformed {
        Transformed {
            project: project.to_string(),
            model: Value::Null,
            services: BTreeMap::new(),
            stack: Vec::new(),
            ports: Vec::new(),
            images: BTreeMap::new(),
            stages: BTreeMap::new(),
            kept_mounts: Vec::new(),
        }
    }
}

/// What every service step reads: the profile's settings, and what the live stack has.
struct Inputs<'a> {
    settings: &'a FidelitySettings,
    root: &'a Path,
    /// The fidelity stack's project name.
    project: &'a str,
    /// Every host port the live stack publishes.
    live_ports: Vec<u16>,
    /// Named volumes bound to a folder inside the project, with that folder.
    source_volumes: BTreeMap<String, PathBuf>,
    /// Images the live stack builds, with the image name of the fidelity build of each.
    live_builds: BTreeMap<String, String>,
    dockerfile_stages: &'a DockerfileStages,
}

/// One service's steps, in order; what they change is recorded under the service's name.
fn transform_service(
    name: &str,
    definition: &mut Map<String, Value>,
    inputs: &Inputs,
    choose_port: &mut PortChooser,
    result: &mut Transformed,
) -> Result<(), Failure> {
    let mut changes = Vec::new();
    drop_development_sections(definition, &mut changes);
    drop_source_mounts(
        name,
        definition,
        inputs,
        &mut result.kept_mounts,
        &mut changes,
    );
    choose_image(name, definition, inputs, result, &mut changes)?;
    rename_container(name, definition, inputs.settings, &mut changes)?;
    move_ports(
        name,
        definition,
        inputs,
        choose_port,
        &mut result.ports,
        &mut changes,
    )?;
    override_environment(name, definition, inputs.settings, &mut changes);
    if !changes.is_empty() {
        result.services.insert(name.to_string(), changes);
    }
    Ok(())
}

/// The live stack's project name.
fn live_project_name(model: &Value) -> Result<String, Failure> {
    model
        .get("name")
        .and_then(Value::as_str)
        .map(String::from)
        .ok_or_else(|| Failure::bad_input("compose's model has no project name"))
}

/// The fidelity stack's project name: the profile's, else `<live>-fidelity`; never the live
/// stack's own.
fn fidelity_project_name(live: &str, settings: &FidelitySettings) -> Result<String, Failure> {
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
    Ok(project)
}

/// Named volumes that are bind mounts of a folder in the project (`driver_opts` with `o: bind`
/// or `type: none`, and a `device`): source, like a bind mount.
fn source_volumes(model: &Value, root: &Path) -> BTreeMap<String, PathBuf> {
    entries(model, "volumes")
        .filter_map(|(key, volume)| {
            let options = volume.get("driver_opts")?;
            let device = PathBuf::from(options.get("device")?.as_str()?);
            let binds = text(options, "o").split(',').any(|option| option == "bind")
                || text(options, "type") == "none";
            (binds && relative_inside(&device, root).is_some()).then(|| (key.clone(), device))
        })
        .collect()
}

/// Images the live stack builds, each with the image name the service that builds it gets in
/// the fidelity stack: a service that runs one runs the fidelity build instead.
fn live_builds(model: &Value, project: &str) -> BTreeMap<String, String> {
    entries(model, "services")
        .filter(|(_, service)| service.get("build").is_some())
        .filter_map(|(name, service)| {
            let image = service.get("image")?.as_str()?;
            Some((image.to_string(), format!("{project}-{name}")))
        })
        .collect()
}

/// Every host port the model publishes (range ends included).
fn published_ports(model: &Value) -> Vec<u16> {
    let mut ports = Vec::new();
    for (_, service) in entries(model, "services") {
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

/// Refuses a network (other than an external one) with a fixed subnet: a second network with
/// the same subnet beside the live stack's would overlap.
fn refuse_fixed_subnets(model: &Value) -> Result<(), Failure> {
    for (name, network) in entries(model, "networks") {
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
    Ok(())
}

/// Gives every volume, then every network, the fidelity stack's own name (`rename_resource`).
fn rename_resources(
    output: &mut Value,
    live: &str,
    project: &str,
    settings: &FidelitySettings,
    changes: &mut Vec<String>,
) -> Result<(), Failure> {
    for (section, noun) in [("volumes", "volume"), ("networks", "network")] {
        let Some(entries) = output.get_mut(section).and_then(Value::as_object_mut) else {
            continue;
        };
        for (key, entry) in entries.iter_mut() {
            rename_resource(noun, key, entry, live, project, settings, changes)?;
        }
    }
    Ok(())
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
    let name = entry
        .get("name")
        .and_then(Value::as_str)
        .map(String::from)
        .unwrap_or_else(|| format!("{live}_{key}"));
    if entry.get("external").and_then(Value::as_bool) == Some(true) {
        return share_external(noun, key, &name, settings, changes);
    }
    let renamed = if name == format!("{live}_{key}") {
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

/// An external network is shared with the live stack; an external volume only when the
/// profile allows it.
fn share_external(
    noun: &str,
    key: &str,
    name: &str,
    settings: &FidelitySettings,
    changes: &mut Vec<String>,
) -> Result<(), Failure> {
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
    Ok(())
}

/// Drops `develop` (watch) and `profiles`: the fidelity stack runs every service it has.
fn drop_development_sections(definition: &mut Map<String, Value>, changes: &mut Vec<String>) {
    if definition.remove("develop").is_some() {
        changes.push("develop/watch section dropped".to_string());
    }
    definition.remove("profiles");
}

/// Drops the service's source mounts: bind mounts from inside the project and volumes bound to
/// a folder in it (unless `fidelity.keep_mounts` lists them), and the bind mounts
/// `fidelity.drop_mounts` lists.
fn drop_source_mounts(
    name: &str,
    definition: &mut Map<String, Value>,
    inputs: &Inputs,
    kept_mounts: &mut Vec<String>,
    changes: &mut Vec<String>,
) {
    let Some(mounts) = definition.get_mut("volumes").and_then(Value::as_array_mut) else {
        return;
    };
    let mut kept = Vec::new();
    for mount in mounts.drain(..) {
        match mount_decision(&mount, inputs) {
            MountDecision::Keep => kept.push(mount),
            MountDecision::KeepListed => {
                kept_mounts.push(format!("{name}:{}", text(&mount, "target")));
                changes.push(format!(
                    "bind mount {} kept (fidelity.keep_mounts)",
                    shown_mount(&mount, inputs.root)
                ));
                kept.push(mount);
            }
            MountDecision::Drop(why) => changes.push(format!(
                "bind mount {} dropped ({why})",
                shown_mount(&mount, inputs.root)
            )),
        }
    }
    *mounts = kept;
}

#[derive(Debug, PartialEq, Eq)]
enum MountDecision {
    Keep,
    KeepListed,
    Drop(&'static str),
}

/// What becomes of one mount of a service.
fn mount_decision(mount: &Value, inputs: &Inputs) -> MountDecision {
    let settings = inputs.settings;
    match inputs.source_volumes.get(text(mount, "source")) {
        Some(device) if text(mount, "type") == "volume" => {
            let relative = relative_inside(device, inputs.root).unwrap_or_default();
            match lists(&settings.keep_mounts, &relative) {
                true => MountDecision::KeepListed,
                false => MountDecision::Drop("a volume bound to a folder inside the project"),
            }
        }
        _ => bind_mount_decision(mount, inputs.root, settings),
    }
}

/// What becomes of a mount that is not a volume bound to a project folder: only bind mounts
/// change.
fn bind_mount_decision(mount: &Value, root: &Path, settings: &FidelitySettings) -> MountDecision {
    if mount.get("type").and_then(Value::as_str) != Some("bind") {
        return MountDecision::Keep;
    }
    let source = PathBuf::from(text(mount, "source"));
    match relative_inside(&source, root) {
        Some(relative) if lists(&settings.keep_mounts, &relative) => MountDecision::KeepListed,
        Some(_) => MountDecision::Drop("source inside the project"),
        None if lists(&settings.drop_mounts, &normalize(&source)) => {
            MountDecision::Drop("fidelity.drop_mounts")
        }
        None => MountDecision::Keep,
    }
}

/// Whether a list of paths from the profile names `path`.
fn lists(entries: &[String], path: &Path) -> bool {
    entries
        .iter()
        .any(|entry| normalize(Path::new(entry)) == path)
}

/// A service with a `build:` section is built in this run; one that runs an image the live
/// stack builds runs the fidelity build of it instead. Build targets are for built services
/// only.
fn choose_image(
    name: &str,
    definition: &mut Map<String, Value>,
    inputs: &Inputs,
    result: &mut Transformed,
    changes: &mut Vec<String>,
) -> Result<(), Failure> {
    if definition.get("build").is_some_and(Value::is_object) {
        build_in_this_run(name, definition, inputs, result, changes);
    } else if let Some((before, image)) =
        definition
            .get("image")
            .and_then(Value::as_str)
            .and_then(|before| {
                inputs
                    .live_builds
                    .get(before)
                    .map(|image| (before.to_string(), image.clone()))
            })
    {
        changes.push(format!(
            "image {before} → {image} (built in this run by the service that builds it)"
        ));
        definition.insert("image".into(), json!(image));
    } else if inputs.settings.build_targets.contains_key(name) {
        return Err(Failure::bad_input(format!(
            "fidelity.build_targets names service `{name}`, which has no build section"
        ))
        .hint("only services built from a Dockerfile have a build target"));
    }
    Ok(())
}

/// Builds the stage that ships (`shipped_stage`) without the live stack's extra tags, under
/// an image name of its own (`<project>-<service>`).
fn build_in_this_run(
    name: &str,
    definition: &mut Map<String, Value>,
    inputs: &Inputs,
    result: &mut Transformed,
    changes: &mut Vec<String>,
) {
    if let Some(build) = definition.get_mut("build").and_then(Value::as_object_mut) {
        let shipped = shipped_stage(
            inputs.settings.build_targets.get(name).map(String::as_str),
            build.get("target").and_then(Value::as_str),
            inputs.dockerfile_stages.get(name).map(Vec::as_slice),
        );
        match &shipped.stage {
            Some(stage) => {
                build.insert("target".into(), json!(stage));
                changes.push(format!("build stage {shipped}"));
            }
            None => changes.push(format!("build stage: {shipped}")),
        }
        result.stages.insert(name.to_string(), shipped);
        if build.remove("tags").is_some() {
            changes.push("build.tags dropped: the live stack's tags are its own".to_string());
        }
    }
    let image = format!("{}-{name}", inputs.project);
    changes.push(format!("built in this run as image {image}"));
    definition.insert("image".into(), json!(image));
    result.images.insert(name.to_string(), image);
}

/// Gives a fixed `container_name` the `-fidelity` suffix, or refuses when the profile says so.
fn rename_container(
    name: &str,
    definition: &mut Map<String, Value>,
    settings: &FidelitySettings,
    changes: &mut Vec<String>,
) -> Result<(), Failure> {
    let Some(fixed) = definition
        .get("container_name")
        .and_then(Value::as_str)
        .map(String::from)
    else {
        return Ok(());
    };
    if settings.fixed_names == FixedNames::Refuse {
        return Err(Failure::bad_input(format!(
            "service `{name}` has the fixed container_name `{fixed}`: the fidelity stack would collide with the live one"
        ))
        .hint("remove container_name, or set fidelity.fixed_names: rename to give the fidelity container its own name"));
    }
    let renamed = format!("{fixed}-{SUFFIX}");
    changes.push(format!("container_name {fixed} → {renamed}"));
    definition.insert("container_name".into(), json!(renamed));
    Ok(())
}

/// Moves every host port the service publishes (`move_port`).
fn move_ports(
    name: &str,
    definition: &mut Map<String, Value>,
    inputs: &Inputs,
    choose_port: &mut PortChooser,
    moves: &mut Vec<PortMove>,
    changes: &mut Vec<String>,
) -> Result<(), Failure> {
    let Some(ports) = definition.get_mut("ports").and_then(Value::as_array_mut) else {
        return Ok(());
    };
    for port in ports.iter_mut() {
        if let Some(moved) = move_port(name, port, inputs, choose_port)? {
            changes.push(format!("port {}", moved.describe()));
            moves.push(moved);
        }
    }
    Ok(())
}

/// Moves one published host port (none when it publishes no host port) by the profile's
/// offset, else to the port the chooser gives. A host range for one container port
/// (`28300-28310:80`) moves as a whole, by an offset only. No port lands on the live stack's.
fn move_port(
    name: &str,
    port: &mut Value,
    inputs: &Inputs,
    choose_port: &mut PortChooser,
) -> Result<Option<PortMove>, Failure> {
    let Some(published) = published_port(port) else {
        return Ok(None);
    };
    let (from, range_end) = host_range(name, &published, inputs.settings)?;
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
    let to = match inputs.settings.port_offset {
        Some(offset) => offset_port(name, from, offset)?,
        None => choose_port(
            &PortMove::key(name, target, &protocol, from),
            host_ip.as_deref(),
            &inputs.live_ports,
        )?,
    };
    let end = range_end
        .map(|end| moved_range_end(name, end, to - from))
        .transpose()?;
    refuse_live_ports(name, from, to..=end.unwrap_or(to), &inputs.live_ports)?;
    port["published"] = json!(match end {
        Some(end) => format!("{to}-{end}"),
        None => to.to_string(),
    });
    Ok(Some(PortMove {
        service: name.to_string(),
        host_ip,
        target,
        protocol,
        from,
        to,
    }))
}

/// The first host port `published` names and, for a range, its last one; a range moves only
/// by an offset.
fn host_range(
    name: &str,
    published: &str,
    settings: &FidelitySettings,
) -> Result<(u16, Option<u16>), Failure> {
    let (start, range_end) = match published.split_once('-') {
        Some((start, end)) => (start, end.parse::<u16>().ok()),
        None => (published, None),
    };
    let from: u16 = start.parse().map_err(|_| {
        Failure::bad_input(format!(
            "service `{name}` publishes port `{start}`, which devctl cannot move"
        ))
    })?;
    if range_end.is_some() && settings.port_offset.is_none() {
        return Err(Failure::bad_input(format!(
            "service `{name}` publishes the host port range starting at {from}: free ports are chosen one by one"
        ))
        .hint("set fidelity.port_offset in the profile to move the range as a whole"));
    }
    Ok((from, range_end))
}

/// `from` moved by the profile's offset.
fn offset_port(name: &str, from: u16, offset: u16) -> Result<u16, Failure> {
    from.checked_add(offset).ok_or_else(|| {
        Failure::bad_input(format!(
            "fidelity.port_offset {offset} moves port {from} of `{name}` past 65535"
        ))
        .hint("choose a smaller offset, or leave it unset for free ports")
    })
}

/// The last port of a moved range.
fn moved_range_end(name: &str, end: u16, offset: u16) -> Result<u16, Failure> {
    end.checked_add(offset).ok_or_else(|| {
        Failure::bad_input(format!(
            "fidelity.port_offset moves the range of `{name}` past 65535"
        ))
    })
}

/// Refuses when a moved port lands on one the live stack publishes.
fn refuse_live_ports(
    name: &str,
    from: u16,
    moved: std::ops::RangeInclusive<u16>,
    live_ports: &[u16],
) -> Result<(), Failure> {
    match moved.into_iter().find(|port| live_ports.contains(port)) {
        Some(taken) => Err(Failure::bad_input(format!(
            "fidelity.port_offset moves port {from} of `{name}` to {taken}, which the live stack publishes"
        ))
        .hint("choose another offset, or leave it unset for free ports")),
        None => Ok(()),
    }
}

/// Sets the profile's environment overrides for the service.
fn override_environment(
    name: &str,
    definition: &mut Map<String, Value>,
    settings: &FidelitySettings,
    changes: &mut Vec<String>,
) {
    let Some(overrides) = settings.environment.get(name) else {
        return;
    };
    let environment = definition.entry("environment").or_insert_with(|| json!({}));
    if let Some(environment) = environment.as_object_mut() {
        for (variable, value) in overrides {
            environment.insert(variable.clone(), json!(value));
            changes.push(environment_change(variable, value));
        }
    }
}

/// How the changes list an environment override of the profile.
pub(crate) fn environment_change(variable: &str, value: &str) -> String {
    format!("environment {variable}={value}")
}

/// Refuses settings that name a service this profile does not run.
fn refuse_unknown_services(
    settings: &FidelitySettings,
    services: &Map<String, Value>,
) -> Result<(), Failure> {
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
    Ok(())
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

/// `source → target`, a source inside the project shown relative to it.
fn shown_mount(mount: &Value, root: &Path) -> String {
    let source = PathBuf::from(text(mount, "source"));
    let shown = match relative_inside(&source, root) {
        Some(relative) => format!("./{}", relative.display()),
        None => source.display().to_string(),
    };
    format!("{shown} → {}", text(mount, "target"))
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
        transform(
            &model(root),
            settings,
            root,
            &DockerfileStages::new(),
            &mut |_, _, _| {
                next += 1;
                Ok(next)
            },
        )
    }

    fn targets(transformed: &Transformed, service: &str) -> Vec<String> {
        transformed.model["services"][service]["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|mount| text(mount, "target").to_string())
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
        assert!(
            transformed.services["app"].contains(
                &"build stage production: the profile's fidelity.build_targets, instead of the compose file's target `dev`".to_string()
            ),
            "{:#?}",
            transformed.services["app"]
        );
    }

    #[test]
    fn without_a_profile_target_the_dockerfile_s_production_like_stage_is_built() {
        let root = Path::new("/srv/shop");
        let stages = DockerfileStages::from([(
            "app".to_string(),
            vec!["dev".to_string(), "release".to_string()],
        )]);
        let transformed = transform(
            &model(root),
            &FidelitySettings::default(),
            root,
            &stages,
            &mut |_, _, _| Ok(40000),
        )
        .unwrap();
        assert_eq!(
            transformed.model["services"]["app"]["build"]["target"],
            "release"
        );
        let why = "build stage release: the Dockerfile's production-like stage, instead of the compose file's target `dev`";
        assert!(
            transformed.services["app"].contains(&why.to_string()),
            "{:#?}",
            transformed.services["app"]
        );
        assert_eq!(
            transformed.stages["app"].to_string(),
            why.trim_start_matches("build stage ")
        );
        assert!(!transformed.stages.contains_key("db"));
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
        let failure = transform(
            &external,
            &settings(),
            root,
            &DockerfileStages::new(),
            &mut port,
        )
        .unwrap_err();
        assert!(failure.message.contains("external"), "{}", failure.message);
        let shared = FidelitySettings {
            share_external_volumes: true,
            ..settings()
        };
        let transformed = transform(
            &external,
            &shared,
            root,
            &DockerfileStages::new(),
            &mut port,
        )
        .unwrap();
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
        let failure =
            transform(&ranged, &offset, root, &DockerfileStages::new(), &mut never).unwrap_err();
        assert!(
            failure.message.contains("which the live stack publishes"),
            "{}",
            failure.message
        );
        ranged["services"]["db"]["ports"][0]["published"] = json!("15432");
        let moved =
            transform(&ranged, &offset, root, &DockerfileStages::new(), &mut never).unwrap();
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
        let failure = transform(
            &ranged,
            &settings(),
            root,
            &DockerfileStages::new(),
            &mut choose,
        )
        .unwrap_err();
        assert!(
            failure.message.contains("host port range"),
            "{}",
            failure.message
        );
        ranged["services"]["db"]["ports"] = json!([]);
        transform(
            &ranged,
            &settings(),
            root,
            &DockerfileStages::new(),
            &mut choose,
        )
        .unwrap();
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
        let moved = transform(
            &live,
            &settings(),
            root,
            &DockerfileStages::new(),
            &mut port,
        )
        .unwrap();
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
        let failure = transform(
            &live,
            &settings(),
            root,
            &DockerfileStages::new(),
            &mut port,
        )
        .unwrap_err();
        assert!(
            failure.message.contains("fixed subnet"),
            "{}",
            failure.message
        );
    }

    static NO_STAGES: DockerfileStages = BTreeMap::new();

    fn inputs<'a>(settings: &'a FidelitySettings, root: &'a Path) -> Inputs<'a> {
        Inputs {
            settings,
            root,
            project: "shop-fidelity",
            live_ports: Vec::new(),
            source_volumes: BTreeMap::new(),
            live_builds: BTreeMap::new(),
            dockerfile_stages: &NO_STAGES,
        }
    }

    fn definition(service: Value) -> Map<String, Value> {
        service.as_object().unwrap().clone()
    }

    #[test]
    fn the_project_name_is_the_profile_s_or_the_live_one_with_a_suffix() {
        let unnamed = FidelitySettings::default();
        assert_eq!(
            fidelity_project_name("shop", &unnamed).unwrap(),
            "shop-fidelity"
        );
        let named = FidelitySettings {
            project_name: Some("shop-shipped".into()),
            ..FidelitySettings::default()
        };
        assert_eq!(
            fidelity_project_name("shop", &named).unwrap(),
            "shop-shipped"
        );
        let failure = live_project_name(&json!({"services": {}})).unwrap_err();
        assert!(
            failure.message.contains("no project name"),
            "{}",
            failure.message
        );
        let mut never =
            |_: &str, _: Option<&str>, _: &[u16]| -> Result<u16, Failure> { unreachable!() };
        let failure = transform(
            &json!({"name": "shop"}),
            &unnamed,
            Path::new("/srv/shop"),
            &DockerfileStages::new(),
            &mut never,
        )
        .unwrap_err();
        assert!(
            failure.message.contains("no services"),
            "{}",
            failure.message
        );
    }

    #[test]
    fn development_sections_are_dropped() {
        let mut service =
            definition(json!({"image": "x", "develop": {"watch": []}, "profiles": ["dev"]}));
        let mut changes = Vec::new();
        drop_development_sections(&mut service, &mut changes);
        assert_eq!(service, definition(json!({"image": "x"})));
        assert_eq!(changes, ["develop/watch section dropped"]);
        let mut profiled = definition(json!({"image": "x", "profiles": ["dev"]}));
        let mut changes = Vec::new();
        drop_development_sections(&mut profiled, &mut changes);
        assert!(profiled.get("profiles").is_none() && changes.is_empty());
    }

    #[test]
    fn a_volume_bound_to_a_listed_project_folder_is_kept() {
        let root = Path::new("/srv/shop");
        let listed = FidelitySettings {
            keep_mounts: vec!["./app/www/".into()],
            ..FidelitySettings::default()
        };
        let mut inputs = inputs(&listed, root);
        inputs
            .source_volumes
            .insert("served".into(), PathBuf::from("/srv/shop/app/www"));
        inputs
            .source_volumes
            .insert("logs".into(), PathBuf::from("/srv/shop/logs"));
        let mut service = definition(json!({"volumes": [
            {"type": "volume", "source": "served", "target": "/www"},
            {"type": "volume", "source": "logs", "target": "/logs"},
            {"type": "volume", "source": "data", "target": "/data"}
        ]}));
        let mut kept = Vec::new();
        let mut changes = Vec::new();
        drop_source_mounts("web", &mut service, &inputs, &mut kept, &mut changes);
        let targets: Vec<String> = service["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|mount| text(mount, "target").to_string())
            .collect();
        assert_eq!(targets, ["/www", "/data"]);
        assert_eq!(kept, ["web:/www"]);
        assert_eq!(
            changes,
            [
                "bind mount served → /www kept (fidelity.keep_mounts)",
                "bind mount logs → /logs dropped (a volume bound to a folder inside the project)"
            ]
        );
    }

    #[test]
    fn source_volumes_are_those_bound_to_a_project_folder() {
        let model = json!({"volumes": {
            "served": {"driver_opts": {"type": "none", "device": "/srv/shop/www"}},
            "bound": {"driver_opts": {"o": "ro,bind", "device": "/srv/shop/data"}},
            "outside": {"driver_opts": {"o": "bind", "device": "/var/www"}},
            "nfs": {"driver_opts": {"type": "nfs", "o": "addr=10.0.0.1", "device": "/srv/shop/nfs"}},
            "plain": {}
        }});
        assert_eq!(
            source_volumes(&model, Path::new("/srv/shop")),
            BTreeMap::from([
                ("bound".to_string(), PathBuf::from("/srv/shop/data")),
                ("served".to_string(), PathBuf::from("/srv/shop/www")),
            ])
        );
    }

    #[test]
    fn a_build_keeps_its_own_target_unless_the_profile_names_one() {
        let root = Path::new("/srv/shop");
        let settings = FidelitySettings {
            build_targets: BTreeMap::from([("worker".into(), "release".into())]),
            ..FidelitySettings::default()
        };
        let inputs = inputs(&settings, root);
        let mut result = Transformed::empty("shop-fidelity");
        let mut changes = Vec::new();
        let mut app = definition(
            json!({"build": {"context": "/srv/shop/app", "target": "dev"}, "image": "shop/app:dev"}),
        );
        choose_image("app", &mut app, &inputs, &mut result, &mut changes).unwrap();
        assert_eq!(app["build"]["target"], "dev");
        assert_eq!(app["image"], "shop-fidelity-app");
        assert_eq!(
            changes,
            [
                "build stage dev: the compose file's target; the Dockerfile could not be read to look for a production-like stage",
                "built in this run as image shop-fidelity-app"
            ]
        );
        let mut worker = definition(json!({"build": {"context": "/srv/shop/worker"}}));
        let mut changes = Vec::new();
        choose_image("worker", &mut worker, &inputs, &mut result, &mut changes).unwrap();
        assert_eq!(worker["build"]["target"], "release");
        assert_eq!(
            changes,
            [
                "build stage release: the profile's fidelity.build_targets",
                "built in this run as image shop-fidelity-worker"
            ]
        );
        assert_eq!(result.stages["worker"].stage.as_deref(), Some("release"));
        // Without a target anywhere, the last stage: none is set.
        let mut last = definition(json!({"build": {"context": "/srv/shop/last"}}));
        let mut changes = Vec::new();
        choose_image("last", &mut last, &inputs, &mut result, &mut changes).unwrap();
        assert!(last["build"].get("target").is_none());
        assert_eq!(
            changes[0],
            "build stage: the Dockerfile's last stage, as the compose file names no target"
        );
        let images = std::mem::take(&mut result.images);
        assert_eq!(
            images,
            BTreeMap::from([
                ("app".to_string(), "shop-fidelity-app".to_string()),
                ("last".to_string(), "shop-fidelity-last".to_string()),
                ("worker".to_string(), "shop-fidelity-worker".to_string()),
            ])
        );
        // An image nobody in the stack builds is left as it is.
        let mut db = definition(json!({"image": "postgres:15"}));
        let mut changes = Vec::new();
        choose_image("db", &mut db, &inputs, &mut result, &mut changes).unwrap();
        assert!(result.images.is_empty());
        assert_eq!(db["image"], "postgres:15");
        assert!(changes.is_empty());
    }

    #[test]
    fn a_fixed_container_name_is_renamed_or_refused() {
        let mut service = definition(json!({"container_name": "shop-app"}));
        let mut changes = Vec::new();
        rename_container(
            "app",
            &mut service,
            &FidelitySettings::default(),
            &mut changes,
        )
        .unwrap();
        assert_eq!(service["container_name"], "shop-app-fidelity");
        assert_eq!(changes, ["container_name shop-app → shop-app-fidelity"]);
        let refuse = FidelitySettings {
            fixed_names: FixedNames::Refuse,
            ..FidelitySettings::default()
        };
        let mut service = definition(json!({"container_name": "shop-app"}));
        let failure = rename_container("app", &mut service, &refuse, &mut Vec::new()).unwrap_err();
        assert!(
            failure
                .message
                .contains("service `app` has the fixed container_name `shop-app`"),
            "{}",
            failure.message
        );
        let mut unnamed = definition(json!({"image": "postgres:15"}));
        rename_container("db", &mut unnamed, &refuse, &mut changes).unwrap();
        assert!(unnamed.get("container_name").is_none() && changes.len() == 1);
    }

    #[test]
    fn external_networks_are_shared() {
        let mut network = json!({"name": "proxy", "external": true});
        let mut changes = Vec::new();
        let refuse = FidelitySettings {
            fixed_names: FixedNames::Refuse,
            ..FidelitySettings::default()
        };
        rename_resource(
            "network",
            "proxy",
            &mut network,
            "shop",
            "shop-fidelity",
            &refuse,
            &mut changes,
        )
        .unwrap();
        assert_eq!(network["name"], "proxy");
        assert_eq!(
            changes,
            ["external network proxy shared with the live stack"]
        );
    }

    #[test]
    fn ports_devctl_cannot_move_are_refused() {
        let free = FidelitySettings::default();
        let failure = host_range("app", "http", &free).unwrap_err();
        assert!(
            failure
                .message
                .contains("service `app` publishes port `http`, which devctl cannot move"),
            "{}",
            failure.message
        );
        assert_eq!(host_range("app", "8080", &free).unwrap(), (8080, None));
        let offset = FidelitySettings {
            port_offset: Some(1000),
            ..FidelitySettings::default()
        };
        assert_eq!(
            host_range("app", "8080-8090", &offset).unwrap(),
            (8080, Some(8090))
        );
        let root = Path::new("/srv/shop");
        let inputs = inputs(&offset, root);
        let mut never =
            |_: &str, _: Option<&str>, _: &[u16]| -> Result<u16, Failure> { unreachable!() };
        let mut range = json!({"target": 80, "published": "64000-65000"});
        let failure = move_port("app", &mut range, &inputs, &mut never).unwrap_err();
        assert!(
            failure
                .message
                .contains("moves the range of `app` past 65535"),
            "{}",
            failure.message
        );
        let mut unpublished = json!({"target": 80});
        assert!(
            move_port("app", &mut unpublished, &inputs, &mut never)
                .unwrap()
                .is_none()
        );
        assert_eq!(unpublished, json!({"target": 80}));
    }

    #[test]
    fn published_ports_include_every_port_of_a_range() {
        let model = json!({"services": {
            "app": {"ports": [
                {"target": 80, "published": "8080"},
                {"target": 81, "published": "9000-9002"},
                {"target": 82}
            ]},
            "db": {"ports": [{"target": 5432, "published": 5432}]}
        }});
        assert_eq!(published_ports(&model), [8080, 9000, 9001, 9002, 5432]);
    }

    #[test]
    fn environment_overrides_add_the_section_when_missing() {
        let settings = settings();
        let mut service = definition(json!({"image": "shop/app:dev"}));
        let mut changes = Vec::new();
        override_environment("app", &mut service, &settings, &mut changes);
        assert_eq!(service["environment"], json!({"MODE": "production"}));
        assert_eq!(changes, ["environment MODE=production"]);
        let mut other = definition(json!({"image": "postgres:15"}));
        override_environment("db", &mut other, &settings, &mut changes);
        assert!(other.get("environment").is_none() && changes.len() == 1);
    }
}
