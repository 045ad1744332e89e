//! Dockerfile rules: over the Dockerfile of each service that builds one — whether it
//! exists, the user the stage that ships runs as, secrets in ARG, ENV and RUN, the order of
//! copies and installs, pinned base images, ADD, the form of CMD and ENTRYPOINT, and pipes
//! without pipefail (the package rules are `rules::packages`). The global ARGs before the
//! first FROM count where they reach: secrets among them, and their defaults in FROM images.

use crate::compose::secrets::is_secret_name;
use crate::doctor::dockerfile::{self, Dockerfile, Instruction, StageTree};
use crate::doctor::finding::{Finding, Location};
use crate::doctor::lint_input::BuildSource;
use crate::doctor::rule::{Check, LintRule};
use crate::doctor::rule_id::RuleId;
use crate::doctor::rule_id::Severity::{Error, Info, Warning};
use crate::doctor::rules::reading::unpinned;
use crate::doctor::shell::{self, Command, Joined, ScriptKind};

/// Where `instruction` is, in `build`'s Dockerfile.
fn at(build: &BuildSource, instruction: &Instruction) -> Option<Location> {
    Some(Location::at(
        &build.dockerfile_path,
        instruction.line as u64,
        1,
    ))
}

/// The instructions of every stage, in order (none when the Dockerfile cannot be read).
fn staged(build: &BuildSource) -> impl Iterator<Item = &Instruction> {
    build
        .dockerfile
        .iter()
        .flat_map(Dockerfile::stages)
        .flatten()
}

/// A finding for each staged instruction that `found` has a message for.
fn each_instruction(
    build: &BuildSource,
    rule: &LintRule,
    found: impl Fn(&Instruction) -> Option<String>,
) -> Vec<Finding> {
    staged(build)
        .filter_map(|instruction| {
            let message = found(instruction)?;
            Some(rule.finding(message, at(build, instruction)))
        })
        .collect()
}

pub(super) const DOCKERFILE_MISSING: LintRule = LintRule {
    id: RuleId::DockerfileMissing,
    severity: Error,
    summary: "a service's build names a Dockerfile that does not exist, or that cannot be read as one (not a regular file, too large)",
    fix: "fix build.context / build.dockerfile, or add the Dockerfile",
    check: Check::Build(dockerfile_missing),
    #[cfg(test)]
    example: tests::dockerfile_missing,
};

fn dockerfile_missing(build: &BuildSource) -> Vec<Finding> {
    if build.dockerfile.is_some() {
        return Vec::new();
    }
    vec![DOCKERFILE_MISSING.finding(
        format!(
            "service `{}` builds with {}, which {}",
            build.service,
            build.dockerfile_path.display(),
            build.unreadable.as_deref().unwrap_or("does not exist")
        ),
        Some(Location::file(&build.dockerfile_path)),
    )]
}

pub(super) const DOCKERFILE_ROOT: LintRule = LintRule {
    id: RuleId::DockerfileRoot,
    severity: Warning,
    summary: "the stage that ships runs as root (no USER, or USER root)",
    fix: "add `USER` with an unprivileged user at the end of the stage that ships",
    check: Check::Build(dockerfile_root),
    #[cfg(test)]
    example: tests::dockerfile_root,
};

/// The stage that ships (`BuildSource::shipped_stage`: the profile's fidelity target, else a
/// production-like stage instead of the compose file's target, else that target, else the
/// last stage) as root: its last USER, or the last USER of the stage it is built FROM, and so
/// on.
fn dockerfile_root(build: &BuildSource) -> Vec<Finding> {
    let Some(dockerfile) = &build.dockerfile else {
        return Vec::new();
    };
    let stages = dockerfile.stages();
    let shipped = build.shipped_stage();
    let Some((stage, lineage)) = shipped_lineage(&stages, shipped.stage.as_deref()) else {
        return Vec::new();
    };
    let named = match &shipped.stage {
        Some(name) => format!("the shipped stage `{name}`"),
        None => "the final stage".to_string(),
    };
    // A stage built FROM another stage starts as that stage's user.
    let user = lineage
        .iter()
        .find_map(|stage| stage.iter().rev().find(|i| i.keyword == "USER"));
    let root = match user {
        None => true,
        Some(user) => {
            let name = user.arguments.split(':').next().unwrap_or_default().trim();
            name == "root" || name == "0"
        }
    };
    if !root {
        return Vec::new();
    }
    vec![
        DOCKERFILE_ROOT.finding(
            match user {
                None => format!("{named} sets no USER: the image runs as root"),
                Some(user) => format!("{named} runs as USER {}", user.arguments),
            },
            user.or(stage.first())
                .and_then(|instruction| at(build, instruction)),
        ),
    ]
}

/// The stage named `target` (by its `AS` name), else the last, and its lineage: itself, the
/// stage it is built FROM, and so on.
fn shipped_lineage<'a>(
    stages: &[&'a [Instruction]],
    target: Option<&str>,
) -> Option<(&'a [Instruction], Vec<&'a [Instruction]>)> {
    let tree = StageTree::of(stages);
    let index = tree.index(target).or(stages.len().checked_sub(1))?;
    let lineage = tree.lineage(index).into_iter().map(|i| stages[i]).collect();
    Some((stages[index], lineage))
}

pub(super) const DOCKERFILE_SECRET: LintRule = LintRule {
    id: RuleId::DockerfileSecret,
    severity: Error,
    summary: "a secret-looking ARG or ENV, or a RUN that reads such an ARG: build arguments and their values stay in the image's history, ENV in its config",
    fix: "pass secrets at build time with `RUN --mount=type=secret,id=NAME` (read /run/secrets/NAME, or add env=NAME), and at run time through the environment",
    check: Check::Build(dockerfile_secret),
    #[cfg(test)]
    example: tests::dockerfile_secret,
};

