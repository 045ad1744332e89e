//! Package rules over the Dockerfile of each service that builds one, reading every RUN with
//! `doctor::shell`: installs that neither follow a lockfile nor pin what they install
//! (`unfrozen-install`: npm, yarn, pnpm, pip, pipx), and package-manager caches left in the
//! layers of the image that ships (`package-cache-left`: apt, apk, pip, npm, yarn, yum/dnf,
//! zypper), unless the RUN cleans them or mounts a BuildKit cache or tmpfs on them.

use std::collections::BTreeMap;

use crate::doctor::dockerfile::{Dockerfile, Instruction, StageTree};
use crate::doctor::finding::{Finding, Location};
use crate::doctor::lint_input::BuildSource;
use crate::doctor::rule::{Check, LintRule};
use crate::doctor::rule_id::RuleId;
use crate::doctor::rule_id::Severity::{Info, Warning};
use crate::doctor::shell::{self, Command, Run};

/// Where `instruction` is, in `build`'s Dockerfile.
fn at(build: &BuildSource, instruction: &Instruction) -> Option<Location> {
    Some(Location::at(
        &build.dockerfile_path,
        instruction.line as u64,
        1,
    ))
}

/// `name` is `base` or `base` followed by a version: `pip3`, `pip3.12`, `python3`.
fn is_versioned(name: &str, base: &str) -> bool {
    name.strip_prefix(base)
        .is_some_and(|version| version.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// The program a command runs and its arguments: `python -m pip install x` runs `pip` with
/// `install x`.
fn invoked(command: &Command) -> Option<(&str, &[String])> {
    let program = command.program()?;
    if is_versioned(program, "python") && command.words.get(1).is_some_and(|word| word == "-m") {
        let module = command.words.get(2)?;
        return Some((module.as_str(), &command.words[3..]));
    }
    let program = if is_versioned(program, "pip") {
        "pip"
    } else {
        program
    };
    Some((program, &command.words[1..]))
}

/// The first word of `arguments` that is neither an option nor the value of an option in
/// `takes_value` (`--opt value`; `--opt=value` is one word), and the words after it.
fn subcommand<'a>(
    arguments: &'a [String],
    takes_value: &[&str],
) -> Option<(&'a str, &'a [String])> {
    let mut index = 0;
    while let Some(word) = arguments.get(index) {
        if word.starts_with('-') && word.len() > 1 {
            index += 1 + usize::from(takes_value.contains(&word.as_str()));
        } else {
            return Some((word.as_str(), &arguments[index + 1..]));
        }
    }
    None
}

/// What `arguments` name that are not options, and the options' values by option
/// (`--opt value` for the options in `takes_value`, and `--opt=value`).
fn operands<'a>(
    arguments: &'a [String],
    takes_value: &[&str],
) -> (Vec<&'a str>, Vec<(&'a str, &'a str)>) {
    let mut operands = Vec::new();
    let mut values = Vec::new();
    let mut index = 0;
    while let Some(word) = arguments.get(index) {
        index += 1;
        if word.starts_with("--")
            && let Some((option, value)) = word.split_once('=')
        {
            values.push((option, value));
        } else if word.starts_with('-') && word.len() > 1 {
            if takes_value.contains(&word.as_str()) {
                if let Some(value) = arguments.get(index) {
                    values.push((word.as_str(), value.as_str()));
                }
                index += 1;
            }
        } else {
            operands.push(word.as_str());
        }
    }
    (operands, values)
}

/// The value of `option` (any of its spellings) in `values`.
fn value_of<'a>(values: &[(&'a str, &'a str)], option: &[&str]) -> Option<&'a str> {
    values
        .iter()
        .rev()
        .find(|(name, _)| option.contains(name))
        .map(|(_, value)| *value)
}

/// pip's options (global and `install`'s) that take a value.
const PIP_VALUE_OPTIONS: &[&str] = &[
    "-r",
    "--requirement",
    "-c",
    "--constraint",
    "-e",
    "--editable",
    "-t",
    "--target",
    "--platform",
    "--python-version",
    "--implementation",
    "--abi",
    "--root",
    "--prefix",
    "-b",
    "--build",
    "--src",
    "--upgrade-strategy",
    "-C",
    "--config-settings",
    "--global-option",
    "--install-option",
    "--no-binary",
    "--only-binary",
    "--progress-bar",
    "--root-user-action",
    "--report",
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "--trusted-host",
    "--cache-dir",
    "--log",
    "--log-file",
    "--local-log",
    "--proxy",
    "--retries",
    "--timeout",
    "--exists-action",
    "--cert",
    "--client-cert",
    "--python",
    "--keyring-provider",
    "--use-feature",
    "--use-deprecated",
    "--resume-retries",
    "--group",
    "--build-constraint",
];

/// pipx's options that take a value.
const PIPX_VALUE_OPTIONS: &[&str] = &[
    "--python",
    "--pip-args",
    "--suffix",
    "-i",
    "--index-url",
    "--spec",
    "--preinstall",
    "--backend",
];

/// npm's options that take a value, when written `--opt value`.
const NPM_VALUE_OPTIONS: &[&str] = &[
    "--registry",
    "--loglevel",
    "--prefix",
    "--cache",
    "--userconfig",
    "--globalconfig",
    "--tag",
    "-w",
    "--workspace",
    "--omit",
    "--include",
    "--install-strategy",
    "--before",
    "--location",
    "--save-prefix",
    "--script-shell",
    "--otp",
];

/// npm's `install` and its aliases.
const NPM_INSTALL: &[&str] = &[
    "install", "i", "in", "ins", "inst", "insta", "instal", "isnt", "isnta", "isntal", "isntall",
    "add",
];

/// Archives pip and npm install as they are.
const ARCHIVES: &[&str] = &[
    ".whl", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar", ".zip",
];

/// A local path: `.`, `./x`, `../x`, `/x`, `~/x`.
fn is_local_path(word: &str) -> bool {
    word == "."
        || word == ".."
        || ["./", "../", "/", "~"]
            .iter()
            .any(|prefix| word.starts_with(prefix))
}

