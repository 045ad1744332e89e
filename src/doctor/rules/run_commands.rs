//! Rules over the commands each RUN runs, read with `doctor::shell` (through wrappers such
//! as `sudo` and `env`): OS packages (apt, apk, yum, dnf, zypper), gems and Go modules
//! installed without a version, and `sudo`. Every stage counts: an unpinned tool in a build
//! stage changes what the shipped stage copies from it. A version given by a variable counts
//! when the variable is in scope: an ARG of the stage, an ENV of the stage or of the stage it
//! is built FROM, or an assignment or export earlier in the same RUN.

use std::collections::BTreeSet;

use crate::doctor::dockerfile::{Instruction, StageTree};
use crate::doctor::finding::{Finding, Location};
use crate::doctor::lint_input::BuildSource;
use crate::doctor::rule::{Check, LintRule};
use crate::doctor::rule_id::RuleId;
use crate::doctor::rule_id::Severity::{Info, Warning};
use crate::doctor::shell;

pub(super) const OS_PACKAGE_UNPINNED: LintRule = LintRule {
    id: RuleId::OsPackageUnpinned,
    severity: Info,
    summary: "an OS package install (apt, apk, yum, dnf, zypper) names a package without its version, so one commit can build different images",
    fix: "pin each package (`apt-get install name=version`, `apk add name=version`, `dnf install name-version`, `zypper install name=version`), or turn the rule off for a project that takes its distribution's updates",
    check: Check::Build(os_package_unpinned),
    #[cfg(test)]
    example: tests::os_package_unpinned,
};

pub(super) const GEM_UNPINNED: LintRule = LintRule {
    id: RuleId::GemUnpinned,
    severity: Warning,
    summary: "`gem install` names a gem without its version",
    fix: "pin it: `gem install name:version` or `gem install name -v version` (or install from Gemfile.lock with `bundle install`)",
    check: Check::Build(gem_unpinned),
    #[cfg(test)]
    example: tests::gem_unpinned,
};

pub(super) const GO_INSTALL_UNPINNED: LintRule = LintRule {
    id: RuleId::GoInstallUnpinned,
    severity: Warning,
    summary: "`go install` (or `go get`, `go run`) fetches a module without its version, or at a moving one such as `@latest`",
    fix: "name the version: `go install example.com/tool@v1.2.3`",
    check: Check::Build(go_install_unpinned),
    #[cfg(test)]
    example: tests::go_install_unpinned,
};

/// What a RUN's commands see: the variables in scope, by name.
struct Scope {
    variables: BTreeSet<String>,
}

impl Scope {
    /// Whether `word`'s every `$NAME` / `${NAME…}` names a variable in scope (and it has
    /// at least one).
    fn defines_every_variable_in(&self, word: &str) -> bool {
        let names = variable_names(word);
        !names.is_empty() && names.iter().all(|name| self.variables.contains(name))
    }
}

/// The names of the `$NAME` and `${NAME…}` references in `word`.
fn variable_names(word: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = word;
    while let Some(position) = rest.find('$') {
        rest = &rest[position + 1..];
        let braced = rest.strip_prefix('{');
        let name: String = braced
            .unwrap_or(rest)
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            names.push(name);
        }
    }
    names
}