/// Secret-named ARGs (global ones too, with a value or not), secret-named ENVs with a value,
/// ENVs set from a secret-named build argument, and RUNs that read one (unless a secret
/// mount provides it). Messages name variables, never values.
fn dockerfile_secret(build: &BuildSource) -> Vec<Finding> {
    let Some(dockerfile) = &build.dockerfile else {
        return Vec::new();
    };
    let mut findings = Vec::new();
    let mut found = |message: String, instruction: &Instruction| {
        findings.push(DOCKERFILE_SECRET.finding(message, at(build, instruction)));
    };
    let scopes = std::iter::once(dockerfile.preamble()).chain(dockerfile.stages());
    for scope in scopes {
        // The secret-named build arguments declared so far in this stage.
        let mut secret_arguments: Vec<String> = Vec::new();
        for instruction in scope {
            match instruction.keyword.as_str() {
                "ARG" => {
                    for (name, value) in declarations(&instruction.arguments) {
                        if !is_secret_name(&name) {
                            continue;
                        }
                        found(
                            match value {
                                Some(value) if !value.is_empty() => {
                                    format!("ARG {name} has a value in the Dockerfile")
                                }
                                _ => format!(
                                    "ARG {name} is a build argument: its value stays in the image's history"
                                ),
                            },
                            instruction,
                        );
                        secret_arguments.push(name);
                    }
                }
                "ENV" => {
                    for (name, value) in environment(&instruction.arguments) {
                        let copied: Vec<String> = references(&value)
                            .into_iter()
                            .filter(|reference| secret_arguments.contains(reference))
                            .collect();
                        if let Some(argument) = copied.first() {
                            found(
                                format!(
                                    "ENV {name} copies build argument {argument} into the image's environment"
                                ),
                                instruction,
                            );
                        } else if is_secret_name(&name) && !value.is_empty() {
                            found(
                                format!("ENV {name} has a value in the Dockerfile"),
                                instruction,
                            );
                        }
                    }
                }
                "RUN" => {
                    let provided = secret_mount_variables(instruction.command_line());
                    let mut read: Vec<String> = Vec::new();
                    for reference in references(&instruction.arguments) {
                        if secret_arguments.contains(&reference)
                            && !provided.contains(&reference)
                            && !read.contains(&reference)
                        {
                            read.push(reference);
                        }
                    }
                    for argument in read {
                        found(
                            format!(
                                "RUN reads build argument {argument}: its value stays in the image's history"
                            ),
                            instruction,
                        );
                    }
                }
                _ => {}
            }
        }
    }
    findings
}

/// The names an ARG declares, each with its default when it has one.
fn declarations(arguments: &str) -> Vec<(String, Option<String>)> {
    shell::commands(arguments)
        .into_iter()
        .flat_map(|command| {
            let assigned = command
                .assignments
                .into_iter()
                .map(|(name, value)| (name, Some(value)));
            let words = command
                .words
                .into_iter()
                .map(|word| match word.split_once('=') {
                    Some((name, value)) => (name.to_string(), Some(value.to_string())),
                    None => (word, None),
                });
            assigned.chain(words).collect::<Vec<_>>()
        })
        .collect()
}

/// `NAME=value` pairs of an ENV (`ENV NAME value` too), quotes removed.
fn environment(arguments: &str) -> Vec<(String, String)> {
    let first = arguments.split_whitespace().next().unwrap_or_default();
    if !first.contains('=') {
        let value = arguments[first.len()..].trim();
        let value = shell::commands(value)
            .into_iter()
            .flat_map(|command| command.words)
            .collect::<Vec<_>>()
            .join(" ");
        return vec![(first.to_string(), value)];
    }
    declarations(arguments)
        .into_iter()
        .map(|(name, value)| (name, value.unwrap_or_default()))
        .collect()
}

/// The variables `text` expands: `$NAME`, `${NAME}`, `${NAME:-…}`.
fn references(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(position) = rest.find('$') {
        rest = &rest[position + 1..];
        let inner = rest.strip_prefix('{').unwrap_or(rest);
        let name: String = inner
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if name.chars().next().is_some_and(|c| !c.is_ascii_digit()) {
            names.push(name);
        }
    }
    names
}

/// The variables a RUN's `--mount=type=secret,…,env=NAME` flags set.
fn secret_mount_variables(command_line: &str) -> Vec<String> {
    command_line
        .split_whitespace()
        .take_while(|word| word.starts_with("--"))
        .filter_map(|word| word.strip_prefix("--mount="))
        .filter(|options| options.split(',').any(|option| option == "type=secret"))
        .flat_map(|options| options.split(','))
        .filter_map(|option| option.strip_prefix("env="))
        .map(String::from)
        .collect()
}

pub(super) const COPY_BEFORE_INSTALL: LintRule = LintRule {
    id: RuleId::CopyBeforeInstall,
    severity: Warning,
    summary: "`COPY . .` comes before the dependency install, so any source change reinstalls every dependency",
    fix: "copy the dependency manifests (package.json and lockfile, requirements.txt, …) first, install, then copy the rest",
    check: Check::Build(copy_before_install),
    #[cfg(test)]
    example: tests::copy_before_install,
};

/// In each stage, the first COPY or ADD of the whole context followed by an install
/// (located at the copy); after a finding, the next whole-context copy counts anew.
fn copy_before_install(build: &BuildSource) -> Vec<Finding> {
    let mut findings = Vec::new();
    for stage in build.dockerfile.iter().flat_map(Dockerfile::stages) {
        let mut copied_all: Option<&Instruction> = None;
        for instruction in stage {
            match instruction.keyword.as_str() {
                "COPY" | "ADD" if copied_all.is_none() && copies_everything(instruction) => {
                    copied_all = Some(instruction);
                }
                "RUN" => {
                    if let (Some(copy), true) = (copied_all, installs_dependencies(instruction)) {
                        findings.push(COPY_BEFORE_INSTALL.finding(
                            format!(
                                "line {} copies the whole context before this install on line {}",
                                copy.line, instruction.line
                            ),
                            at(build, copy),
                        ));
                        copied_all = None;
                    }
                }
                _ => {}
            }
        }
    }
    findings
}

