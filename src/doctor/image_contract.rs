//! The runtime image contract: what a service's deployable image must be — entrypoint and
//! command, exposed ports, a non-root user, a healthcheck, required environment variables,
//! paths that must not exist (compilers, package managers, test runners, VCS), a maximum
//! size — checked against the image's metadata and a listing of its files.
//!
//! `check` is pure over `ImageFacts`; `ImageFacts::read` gathers them from the engine, from
//! a container of the image that is created, never started: the listing through `docker
//! export` (only when the contract names forbidden paths), and the few files the
//! compose-against-image checks (`image_fit`) look up, one by one (`image_files`).

use std::collections::BTreeSet;

use anyhow::{Context, Result};

use crate::compose::program::DockerCli;
use crate::doctor::image_files::{EngineFiles, ImageFiles, Lookup};
use crate::engine::api::Engine;
use crate::project::profile_file::ImageContract;

/// What an image is.
#[derive(Debug, Clone, Default)]
pub struct ImageFacts {
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub exposed_ports: Vec<String>,
    pub user: String,
    /// Names of the variables its environment sets.
    pub environment: Vec<String>,
    pub healthcheck: bool,
    /// Its HEALTHCHECK's test (`["CMD-SHELL", "…"]`), empty without one.
    pub healthcheck_test: Vec<String>,
    /// The PATH its environment sets.
    pub search_path: Option<String>,
    pub working_dir: String,
    /// Its SHELL (empty: the default, `/bin/sh -c`).
    pub shell: Vec<String>,
    pub size: u64,
    /// Every path in the image, absolute (`/usr/bin/gcc`), when it was listed.
    pub paths: BTreeSet<String>,
    /// The files the compose-against-image checks looked up.
    pub files: ImageFiles,
}

/// What to read of an image besides its configuration.
#[derive(Clone, Copy, Default)]
pub struct Wanted<'a> {
    /// Every path (for the contract's forbidden paths): the whole file system is streamed.
    pub paths: bool,
    /// Looks up the files some checks need (`image_fit::misfits` over compose's service),
    /// given the facts read so far; what it looks up is kept in `ImageFacts::files`.
    pub lookups: Option<&'a Lookups<'a>>,
}

/// What `Wanted::lookups` is: a check run to learn which files it reads.
pub type Lookups<'a> = dyn Fn(&ImageFacts, &mut dyn Lookup) + 'a;

impl ImageFacts {
    /// Reads `image`'s metadata and what `wanted` of its files; `None` when the engine lacks
    /// it.
    pub fn read(
        engine: &Engine,
        docker: &DockerCli,
        image: &str,
        wanted: Wanted,
    ) -> Result<Option<ImageFacts>> {
        let Some(inspected) = engine.inspect_image(image) else {
            return Ok(None);
        };
        let config = inspected.config.unwrap_or_default();
        let healthcheck_test = config
            .healthcheck
            .and_then(|check| check.test)
            .filter(|test| !test.is_empty() && test[0] != "NONE")
            .unwrap_or_default();
        let environment = config.env.unwrap_or_default();
        let mut facts = ImageFacts {
            entrypoint: config.entrypoint.unwrap_or_default(),
            cmd: config.cmd.unwrap_or_default(),
            exposed_ports: config.exposed_ports.unwrap_or_default(),
            user: config.user.unwrap_or_default(),
            environment: environment
                .iter()
                .map(|pair| pair.split('=').next().unwrap_or_default().to_string())
                .collect(),
            search_path: environment
                .iter()
                .find_map(|pair| pair.strip_prefix("PATH="))
                .map(String::from),
            working_dir: config.working_dir.unwrap_or_default(),
            shell: config.shell.unwrap_or_default(),
            healthcheck: !healthcheck_test.is_empty(),
            healthcheck_test,
            size: inspected.size.unwrap_or_default().max(0) as u64,
            paths: BTreeSet::new(),
            files: ImageFiles::default(),
        };
        if !wanted.paths && wanted.lookups.is_none() {
            return Ok(Some(facts));
        }
        let container = engine.create_inspector(image)?;
        let read = facts.read_files(engine, docker, &container, image, wanted);
        let removed = engine.remove_container(&container);
        read?;
        removed?;
        Ok(Some(facts))
    }