fn is_archive(word: &str) -> bool {
    let path = word.split(['#', '?']).next().unwrap_or(word);
    ARCHIVES.iter().any(|suffix| path.ends_with(suffix))
}

/// A version-control URL, `git+https://…`, `git://…`, `hg+…`, `svn+…`, `bzr+…`.
fn is_vcs(word: &str) -> bool {
    ["git+", "git://", "hg+", "svn+", "svn://", "bzr+"]
        .iter()
        .any(|prefix| word.starts_with(prefix))
}

/// Whether pip installs a fixed thing for `requirement`: a version specifier (`==`, `===`,
/// `~=`, `>=`, `<=`, `!=`, `<`, `>`, as hadolint counts them), a local path or archive, an
/// archive URL, or a version-control URL with `@ref` after its host.
fn pip_pinned(requirement: &str) -> bool {
    if requirement.contains("://") || is_vcs(requirement) {
        return url_pinned(requirement);
    }
    ["==", "~=", ">=", "<=", "!=", "<", ">"]
        .iter()
        .any(|specifier| requirement.contains(specifier))
        || is_local_path(requirement)
        || requirement.contains('/')
        || is_archive(requirement)
}

/// A URL installs a fixed thing when it is a local file, an archive, or a version-control
/// URL with `@ref` in its path (an `@` before the host is a user name).
fn url_pinned(url: &str) -> bool {
    let url = url.split_once(" @ ").map_or(url, |(_, url)| url);
    let url = url.find("://").map_or(url, |start| {
        // `name@https://…` names the URL it installs.
        let scheme_start = url[..start].rfind('@').map_or(0, |at| at + 1);
        &url[scheme_start..]
    });
    if is_vcs(url) {
        let after_host = url.split_once("://").map_or(url, |(_, rest)| {
            rest.split_once('/').map_or("", |(_, path)| path)
        });
        let before_fragment = after_host.split('#').next().unwrap_or_default();
        return before_fragment.contains('@');
    }
    url.starts_with("file:") || is_archive(url)
}

/// Whether an npm package spec names a fixed thing: `name@version` (not a floating dist-tag
/// such as `latest`), a local folder or tarball, a tarball URL, or a git URL with `#ref`.
fn npm_pinned(spec: &str) -> bool {
    if is_local_path(spec) || is_archive(spec) {
        return true;
    }
    if spec.contains("://") || spec.starts_with("git+") || spec.starts_with("github:") {
        return spec
            .split_once('#')
            .is_some_and(|(_, reference)| !reference.is_empty());
    }
    if !spec.starts_with('@') && spec.contains('/') {
        // GitHub's `user/repo`, pinned by `#ref`.
        return spec.contains('#');
    }
    match spec.rfind('@').filter(|at| *at > 0) {
        Some(at) => {
            let version = &spec[at + 1..];
            !version.is_empty() && !matches!(version, "latest" | "next" | "*" | "x")
        }
        None => false,
    }
}

pub(super) const UNFROZEN_INSTALL: LintRule = LintRule {
    id: RuleId::UnfrozenInstall,
    severity: Warning,
    summary: "a dependency install does not follow a lockfile, or names packages without their versions, so one commit can build different images",
    fix: "use `npm ci`, `yarn install --frozen-lockfile` (or `--immutable`), `pnpm install --frozen-lockfile`; pin what is installed by name (`pip install name==version`, `pipx install name==version`, `npm install --global name@version`), or install from a requirements or constraints file",
    check: Check::Build(unfrozen_install),
    #[cfg(test)]
    example: tests::unfrozen_install,
};

/// Every unfrozen install of every RUN, in every stage: a build stage's install changes what
/// it builds as much as the shipped stage's.
fn unfrozen_install(build: &BuildSource) -> Vec<Finding> {
    let mut findings = Vec::new();
    for instruction in build
        .dockerfile
        .iter()
        .flat_map(Dockerfile::stages)
        .flatten()
        .filter(|instruction| instruction.keyword == "RUN")
    {
        for command in instruction.run().commands() {
            if let Some(why) = unfrozen(&command) {
                findings.push(UNFROZEN_INSTALL.finding(why, at(build, instruction)));
            }
        }
    }
    findings
}

/// Why `command` installs without a lockfile or pins, if it does.
fn unfrozen(command: &Command) -> Option<String> {
    let (program, arguments) = invoked(command)?;
    let has = |word: &str| arguments.iter().any(|argument| argument == word);
    if matches!(program, "npm" | "yarn" | "pnpm")
        && arguments.iter().any(|word| {
            matches!(
                word.as_str(),
                "--no-lockfile" | "--lockfile=false" | "--no-package-lock" | "--package-lock=false"
            )
        })
    {
        return Some("the install is told to ignore the lockfile".into());
    }
    match program {
        "npm" => {
            let (install, rest) = subcommand(arguments, NPM_VALUE_OPTIONS)?;
            if !NPM_INSTALL.contains(&install) {
                return None;
            }
            let (_, values) = operands(arguments, NPM_VALUE_OPTIONS);
            let global = has("-g")
                || has("--global")
                || value_of(&values, &["--location"]) == Some("global");
            if !global {
                return Some(
                    "`npm install` resolves versions afresh; `npm ci` follows package-lock.json"
                        .into(),
                );
            }
            let (packages, _) = operands(rest, NPM_VALUE_OPTIONS);
            unpinned("npm install --global", packages.into_iter(), npm_pinned)
        }
        "yarn" => {
            let installs = match subcommand(arguments, &["--cache-folder", "--modules-folder"]) {
                None => !asks_only(arguments),
                Some((sub, _)) => sub == "install",
            };
            (installs && !has("--frozen-lockfile") && !has("--immutable"))
                .then(|| "`yarn install` without --frozen-lockfile (or --immutable)".into())
        }
        "pnpm" => {
            let (sub, _) = subcommand(arguments, &["--dir", "-C", "--filter"])?;
            // In CI (`CI=1 pnpm install`), pnpm freezes the lockfile unless told otherwise.
            let in_ci = command
                .assignments
                .iter()
                .any(|(name, value)| name == "CI" && !matches!(value.as_str(), "" | "0" | "false"));
            (matches!(sub, "install" | "i")
                && !has("--frozen-lockfile")
                && (!in_ci || has("--no-frozen-lockfile")))
            .then(|| "`pnpm install` without --frozen-lockfile".into())
        }
        "pip" => {
            let (sub, rest) = subcommand(arguments, PIP_VALUE_OPTIONS)?;
            if sub != "install" {
                return None;
            }
            let (operands, values) = operands(rest, PIP_VALUE_OPTIONS);
            let from_file = ["-r", "--requirement", "-c", "--constraint"];
            if values.iter().any(|(option, _)| from_file.contains(option)) {
                return None;
            }
            let editable = values
                .iter()
                .filter(|(option, _)| matches!(*option, "-e" | "--editable"))
                .map(|(_, value)| *value);
            unpinned(
                "pip install",
                requirements(&operands).chain(editable),
                pip_pinned,
            )
        }
        "pipx" => {
            let (sub, rest) = subcommand(arguments, PIPX_VALUE_OPTIONS)?;
            if sub != "install" {
                return None;
            }
            let (packages, _) = operands(rest, PIPX_VALUE_OPTIONS);
            unpinned("pipx install", packages.into_iter(), |package| {
                package.contains("==")
                    || is_local_path(package)
                    || is_archive(package)
                    || ((package.contains("://") || is_vcs(package)) && url_pinned(package))
            })
        }
        _ => None,
    }
}