/// The sources of a COPY or ADD: its arguments but flags and the destination, in shell form
/// (quotes removed) or JSON form (`ADD ["a b", "/dest/"]`); heredoc sources (`<<EOF`) are
/// left out.
fn sources(instruction: &Instruction) -> Vec<String> {
    let mut rest = instruction.command_line().trim_start();
    while rest.starts_with("--") {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        rest = rest[end..].trim_start();
    }
    let mut words: Vec<String> = match serde_json::from_str::<Vec<String>>(rest) {
        Ok(words) if rest.starts_with('[') => words,
        _ => shell::commands(rest)
            .into_iter()
            .flat_map(|command| {
                let assigned = command
                    .assignments
                    .into_iter()
                    .map(|(name, value)| format!("{name}={value}"));
                assigned.chain(command.words).collect::<Vec<_>>()
            })
            .collect(),
    };
    if words.len() < 2 {
        return Vec::new();
    }
    words.pop();
    words.retain(|word| !word.starts_with("<<"));
    words
}

/// Whether a COPY or ADD copies the whole build context: a source `.`, `./` or `/`, not
/// from another stage or image (`--from=`).
fn copies_everything(instruction: &Instruction) -> bool {
    let from_elsewhere = instruction
        .command_line()
        .split_whitespace()
        .take_while(|word| word.starts_with("--"))
        .any(|flag| flag.starts_with("--from="));
    !from_elsewhere
        && sources(instruction).iter().any(|source| {
            let trimmed = source.trim_end_matches('/');
            matches!(trimmed, "" | "." | "./.")
        })
}

/// Whether a RUN installs a project's dependencies (from what the context holds).
fn installs_dependencies(instruction: &Instruction) -> bool {
    instruction.run().commands().iter().any(|command| {
        let mut words: Vec<&str> = command.words.iter().map(String::as_str).collect();
        if let Some(program) = command.program() {
            words[0] = program;
        }
        // `python -m pip …` is pip.
        if words.len() > 2 && words[0].starts_with("python") && words[1] == "-m" {
            words.drain(..2);
        }
        let global = words.contains(&"-g") || words.contains(&"--global");
        match words.as_slice() {
            ["npm", "ci" | "install" | "i", ..] => !global,
            ["yarn"] | ["yarn", "install", ..] => true,
            ["yarn", flag, ..] => flag.starts_with("--"),
            ["pnpm" | "bun", "install" | "i", ..] => !global,
            ["pip" | "pip3", "install", ..] => true,
            ["poetry" | "pipenv" | "bundle" | "composer", "install", ..] => true,
            ["uv", "sync", ..] | ["uv", "pip", "install", ..] => true,
            ["go", "mod", "download", ..] => true,
            ["mix", "deps.get", ..] => true,
            ["cargo", "fetch", ..] => true,
            ["dotnet", "restore", ..] => true,
            ["mvn" | "mvnw" | "gradle" | "gradlew", _, ..] => true,
            _ => false,
        }
    })
}

pub(super) const BASE_IMAGE_UNPINNED: LintRule = LintRule {
    id: RuleId::BaseImageUnpinned,
    severity: Warning,
    summary: "a FROM image is untagged or has a floating tag (`latest`, `stable`, `lts`, …)",
    fix: "pin the base image's tag (or digest)",
    check: Check::Build(base_image_unpinned),
    #[cfg(test)]
    example: tests::base_image_unpinned,
};

/// FROM images but `scratch` and the file's own stages, with the global ARGs' defaults put in
/// (`ARG TAG=latest` before `FROM node:$TAG`).
fn base_image_unpinned(build: &BuildSource) -> Vec<Finding> {
    let stage_names = build
        .dockerfile
        .as_ref()
        .map(Dockerfile::stage_names)
        .unwrap_or_default();
    each_instruction(build, &BASE_IMAGE_UNPINNED, |instruction| {
        if instruction.keyword != "FROM" {
            return None;
        }
        let written = dockerfile::from_image(&instruction.arguments);
        let image = match &build.dockerfile {
            Some(dockerfile) => dockerfile.expand_global_arguments(written),
            None => written.to_string(),
        };
        let is_stage = stage_names.contains(&image.to_lowercase());
        let built_here = build.project_images.contains(&image);
        let why = unpinned(&image).filter(|_| image != "scratch" && !is_stage && !built_here)?;
        Some(if image == written {
            format!("FROM {image} {why}")
        } else {
            format!("FROM {written} is {image} by default, which {why}")
        })
    })
}

pub(super) const ADD_LOCAL_FILE: LintRule = LintRule {
    id: RuleId::AddLocalFile,
    severity: Info,
    summary: "ADD copies a local file; COPY says what it does",
    fix: "use COPY for local files (ADD for URLs and archives to unpack)",
    check: Check::Build(add_local_file),
    #[cfg(test)]
    example: tests::add_local_file,
};

/// ADDs whose every source is a local file that is not an archive ADD unpacks.
fn add_local_file(build: &BuildSource) -> Vec<Finding> {
    each_instruction(build, &ADD_LOCAL_FILE, |instruction| {
        let sources = sources(instruction);
        (instruction.keyword == "ADD"
            && !sources.is_empty()
            && sources.iter().all(|source| is_local_plain(source)))
        .then(|| format!("ADD {}", sources.join(" ")))
    })
}

/// The endings of the archives ADD unpacks (tar, compressed or not), as hadolint lists them,
/// and zstd's.
const ARCHIVES: [&str; 17] = [
    ".tar", ".gz", ".tgz", ".bz2", ".tbz", ".tbz2", ".tb2", ".xz", ".txz", ".zst", ".tzst", ".lz",
    ".tlz", ".lzma", ".z", ".tz", ".tpz",
];

/// Whether an ADD source is a local file (not a URL, a git remote or a variable) that is
/// not an archive.
fn is_local_plain(source: &str) -> bool {
    let lower = source.to_lowercase();
    !source.contains("://")
        && !source.starts_with("git@")
        && !source.contains('$')
        && !ARCHIVES.iter().any(|suffix| lower.ends_with(suffix))
}