/// Every RUN of every stage, with the variables in scope for it, and `found`'s message for
/// it as one finding of `rule` at the RUN.
fn each_run(
    build: &BuildSource,
    rule: &LintRule,
    found: impl Fn(&shell::Command, &Scope) -> Option<String>,
) -> Vec<Finding> {
    let Some(dockerfile) = &build.dockerfile else {
        return Vec::new();
    };
    let mut findings = Vec::new();
    let stages = dockerfile.stages();
    let tree = StageTree::of(&stages);
    // The ENV names each stage ends with, for the stages built FROM it.
    let mut finished: Vec<BTreeSet<String>> = Vec::with_capacity(stages.len());
    for (index, stage) in stages.iter().enumerate() {
        let mut environment = tree
            .parent(index)
            .map(|parent| finished[parent].clone())
            .unwrap_or_default();
        let instructions = stage.get(1..).unwrap_or_default();
        let mut arguments = BTreeSet::new();
        for instruction in instructions {
            match instruction.keyword.as_str() {
                "ENV" => environment.extend(declared_names("ENV", &instruction.arguments)),
                "ARG" => arguments.extend(declared_names("ARG", &instruction.arguments)),
                "RUN" => {
                    let commands = instruction.run().commands();
                    let mut scope = Scope {
                        variables: environment.union(&arguments).cloned().collect(),
                    };
                    let mut messages = Vec::new();
                    for command in &commands {
                        messages.extend(found(command, &scope));
                        // Later commands of the same RUN see its assignments and exports; an
                        // assignment before a command (`V=1 make`, `env V=1 make`) is that
                        // command's alone.
                        if command.words.is_empty() && command.wrappers.is_empty() {
                            scope
                                .variables
                                .extend(command.assignments.iter().map(|(name, _)| name.clone()));
                        }
                        if command.program() == Some("export") {
                            scope
                                .variables
                                .extend(command.words[1..].iter().filter_map(|word| {
                                    let name = word.split('=').next().unwrap_or_default();
                                    is_name(name).then(|| name.to_string())
                                }));
                        }
                    }
                    // A message said for several commands is said once.
                    let mut said: Vec<String> = Vec::new();
                    for message in messages {
                        if !said.contains(&message) {
                            said.push(message);
                        }
                    }
                    if !said.is_empty() {
                        findings.push(rule.finding(said.join("; "), at(build, instruction)));
                    }
                }
                _ => {}
            }
        }
        finished.push(environment);
    }
    findings
}

/// Where `instruction` is, in `build`'s Dockerfile.
fn at(build: &BuildSource, instruction: &Instruction) -> Option<Location> {
    Some(Location::at(
        &build.dockerfile_path,
        instruction.line as u64,
        1,
    ))
}

/// The names an ENV or ARG declares: `A=1 B="x y"`, `A` (ARG), `A value` (ENV's old form).
fn declared_names(keyword: &str, arguments: &str) -> Vec<String> {
    let old_form = keyword == "ENV"
        && !arguments
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .contains('=');
    let mut names = Vec::new();
    for command in shell::commands(arguments) {
        names.extend(command.assignments.into_iter().map(|(name, _)| name));
        names.extend(command.words.into_iter().filter(|word| is_name(word)));
    }
    if old_form {
        names.truncate(1);
    }
    names
}

fn is_name(word: &str) -> bool {
    word.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The operands of a command's `words` (after its program): its words but flags, the value
/// of each flag in `valued` (`-t value`; `--flag=value` is one word), and, after `--`,
/// every word.
fn operands<'a>(words: &'a [String], valued: &[&str]) -> Vec<&'a str> {
    let mut operands = Vec::new();
    let mut words = words.iter();
    while let Some(word) = words.next() {
        if word == "--" {
            operands.extend(words.map(String::as_str));
            break;
        }
        if word.starts_with('-') {
            if valued.contains(&word.as_str()) {
                words.next();
            }
            continue;
        }
        operands.push(word.as_str());
    }
    operands
}

/// A word whose value the build decides: a command substitution, or nothing but one
/// variable (`$PACKAGES`, `${PACKAGES}`).
fn opaque(word: &str) -> bool {
    let names = variable_names(word);
    word.contains("$(")
        || word.contains('`')
        || match names.as_slice() {
            [name] => {
                word == format!("${name}")
                    || (word.starts_with(&format!("${{{name}")) && word.ends_with('}'))
            }
            _ => false,
        }
}

fn os_package_unpinned(build: &BuildSource) -> Vec<Finding> {
    each_run(build, &OS_PACKAGE_UNPINNED, |command, scope| {
        unpinned_os_packages(&command.words, scope)
    })
}

/// Whether a package word names its version.
type PinnedWhen = fn(&str, &Scope) -> bool;

