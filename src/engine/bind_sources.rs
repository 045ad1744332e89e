//! Bind mounts whose folder the engine cannot see. Before devctl starts services, each bind
//! source that exists on this machine is looked up on the engine's host, by the engine itself:
//! one it does not have means the engine runs elsewhere (another machine, another mount
//! namespace), and compose would start the service on an empty folder created there. Such an
//! `up` is refused unless the profile allows it; the fidelity stack, which ships its sources
//! in images, is the way to run on such an engine.

use std::path::Path;

use anyhow::Result;

use crate::compose::model::ComposeModel;
use crate::engine::api::Engine;
use crate::project::Project;
use crate::report::command_line::Stack;
use crate::report::exit_status::ExitStatus;
use crate::report::failure::Failure;
use crate::report::printer::Printer;

/// The profile key that lets such services start.
pub const SETTING: &str = "up.allow_unshared_bind_sources";

/// One bind mount of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindSource {
    pub service: String,
    /// The folder or file on this machine, as compose resolved it (absolute).
    pub source: String,
    /// The path in the container.
    pub target: String,
}

/// The bind mounts of `services` of `model` whose source `exists` on this machine, service by
/// service in the order given. A source missing here too is left out: compose creates it
/// wherever the engine runs, the same on either side.
pub fn local_sources(
    model: &ComposeModel,
    services: &[String],
    exists: impl Fn(&Path) -> bool,
) -> Vec<BindSource> {
    let mut found = Vec::new();
    for service in services {
        for mount in model.mounts(service) {
            let Some(source) = mount.source.filter(|_| mount.kind == "bind") else {
                continue;
            };
            if exists(Path::new(source)) {
                found.push(BindSource {
                    service: service.clone(),
                    source: source.to_string(),
                    target: mount.target.to_string(),
                });
            }
        }
    }
    found
}

/// The bind mount a `compose run -v SPEC` adds to `service`, when `SPEC` (`SOURCE:TARGET[:MODE]`)
/// names a folder: a source starting with `/`, `.` or `~`, a relative one resolved against
/// compose's project `directory`. A named or anonymous volume is none.
pub fn run_volume(service: &str, spec: &str, directory: &Path) -> Option<BindSource> {
    let (source, rest) = spec.split_once(':')?;
    let target = rest.split(':').next().unwrap_or(rest);
    let source = match source {
        "~" => dirs::home_dir()?,
        _ if source.starts_with("~/") => dirs::home_dir()?.join(&source[2..]),
        _ if source.starts_with('/') => Path::new(source).to_path_buf(),
        _ if source.starts_with('.') => directory.join(source),
        _ => return None,
    };
    let source: std::path::PathBuf =
        source
            .components()
            .fold(std::path::PathBuf::new(), |mut path, component| {
                match component {
                    std::path::Component::CurDir => {}
                    std::path::Component::ParentDir => {
                        path.pop();
                    }
                    other => path.push(other),
                }
                path
            });
    Some(BindSource {
        service: service.to_string(),
        source: source.display().to_string(),
        target: target.to_string(),
    })
}

/// Each source of `binds` once, in order: what the engine is asked about.
pub fn distinct_sources(binds: &[BindSource]) -> Vec<String> {
    let mut sources: Vec<String> = Vec::new();
    for bind in binds {
        if !sources.contains(&bind.source) {
            sources.push(bind.source.clone());
        }
    }
    sources
}

/// Where the setting would go, and the state of the stack, for the refusal's hint.
pub struct Advice<'a> {
    /// The profile's name.
    pub profile: &'a str,
    /// The profile's file, when it has one.
    pub file: Option<&'a Path>,
    /// The project root, to show sources inside it relative to it.
    pub root: &'a Path,
    pub stack: Stack,
    /// Whether the profile allows it (`up.allow_unshared_bind_sources`).
    pub allowed: bool,
}

impl Advice<'_> {
    /// The advice for `project`'s profile and stack.
    pub fn of(project: &Project) -> Advice<'_> {
        Advice {
            profile: &project.profile.name,
            file: project.profile.source.as_deref(),
            root: project.root.path(),
            stack: project.stack(),
            allowed: project.profile.allow_unshared_bind_sources,
        }
    }
}