    /// The listing and the looked-up files `wanted` names, from `container` (of `image`).
    fn read_files(
        &mut self,
        engine: &Engine,
        docker: &DockerCli,
        container: &str,
        image: &str,
        wanted: Wanted,
    ) -> Result<()> {
        if wanted.paths {
            self.paths = list_files(docker, container)?;
        }
        if let Some(lookups) = wanted.lookups {
            let mut files = EngineFiles {
                engine,
                container,
                files: ImageFiles::default(),
                error: None,
            };
            lookups(self, &mut files);
            self.files = files
                .finish()
                .with_context(|| format!("cannot look up files in image {image}"))?;
        }
        Ok(())
    }
}

fn list_files(docker: &DockerCli, container: &str) -> Result<BTreeSet<String>> {
    let mut stream = docker.export(container)?;
    let mut paths = BTreeSet::new();
    {
        let mut archive = tar::Archive::new(&mut stream);
        for entry in archive
            .entries()
            .context("cannot read the image's file listing")?
        {
            let entry = entry.context("cannot read the image's file listing")?;
            let path = entry
                .path()
                .context("a path in the image is not readable")?;
            let text = path.to_string_lossy();
            paths.insert(format!(
                "/{}",
                text.trim_start_matches("./").trim_end_matches('/')
            ));
        }
    }
    // The archive ends before the stream does (padding): read it out so the child exits.
    std::io::copy(&mut stream, &mut std::io::sink())
        .context("cannot read the image's file listing")?;
    stream.finish()?;
    Ok(paths)
}

/// Every way `facts` break `contract`, one sentence each.
pub fn check(contract: &ImageContract, facts: &ImageFacts) -> Vec<String> {
    let mut broken = Vec::new();
    if let Some(entrypoint) = &contract.entrypoint
        && entrypoint != &facts.entrypoint
    {
        broken.push(format!(
            "entrypoint is {:?}, the contract says {entrypoint:?}",
            facts.entrypoint
        ));
    }
    if let Some(cmd) = &contract.cmd
        && cmd != &facts.cmd
    {
        broken.push(format!("cmd is {:?}, the contract says {cmd:?}", facts.cmd));
    }
    for port in contract.exposed_ports.iter().flatten() {
        let wanted = if port.contains('/') {
            port.clone()
        } else {
            format!("{port}/tcp")
        };
        if !facts.exposed_ports.contains(&wanted) {
            broken.push(format!("does not expose {wanted}"));
        }
    }
    if contract.non_root == Some(true) {
        let user = facts.user.split(':').next().unwrap_or_default();
        if user.is_empty() || user == "root" || user == "0" {
            broken.push("runs as root (no USER, or USER root)".into());
        }
    }
    if contract.healthcheck == Some(true) && !facts.healthcheck {
        broken.push("has no HEALTHCHECK".into());
    }
    for variable in contract.environment.iter().flatten() {
        if !facts.environment.contains(variable) {
            broken.push(format!("does not set {variable} in its environment"));
        }
    }
    for forbidden in contract.forbidden_paths.iter().flatten() {
        if let Some(path) = forbidden_path(forbidden, &facts.paths) {
            broken.push(format!("contains {path} (forbidden: {forbidden})"));
        }
    }
    if let Some(limit) = contract.max_size.as_deref() {
        match crate::report::units::parse_size(limit) {
            Some(bytes) if facts.size > bytes => broken.push(format!(
                "is {} bytes, over its limit of {limit}",
                facts.size
            )),
            Some(_) => {}
            None => broken.push(format!(
                "max_size `{limit}` is not a size (write e.g. 200MiB or 1GB)"
            )),
        }
    }
    broken
}