pub(super) const SHELL_FORM_COMMAND: LintRule = LintRule {
    id: RuleId::ShellFormCommand,
    severity: Info,
    summary: "the shipped image's CMD or ENTRYPOINT is in shell form: the process gets no signals, so stops wait for the timeout (and in an image without a shell, no shell form runs at all, HEALTHCHECK included)",
    fix: "use the exec form: CMD [\"server\", \"--port\", \"8080\"]",
    check: Check::Build(shell_form_command),
    #[cfg(test)]
    example: tests::shell_form_command,
};

/// The CMD and ENTRYPOINT the shipped stage runs with (its own, else those of the stage it is
/// built FROM), in shell form. Where the image surely has no shell (`scratch`, distroless),
/// a shell-form HEALTHCHECK is one too: it cannot run at all.
fn shell_form_command(build: &BuildSource) -> Vec<Finding> {
    let Some(dockerfile) = &build.dockerfile else {
        return Vec::new();
    };
    let stages = dockerfile.stages();
    let Some((_, lineage)) = shipped_lineage(&stages, build.shipped_stage().stage.as_deref())
    else {
        return Vec::new();
    };
    let no_shell = lineage
        .last()
        .and_then(|root| root.first())
        .map(|from| dockerfile::from_image(&from.arguments).to_lowercase())
        .filter(|image| {
            image == "scratch" || (image.contains("distroless") && !image.ends_with(":debug"))
        });
    let (entrypoint, command, healthcheck) = in_effect(&lineage);
    let mut findings = Vec::new();
    for instruction in [entrypoint, command].into_iter().flatten() {
        if !is_exec_form(&instruction.arguments) {
            let message = match &no_shell {
                Some(image) => format!(
                    "{} {} runs through /bin/sh, which {image} does not have",
                    instruction.keyword, instruction.arguments
                ),
                None => format!("{} {}", instruction.keyword, instruction.arguments),
            };
            findings.push(SHELL_FORM_COMMAND.finding(message, at(build, instruction)));
        }
    }
    if let (Some(image), Some(healthcheck)) = (&no_shell, healthcheck) {
        let test = healthcheck_command(&healthcheck.arguments);
        if test.is_some_and(|test| !is_exec_form(test)) {
            findings.push(SHELL_FORM_COMMAND.finding(
                format!(
                    "HEALTHCHECK {} runs through /bin/sh, which {image} does not have",
                    healthcheck.arguments
                ),
                at(build, healthcheck),
            ));
        }
    }
    findings.sort_by_key(|finding| finding.location.as_ref().and_then(|l| l.line));
    findings
}

/// The ENTRYPOINT, CMD and HEALTHCHECK a stage's image has, from the nearest stage of its
/// `lineage` that sets each. An ENTRYPOINT clears the CMD inherited from a parent, as
/// BuildKit does, not a CMD set before it in its own stage.
fn in_effect<'a>(
    lineage: &[&'a [Instruction]],
) -> (
    Option<&'a Instruction>,
    Option<&'a Instruction>,
    Option<&'a Instruction>,
) {
    let (mut entrypoint, mut command, mut healthcheck) = (None, None, None);
    let mut command_known = false;
    for stage in lineage {
        for (index, instruction) in stage.iter().enumerate().rev() {
            match instruction.keyword.as_str() {
                "ENTRYPOINT" => {
                    entrypoint = entrypoint.or(Some(instruction));
                    if !command_known {
                        command = stage[..index].iter().rev().find(|i| i.keyword == "CMD");
                        command_known = true;
                    }
                }
                "CMD" if !command_known => {
                    command = Some(instruction);
                    command_known = true;
                }
                "HEALTHCHECK" => healthcheck = healthcheck.or(Some(instruction)),
                _ => {}
            }
        }
    }
    (entrypoint, command, healthcheck)
}

/// Whether CMD / ENTRYPOINT arguments are a JSON array of strings (else Docker runs them
/// with the shell).
fn is_exec_form(arguments: &str) -> bool {
    serde_json::from_str::<Vec<String>>(arguments.trim()).is_ok()
}

/// A HEALTHCHECK's command, after its flags and `CMD` (`None` for `HEALTHCHECK NONE`).
fn healthcheck_command(arguments: &str) -> Option<&str> {
    let mut rest = arguments.trim_start();
    while rest.starts_with("--") {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        rest = rest[end..].trim_start();
    }
    let (keyword, command) = rest.split_once(char::is_whitespace)?;
    keyword
        .eq_ignore_ascii_case("CMD")
        .then_some(command.trim())
}

pub(super) const PIPE_WITHOUT_PIPEFAIL: LintRule = LintRule {
    id: RuleId::PipeWithoutPipefail,
    severity: Info,
    summary: "a RUN pipes commands without `set -o pipefail`, so a failing first command goes unnoticed",
    fix: "start the RUN with `set -o pipefail &&`, or set SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]",
    check: Check::Build(pipe_without_pipefail),
    #[cfg(test)]
    example: tests::pipe_without_pipefail,
};

/// RUNs with a pipe (`a | b`, not `a || b`) in their script or a heredoc script, unless the
/// script sets pipefail before the pipe, or the SHELL in effect (the stage's last before the
/// RUN, else the one of the stage it is built FROM) is bash, zsh, ash or ksh with `-o
/// pipefail`. A non-POSIX SHELL (pwsh, powershell, cmd) needs nothing; `sh -o pipefail` does
/// not count, as sh may not have pipefail (hadolint's reading).
fn pipe_without_pipefail(build: &BuildSource) -> Vec<Finding> {
    let Some(dockerfile) = &build.dockerfile else {
        return Vec::new();
    };
    let stages = dockerfile.stages();
    let mut findings = Vec::new();
    let tree = StageTree::of(&stages);
    for (index, &stage) in stages.iter().enumerate() {
        // The SHELL a stage starts with: the last one of the stages it is built from.
        let mut shell = tree
            .lineage(index)
            .into_iter()
            .skip(1)
            .find_map(|parent| stages[parent].iter().rev().find(|i| i.keyword == "SHELL"))
            .map(|instruction| Shell::parse(&instruction.arguments))
            .unwrap_or_default();
        for instruction in stage {
            match instruction.keyword.as_str() {
                "SHELL" => shell = Shell::parse(&instruction.arguments),
                "RUN" => {
                    if let Some(why) = unsafe_pipe(instruction, &shell) {
                        findings.push(PIPE_WITHOUT_PIPEFAIL.finding(why, at(build, instruction)));
                    }
                }
                _ => {}
            }
        }
    }
    findings
}