/// Asks the engine about every bind source of `services` that exists on this machine and
/// refuses, starting nothing, when it lacks any (unless `advice.allowed`, which warns).
pub fn check(
    engine: &Engine,
    model: &ComposeModel,
    services: &[String],
    advice: &Advice,
    printer: &Printer,
) -> Result<()> {
    check_with(engine, model, services, Vec::new(), advice, printer)
}

/// `check`, with `added`: bind mounts the command line adds to the model's (`run -v`), asked
/// about when their source exists on this machine.
pub fn check_with(
    engine: &Engine,
    model: &ComposeModel,
    services: &[String],
    added: Vec<BindSource>,
    advice: &Advice,
    printer: &Printer,
) -> Result<()> {
    let mut binds = local_sources(model, services, |path| path.exists());
    binds.extend(
        added
            .into_iter()
            .filter(|bind| Path::new(&bind.source).exists()),
    );
    if binds.is_empty() {
        return Ok(());
    }
    // An engine that answers the probe otherwise than Docker's does is not held against the
    // project: said, and compose goes on as it would.
    let missing = match engine.missing_bind_sources(&distinct_sources(&binds)) {
        Ok(missing) => missing,
        Err(error) => {
            printer.warn(format!(
                "the bind-mounted folders were not checked on the engine: {error:#}"
            ));
            return Ok(());
        }
    };
    let unshared: Vec<BindSource> = binds
        .into_iter()
        .filter(|bind| missing.contains(&bind.source))
        .collect();
    if unshared.is_empty() {
        return Ok(());
    }
    // Who the engine is helps find it; asked only now, when it is named.
    let name = engine.identity().ok().and_then(|identity| identity.name);
    let engine = describe_engine(engine.host(), name.as_deref());
    if advice.allowed {
        printer.warn(format!(
            "{engine} does not have {}; starting anyway, as {SETTING} allows: the services see the engine's own folders there",
            listed(&unshared, advice.root)
        ));
        return Ok(());
    }
    Err(refusal(&engine, &unshared, advice).into())
}

/// `the engine NAME at HOST`, or `the engine at HOST` when it gave no name.
pub fn describe_engine(host: &str, name: Option<&str>) -> String {
    match name {
        Some(name) => format!(
            "the engine {} at {host}",
            crate::report::text::escaped(name)
        ),
        None => format!("the engine at {host}"),
    }
}