/// Why the OS package install `words` runs is not pinned, if it is one and is not.
fn unpinned_os_packages(words: &[String], scope: &Scope) -> Option<String> {
    let (program, arguments) = words.split_first()?;
    let program = program.rsplit('/').next().unwrap_or(program);
    let (operands, pinned): (Vec<&str>, PinnedWhen) = match program {
        "apt-get" | "apt" | "aptitude" => {
            let operands = operands(
                arguments,
                &[
                    "-t",
                    "--target-release",
                    "--default-release",
                    "-o",
                    "--option",
                    "-c",
                    "--config-file",
                ],
            );
            (verb_operands(&operands, &["install"])?, apt_pinned)
        }
        "apk" => {
            let operands = operands(
                arguments,
                &[
                    "-t",
                    "--virtual",
                    "-X",
                    "--repository",
                    "-p",
                    "--root",
                    "--arch",
                    "--cache-dir",
                    "--keys-dir",
                    "--repositories-file",
                ],
            );
            (verb_operands(&operands, &["add"])?, apk_pinned)
        }
        "yum" | "dnf" | "microdnf" => {
            let operands = operands(
                arguments,
                &[
                    "-x",
                    "--exclude",
                    "--releasever",
                    "--installroot",
                    "--setopt",
                    "--enablerepo",
                    "--disablerepo",
                    "--repo",
                    "--repoid",
                    "-c",
                    "--config",
                    "--forcearch",
                    "-d",
                    "--debuglevel",
                    "-e",
                    "--errorlevel",
                    "--downloaddir",
                    "--destdir",
                ],
            );
            if operands.first() == Some(&"module") {
                let modules = verb_operands(&operands[1..], &["install"])?;
                let unpinned: Vec<&str> = modules
                    .into_iter()
                    .filter(|module| !module.contains(':') && !opaque(module))
                    .collect();
                return (!unpinned.is_empty()).then(|| {
                    format!(
                        "`{program} module install` without a stream: {}",
                        unpinned.join(", ")
                    )
                });
            }
            (
                verb_operands(&operands, &["install", "in", "localinstall"])?,
                rpm_pinned,
            )
        }
        "zypper" => {
            let operands = operands(
                arguments,
                &[
                    "-t",
                    "--type",
                    "-r",
                    "--repo",
                    "--from",
                    "--root",
                    "-c",
                    "--config",
                    "--reposd-path",
                    "--cache-dir",
                ],
            );
            // `-t pattern|patch|product` installs no package by name.
            let typed = arguments
                .windows(2)
                .any(|pair| matches!(pair[0].as_str(), "-t" | "--type") && pair[1] != "package");
            if typed {
                return None;
            }
            (verb_operands(&operands, &["install", "in"])?, zypper_pinned)
        }
        _ => return None,
    };
    let unpinned: Vec<&str> = operands
        .into_iter()
        .filter(|package| !opaque(package) && !package.starts_with('@') && !pinned(package, scope))
        .collect();
    (!unpinned.is_empty()).then(|| {
        let verb = words
            .iter()
            .find(|word| matches!(word.as_str(), "install" | "in" | "localinstall" | "add"))
            .map_or("install", String::as_str);
        format!(
            "`{program} {verb}` without a version: {}",
            unpinned.join(", ")
        )
    })
}

/// The operands after the verb, when the first operand is one of `verbs`.
fn verb_operands<'a>(operands: &[&'a str], verbs: &[&str]) -> Option<Vec<&'a str>> {
    let (verb, rest) = operands.split_first()?;
    verbs.contains(verb).then(|| rest.to_vec())
}

/// A local file or a path (`./x.deb`, `/tmp/x.rpm`), or a URL.
fn is_path(package: &str) -> bool {
    package.contains('/')
}

/// `name=version`, or a release (`name/bookworm-backports`) or a local `.deb`.
fn apt_pinned(package: &str, _: &Scope) -> bool {
    package.contains('=') || is_path(package) || package.ends_with(".deb")
}

/// `name=version`, `name~version`, `name>version`, `name<version`, or a local `.apk`.
fn apk_pinned(package: &str, _: &Scope) -> bool {
    package.contains(['=', '~', '>', '<']) || is_path(package) || package.ends_with(".apk")
}

/// `name-version[-release]` (the part after the last `-` starts with a digit: `tomcat-9.0`,
/// `openssl-1:3.0.7-27.el9`), a version in variables all in scope (`git-${VERSION}`), or a
/// local `.rpm`.
fn rpm_pinned(package: &str, scope: &Scope) -> bool {
    if package.ends_with(".rpm") || is_path(package) {
        return true;
    }
    let Some((_, version)) = package.split_once('-') else {
        return false;
    };
    if version.contains('$') {
        return scope.defines_every_variable_in(version);
    }
    let last = version.rsplit('-').next().unwrap_or(version);
    last.starts_with(|c: char| c.is_ascii_digit())
}

/// `name=version`, `name>=version` (and `>`, `<`, `<=`), `name-version`, or a local `.rpm`.
fn zypper_pinned(package: &str, scope: &Scope) -> bool {
    package.contains(['=', '<', '>']) || rpm_pinned(package, scope)
}