/// The SHELL a RUN's script runs with.
#[derive(Debug, Default)]
struct Shell {
    /// The program's name, without directory or `.exe`, lower-cased; `sh` when unset.
    program: String,
    /// Whether its options set pipefail (`-o pipefail`, `-eo pipefail`).
    pipefail: bool,
}

impl Shell {
    /// A SHELL instruction's JSON array; what cannot be read is taken as `sh`.
    fn parse(arguments: &str) -> Shell {
        let words: Vec<String> = serde_json::from_str(arguments).unwrap_or_default();
        let program = words
            .first()
            .map(|program| {
                let name = program.rsplit(['/', '\\']).next().unwrap_or(program);
                let name = name.to_lowercase();
                name.strip_suffix(".exe").unwrap_or(&name).to_string()
            })
            .unwrap_or_else(|| "sh".to_string());
        let pipefail = words.windows(2).any(|pair| {
            pair[1] == "pipefail" && pair[0].starts_with('-') && pair[0].ends_with('o')
        });
        Shell { program, pipefail }
    }

    fn is_posix(&self) -> bool {
        !matches!(self.program.as_str(), "pwsh" | "powershell" | "cmd")
    }

    /// Whether it sets pipefail and is a shell that surely has it.
    fn has_pipefail(&self) -> bool {
        self.pipefail && matches!(self.program.as_str(), "bash" | "zsh" | "ash" | "ksh")
    }
}

/// Why a RUN pipes without pipefail, if it does.
fn unsafe_pipe(instruction: &Instruction, shell: &Shell) -> Option<String> {
    if !shell.is_posix() {
        return None;
    }
    let run = instruction.run();
    let without_pipefail = || {
        Some(if shell.pipefail {
            format!(
                "RUN pipes commands without pipefail: SHELL `{}` cannot be trusted with -o pipefail, use bash",
                shell.program
            )
        } else {
            "RUN pipes commands without pipefail".to_string()
        })
    };
    // Exec form runs no shell: `run.scripts()` is empty.
    for script in run.scripts() {
        // The SHELL runs the line, and a heredoc script without a `#!` line.
        let by_the_shell = match script.kind {
            ScriptKind::Line => true,
            ScriptKind::Heredoc => !script.text.starts_with("#!"),
            ScriptKind::ShellInput => false,
        };
        if pipes_before_pipefail(&script.commands) && !(by_the_shell && shell.has_pipefail()) {
            return without_pipefail();
        }
    }
    None
}