/// `service web: ./src → /app, service worker: /srv/data → /data`.
fn listed(unshared: &[BindSource], root: &Path) -> String {
    unshared
        .iter()
        .map(|bind| {
            format!(
                "service {}: {} → {}",
                bind.service,
                shown(&bind.source, root),
                bind.target
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A source inside the project root as `./relative`, others as they are.
fn shown(source: &str, root: &Path) -> String {
    match Path::new(source).strip_prefix(root) {
        Ok(relative) if relative.as_os_str().is_empty() => ".".into(),
        Ok(relative) => format!("./{}", relative.display()),
        Err(_) => source.to_string(),
    }
}

/// The refusal for the `unshared` bind mounts of `engine` (as `describe_engine` says it).
pub fn refusal(engine: &str, unshared: &[BindSource], advice: &Advice) -> Failure {
    let message = format!(
        "nothing was started: {engine} does not see this machine's folders, and these bind mounts' sources are not on its host: {}; compose would create empty folders there and run the services on them",
        listed(unshared, advice.root)
    );
    let profile = match advice.file {
        Some(file) => format!(
            "{} (profile `{}`)",
            file.strip_prefix(advice.root).unwrap_or(file).display(),
            advice.profile
        ),
        None => format!("profiles/{}.yaml", advice.profile),
    };
    let hint = match advice.stack.is_fidelity() {
        false => format!(
            "run `{}`: it builds the images, ships them to the engine and mounts no source folder, the way to run on a remote engine; or, to start them on the engine's own folders, set `allow_unshared_bind_sources: true` under `up:` in {profile}",
            advice.stack.devctl("up --fidelity")
        ),
        true => format!(
            "the fidelity stack keeps these mounts: drop them (`fidelity.drop_mounts`, or out of `fidelity.keep_mounts`), or, to start them on the engine's own folders, set `allow_unshared_bind_sources: true` under `up:` in {profile}"
        ),
    };
    Failure::new(ExitStatus::Refused, message).hint(hint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn run_volumes_that_name_folders_are_bind_mounts_resolved_like_compose() {
        let directory = Path::new("/work/shop");
        let bind = |spec: &str| run_volume("app", spec, directory).map(|bind| bind.source);
        assert_eq!(bind("./src:/src").as_deref(), Some("/work/shop/src"));
        assert_eq!(bind("../other/./x:/x:ro").as_deref(), Some("/work/other/x"));
        assert_eq!(bind("/srv/data:/data").as_deref(), Some("/srv/data"));
        assert_eq!(
            run_volume("app", "./src:/src:ro", directory)
                .unwrap()
                .target,
            "/src"
        );
        assert_eq!(bind("data:/data"), None);
        assert_eq!(bind("/anonymous"), None);
    }

    fn model() -> ComposeModel {
        ComposeModel::new(json!({
            "name": "shop",
            "services": {
                "web": {"volumes": [
                    {"type": "bind", "source": "/p/src", "target": "/app"},
                    {"type": "volume", "source": "data", "target": "/data"},
                    {"type": "bind", "source": "/p/not-here", "target": "/new"},
                    {"type": "tmpfs", "target": "/tmp"},
                    {"type": "volume", "target": "/anonymous"}
                ]},
                "worker": {"volumes": [
                    {"type": "bind", "source": "/p/src", "target": "/code"},
                    {"type": "bind", "source": "/etc/shop.conf", "target": "/etc/shop.conf"}
                ]},
                "db": {}
            }
        }))
        .unwrap()
    }

    fn here(path: &Path) -> bool {
        ["/p/src", "/etc/shop.conf", "/p"].contains(&path.to_str().unwrap())
    }

    #[test]
    fn only_the_bind_sources_of_the_services_started_that_exist_here_are_asked_about() {
        let services = ["web".to_string(), "worker".to_string(), "db".to_string()];
        let binds = local_sources(&model(), &services, here);
        let found: Vec<(&str, &str, &str)> = binds
            .iter()
            .map(|bind| {
                (
                    bind.service.as_str(),
                    bind.source.as_str(),
                    bind.target.as_str(),
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                ("web", "/p/src", "/app"),
                ("worker", "/p/src", "/code"),
                ("worker", "/etc/shop.conf", "/etc/shop.conf"),
            ]
        );
        assert_eq!(distinct_sources(&binds), ["/p/src", "/etc/shop.conf"]);
        assert!(local_sources(&model(), &["db".to_string()], here).is_empty());
        assert!(local_sources(&model(), &["web".to_string()], |_| false).is_empty());
    }

    #[test]
    fn the_refusal_names_each_service_source_and_the_engine_and_points_at_fidelity() {
        let binds = local_sources(&model(), &["web".into(), "worker".into()], here);
        let advice = Advice {
            profile: "default",
            file: Some(Path::new("/p/profiles/default.yaml")),
            root: Path::new("/p"),
            stack: Stack::live(),
            allowed: false,
        };
        let engine = describe_engine("ssh://me@build-box", Some("build-box"));
        let failure = refusal(&engine, &binds, &advice);
        assert_eq!(failure.status, ExitStatus::Refused);
        assert_eq!(
            failure.message,
            "nothing was started: the engine build-box at ssh://me@build-box does not see this machine's folders, and these bind mounts' sources are not on its host: service web: ./src → /app, service worker: ./src → /code, service worker: /etc/shop.conf → /etc/shop.conf; compose would create empty folders there and run the services on them"
        );
        let hint = failure.hint.unwrap();
        assert!(hint.contains("`devctl up --fidelity`"), "{hint}");
        assert!(
            hint.contains(
                "set `allow_unshared_bind_sources: true` under `up:` in profiles/default.yaml (profile `default`)"
            ),
            "{hint}"
        );
        let fidelity = Advice {
            stack: Stack::fidelity(),
            file: None,
            ..advice
        };
        let hint = refusal(&engine, &binds, &fidelity).hint.unwrap();
        assert!(hint.contains("fidelity.drop_mounts"), "{hint}");
        assert!(hint.contains("profiles/default.yaml"), "{hint}");
        assert_eq!(
            describe_engine("unix:///var/run/docker.sock", None),
            "the engine at unix:///var/run/docker.sock"
        );
    }
}