fn gem_unpinned(build: &BuildSource) -> Vec<Finding> {
    each_run(build, &GEM_UNPINNED, |command, _| {
        unpinned_gems(&command.words)
    })
}

/// The gems `gem install` (or `gem i`) names without a version, if any.
fn unpinned_gems(words: &[String]) -> Option<String> {
    let (program, arguments) = words.split_first()?;
    if program.rsplit('/').next() != Some("gem") {
        return None;
    }
    // The gem's own options end at `--`; what follows goes to the gem's build.
    let arguments: Vec<String> = arguments
        .iter()
        .take_while(|word| *word != "--")
        .cloned()
        .collect();
    let mut gems = Vec::new();
    let mut words = arguments.iter();
    let mut versioned = false;
    while let Some(word) = words.next() {
        if word == "-v" || word == "--version" || word.starts_with("--version=") {
            versioned = true;
        }
        if word.starts_with('-') {
            // An option not known to take no value takes the next word (as a gem that
            // builds with `--with-…` options given without `--` expects).
            if !word.contains('=') && !gem_switch(word) {
                words.next();
            }
            continue;
        }
        gems.push(word.as_str());
    }
    let (verb, gems) = gems.split_first()?;
    if !matches!(*verb, "install" | "i") || versioned {
        return None;
    }
    let unpinned: Vec<&str> = gems
        .iter()
        .copied()
        .filter(|gem| !gem.contains(':') && !gem.ends_with(".gem") && !is_path(gem) && !opaque(gem))
        .collect();
    (!unpinned.is_empty())
        .then(|| format!("`gem install` without a version: {}", unpinned.join(", ")))
}

/// A `gem install` option that takes no value.
fn gem_switch(option: &str) -> bool {
    option.starts_with("--no-")
        || matches!(
            option,
            "-N" | "-f"
                | "-l"
                | "-r"
                | "-b"
                | "-E"
                | "-q"
                | "-V"
                | "-w"
                | "--user-install"
                | "--conservative"
                | "--minimal-deps"
                | "--force"
                | "--ignore-dependencies"
                | "--local"
                | "--remote"
                | "--both"
                | "--prerelease"
                | "--development"
                | "--development-all"
                | "--default"
                | "--explain"
                | "--env-shebang"
                | "--norc"
                | "--quiet"
                | "--verbose"
                | "--silent"
                | "--backtrace"
                | "--debug"
                | "--wrappers"
                | "--format-executable"
                | "--lock"
                | "--suggestions"
                | "--clear-sources"
                | "--post-install-message"
                | "--vendor"
                | "--update-sources"
                | "--system"
        )
}

fn go_install_unpinned(build: &BuildSource) -> Vec<Finding> {
    each_run(build, &GO_INSTALL_UNPINNED, |command, _| {
        unpinned_go_modules(&command.words)
    })
}

/// The modules `go install`, `go get` or `go run` fetches without a fixed version, if any.
fn unpinned_go_modules(words: &[String]) -> Option<String> {
    let (program, arguments) = words.split_first()?;
    if program.rsplit('/').next() != Some("go") {
        return None;
    }
    let operands = operands(
        arguments,
        &[
            "-o",
            "-p",
            "-C",
            "-ldflags",
            "-gcflags",
            "-asmflags",
            "-gccgoflags",
            "-tags",
            "-mod",
            "-modfile",
            "-pkgdir",
            "-toolexec",
            "-overlay",
            "-pgo",
            "-buildmode",
            "-compiler",
            "-installsuffix",
            "-exec",
        ],
    );
    let (verb, rest) = operands.split_first()?;
    let modules: Vec<&str> = match *verb {
        // What follows the package `go run` runs is its arguments.
        "run" => rest.iter().take(1).copied().collect(),
        "install" | "get" => rest.to_vec(),
        _ => return None,
    };
    let unpinned: Vec<&str> = modules
        .into_iter()
        .filter(|module| {
            let local = module.starts_with('.') || module.starts_with('/');
            let pattern = matches!(*module, "tool" | "all" | "std" | "cmd");
            !local && !pattern && !module.ends_with(".go") && !opaque(module) && {
                match module.rsplit_once('@') {
                    None => true,
                    Some((_, "none")) => false,
                    Some((_, version)) => matches!(
                        version,
                        "" | "latest" | "upgrade" | "patch" | "master" | "main" | "HEAD"
                    ),
                }
            }
        })
        .collect();
    (!unpinned.is_empty()).then(|| {
        format!(
            "`go {verb}` without a fixed version: {}",
            unpinned.join(", ")
        )
    })
}