/// Whether a command reads another's output (`|`) before any `set -o pipefail`.
fn pipes_before_pipefail(commands: &[Command]) -> bool {
    for command in commands {
        if command.joined == Joined::Pipe {
            return true;
        }
        let sets_pipefail = command.program() == Some("set")
            && command.words.windows(2).any(|pair| {
                pair[1] == "pipefail" && pair[0].starts_with('-') && pair[0].ends_with('o')
            });
        if sets_pipefail {
            return false;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::rules::examples::{Example, build, findings};

    pub(super) fn dockerfile_missing() -> Example {
        let mut missing = build("");
        missing.dockerfile = None;
        Example::new(
            missing,
            &["app/Dockerfile service `app` builds with app/Dockerfile, which does not exist"],
            build("FROM a:1\n"),
        )
    }

    #[test]
    fn a_missing_dockerfile_is_no_other_rules_finding() {
        let mut missing = build("");
        missing.dockerfile = None;
        for rule in [
            &DOCKERFILE_ROOT,
            &DOCKERFILE_SECRET,
            &COPY_BEFORE_INSTALL,
            &BASE_IMAGE_UNPINNED,
            &ADD_LOCAL_FILE,
            &SHELL_FORM_COMMAND,
            &PIPE_WITHOUT_PIPEFAIL,
        ] {
            assert!(findings(rule, missing.clone()).is_empty(), "{}", rule.id);
        }
    }

    pub(super) fn dockerfile_root() -> Example {
        Example::new(
            build("FROM a:1\nRUN make\n"),
            &["app/Dockerfile:1:1 the final stage sets no USER: the image runs as root"],
            build("FROM a:1\nUSER root\nRUN make\nUSER app:app\n"),
        )
    }

    #[test]
    fn the_user_of_the_target_stage_or_the_stage_it_is_built_from_counts() {
        assert_eq!(
            findings(&DOCKERFILE_ROOT, build("FROM a:1\nUSER 0:0\n")),
            ["app/Dockerfile:2:1 the final stage runs as USER 0:0"]
        );
        // The last stage is built FROM a stage that set a user.
        let inherited = "FROM a:1 AS base\nUSER app\nFROM base AS final\nRUN make\n";
        assert!(findings(&DOCKERFILE_ROOT, build(inherited)).is_empty());
        let from_root = "FROM a:1 AS base\nUSER root\nFROM base\nRUN make\n";
        assert_eq!(
            findings(&DOCKERFILE_ROOT, build(from_root)),
            ["app/Dockerfile:2:1 the final stage runs as USER root"]
        );
        // The build's target runs, not the last stage.
        let mut target = build("FROM a:1 AS dev\nRUN make\nFROM a:1 AS test\nUSER app\n");
        assert!(findings(&DOCKERFILE_ROOT, target.clone()).is_empty());
        target.target = Some("DEV".into());
        assert_eq!(
            findings(&DOCKERFILE_ROOT, target),
            ["app/Dockerfile:1:1 the shipped stage `DEV` sets no USER: the image runs as root"]
        );
    }

    #[test]
    fn a_shift_in_a_run_does_not_hide_the_lines_after_it() {
        let dockerfile = "FROM a:1\nRUN echo $((1<<2)) > /n\nUSER app\n";
        assert!(findings(&DOCKERFILE_ROOT, build(dockerfile)).is_empty());
    }

    #[test]
    fn the_stage_that_ships_counts_not_the_compose_file_s_development_target() {
        // The compose file builds `dev` (root); the production-like stage ships.
        let mut shipped = build("FROM a:1 AS dev\nRUN make\nFROM a:1 AS prod\nUSER app\n");
        shipped.target = Some("dev".into());
        assert!(findings(&DOCKERFILE_ROOT, shipped.clone()).is_empty());
        // The production-like stage runs as root, while `dev` does not.
        let mut root = build("FROM a:1 AS dev\nUSER app\nFROM a:1 AS production\nRUN make\n");
        root.target = Some("dev".into());
        assert_eq!(
            findings(&DOCKERFILE_ROOT, root.clone()),
            [
                "app/Dockerfile:3:1 the shipped stage `production` sets no USER: the image runs as root"
            ]
        );
        // The profile's fidelity target is the stage that ships.
        shipped.profile_target = Some("dev".into());
        assert_eq!(
            findings(&DOCKERFILE_ROOT, shipped),
            ["app/Dockerfile:1:1 the shipped stage `dev` sets no USER: the image runs as root"]
        );
        root.profile_target = Some("dev".into());
        assert!(findings(&DOCKERFILE_ROOT, root).is_empty());
    }

    pub(super) fn dockerfile_secret() -> Example {
        Example::new(
            build(
                "ARG NPM_TOKEN=abc\nFROM a:1\nARG NPM_TOKEN\nENV DB_PASSWORD hunter2\nENV API_KEY=\"k\" SECRET_KEY='s'\nENV NPM_AUTH=${NPM_TOKEN}\nRUN echo \"//r/:_authToken=$NPM_TOKEN\" > .npmrc && npm ci\nUSER app\n",
            ),
            &[
                "app/Dockerfile:1:1 ARG NPM_TOKEN has a value in the Dockerfile",
                "app/Dockerfile:3:1 ARG NPM_TOKEN is a build argument: its value stays in the image's history",
                "app/Dockerfile:4:1 ENV DB_PASSWORD has a value in the Dockerfile",
                "app/Dockerfile:5:1 ENV API_KEY has a value in the Dockerfile",
                "app/Dockerfile:5:1 ENV SECRET_KEY has a value in the Dockerfile",
                "app/Dockerfile:6:1 ENV NPM_AUTH copies build argument NPM_TOKEN into the image's environment",
                "app/Dockerfile:7:1 RUN reads build argument NPM_TOKEN: its value stays in the image's history",
            ],
            build(
                "ARG NODE_VERSION=20\nFROM a:1\nARG DB_PASSWORD_FILE=/run/secrets/db\nENV TOKEN_URL=https://auth.example.com DB_PASSWORD_FILE=$DB_PASSWORD_FILE\nRUN --mount=type=secret,id=npm,env=NPM_TOKEN npm ci\nUSER app\n",
            ),
        )
    }

    #[test]
    fn secrets_are_named_never_shown() {
        let dockerfile = "FROM a:1\nARG GITHUB_TOKEN=ghp_abc123\nENV DB_PASSWORD \"hunter2 two\"\nARG DEPLOY_TOKEN\nENV X=\"$DEPLOY_TOKEN\"\nRUN --mount=type=secret,id=t,env=OTHER curl -H \"Authorization: ${DEPLOY_TOKEN}\" x\n";
        let found = findings(&DOCKERFILE_SECRET, build(dockerfile));
        assert_eq!(found.len(), 5, "{found:#?}");
        for secret in ["ghp_abc123", "hunter2"] {
            assert!(found.iter().all(|f| !f.contains(secret)), "{found:#?}");
        }
    }

    #[test]
    fn a_build_argument_is_read_only_in_the_stage_that_declares_it() {
        // A global ARG reaches a stage only when the stage declares it again.
        let dockerfile = "ARG API_TOKEN\nFROM a:1\nRUN echo $API_TOKEN\nFROM a:1\nARG API_TOKEN\nRUN --mount=type=secret,id=t,env=API_TOKEN use $API_TOKEN\nRUN use ${API_TOKEN:-none}\n";
        assert_eq!(
            findings(&DOCKERFILE_SECRET, build(dockerfile)),
            [
                "app/Dockerfile:1:1 ARG API_TOKEN is a build argument: its value stays in the image's history",
                "app/Dockerfile:5:1 ARG API_TOKEN is a build argument: its value stays in the image's history",
                "app/Dockerfile:7:1 RUN reads build argument API_TOKEN: its value stays in the image's history",
            ]
        );
    }

    pub(super) fn copy_before_install() -> Example {
        Example::new(
            build("FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nUSER node\n"),
            &["app/Dockerfile:3:1 line 3 copies the whole context before this install on line 4"],
            build(
                "FROM node:20\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\nRUN npm run build\nUSER node\n",
            ),
        )
    }

    #[test]
    fn each_stage_and_each_copy_after_an_install_counts_anew() {
        let dockerfile = "FROM node:20 AS build\nCOPY --chown=node . /app\nADD . /again\nRUN npm ci\nCOPY . .\nRUN yarn\nFROM node:20\nRUN npm ci\n";
        assert_eq!(
            findings(&COPY_BEFORE_INSTALL, build(dockerfile)),
            [
                "app/Dockerfile:2:1 line 2 copies the whole context before this install on line 4",
                "app/Dockerfile:5:1 line 5 copies the whole context before this install on line 6",
            ]
        );
    }

    #[test]
    fn every_spelling_of_the_whole_context_and_of_an_install_counts() {
        for copy in [
            "COPY ./ ./",
            "COPY . /app",
            "ADD ./ .",
            "COPY --chown=app:app --chmod=644 . .",
            "COPY [\".\", \"/app/\"]",
            "COPY --link [\"./\", \".\"]",
        ] {
            for install in [
                "RUN npm ci",
                "RUN cd /app && npm install",
                "RUN --mount=type=cache,target=/root/.cache/pip python3 -m pip install -r requirements.txt",
                "RUN /usr/local/bin/pip install .",
                "RUN bundle install",
                "RUN <<EOF\nset -e\nyarn install --frozen-lockfile\nEOF",
                "RUN ./gradlew build",
                "RUN go mod download",
                // Through a wrapper, a shell's -c script or exec form, as it runs.
                "RUN sudo -E npm ci",
                "RUN sh -c 'npm ci'",
                "RUN [\"npm\", \"ci\"]",
            ] {
                let dockerfile = format!("FROM a:1\n{copy}\n{install}\n");
                assert_eq!(
                    findings(&COPY_BEFORE_INSTALL, build(&dockerfile)).len(),
                    1,
                    "{copy} then {install}"
                );
            }
        }
        for clean in [
            "COPY --from=build . .\nRUN npm ci",
            "COPY ./src ./src\nRUN npm ci",
            "COPY . .\nRUN npm install -g pnpm@9",
            "COPY . .\nRUN echo npm ci",
            "COPY . .\nRUN cat <<EOF > /etc/notes\nnpm ci\nEOF",
        ] {
            let dockerfile = format!("FROM a:1\n{clean}\n");
            assert!(
                findings(&COPY_BEFORE_INSTALL, build(&dockerfile)).is_empty(),
                "{clean}"
            );
        }
    }

    pub(super) fn base_image_unpinned() -> Example {
        Example::new(
            build(
                "ARG TAG=latest\nFROM --platform=linux/amd64 node AS build\nFROM nginx:latest\nFROM redis:${TAG}\n",
            ),
            &[
                "app/Dockerfile:2:1 FROM node is untagged",
                "app/Dockerfile:3:1 FROM nginx:latest has the floating tag `latest`",
                "app/Dockerfile:4:1 FROM redis:${TAG} is redis:latest by default, which has the floating tag `latest`",
            ],
            build(
                "ARG VERSION=7.4\nFROM node:20 AS build\nFROM build AS test\nFROM scratch\nFROM nginx@sha256:0123\nFROM redis:${VERSION}\nFROM ${BASE}\n",
            ),
        )
    }

    #[test]
    fn a_from_may_name_an_image_a_service_of_the_project_builds() {
        let mut input = build("FROM shop/base:latest\nFROM shop/tools\n");
        input.project_images = vec!["shop/base:latest".into()];
        assert_eq!(
            findings(&BASE_IMAGE_UNPINNED, input),
            ["app/Dockerfile:2:1 FROM shop/tools is untagged"]
        );
    }

    pub(super) fn add_local_file() -> Example {
        Example::new(
            build(
                "FROM a:1\nADD --chown=app config.json settings.ini /etc/app/\nADD [\"my file.zip\", \"/opt/\"]\n",
            ),
            &[
                "app/Dockerfile:2:1 ADD config.json settings.ini",
                "app/Dockerfile:3:1 ADD my file.zip",
            ],
            build(
                "FROM a:1\nADD https://example.com/tool /usr/bin/tool\nADD rootfs.tar.gz /\nADD --link \"vendor.tgz\" /srv/\nADD [\"data.tar.zst\", \"/srv/\"]\nADD [\"tools.TXZ\", \"/opt/\"]\nCOPY config.json /etc/app/\n",
            ),
        )
    }

    #[test]
    fn every_archive_add_unpacks_is_fine_and_a_plain_file_is_not() {
        for archive in [
            "a.tar",
            "a.tar.gz",
            "a.tgz",
            "a.gz",
            "a.bz2",
            "a.tbz2",
            "a.xz",
            "a.txz",
            "a.tar.zst",
        ] {
            let dockerfile = format!("FROM a:1\nADD {archive} /srv/\nADD '{archive}' /srv/\n");
            assert!(
                findings(&ADD_LOCAL_FILE, build(&dockerfile)).is_empty(),
                "{archive}"
            );
        }
        assert_eq!(
            findings(
                &ADD_LOCAL_FILE,
                build("FROM a:1\nADD --chmod=755 'run.sh' ./\nADD ${ARCHIVE} /srv/\n")
            ),
            ["app/Dockerfile:2:1 ADD run.sh"]
        );
    }

    pub(super) fn shell_form_command() -> Example {
        Example::new(
            build("FROM a:1\nENTRYPOINT docker-entrypoint.sh\nCMD node server.js\n"),
            &[
                "app/Dockerfile:2:1 ENTRYPOINT docker-entrypoint.sh",
                "app/Dockerfile:3:1 CMD node server.js",
            ],
            build(
                "FROM a:1\nENTRYPOINT [\"docker-entrypoint.sh\"]\nCMD [\"node\", \"server.js\"]\nHEALTHCHECK CMD wget -q -O- localhost || exit 1\n",
            ),
        )
    }

    #[test]
    fn the_command_the_shipped_image_runs_counts() {
        // A builder's or the development target's command never ships.
        let mut shipped = build(
            "FROM a:1 AS dev\nCMD npm run dev\nFROM a:1 AS build\nCMD make\nFROM a:1 AS production\nCMD [\"node\", \"server.js\"]\n",
        );
        shipped.target = Some("dev".into());
        assert!(findings(&SHELL_FORM_COMMAND, shipped.clone()).is_empty());
        shipped.profile_target = Some("dev".into());
        assert_eq!(
            findings(&SHELL_FORM_COMMAND, shipped),
            ["app/Dockerfile:2:1 CMD npm run dev"]
        );
        // Inherited from the stage it is built FROM, unless an ENTRYPOINT clears it.
        let inherited = "FROM a:1 AS base\nCMD serve --port 80\nFROM base\nRUN true\n";
        assert_eq!(
            findings(&SHELL_FORM_COMMAND, build(inherited)),
            ["app/Dockerfile:2:1 CMD serve --port 80"]
        );
        let cleared = "FROM a:1 AS base\nCMD serve --port 80\nFROM base\nENTRYPOINT [\"serve\"]\n";
        assert!(findings(&SHELL_FORM_COMMAND, build(cleared)).is_empty());
        let kept = "FROM a:1\nCMD serve --port 80\nENTRYPOINT [\"serve\"]\n";
        assert_eq!(findings(&SHELL_FORM_COMMAND, build(kept)).len(), 1);
        // Only the last CMD is in effect.
        let last = "FROM a:1\nCMD serve\nCMD [\"serve\"]\n";
        assert!(findings(&SHELL_FORM_COMMAND, build(last)).is_empty());
    }

    #[test]
    fn in_an_image_without_a_shell_any_shell_form_cannot_run() {
        let scratch = "FROM golang:1.23 AS build\nRUN go build -o /server\nFROM scratch\nCOPY --from=build /server /server\nHEALTHCHECK --interval=5s CMD /server -check\nCMD /server\n";
        assert_eq!(
            findings(&SHELL_FORM_COMMAND, build(scratch)),
            [
                "app/Dockerfile:5:1 HEALTHCHECK --interval=5s CMD /server -check runs through /bin/sh, which scratch does not have",
                "app/Dockerfile:6:1 CMD /server runs through /bin/sh, which scratch does not have",
            ]
        );
        let distroless = "FROM gcr.io/distroless/static-debian12:nonroot AS runtime\nHEALTHCHECK CMD [\"/server\", \"-check\"]\nCMD [\"/server\"]\n";
        assert!(findings(&SHELL_FORM_COMMAND, build(distroless)).is_empty());
        let debug = "FROM gcr.io/distroless/base:debug\nHEALTHCHECK CMD /server -check\nCMD [\"/server\"]\nHEALTHCHECK NONE\n";
        assert!(findings(&SHELL_FORM_COMMAND, build(debug)).is_empty());
    }

    pub(super) fn pipe_without_pipefail() -> Example {
        Example::new(
            build("FROM a:1\nRUN curl -fsSL https://example.com/install | sh\n"),
            &["app/Dockerfile:2:1 RUN pipes commands without pipefail"],
            build(
                "FROM a:1\nRUN set -o pipefail && curl -fsSL https://example.com/install | sh\nRUN echo a||echo b\n",
            ),
        )
    }

    #[test]
    fn thousands_of_stages_built_from_one_inherit_its_shell() {
        let mut dockerfile =
            String::from("FROM a:1 AS base\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\n");
        for index in 0..3000 {
            dockerfile.push_str(&format!("FROM base AS s{index}\nRUN a | b\n"));
        }
        dockerfile.push_str("FROM a:1\nRUN a | b\n");
        assert_eq!(
            findings(&PIPE_WITHOUT_PIPEFAIL, build(&dockerfile)).len(),
            1,
            "only the last stage, built from no stage, pipes without pipefail"
        );
    }

    #[test]
    fn the_last_shell_decides_and_stages_built_from_a_stage_inherit_it() {
        let bash = "SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]";
        let dockerfile = format!(
            "FROM a:1 AS base\n{bash}\nRUN a | b\nFROM base AS child\nRUN a | b\nSHELL [\"/bin/sh\", \"-c\"]\nRUN a | b\nFROM a:1\nRUN a | b\n"
        );
        assert_eq!(
            findings(&PIPE_WITHOUT_PIPEFAIL, build(&dockerfile)),
            [
                "app/Dockerfile:7:1 RUN pipes commands without pipefail",
                "app/Dockerfile:9:1 RUN pipes commands without pipefail",
            ]
        );
    }

    #[test]
    fn pipes_are_read_as_the_shell_reads_them() {
        let clean = [
            "RUN a || b",
            "RUN echo 'a | b' \"c|d\" $(a | b)",
            "RUN set -euxo pipefail; a | b",
            "RUN [\"sh\", \"-c\", \"a | b\"]",
            "SHELL [\"pwsh\", \"-c\"]\nRUN Get-Item x | Select-Object y",
            "SHELL [\"cmd.exe\", \"/S\", \"/C\"]\nRUN dir | more",
            "SHELL [\"/usr/bin/zsh\", \"-euo\", \"pipefail\", \"-c\"]\nRUN a | b",
            "RUN cat <<EOF > /etc/app.conf\nformat = a | b\nEOF",
            "RUN python3 <<EOF\nprint(1 | 2)\nEOF",
            "RUN <<EOF\nset -o pipefail\na | b\nEOF",
            "SHELL [\"bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN <<EOF\na | b\nEOF",
            "RUN <<EOF\n#!/usr/bin/env python3\nprint(1 | 2)\nEOF",
        ];
        for run in clean {
            let dockerfile = format!("FROM a:1\n{run}\n");
            assert!(
                findings(&PIPE_WITHOUT_PIPEFAIL, build(&dockerfile)).is_empty(),
                "{run}"
            );
        }
        let found = [
            "RUN curl -fsSL https://example.com/install|sh",
            "RUN a | b; set -o pipefail",
            "RUN <<EOF\na | b\nEOF",
            "RUN bash <<EOF\na | b\nEOF",
            // bash reads its input as a script: a `#!` line is a comment to it.
            "RUN bash <<EOF\n#!/usr/bin/env python3\na | b\nEOF",
            "SHELL [\"bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN <<EOF\n#!/bin/bash\na | b\nEOF",
        ];
        for run in found {
            let dockerfile = format!("FROM a:1\n{run}\n");
            assert_eq!(
                findings(&PIPE_WITHOUT_PIPEFAIL, build(&dockerfile)).len(),
                1,
                "{run}"
            );
        }
        assert_eq!(
            findings(
                &PIPE_WITHOUT_PIPEFAIL,
                build("FROM a:1\nSHELL [\"/bin/sh\", \"-o\", \"pipefail\", \"-c\"]\nRUN a | b\n")
            ),
            [
                "app/Dockerfile:3:1 RUN pipes commands without pipefail: SHELL `sh` cannot be trusted with -o pipefail, use bash"
            ]
        );
    }
}