/// pip's requirements among its operands, `name @ url` read as one.
fn requirements<'a>(operands: &[&'a str]) -> impl Iterator<Item = &'a str> + use<'a> {
    let mut requirements = Vec::new();
    let mut index = 0;
    while let Some(operand) = operands.get(index) {
        if operands.get(index + 1) == Some(&"@") {
            requirements.extend(operands.get(index + 2).copied());
            index += 3;
        } else {
            requirements.push(*operand);
            index += 1;
        }
    }
    requirements.into_iter()
}

/// "`what` of unpinned a, b" for the `packages` that are not `pinned` (a `$VARIABLE` is not
/// judged: its value is not known here).
fn unpinned<'a>(
    what: &str,
    packages: impl Iterator<Item = &'a str>,
    pinned: impl Fn(&str) -> bool,
) -> Option<String> {
    let unpinned: Vec<&str> = packages
        .filter(|package| !package.starts_with('$') && !pinned(package))
        .collect();
    (!unpinned.is_empty()).then(|| format!("`{what}` of unpinned {}", unpinned.join(", ")))
}

pub(super) const PACKAGE_CACHE_LEFT: LintRule = LintRule {
    id: RuleId::PackageCacheLeft,
    severity: Info,
    summary: "a package install in the image that ships (its stage, or a stage it is built FROM) leaves the package manager's cache in the layer",
    fix: "mount a BuildKit cache on the directory the message names (`RUN --mount=type=cache,target=…`), or clean it in the same RUN as the message says",
    check: Check::Build(package_cache_left),
    #[cfg(test)]
    example: tests::package_cache_left,
};

/// The stages whose layers the shipped image holds, in build order: the shipped stage
/// (`BuildSource::shipped_stage`, else the last) and the stages it is built FROM.
fn shipped_stages(build: &BuildSource) -> Vec<&[Instruction]> {
    let Some(dockerfile) = &build.dockerfile else {
        return Vec::new();
    };
    let stages = dockerfile.stages();
    let tree = StageTree::of(&stages);
    let Some(index) = tree
        .index(build.shipped_stage().stage.as_deref())
        .or(stages.len().checked_sub(1))
    else {
        return Vec::new();
    };
    let mut chain: Vec<&[Instruction]> =
        tree.lineage(index).into_iter().map(|i| stages[i]).collect();
    chain.reverse();
    chain
}

/// The values pip reads from the environment, as a stage's ENV and ARG set them.
#[derive(Debug, Default, Clone)]
struct Environment {
    variables: BTreeMap<String, String>,
    /// Whether a RUN so far disabled the docker-clean hook of Debian's images (so apt keeps
    /// the packages it downloads in /var/cache/apt).
    apt_keeps_packages: bool,
}

/// The `NAME=value` pairs of an ENV or ARG (`ENV NAME value` too; an ARG without a value
/// sets nothing).
fn assignments(keyword: &str, arguments: &str) -> Vec<(String, String)> {
    let words: Vec<String> = shell::commands(arguments)
        .into_iter()
        .flat_map(|command| {
            command
                .assignments
                .into_iter()
                .map(|(name, value)| format!("{name}={value}"))
                .chain(command.words)
        })
        .collect();
    let first = words.first().map(String::as_str).unwrap_or_default();
    if keyword == "ENV" && !first.contains('=') {
        let value = words.get(1..).unwrap_or_default().join(" ");
        return vec![(first.to_string(), value)];
    }
    words
        .iter()
        .filter_map(|word| shell::assignment(word))
        .collect()
}

/// pip's reading of a boolean variable (`PIP_NO_CACHE_DIR=1`).
fn truthy(value: &str) -> bool {
    matches!(
        value.to_lowercase().as_str(),
        "1" | "true" | "yes" | "on" | "y" | "t"
    )
}

/// A cache an install leaves, unless the RUN handles it.
struct Cache {
    /// The command, as the message names it: `apt-get install`.
    what: String,
    /// Where the cache is.
    directory: String,
    /// What the cache is: "its cache", "its package lists".
    kind: &'static str,
    /// How to clean it in the same RUN.
    clean: String,
    /// Whether a later command of the RUN cleans it.
    cleaned: Box<dyn Fn(&Command) -> bool>,
}