/// The first of `paths` that `forbidden` names: the path itself or anything under it, or
/// with a trailing `*`, any path that starts with what comes before it.
fn forbidden_path<'a>(forbidden: &str, paths: &'a BTreeSet<String>) -> Option<&'a String> {
    let pattern = format!(
        "/{}",
        forbidden.trim_start_matches('/').trim_end_matches('/')
    );
    match pattern.strip_suffix('*') {
        Some(prefix) => paths.iter().find(|path| path.starts_with(prefix)),
        None => paths
            .iter()
            .find(|path| **path == pattern || path.starts_with(&format!("{pattern}/"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compliant() -> ImageFacts {
        ImageFacts {
            entrypoint: vec![],
            cmd: vec!["httpd".into(), "-f".into()],
            exposed_ports: vec!["8080/tcp".into()],
            user: "1000:1000".into(),
            environment: vec!["PATH".into(), "APP_ENV".into()],
            healthcheck: true,
            size: 2_000_000,
            paths: ["/bin/busybox", "/bin/sh", "/app/www/index.html"]
                .map(String::from)
                .into(),
            ..ImageFacts::default()
        }
    }

    fn contract() -> ImageContract {
        ImageContract {
            cmd: Some(vec!["httpd".into(), "-f".into()]),
            exposed_ports: Some(vec!["8080".into()]),
            non_root: Some(true),
            healthcheck: Some(true),
            environment: Some(vec!["APP_ENV".into()]),
            forbidden_paths: Some(vec![
                "/usr/bin/gcc".into(),
                "/usr/lib/node_modules/npm".into(),
                "/.git".into(),
                "/usr/bin/pytest*".into(),
            ]),
            max_size: Some("10MiB".into()),
            ..ImageContract::default()
        }
    }

    #[test]
    fn a_compliant_image_passes() {
        assert_eq!(check(&contract(), &compliant()), Vec::<String>::new());
    }

    #[test]
    fn each_broken_term_is_named() {
        let mut facts = compliant();
        facts.user = String::new();
        facts.healthcheck = false;
        facts.paths.insert("/usr/bin/gcc".into());
        facts
            .paths
            .insert("/usr/lib/node_modules/npm/bin/npm-cli.js".into());
        facts.paths.insert("/usr/bin/pytest-3".into());
        facts.exposed_ports.clear();
        facts.environment.retain(|name| name != "APP_ENV");
        facts.cmd = vec!["sh".into()];
        facts.size = 50 * 1024 * 1024;
        let broken = check(&contract(), &facts);
        for expected in [
            "runs as root",
            "no HEALTHCHECK",
            "contains /usr/bin/gcc",
            "contains /usr/lib/node_modules/npm/bin/npm-cli.js",
            "contains /usr/bin/pytest-3",
            "does not expose 8080/tcp",
            "APP_ENV",
            "cmd is",
            "over its limit",
        ] {
            assert!(
                broken.iter().any(|line| line.contains(expected)),
                "{expected}: {broken:#?}"
            );
        }
    }

    #[test]
    fn a_forbidden_path_covers_what_is_under_it_and_a_star_any_suffix() {
        let contract = ImageContract {
            forbidden_paths: Some(vec!["/.git/".into(), "usr/bin/python3*".into()]),
            ..ImageContract::default()
        };
        let mut facts = compliant();
        facts.paths.insert("/.github/workflows".into());
        facts.paths.insert("/usr/bin/python".into());
        assert_eq!(check(&contract, &facts), Vec::<String>::new());
        facts.paths.insert("/.git/HEAD".into());
        facts.paths.insert("/usr/bin/python3.12".into());
        assert_eq!(
            check(&contract, &facts),
            [
                "contains /.git/HEAD (forbidden: /.git/)",
                "contains /usr/bin/python3.12 (forbidden: usr/bin/python3*)",
            ]
        );
    }

    #[test]
    fn the_entrypoint_ports_with_a_protocol_and_an_unreadable_size_are_named() {
        let contract = ImageContract {
            entrypoint: Some(vec!["/entrypoint.sh".into()]),
            exposed_ports: Some(vec!["8080/tcp".into(), "53/udp".into()]),
            max_size: Some("small".into()),
            ..ImageContract::default()
        };
        assert_eq!(
            check(&contract, &compliant()),
            [
                r#"entrypoint is [], the contract says ["/entrypoint.sh"]"#,
                "does not expose 53/udp",
                "max_size `small` is not a size (write e.g. 200MiB or 1GB)",
            ]
        );
    }
}