pub(super) const SUDO_IN_RUN: LintRule = LintRule {
    id: RuleId::SudoInRun,
    severity: Warning,
    summary: "a RUN runs a command through `sudo`, which leaves sudo in the image and behaves unpredictably without a terminal",
    fix: "run the step as root (`USER root` before it, an unprivileged `USER` after), and use `gosu` or `su-exec` where a process must drop to another user",
    check: Check::Build(sudo_in_run),
    #[cfg(test)]
    example: tests::sudo_in_run,
};

fn sudo_in_run(build: &BuildSource) -> Vec<Finding> {
    each_run(build, &SUDO_IN_RUN, |command, _| {
        command
            .wrappers
            .iter()
            .any(|wrapper| wrapper == "sudo")
            .then(|| match command.words.first() {
                Some(program) => format!("RUN runs `{program}` through sudo"),
                None => "RUN runs sudo".to_string(),
            })
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::doctor::rules::examples::{Example, build, findings};

    pub(in crate::doctor::rules) fn os_package_unpinned() -> Example {
        Example::new(
            build(
                "FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates=20230311\nFROM rockylinux:9\nRUN dnf -y install git-core && dnf module install -y nodejs\n",
            ),
            &[
                "app/Dockerfile:2:1 `apt-get install` without a version: curl",
                "app/Dockerfile:4:1 `dnf install` without a version: git-core; `dnf module install` without a stream: nodejs",
            ],
            build(
                "FROM debian:12\nRUN apt-get install -y curl=7.88.1-10 ./local.deb\nFROM alpine:3.20\nRUN apk add --no-cache --virtual .deps git~2.45\nFROM rockylinux:9\nARG GIT_VERSION=2.43.5\nRUN dnf -y install git-core-${GIT_VERSION} && zypper install -y tomcat\\>=9.0\n",
            ),
        )
    }

    pub(in crate::doctor::rules) fn gem_unpinned() -> Example {
        Example::new(
            build("FROM ruby:3.3\nRUN gem install --no-document bundler rake:13.2.1\n"),
            &["app/Dockerfile:2:1 `gem install` without a version: bundler"],
            build("FROM ruby:3.3\nRUN gem install bundler -v 2.5.22 && gem i rake:13.2.1\n"),
        )
    }

    pub(in crate::doctor::rules) fn go_install_unpinned() -> Example {
        Example::new(
            build(
                "FROM golang:1.23\nRUN go install golang.org/x/tools/gopls@latest github.com/go-delve/delve/cmd/dlv\n",
            ),
            &[
                "app/Dockerfile:2:1 `go install` without a fixed version: golang.org/x/tools/gopls@latest, github.com/go-delve/delve/cmd/dlv",
            ],
            build(
                "FROM golang:1.23\nRUN go install -ldflags '-s -w' golang.org/x/tools/gopls@v0.16.2 ./cmd/server\n",
            ),
        )
    }

    pub(in crate::doctor::rules) fn sudo_in_run() -> Example {
        Example::new(
            build(
                "FROM debian:12\nUSER app\nRUN sudo apt-get update && sudo -E make install && sudo apt-get clean\n",
            ),
            &["app/Dockerfile:3:1 RUN runs `apt-get` through sudo; RUN runs `make` through sudo"],
            build(
                "FROM debian:12\nRUN apt-get install -y sudo=1.9.13p3-1 && echo sudo\nRUN cat <<EOF > /etc/sudoers.d/app\napp ALL=(ALL) NOPASSWD: /usr/bin/make\nsudo make install\nEOF\nUSER app\n",
            ),
        )
    }

    #[test]
    fn a_version_in_a_variable_counts_where_the_variable_is_in_scope() {
        let found = |dockerfile: &str| findings(&OS_PACKAGE_UNPINNED, build(dockerfile));
        // ENV of the stage built FROM; ARG of the stage; an export earlier in the RUN.
        assert!(
            found("FROM fedora:40 AS base\nENV V=1\nFROM base\nRUN dnf install -y git-$V\n")
                .is_empty()
        );
        assert!(found("FROM fedora:40\nARG V\nRUN yum install -y git-${V}\n").is_empty());
        assert!(found("FROM fedora:40\nRUN export V=1 && dnf install -y git-${V}\n").is_empty());
        // An ARG of another stage, a global ARG not declared again, an unset variable.
        for dockerfile in [
            "FROM fedora:40 AS base\nARG V=1\nFROM fedora:40\nRUN dnf install -y git-${V}\n",
            "ARG V=1\nFROM fedora:40\nRUN dnf install -y git-${V}\n",
            "FROM fedora:40\nRUN dnf install -y git-$UNSET\n",
        ] {
            assert_eq!(found(dockerfile).len(), 1, "{dockerfile}");
        }
    }

    #[test]
    fn wrappers_and_odd_words_are_read_as_a_shell_would() {
        let found = |dockerfile: &str| findings(&OS_PACKAGE_UNPINNED, build(dockerfile));
        assert_eq!(
            found("FROM debian:12\nRUN sudo -E apt-get install -y curl\n"),
            ["app/Dockerfile:2:1 `apt-get install` without a version: curl"]
        );
        for clean in [
            "FROM debian:12\nRUN apt-get install -y $PACKAGES linux-headers-$(uname -r)\n",
            "FROM debian:12\nRUN apt-get -t bookworm-backports install -y curl=8.1\n",
            "FROM fedora:40\nRUN dnf group install -y 'Development Tools' && dnf install -y @core\n",
            "FROM opensuse/leap:15\nRUN zypper install -t pattern devel_basis\n",
            "FROM debian:12\nRUN echo apt-get install curl\n",
            "FROM debian:12\nRUN apt-get install\n",
        ] {
            assert_eq!(found(clean), [] as [String; 0], "{clean}");
        }
        assert_eq!(
            found("FROM fedora:40\nRUN dnf install -y java-17-openjdk python3-devel\n"),
            ["app/Dockerfile:2:1 `dnf install` without a version: java-17-openjdk, python3-devel"],
            "a digit inside the name is no version"
        );
    }

    #[test]
    fn exec_form_and_shell_scripts_are_read_as_they_run() {
        let packages = |dockerfile: &str| findings(&OS_PACKAGE_UNPINNED, build(dockerfile));
        assert_eq!(
            packages("FROM debian:12\nRUN [\"apt-get\", \"install\", \"-y\", \"curl\"]\n"),
            ["app/Dockerfile:2:1 `apt-get install` without a version: curl"]
        );
        assert_eq!(
            findings(
                &GEM_UNPINNED,
                build("FROM ruby:3.3\nRUN bash -ec 'gem install rake'\n")
            ),
            ["app/Dockerfile:2:1 `gem install` without a version: rake"]
        );
        assert_eq!(
            findings(
                &SUDO_IN_RUN,
                build("FROM debian:12\nRUN sudo sh -c 'make install'\n")
            ),
            ["app/Dockerfile:2:1 RUN runs `make` through sudo"]
        );
        // The shell expands `$V` before the command (and `env`) runs: an assignment before
        // a command is that command's alone, while one on its own is in scope after it.
        for dockerfile in [
            "FROM fedora:40\nRUN env V=1 dnf install -y git-$V\n",
            "FROM fedora:40\nRUN V=1 true && dnf install -y git-$V\n",
        ] {
            assert_eq!(packages(dockerfile).len(), 1, "{dockerfile}");
        }
        assert!(packages("FROM fedora:40\nRUN V=1 && dnf install -y git-$V\n").is_empty());
        // A heredoc python runs is no shell script.
        assert!(
            packages(
                "FROM debian:12\nRUN <<EOF\n#!/usr/bin/env python3\napt-get install curl\nEOF\n"
            )
            .is_empty()
        );
    }

    #[test]
    fn go_run_reads_only_its_package_and_go_files_are_local() {
        let found = |dockerfile: &str| findings(&GO_INSTALL_UNPINNED, build(dockerfile));
        assert!(found("FROM golang:1.23\nRUN go run main.go serve\n").is_empty());
        assert!(found("FROM golang:1.23\nRUN go run example.com/gen@v1.0.0 out\n").is_empty());
        assert_eq!(
            found("FROM golang:1.23\nRUN go get example.com/lib@main\n").len(),
            1
        );
        assert!(found("FROM golang:1.23\nRUN go get example.com/lib@none\n").is_empty());
    }
}