/// Whether `command` is `rm` of a path under one of `directories` (or of a path holding
/// `marker`, when given).
fn removes(command: &Command, directories: &[&str]) -> bool {
    invoked(command).is_some_and(|(program, arguments)| {
        program == "rm"
            && arguments.iter().any(|path| {
                !path.starts_with('-')
                    && directories.iter().any(|directory| {
                        path.trim_end_matches(['/', '*']) == directory.trim_end_matches('/')
                            || path.starts_with(&format!("{}/", directory.trim_end_matches('/')))
                    })
            })
    })
}

/// Whether `command` runs `program` (one of) with `words` among its arguments.
fn runs(command: &Command, programs: &[&str], words: &[&str]) -> bool {
    invoked(command).is_some_and(|(program, arguments)| {
        !arguments.is_empty()
            && programs.contains(&program)
            && words.iter().all(|word| command.has(word))
    })
}

const APT: &[&str] = &["apt-get", "apt", "aptitude"];
const YUM: &[&str] = &["yum", "dnf", "dnf5", "microdnf", "tdnf"];
const YUM_CACHES: &[&str] = &["/var/cache/yum", "/var/cache/dnf", "/var/cache/libdnf5"];

/// The caches `command` leaves, given what pip reads from the environment (`variable`).
fn caches(
    command: &Command,
    variable: &dyn Fn(&str) -> Option<String>,
    environment: &Environment,
) -> Vec<Cache> {
    let Some((program, arguments)) = invoked(command) else {
        return Vec::new();
    };
    let has = |word: &str| arguments.iter().any(|argument| argument == word);
    let mut caches = Vec::new();
    match program {
        "apt-get" | "apt" | "aptitude" => {
            let Some((sub, _)) = subcommand(arguments, &["-o", "-c", "-t", "-a", "--option"])
            else {
                return caches;
            };
            if !matches!(
                sub,
                "update"
                    | "install"
                    | "upgrade"
                    | "dist-upgrade"
                    | "full-upgrade"
                    | "reinstall"
                    | "build-dep"
            ) {
                return caches;
            }
            caches.push(Cache {
                what: format!("{program} {sub}"),
                directory: "/var/lib/apt/lists".into(),
                kind: "its package lists",
                clean: "remove them after it in the same RUN (`rm -rf /var/lib/apt/lists/*`)"
                    .into(),
                cleaned: Box::new(|command| {
                    removes(command, &["/var/lib/apt/lists", "/var/lib/apt"])
                        || runs(command, APT, &["dist-clean"])
                }),
            });
            if sub != "update" && environment.apt_keeps_packages {
                caches.push(Cache {
                    what: format!("{program} {sub}"),
                    directory: "/var/cache/apt/archives".into(),
                    kind: "the packages it downloads (the image's docker-clean hook is disabled)",
                    clean: "run `apt-get clean` after it in the same RUN".into(),
                    cleaned: Box::new(|command| {
                        runs(command, APT, &["clean"])
                            || runs(command, APT, &["autoclean"])
                            || runs(command, APT, &["dist-clean"])
                            || removes(command, &["/var/cache/apt"])
                    }),
                });
            }
        }
        "apk"
            if !has("--no-cache")
                && subcommand(
                    arguments,
                    &["-X", "--repository", "-p", "--root", "--cache-dir"],
                )
                .is_some_and(|(sub, _)| sub == "add") =>
        {
            caches.push(Cache {
                what: "apk add".into(),
                directory: "/var/cache/apk".into(),
                kind: "its cache",
                clean: "add --no-cache".into(),
                cleaned: Box::new(|command| removes(command, &["/var/cache/apk"])),
            });
        }
        "pip" => {
            let Some(("install", _)) = subcommand(arguments, PIP_VALUE_OPTIONS) else {
                return caches;
            };
            let (_, values) = operands(arguments, PIP_VALUE_OPTIONS);
            let off = has("--no-cache-dir")
                || variable("PIP_NO_CACHE_DIR").is_some_and(|value| truthy(&value));
            if !off {
                let directory = value_of(&values, &["--cache-dir"])
                    .map(String::from)
                    .or_else(|| variable("PIP_CACHE_DIR"))
                    .unwrap_or_else(|| "/root/.cache/pip".into());
                let removed = directory.clone();
                caches.push(Cache {
                    what: "pip install".into(),
                    directory,
                    kind: "its cache",
                    clean: "add --no-cache-dir (or set PIP_NO_CACHE_DIR=1)".into(),
                    cleaned: Box::new(move |command| {
                        runs(command, &["pip"], &["cache", "purge"])
                            || removes(
                                command,
                                &[&removed, "/root/.cache", "~/.cache/pip", "~/.cache"],
                            )
                    }),
                });
            }
        }
        "npm" => {
            let Some((sub, _)) = subcommand(arguments, NPM_VALUE_OPTIONS) else {
                return caches;
            };
            if NPM_INSTALL.contains(&sub) || sub == "ci" {
                let (_, values) = operands(arguments, NPM_VALUE_OPTIONS);
                let directory = value_of(&values, &["--cache"])
                    .unwrap_or("/root/.npm")
                    .to_string();
                let removed = directory.clone();
                caches.push(Cache {
                    what: format!("npm {sub}"),
                    directory,
                    kind: "its cache",
                    clean: "run `npm cache clean --force` after it in the same RUN".into(),
                    cleaned: Box::new(move |command| {
                        runs(command, &["npm"], &["cache", "clean"])
                            || removes(command, &[&removed, "~/.npm"])
                    }),
                });
            }
        }
        "yarn" => {
            let sub = subcommand(arguments, &["--cache-folder", "--modules-folder"]);
            let installs = match sub {
                None => !asks_only(arguments),
                Some((sub, rest)) => {
                    matches!(sub, "install" | "add")
                        || (sub == "global" && rest.first().is_some_and(|word| word == "add"))
                }
            };
            if installs {
                let (_, values) = operands(arguments, &["--cache-folder", "--modules-folder"]);
                let directory = value_of(&values, &["--cache-folder"])
                    .unwrap_or("/usr/local/share/.cache/yarn")
                    .to_string();
                let removed = directory.clone();
                caches.push(Cache {
                    what: format!("yarn {}", sub.map_or("install", |(sub, _)| sub)),
                    directory,
                    kind: "its cache",
                    clean: "run `yarn cache clean` after it in the same RUN".into(),
                    cleaned: Box::new(move |command| {
                        runs(command, &["yarn"], &["cache", "clean"])
                            || removes(command, &[&removed, "/root/.cache/yarn", "~/.cache/yarn"])
                    }),
                });
            }
        }
        "yum" | "dnf" | "dnf5" | "microdnf" | "tdnf" => {
            let value_options = [
                "-c",
                "--config",
                "--releasever",
                "--installroot",
                "--enablerepo",
                "--disablerepo",
                "--repo",
                "--repoid",
                "-x",
                "--exclude",
                "--setopt",
            ];
            let Some((sub, _)) = subcommand(arguments, &value_options) else {
                return caches;
            };
            let installs = [
                "install",
                "in",
                "upgrade",
                "up",
                "update",
                "upgrade-minimal",
                "up-min",
                "reinstall",
                "rei",
                "groupinstall",
                "localinstall",
                "distro-sync",
            ];
            if installs.contains(&sub) {
                let directory = match program {
                    "dnf" | "tdnf" => "/var/cache/dnf",
                    "dnf5" => "/var/cache/libdnf5",
                    _ => "/var/cache/yum",
                };
                caches.push(Cache {
                    what: format!("{program} {sub}"),
                    directory: directory.into(),
                    kind: "its cache",
                    clean: format!("run `{program} clean all` after it in the same RUN"),
                    cleaned: Box::new(|command| {
                        runs(command, YUM, &["clean", "all"]) || removes(command, YUM_CACHES)
                    }),
                });
            }
        }
        "zypper" => {
            let value_options = [
                "-R",
                "--root",
                "-c",
                "--config",
                "-D",
                "--reposd-dir",
                "-C",
                "--cache-dir",
                "--installroot",
            ];
            let Some((sub, _)) = subcommand(arguments, &value_options) else {
                return caches;
            };
            let installs = [
                "install",
                "in",
                "update",
                "up",
                "dist-upgrade",
                "dup",
                "patch",
                "source-install",
                "si",
            ];
            if installs.contains(&sub) {
                caches.push(Cache {
                    what: format!("zypper {sub}"),
                    directory: "/var/cache/zypp".into(),
                    kind: "its cache",
                    clean: "run `zypper clean --all` after it in the same RUN".into(),
                    cleaned: Box::new(|command| {
                        runs(command, &["zypper"], &["clean"])
                            || runs(command, &["zypper"], &["cc"])
                            || removes(command, &["/var/cache/zypp"])
                    }),
                });
            }
        }
        _ => {}
    }
    caches
}

/// Whether a cache or tmpfs mount of `run` covers `directory`, or, for the caches a mount
/// anywhere may hold under the user's home, one on the same tail (`…/.cache/pip`).
fn mounted(run: &Run, directory: &str) -> bool {
    let alternatives: &[&str] = match directory {
        "/var/lib/apt/lists" => &[],
        "/var/cache/apt/archives" => &[],
        "/root/.cache/pip" => &["/.cache/pip", "/.cache"],
        "/root/.npm" => &["/.npm"],
        "/usr/local/share/.cache/yarn" => &["/.cache/yarn", "/yarn", "/.yarn"],
        // apk caches in /etc/apk/cache when that folder exists (a mount makes it exist).
        "/var/cache/apk" => &["/etc/apk/cache"],
        directory if YUM_CACHES.contains(&directory) => YUM_CACHES,
        _ => &[],
    };
    run.mounts_over(directory)
        || alternatives.iter().any(|alternative| {
            if alternative.starts_with("/var/") || alternative.starts_with("/etc/") {
                run.mounts_over(alternative)
            } else {
                run.mounts.iter().any(|mount| {
                    matches!(mount.kind.as_str(), "cache" | "tmpfs")
                        && mount.target.trim_end_matches('/').ends_with(alternative)
                })
            }
        })
}

/// Whether `command` disables the docker-clean hook of Debian's images (removes it, or
/// tells apt to keep downloaded packages).
fn disables_docker_clean(command: &Command) -> bool {
    removes(command, &["/etc/apt/apt.conf.d/docker-clean"])
        || command
            .words
            .iter()
            .any(|word| word.contains("Keep-Downloaded-Packages") && word.contains("true"))
}

/// The cache each RUN of the shipped image's stages leaves, in build order, with the ENV and
/// ARG values (and docker-clean's state) that stages before it set.
fn package_cache_left(build: &BuildSource) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut environment = Environment::default();
    for instruction in shipped_stages(build).into_iter().flatten() {
        match instruction.keyword.as_str() {
            "ENV" | "ARG" => {
                for (name, value) in assignments(&instruction.keyword, &instruction.arguments) {
                    environment.variables.insert(name, value);
                }
            }
            "RUN" => {
                let run = instruction.run();
                let commands = run.commands();
                if commands.iter().any(disables_docker_clean) {
                    environment.apt_keeps_packages = true;
                }
                for message in leftovers(&run, &commands, &environment) {
                    findings.push(PACKAGE_CACHE_LEFT.finding(message, at(build, instruction)));
                }
            }
            _ => {}
        }
    }
    findings
}

/// Whether `arguments` only ask a package manager about itself (`yarn --version`).
fn asks_only(arguments: &[String]) -> bool {
    arguments
        .iter()
        .any(|word| matches!(word.as_str(), "--version" | "-v" | "-V" | "--help" | "-h"))
}

/// What the caches `commands` leave are, as messages: one per directory.
fn leftovers(run: &Run, commands: &[Command], environment: &Environment) -> Vec<String> {
    let mut exported: BTreeMap<String, String> = BTreeMap::new();
    let mut messages = Vec::new();
    let mut directories: Vec<String> = Vec::new();
    let mounts: Vec<&str> = run
        .mounts
        .iter()
        .filter(|mount| mount.kind == "cache")
        .map(|mount| mount.target.as_str())
        .collect();
    for (index, command) in commands.iter().enumerate() {
        if command.program() == Some("export") {
            for word in &command.words[1..] {
                if let Some((name, value)) = shell::assignment(word) {
                    exported.insert(name, value);
                }
            }
        }
        let variable = |name: &str| {
            command
                .assignments
                .iter()
                .rev()
                .find(|(assigned, _)| assigned == name)
                .map(|(_, value)| value.clone())
                .or_else(|| exported.get(name).cloned())
                .or_else(|| environment.variables.get(name).cloned())
        };
        for cache in caches(command, &variable, environment) {
            // A directory already reported is not judged again: a long RUN of installs
            // that leave one cache stays linear.
            if directories.contains(&cache.directory) {
                continue;
            }
            let handled = mounted(run, &cache.directory)
                || commands[index + 1..]
                    .iter()
                    .any(|later| (cache.cleaned)(later));
            if handled {
                continue;
            }
            directories.push(cache.directory.clone());
            let advice = if mounts.is_empty() {
                cache.clean
            } else {
                format!(
                    "the RUN's mount on {} does not cover it: mount the cache on {} as well",
                    mounts.join(", "),
                    cache.directory
                )
            };
            messages.push(format!(
                "`{}` leaves {} in {}: {advice}",
                cache.what, cache.kind, cache.directory
            ));
        }
    }
    messages
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::rules::examples::{Example, build, findings};

    pub(super) fn unfrozen_install() -> Example {
        Example::new(
            build(
                "FROM node:20\nRUN npm install\nRUN yarn install\nRUN pnpm install\nRUN python -m pip install flask requests==2.32.0\nRUN npm ci --no-package-lock\nRUN npm install -g pnpm && pip3 install --index-url https://pypi.example.com/simple 'black>=24' isort\n",
            ),
            &[
                "app/Dockerfile:2:1 `npm install` resolves versions afresh; `npm ci` follows package-lock.json",
                "app/Dockerfile:3:1 `yarn install` without --frozen-lockfile (or --immutable)",
                "app/Dockerfile:4:1 `pnpm install` without --frozen-lockfile",
                "app/Dockerfile:5:1 `pip install` of unpinned flask",
                "app/Dockerfile:6:1 the install is told to ignore the lockfile",
                "app/Dockerfile:7:1 `npm install --global` of unpinned pnpm",
                "app/Dockerfile:7:1 `pip install` of unpinned isort",
            ],
            build(
                "FROM node:20\nRUN npm ci\nRUN npm install -g pnpm@9\nRUN yarn install --immutable\nRUN pnpm install --frozen-lockfile\nRUN pip install -r requirements.txt flask\nRUN --mount=type=cache,target=/root/.npm NODE_ENV=production npm ci\nRUN pip install --target /opt/lib -i https://pypi.example.com/simple ./wheels/app.whl git+https://example.com/lib.git@v1.2 flask~=3.0\nRUN pipx install poetry==1.8.5\n",
            ),
        )
    }

    #[test]
    fn pip_option_values_local_paths_and_vcs_references() {
        let unpinned = |script: &str| unfrozen(&Run::parse(script).commands()[0]);
        for pinned in [
            "pip install --root-user-action ignore --no-cache-dir poetry==1.8.5",
            "pip3 install --trusted-host pypi.example.com --prefix=/opt example==1.2",
            "/usr/bin/pip install --build /tmp/build -t /opt/t app.tar.gz",
            "pip2 install https://example.com/dist/app-1.0.zip",
            "pip install 'app @ git+https://example.com/app.git@v1'",
            "pip install app @ https://example.com/app-1.0.tar.gz",
            "pip install -c constraints.txt flask",
            "pip install --extra-index-url=https://u:p@example.com/simple flask===3.0",
            "pip install src/app ../lib",
            "pip install $PACKAGES",
            "pip download flask",
            "pipenv install flask",
            "sudo -H pip install flask!=2.0",
            "sh -c 'pip install flask<4'",
        ] {
            assert_eq!(unpinned(pinned), None, "{pinned}");
        }
        for (script, why) in [
            ("pip2 install flask", "`pip install` of unpinned flask"),
            (
                "python3.12 -m pip install 'flask[async]'",
                "`pip install` of unpinned flask[async]",
            ),
            (
                "pip install --root-user-action=ignore app",
                "`pip install` of unpinned app",
            ),
            (
                "pip install git+ssh://git@example.com/app.git#egg=app",
                "`pip install` of unpinned git+ssh://git@example.com/app.git#egg=app",
            ),
            (
                "pip install https://example.com/simple/app",
                "`pip install` of unpinned https://example.com/simple/app",
            ),
            ("pipx install black", "`pipx install` of unpinned black"),
            (
                "pipx install 'black>=24'",
                "`pipx install` of unpinned black>=24",
            ),
            (
                "env PIP_X=1 pip install flask",
                "`pip install` of unpinned flask",
            ),
            (
                "npm i --location=global typescript@latest",
                "`npm install --global` of unpinned typescript@latest",
            ),
            (
                "npm install --global @scope/tool",
                "`npm install --global` of unpinned @scope/tool",
            ),
        ] {
            assert_eq!(unpinned(script).as_deref(), Some(why), "{script}");
        }
        for pinned in [
            "npm install -g @scope/tool@1.2.3 ./local ../pkg.tgz git+https://example.com/x.git#v1 user/repo#v2",
            "npm run --global install",
            "npm install --registry https://registry.example.com -g tool@1",
        ] {
            assert_eq!(unpinned(pinned), None, "{pinned}");
        }
        assert_eq!(
            unfrozen(&Run::parse(r#"["pip", "install", "flask"]"#).commands()[0]).as_deref(),
            Some("`pip install` of unpinned flask")
        );
    }

    pub(super) fn package_cache_left() -> Example {
        Example::new(
            build(
                "FROM debian:12\nRUN apt-get update && apt-get -y install curl\nRUN apk add git\nRUN pip install flask==3.0.0\nRUN --mount=type=cache,target=/tmp/cache pip install flask==3.0.0\nRUN dnf clean all && dnf -y install git\nRUN zypper in -y git\nRUN yarn install --frozen-lockfile\n",
            ),
            &[
                "app/Dockerfile:2:1 `apt-get update` leaves its package lists in /var/lib/apt/lists: remove them after it in the same RUN (`rm -rf /var/lib/apt/lists/*`)",
                "app/Dockerfile:3:1 `apk add` leaves its cache in /var/cache/apk: add --no-cache",
                "app/Dockerfile:4:1 `pip install` leaves its cache in /root/.cache/pip: add --no-cache-dir (or set PIP_NO_CACHE_DIR=1)",
                "app/Dockerfile:5:1 `pip install` leaves its cache in /root/.cache/pip: the RUN's mount on /tmp/cache does not cover it: mount the cache on /root/.cache/pip as well",
                "app/Dockerfile:6:1 `dnf install` leaves its cache in /var/cache/dnf: run `dnf clean all` after it in the same RUN",
                "app/Dockerfile:7:1 `zypper in` leaves its cache in /var/cache/zypp: run `zypper clean --all` after it in the same RUN",
                "app/Dockerfile:8:1 `yarn install` leaves its cache in /usr/local/share/.cache/yarn: run `yarn cache clean` after it in the same RUN",
            ],
            build(
                "FROM debian:12 AS base\nENV PIP_NO_CACHE_DIR=true\nFROM base\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\nRUN apk add --no-cache git\nRUN pip install flask==3.0.0\nRUN --mount=type=cache,target=/var/cache/dnf dnf -y install git\nRUN zypper in -y git && zypper cc\nRUN --mount=type=cache,target=/root/.cache/yarn yarn install --frozen-lockfile\nRUN npm ci && npm cache clean --force\n",
            ),
        )
    }

    #[test]
    fn only_the_stages_the_shipped_image_is_built_from_count() {
        let dockerfile = "FROM node:20 AS build\nRUN npm ci\nFROM debian:12 AS base\nRUN apt-get update\nFROM base AS production\nRUN pip install flask==3.0\nFROM base AS dev\nRUN apk add git\n";
        let mut shipped = build(dockerfile);
        assert_eq!(
            findings(&PACKAGE_CACHE_LEFT, shipped.clone()),
            [
                "app/Dockerfile:4:1 `apt-get update` leaves its package lists in /var/lib/apt/lists: remove them after it in the same RUN (`rm -rf /var/lib/apt/lists/*`)",
                "app/Dockerfile:8:1 `apk add` leaves its cache in /var/cache/apk: add --no-cache",
            ]
        );
        // The compose file builds `dev`; the production-like stage ships.
        shipped.target = Some("dev".into());
        assert_eq!(
            findings(&PACKAGE_CACHE_LEFT, shipped),
            [
                "app/Dockerfile:4:1 `apt-get update` leaves its package lists in /var/lib/apt/lists: remove them after it in the same RUN (`rm -rf /var/lib/apt/lists/*`)",
                "app/Dockerfile:6:1 `pip install` leaves its cache in /root/.cache/pip: add --no-cache-dir (or set PIP_NO_CACHE_DIR=1)",
            ]
        );
    }

    #[test]
    fn pip_reads_its_environment_and_its_cache_directory() {
        let left = |dockerfile: &str| findings(&PACKAGE_CACHE_LEFT, build(dockerfile));
        for clean in [
            "FROM a:1\nENV PIP_NO_CACHE_DIR on\nRUN pip install x\n",
            "FROM a:1\nARG PIP_NO_CACHE_DIR=1\nRUN pip install x\n",
            "FROM a:1\nRUN export A=1 PIP_NO_CACHE_DIR=yes; pip install x\n",
            "FROM a:1\nRUN env PIP_NO_CACHE_DIR=1 pip install x\n",
            "FROM a:1\nRUN bash -c 'PIP_NO_CACHE_DIR=1 pip install x'\n",
            "FROM a:1\nENV PIP_CACHE_DIR=/cache/pip\nRUN --mount=type=cache,target=/cache pip install x\n",
            "FROM a:1\nRUN --mount=type=cache,target=/home/app/.cache/pip pip install x\n",
            "FROM a:1\nRUN --mount=type=cache,target=/tmp/p pip --cache-dir /tmp/p install x\n",
            "FROM a:1\nRUN pip install x && pip cache purge\n",
            "FROM a:1\nRUN pip install x; rm -rf /root/.cache\n",
        ] {
            assert_eq!(left(clean), Vec::<String>::new(), "{clean}");
        }
        for left_behind in [
            "FROM a:1\nENV PIP_NO_CACHE_DIR=1\nENV PIP_NO_CACHE_DIR=0\nRUN pip install x\n",
            "FROM a:1\nRUN PIP_NO_CACHE_DIR=1; pip install x\n",
            "FROM a:1\nRUN rm -rf /root/.cache && pip install x\n",
        ] {
            assert_eq!(left(left_behind).len(), 1, "{left_behind}");
        }
    }

    #[test]
    fn apt_keeps_downloaded_packages_once_docker_clean_is_disabled() {
        let left = |dockerfile: &str| findings(&PACKAGE_CACHE_LEFT, build(dockerfile));
        let disabled = "FROM debian:12\nRUN rm -f /etc/apt/apt.conf.d/docker-clean\n";
        assert_eq!(
            left(&format!(
                "{disabled}RUN --mount=type=cache,target=/var/lib/apt apt-get update && apt-get install -y curl\n"
            )),
            [
                "app/Dockerfile:3:1 `apt-get install` leaves the packages it downloads (the image's docker-clean hook is disabled) in /var/cache/apt/archives: the RUN's mount on /var/lib/apt does not cover it: mount the cache on /var/cache/apt/archives as well"
            ]
        );
        for clean in [
            format!("{disabled}RUN --mount=type=cache,target=/var/lib/apt --mount=type=cache,target=/var/cache/apt apt-get update && apt-get install -y curl\n"),
            format!("{disabled}RUN apt-get update && apt-get install -y curl && apt-get clean && rm -rf /var/lib/apt/lists/*\n"),
            "FROM debian:12\nRUN --mount=type=tmpfs,target=/var/lib/apt/lists apt-get update && apt-get install -y curl\n".into(),
            "FROM debian:12\nRUN sudo apt-get update && sudo apt-get install -y curl && sudo rm -rf /var/lib/apt/lists/*\n".into(),
        ] {
            assert_eq!(left(&clean), Vec::<String>::new(), "{clean}");
        }
    }

    /// What real projects' Dockerfiles do: cleans, questions and mounts each read right.
    #[test]
    fn what_real_dockerfiles_write_is_read_right() {
        let left = |run: &str| findings(&PACKAGE_CACHE_LEFT, build(&format!("FROM a:1\n{run}\n")));
        let unfrozen =
            |run: &str| findings(&UNFROZEN_INSTALL, build(&format!("FROM a:1\n{run}\n")));
        // Debian's `apt-get dist-clean` removes the lists and the downloaded packages.
        assert!(
            left("RUN apt-get update && apt-get install -y curl && apt-get dist-clean").is_empty()
        );
        // `yarn --version` installs nothing.
        assert!(left("RUN yarn --version").is_empty());
        assert!(unfrozen("RUN yarn --version && yarn -v").is_empty());
        assert_eq!(unfrozen("RUN yarn").len(), 1);
        // apk caches in /etc/apk/cache where that folder is mounted.
        assert!(left("RUN --mount=type=cache,target=/etc/apk/cache apk add curl").is_empty());
        // A tmpfs for logs is no cache mount: the plain clean is the advice.
        assert_eq!(
            left("RUN --mount=type=tmpfs,target=/var/log apk add curl"),
            ["app/Dockerfile:2:1 `apk add` leaves its cache in /var/cache/apk: add --no-cache"]
        );
        // In CI, pnpm freezes the lockfile.
        assert!(unfrozen("RUN CI=1 pnpm install").is_empty());
        assert_eq!(
            unfrozen("RUN CI=1 pnpm install --no-frozen-lockfile").len(),
            1
        );
        // A cache left again after a clean is still found.
        assert_eq!(
            left("RUN apt-get update && rm -rf /var/lib/apt/lists/* && apt-get update").len(),
            1
        );
    }

    /// Thousands of installs in one RUN are read in linear time (each cache judged once).
    #[test]
    fn a_run_of_many_installs_is_read_whole() {
        let run = vec!["pip install requests==2.32.0"; 8000].join(" && ");
        let found = findings(
            &PACKAGE_CACHE_LEFT,
            build(&format!("FROM a:1\nRUN {run}\n")),
        );
        assert_eq!(found.len(), 1, "{found:?}");
    }

    #[test]
    fn every_way_a_run_spells_an_install_is_read() {
        let left = |run: &str| findings(&PACKAGE_CACHE_LEFT, build(&format!("FROM a:1\n{run}\n")));
        for run in [
            "RUN apt-get -y install curl",
            "RUN apt install -y curl",
            "RUN aptitude install -y curl",
            "RUN <<EOF\napt-get update\napt-get install -y curl\nEOF",
            r#"RUN ["apk", "add", "curl"]"#,
            "RUN sh -c 'apk add curl'",
            "RUN set -eux; \\\n    sudo -E dnf -y --setopt=tsflags=nodocs install git",
            "RUN yarn global add typescript@5",
            "RUN npm ci",
        ] {
            assert_eq!(left(run).len(), 1, "{run}: {:?}", left(run));
        }
        for run in [
            "RUN <<EOF\napt-get update\napt-get install -y curl\nrm -rf /var/lib/apt/lists/*\nEOF",
            "RUN --mount=type=cache,target=/root/.npm npm ci",
            "RUN npm run build",
            "RUN echo apt-get install curl",
            "RUN apt-get purge -y curl",
        ] {
            assert_eq!(left(run), Vec::<String>::new(), "{run}");
        }
    }

    #[test]
    fn odd_runs_are_read_without_panicking() {
        for text in [
            "RUN sudo",
            "RUN sudo -u",
            "RUN env",
            "RUN env -u",
            "RUN env A=1",
            "RUN exec",
            "RUN sh -c",
            "RUN bash -c ''",
            "RUN python -m",
            "RUN python3 -m pip",
            "RUN pip",
            "RUN pip install -r",
            "RUN pip install --index-url",
            "RUN pip install 'a @'",
            "RUN pip install @ @ @",
            "RUN npm -g",
            "RUN npm install -g @",
            "RUN npm i @@",
            "RUN export",
            "RUN export =",
            "RUN []",
            "RUN [\"\"]",
            "RUN [1]",
            "RUN yarn global",
            "RUN --mount=type=cache pip install x",
            "RUN --mount= apk add x",
            "ENV",
            "ENV =",
            "ARG =",
            "ENV PIP_NO_CACHE_DIR",
            "RUN apt-get -o",
            "RUN dnf --setopt",
            "RUN zypper -R",
            "RUN pip install git+https://@/",
            "RUN pip install https://u:p@",
            "RUN rm",
            "RUN sh -c 'sh -c \"sh -c \\\"sh -c \\\\\\\"sh -c pip install x\\\\\\\"\\\"\"'",
        ] {
            for dockerfile in [
                format!("FROM a:1\n{text}\n"),
                format!("FROM a AS\nFROM\n{text}\n"),
            ] {
                let _ = findings(&UNFROZEN_INSTALL, build(&dockerfile));
                let _ = findings(&PACKAGE_CACHE_LEFT, build(&dockerfile));
            }
        }
    }

    #[test]
    fn a_missing_dockerfile_is_no_finding() {
        let mut missing = build("");
        missing.dockerfile = None;
        assert!(findings(&UNFROZEN_INSTALL, missing.clone()).is_empty());
        assert!(findings(&PACKAGE_CACHE_LEFT, missing).is_empty());
    }
}
