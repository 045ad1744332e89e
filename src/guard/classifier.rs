//! The guard's pure core: what a compose command line would destroy.
//!
//! `classify` reads a compose argv (global flags, subcommand, its flags) the way compose's own
//! flag parser does — long and short flags, `--flag=value`, combined short flags (`-sfv`),
//! flags that take a value (so `-p v` is not `-v`), `--`, and where a service's command
//! begins (`run`/`exec`) — and returns the tier: data (volumes go), state (containers or
//! images go) or safe. Anything it cannot read on a command that removes things is taken as
//! the higher tier, never the lower.

use serde::Serialize;

/// How much a command can destroy, in increasing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// Destroys nothing (plain `down` and `stop` keep every volume).
    Safe,
    /// Removes or replaces containers or images; every volume stays.
    State,
    /// Removes volumes: data.
    Data,
}

/// What `classify` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Classification {
    pub tier: Tier,
    pub subcommand: Option<String>,
    /// Where the subcommand stands in the argv.
    pub position: Option<usize>,
    /// Compose's global flags given before the subcommand (`-p`, `--file`, …), as written.
    pub globals: Vec<String>,
    /// The subcommand's operands (usually services), up to where a container's command begins.
    pub operands: Vec<String>,
    /// Why, one phrase per finding (`down --volumes removes the project's volumes`).
    pub reasons: Vec<String>,
    /// Whether devctl read the command line as compose will: a known subcommand, no unknown
    /// global flag, no `--` before the subcommand.
    pub readable: bool,
}

/// Compose's global flags that take a value.
const GLOBAL_VALUES: &[&str] = &[
    "-f",
    "--file",
    "-p",
    "--project-name",
    "--profile",
    "--env-file",
    "--project-directory",
    "--workdir",
    "--ansi",
    "--progress",
    "--parallel",
];
/// Compose's global flags that take none.
const GLOBAL_SWITCHES: &[&str] = &[
    "--dry-run",
    "--all-resources",
    "--compatibility",
    "--verbose",
    "-v",
    "--version",
    "-h",
    "--help",
];

/// One subcommand's grammar: its value-taking flags and its switches, with what each destroys.
struct Grammar {
    name: &'static str,
    /// Tier of the subcommand with no flags.
    base: Tier,
    values: &'static [&'static str],
    switches: &'static [&'static str],
    /// Switches that raise the tier, with the tier and the reason.
    raises: &'static [(&'static str, Tier, &'static str)],
    /// Value flags that raise the tier whatever their value.
    raising_values: &'static [(&'static str, Tier, &'static str)],
    /// After the first positional argument, the rest is a command for the container.
    command_follows: bool,
    /// What the subcommand does when its base tier is above safe.
    base_reason: &'static str,
}

const VOLUMES: &str = "removes the project's volumes";
const REMOVE_ORPHANS: (&str, Tier, &str) = (
    "--remove-orphans",
    Tier::State,
    "removes orphaned containers",
);
const SCALE: (&str, Tier, &str) = (
    "--scale",
    Tier::State,
    "removes replicas when it scales down",
);
const FORCE_RECREATE: (&str, Tier, &str) =
    ("--force-recreate", Tier::State, "recreates every container");

const GRAMMARS: &[Grammar] = &[
    Grammar {
        name: "down",
        base: Tier::Safe,
        values: &["--rmi", "-t", "--timeout"],
        switches: &["-v", "--volumes", "--remove-orphans"],
        // `down` removes every container of the project; orphans are no different.
        raises: &[
            ("-v", Tier::Data, VOLUMES),
            ("--volumes", Tier::Data, VOLUMES),
        ],
        raising_values: &[("--rmi", Tier::State, "removes images")],
        command_follows: false,
        base_reason: "removes containers",
    },
    Grammar {
        name: "rm",
        base: Tier::State,
        values: &[],
        switches: &[
            "-f",
            "--force",
            "-s",
            "--stop",
            "-v",
            "--volumes",
            "-a",
            "--all",
        ],
        raises: &[
            (
                "-v",
                Tier::Data,
                "removes the containers' anonymous volumes",
            ),
            (
                "--volumes",
                Tier::Data,
                "removes the containers' anonymous volumes",
            ),
        ],
        raising_values: &[],
        command_follows: false,
        base_reason: "removes containers",
    },
    Grammar {
        name: "up",
        base: Tier::Safe,
        values: &[
            "--exit-code-from",
            "--scale",
            "-t",
            "--timeout",
            "--wait-timeout",
            "--attach",
            "--no-attach",
            "--pull",
        ],
        switches: &[
            "-d",
            "--detach",
            "--build",
            "--no-build",
            "--force-recreate",
            "--no-recreate",
            "-V",
            "--renew-anon-volumes",
            "--remove-orphans",
            "--wait",
            "--no-deps",
            "--always-recreate-deps",
            "--quiet-pull",
            "--no-start",
            "--abort-on-container-exit",
            "--abort-on-container-failure",
            "--no-color",
            "--no-log-prefix",
            "--timestamps",
            "-w",
            "--watch",
            "-y",
            "--yes",
            // compose's deprecated spelling of --yes.
            "--y",
            "--menu",
            "--attach-dependencies",
            "--quiet-build",
        ],
        raises: &[
            (
                "-V",
                Tier::Data,
                "replaces anonymous volumes with new, empty ones",
            ),
            (
                "--renew-anon-volumes",
                Tier::Data,
                "replaces anonymous volumes with new, empty ones",
            ),
            FORCE_RECREATE,
            REMOVE_ORPHANS,
        ],
        raising_values: &[SCALE],
        command_follows: false,
        base_reason: "removes containers",
    },
    Grammar {
        name: "create",
        base: Tier::Safe,
        values: &["--pull", "--scale"],
        switches: &[
            "--build",
            "--no-build",
            "--force-recreate",
            "--no-recreate",
            "--remove-orphans",
            "--quiet-pull",
            "-y",
            "--yes",
            "--y",
        ],
        raises: &[FORCE_RECREATE, REMOVE_ORPHANS],
        raising_values: &[SCALE],
        command_follows: false,
        base_reason: "removes containers",
    },
    Grammar {
        name: "kill",
        base: Tier::State,
        values: &["-s", "--signal"],
        switches: &["--remove-orphans"],
        raises: &[],
        raising_values: &[],
        command_follows: false,
        base_reason: "stops containers abruptly",
    },
    Grammar {
        name: "run",
        base: Tier::Safe,
        values: &[
            "-e",
            "--env",
            "--env-from-file",
            "-l",
            "--label",
            "--name",
            "-p",
            "--publish",
            "-u",
            "--user",
            "-v",
            "--volume",
            "-w",
            "--workdir",
            "--entrypoint",
            "--pull",
            "--cap-add",
            "--cap-drop",
        ],
        switches: &[
            "--rm",
            "-d",
            "--detach",
            "-i",
            "--interactive",
            "-t",
            "--tty",
            "-T",
            "--no-tty",
            "--no-TTY",
            "--no-deps",
            "-P",
            "--service-ports",
            "--use-aliases",
            "-q",
            "--quiet",
            "--build",
            "--quiet-pull",
            "--quiet-build",
            "--remove-orphans",
        ],
        // `--rm` removes only the one-off container it creates (and that container's fresh
        // anonymous volumes): nothing that existed before.
        raises: &[REMOVE_ORPHANS],
        raising_values: &[],
        command_follows: true,
        base_reason: "removes containers",
    },
    Grammar {
        name: "exec",
        base: Tier::Safe,
        values: &["-e", "--env", "-u", "--user", "-w", "--workdir", "--index"],
        switches: &[
            "-d",
            "--detach",
            "-T",
            "--no-tty",
            "--no-TTY",
            "--privileged",
            "-i",
            "--interactive",
            "-t",
            "--tty",
        ],
        raises: &[],
        raising_values: &[],
        command_follows: true,
        base_reason: "removes containers",
    },
    Grammar {
        name: "wait",
        base: Tier::Safe,
        values: &[],
        switches: &["--down-project"],
        raises: &[(
            "--down-project",
            Tier::State,
            "takes the project down (every container) once the services exit",
        )],
        raising_values: &[],
        command_follows: false,
        base_reason: "removes containers",
    },
    Grammar {
        name: "scale",
        base: Tier::State,
        values: &[],
        switches: &["--no-deps"],
        raises: &[],
        raising_values: &[],
        command_follows: false,
        base_reason: "removes replicas when it scales down",
    },
    Grammar {
        name: "cp",
        base: Tier::State,
        values: &["--index"],
        switches: &["-a", "--archive", "-L", "--follow-link", "--all"],
        raises: &[],
        raising_values: &[],
        command_follows: false,
        base_reason: "overwrites files in containers",
    },
];

/// Subcommands that remove or change nothing (flags cannot make them destructive).
const HARMLESS: &[&str] = &[
    "attach", "build", "commit", "config", "convert", "events", "export", "images", "logs", "ls",
    "pause", "port", "ps", "publish", "pull", "push", "restart", "start", "stats", "stop", "top",
    "unpause", "version", "volumes", "watch", "help",
];

/// Every compose subcommand the classifier knows by name.
pub fn known_subcommands() -> Vec<&'static str> {
    GRAMMARS
        .iter()
        .map(|grammar| grammar.name)
        .chain(HARMLESS.iter().copied())
        .collect()
}

/// Classifies a compose argv (without the `docker compose` program words).
pub fn classify(argv: &[String]) -> Classification {
    let mut reading = Reading::default();
    let (subcommand, index) = reading.globals(argv);
    let position = subcommand.as_ref().map(|_| index - 1);
    let mut operands = Vec::new();
    let mut tier = Tier::Safe;
    if let Some(name) = &subcommand {
        tier = reading.subcommand(name, &argv[index..], &mut operands);
    }
    if subcommand.is_none() {
        // No subcommand: compose runs nothing (or prints its help).
    } else if reading.unreadable {
        // It may run something other than it looks like: the highest tier.
        tier = Tier::Data;
    } else if reading.dry_run {
        // A command line devctl cannot read is not trusted to be a dry run; this one is.
        reading
            .reasons
            .push("compose's --dry-run runs nothing".into());
        tier = Tier::Safe;
    }
    Classification {
        tier,
        subcommand,
        position,
        globals: reading.globals,
        operands,
        reasons: reading.reasons,
        readable: !reading.unreadable,
    }
}

/// What reading a command line has found so far.
#[derive(Debug, Default)]
struct Reading {
    /// Compose's global flags, as written.
    globals: Vec<String>,
    reasons: Vec<String>,
    unreadable: bool,
    /// A `--dry-run` of compose's (global, or the subcommand's).
    dry_run: bool,
}

impl Reading {
    /// Reads compose's global flags up to the subcommand; returns the subcommand and the
    /// index of the argument after it.
    fn globals(&mut self, argv: &[String]) -> (Option<String>, usize) {
        let mut index = 0;
        while let Some(argument) = argv.get(index) {
            index += 1;
            if argument == "--" {
                // compose's root command reads a `--` among its flags as a flag that takes the
                // next word, so the subcommand is not the word after it: unreadable.
                self.unreadable = true;
                self.reasons.push(
                    "`--` before the subcommand: compose would not run the word after it".into(),
                );
                let subcommand = argv.get(index).cloned();
                return (subcommand.inspect(|_| index += 1), index);
            }
            if !argument.starts_with('-') || argument == "-" {
                return (Some(argument.clone()), index);
            }
            if self.global(argument, argv.get(index)) {
                index += 1;
            }
        }
        (None, index)
    }

    /// Reads one global flag, `next` the argument after it; says whether `next` is its value.
    fn global(&mut self, argument: &str, next: Option<&String>) -> bool {
        let (flag, inline) = split_inline(argument);
        self.globals
            .push(if is_attached_short_of(argument, GLOBAL_VALUES) {
                argument[..2].to_string()
            } else {
                flag.to_string()
            });
        if flag == "--dry-run" {
            self.dry_run = inline.is_none_or(is_true);
        } else if GLOBAL_VALUES.contains(&flag)
            && inline.is_none()
            && !is_attached_short(argument, flag)
        {
            if next.is_some_and(|value| value == "--") {
                self.unreadable = true;
                self.reasons.push(format!(
                    "`{flag} --`: compose's flag parser reads `--` differently"
                ));
            }
            return true;
        } else if !GLOBAL_VALUES.contains(&flag)
            && !GLOBAL_SWITCHES.contains(&flag)
            && !is_attached_short_of(argument, GLOBAL_VALUES)
        {
            // An unknown global flag: compose would refuse it, but take no chances.
            self.unreadable = true;
            self.reasons
                .push(format!("unknown global flag `{argument}`"));
        }
        false
    }

    /// Reads subcommand `name` and the arguments after it (`rest`), its operands into
    /// `operands`; returns its tier before any dry run or unreadable part is weighed.
    fn subcommand(&mut self, name: &str, rest: &[String], operands: &mut Vec<String>) -> Tier {
        if let Some(grammar) = GRAMMARS.iter().find(|grammar| grammar.name == name) {
            let mut tier = grammar.base;
            if grammar.base > Tier::Safe {
                self.reasons
                    .push(format!("`{name}` {}", grammar.base_reason));
            }
            for (raised, reason) in read_flags(grammar, rest, &mut self.dry_run, operands) {
                tier = tier.max(raised);
                self.reasons.push(reason);
            }
            return tier;
        }
        if HARMLESS.contains(&name) {
            // Harmless subcommands still honour a `--dry-run` after them.
            self.dry_run |= rest
                .iter()
                .take_while(|a| *a != "--")
                .any(|a| a == "--dry-run" || a == "--dry-run=true");
        } else {
            self.unreadable = true;
            self.reasons
                .push(format!("`{name}` is not a compose subcommand devctl knows"));
        }
        Tier::Safe
    }
}

/// Reads a subcommand's flags; returns the raised tiers with reasons.
fn read_flags(
    grammar: &Grammar,
    argv: &[String],
    dry_run: &mut bool,
    operands: &mut Vec<String>,
) -> Vec<(Tier, String)> {
    let mut flags = Flags {
        grammar,
        found: Vec::new(),
    };
    let mut index = 0;
    while let Some(argument) = argv.get(index) {
        index += 1;
        if argument == "--" {
            // After `--` only operands follow; for `run`/`exec` the first is the service and
            // the rest its command.
            let rest = &argv[index..];
            let count = if grammar.command_follows {
                1
            } else {
                rest.len()
            };
            operands.extend(rest.iter().take(count).cloned());
            break;
        }
        if !argument.starts_with('-') || argument == "-" {
            operands.push(argument.clone());
            if grammar.command_follows {
                break;
            }
            continue;
        }
        let value_follows = match argument.starts_with("--") {
            true => flags.long(argument, dry_run),
            false => flags.short(argument),
        };
        if value_follows {
            index += 1;
        }
    }
    flags.found
}

/// The flags of one subcommand, read one argument at a time.
struct Flags<'a> {
    grammar: &'a Grammar,
    /// The tiers the flags raise, with their reasons.
    found: Vec<(Tier, String)>,
}

impl Flags<'_> {
    /// Records what `flag` raises: a switch when `value_is_true`, a value flag whatever its
    /// value.
    fn raise(&mut self, flag: &str, value_is_true: bool) {
        let name = self.grammar.name;
        if let Some((_, tier, reason)) = self.grammar.raises.iter().find(|(f, _, _)| *f == flag)
            && value_is_true
        {
            self.found.push((*tier, format!("{name} {flag} {reason}")));
        }
        if let Some((_, tier, reason)) = self
            .grammar
            .raising_values
            .iter()
            .find(|(f, _, _)| *f == flag)
        {
            self.found.push((*tier, format!("{name} {flag} {reason}")));
        }
    }

    /// Reads a long flag (`--flag`, `--flag=value`); says whether the next argument is its
    /// value.
    fn long(&mut self, argument: &str, dry_run: &mut bool) -> bool {
        let grammar = self.grammar;
        let (flag, inline) = split_inline(argument);
        // The subcommand's own flags shadow compose's global ones of the same name.
        if flag == "--dry-run" {
            *dry_run = inline.is_none_or(is_true);
        } else if grammar.switches.contains(&flag) {
            self.raise(flag, inline.is_none_or(is_true));
        } else if grammar.values.contains(&flag) || GLOBAL_VALUES.contains(&flag) {
            self.raise(flag, true);
            return inline.is_none();
        } else if !GLOBAL_SWITCHES.contains(&flag) {
            self.found.push((
                unknown_tier(grammar),
                format!("unknown flag `{argument}` on `{}`", grammar.name),
            ));
        }
        false
    }

    /// Reads short flags, possibly combined (`-sfv`), the last with an `=` or attached value;
    /// says whether the next argument is a value.
    fn short(&mut self, argument: &str) -> bool {
        let grammar = self.grammar;
        let letters: Vec<char> = argument[1..].chars().collect();
        for (position, letter) in letters.iter().enumerate() {
            let flag = format!("-{letter}");
            let rest: String = letters[position + 1..].iter().collect();
            let own_switch = grammar.switches.contains(&flag.as_str());
            let own_value = grammar.values.contains(&flag.as_str());
            let global_value = !own_switch && GLOBAL_VALUES.contains(&flag.as_str());
            if own_value || global_value {
                self.raise(&flag, true);
                return rest.is_empty();
            } else if own_switch || GLOBAL_SWITCHES.contains(&flag.as_str()) {
                if let Some(value) = rest.strip_prefix('=') {
                    self.raise(&flag, is_true(value));
                    return false;
                }
                self.raise(&flag, true);
            } else {
                self.found.push((
                    unknown_tier(grammar),
                    format!("unknown flag `{flag}` on `{}`", grammar.name),
                ));
            }
        }
        false
    }
}

/// `argv` (a `down` command line) without its volume-removing flags: `-v`, `--volumes[=…]`,
/// and the `v` of combined short flags. Everything else stays as written.
pub fn keeping_volumes(argv: &[String]) -> Vec<String> {
    let classification = classify(argv);
    let Some(position) = classification.position else {
        return argv.to_vec();
    };
    let mut kept: Vec<String> = argv[..=position].to_vec();
    let mut rest = argv[position + 1..].iter();
    let down = GRAMMARS.iter().find(|grammar| grammar.name == "down");
    let takes_value = |flag: &str| {
        down.is_some_and(|grammar| grammar.values.contains(&flag)) || GLOBAL_VALUES.contains(&flag)
    };
    while let Some(argument) = rest.next() {
        if argument == "--" {
            kept.push(argument.clone());
            kept.extend(rest.by_ref().cloned());
            break;
        }
        let (flag, inline) = split_inline(argument);
        if flag == "--volumes" || flag == "-v" {
            continue;
        }
        if argument.starts_with("--") || !argument.starts_with('-') || argument == "-" {
            kept.push(argument.clone());
            if argument.starts_with("--") && inline.is_none() && takes_value(flag) {
                kept.extend(rest.next().cloned());
            }
            continue;
        }
        // Combined short flags (`-vt5`): drop each `v` that stands as a switch; a value flag
        // ends the switches, its value attached or in the next argument.
        let mut letters = String::from("-");
        let mut value_in_next = false;
        let mut chars = argument[1..].chars();
        while let Some(letter) = chars.next() {
            if letter != 'v' {
                letters.push(letter);
            }
            if takes_value(&format!("-{letter}")) {
                let attached: String = chars.by_ref().collect();
                value_in_next = attached.is_empty();
                letters.push_str(&attached);
            }
        }
        if letters != "-" {
            kept.push(letters);
        }
        if value_in_next {
            kept.extend(rest.next().cloned());
        }
    }
    kept
}

/// The values of the `-v`/`--volume` flags of a `run` command line `argv` (compose's argv), as
/// written, in order: the mounts `run` adds to its service's. Empty for any other command.
pub fn run_volumes(argv: &[String]) -> Vec<String> {
    let classification = classify(argv);
    let (Some(position), Some("run")) = (
        classification.position,
        classification.subcommand.as_deref(),
    ) else {
        return Vec::new();
    };
    let run = GRAMMARS.iter().find(|grammar| grammar.name == "run");
    let takes_value = |flag: &str| {
        run.is_some_and(|grammar| grammar.values.contains(&flag)) || GLOBAL_VALUES.contains(&flag)
    };
    let mut volumes = Vec::new();
    let mut rest = argv[position + 1..].iter();
    while let Some(argument) = rest.next() {
        // The first operand is the service; what follows is the container's command.
        if argument == "--" || !argument.starts_with('-') || argument == "-" {
            break;
        }
        if argument.starts_with("--") {
            let (flag, inline) = split_inline(argument);
            let value = match (inline, takes_value(flag)) {
                (Some(value), _) => Some(value.to_string()),
                (None, true) => rest.next().cloned(),
                (None, false) => None,
            };
            if flag == "--volume" {
                volumes.extend(value);
            }
            continue;
        }
        // Combined short flags (`-dv SRC:DST`): a value flag ends them, its value attached
        // (`-vSRC:DST`, `-v=SRC:DST`) or in the next argument.
        let mut chars = argument[1..].chars();
        while let Some(letter) = chars.next() {
            if takes_value(&format!("-{letter}")) {
                let attached: String = chars.by_ref().collect();
                let attached = attached
                    .strip_prefix('=')
                    .map(String::from)
                    .unwrap_or(attached);
                let value = match attached.is_empty() {
                    true => rest.next().cloned(),
                    false => Some(attached),
                };
                if letter == 'v' {
                    volumes.extend(value);
                }
            }
        }
    }
    volumes
}

/// An unknown flag on a command that removes things is taken as the highest tier it could
/// reach; on one that cannot, it changes nothing.
fn unknown_tier(grammar: &Grammar) -> Tier {
    let highest = grammar
        .raises
        .iter()
        .map(|(_, tier, _)| *tier)
        .chain(grammar.raising_values.iter().map(|(_, tier, _)| *tier))
        .chain(std::iter::once(grammar.base))
        .max()
        .unwrap_or(Tier::Safe);
    if highest > Tier::Safe {
        Tier::Data
    } else {
        Tier::Safe
    }
}

fn split_inline(argument: &str) -> (&str, Option<&str>) {
    match argument.split_once('=') {
        Some((flag, value)) => (flag, Some(value)),
        None => (argument, None),
    }
}

/// `-pdemo`: a value-taking short flag with its value attached.
fn is_attached_short(argument: &str, flag: &str) -> bool {
    !argument.starts_with("--") && argument.len() > 2 && flag.len() == 2
}

fn is_attached_short_of(argument: &str, flags: &[&str]) -> bool {
    !argument.starts_with("--") && argument.len() > 2 && flags.contains(&&argument[..2])
}

/// pflag's boolean spellings.
fn is_true(value: &str) -> bool {
    matches!(value, "true" | "1" | "t" | "T" | "TRUE" | "True")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_volumes_are_read_in_every_spelling() {
        let argv = |line: &str| {
            line.split_whitespace()
                .map(String::from)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            run_volumes(&argv(
                "-f c.yaml run --rm -e A=1 -v ./a:/a --volume /b:/b --volume=c:/c -v./d:/d -dv=/e:/e -dv /f:/f app sh -v /g:/g"
            )),
            ["./a:/a", "/b:/b", "c:/c", "./d:/d", "/e:/e", "/f:/f"]
        );
        assert!(run_volumes(&argv("up -v")).is_empty());
        assert!(run_volumes(&argv("run app -v /x:/x")).is_empty());
    }

    fn tier(line: &str) -> Tier {
        let argv: Vec<String> = line.split_whitespace().map(String::from).collect();
        classify(&argv).tier
    }

    #[test]
    fn spellings() {
        let cases: &[(&str, Tier)] = &[
            // The seven a literal `-v` check misses, and their siblings.
            ("down -v", Tier::Data),
            ("down --volumes", Tier::Data),
            ("down -v --remove-orphans", Tier::Data),
            ("down --remove-orphans -v", Tier::Data),
            ("down --volumes=true", Tier::Data),
            ("down --volumes=1", Tier::Data),
            ("down -v=true", Tier::Data),
            ("rm -sfv", Tier::Data),
            ("rm -fsv app", Tier::Data),
            ("rm -v", Tier::Data),
            ("rm --volumes --force", Tier::Data),
            ("rm -f -v db", Tier::Data),
            ("--profile app down -v", Tier::Data),
            ("-p demo down -v", Tier::Data),
            ("-pdemo down --volumes", Tier::Data),
            ("--project-name=demo down -v", Tier::Data),
            ("-f compose.yaml -f other.yaml down -t 5 -v", Tier::Data),
            ("down -t5 -v", Tier::Data),
            ("down --timeout 5 --volumes", Tier::Data),
            ("--ansi never --progress plain down -v", Tier::Data),
            ("up -V", Tier::Data),
            ("up -dV", Tier::Data),
            ("up --renew-anon-volumes", Tier::Data),
            ("up --detach --renew-anon-volumes=true", Tier::Data),
            ("-- down -v", Tier::Data),
            // `--` among compose's root flags takes the next word: `-- ps down -v` runs down.
            ("-- ps down -v", Tier::Data),
            ("--ansi never -- ps down -v", Tier::Data),
            ("--profile -- ps down -v", Tier::Data),
            ("-- -- rm down -v", Tier::Data),
            ("-- --dry-run down -v", Tier::Data),
            ("--dry-run -- ps", Tier::Data),
            ("wait --down-project", Tier::State),
            ("wait app", Tier::Safe),
            ("up --scale app=1", Tier::State),
            ("run --rm --no-tty -q app true", Tier::Safe),
            ("down --rmi all -v", Tier::Data),
            ("down --frobnicate", Tier::Data),
            ("rm --frobnicate", Tier::Data),
            ("nuke", Tier::Data),
            ("--frobnicate ps", Tier::Data),
            // State: containers or images go, volumes stay.
            ("down --rmi all", Tier::State),
            ("down --rmi=local", Tier::State),
            ("down --rmi all --remove-orphans", Tier::State),
            ("rm", Tier::State),
            ("rm -sf app", Tier::State),
            ("kill", Tier::State),
            ("kill -s KILL db", Tier::State),
            ("up --force-recreate", Tier::State),
            ("up -d --force-recreate --wait", Tier::State),
            ("run --rm --remove-orphans app true", Tier::State),
            ("run --rm app true", Tier::Safe),
            ("scale app=3", Tier::State),
            // Safe: plain down and stop keep every volume; value flags are not switches.
            ("down", Tier::Safe),
            ("down --remove-orphans", Tier::Safe),
            ("down --volumes=false", Tier::Safe),
            ("down -v=false", Tier::Safe),
            ("stop", Tier::Safe),
            ("-p v down", Tier::Safe),
            ("--profile v down", Tier::Safe),
            ("-f -v.yaml down", Tier::Safe),
            ("up -d", Tier::Safe),
            ("up --wait --wait-timeout 60", Tier::Safe),
            ("run -v data:/data app ls", Tier::Safe),
            ("run app rm -v /data/file", Tier::Safe),
            ("exec app rm -v /tmp/x", Tier::Safe),
            ("exec -e V=1 app sh", Tier::Safe),
            ("logs -f", Tier::Safe),
            ("ps", Tier::Safe),
            ("config --volumes", Tier::Safe),
            ("volumes", Tier::Safe),
            ("-v", Tier::Safe),
            ("", Tier::Safe),
            // compose's --dry-run runs nothing, wherever it stands.
            ("--dry-run down -v", Tier::Safe),
            ("down -v --dry-run", Tier::Safe),
            ("--dry-run=true rm -sfv", Tier::Safe),
            ("--dry-run=false down -v", Tier::Data),
        ];
        assert!(cases.len() >= 40);
        for (line, expected) in cases {
            assert_eq!(
                tier(line),
                *expected,
                "`{line}`: {:?}",
                classify(
                    &line
                        .split_whitespace()
                        .map(String::from)
                        .collect::<Vec<_>>()
                )
            );
        }
    }

    #[test]
    fn reasons_name_what_goes() {
        let argv: Vec<String> = ["down", "-v"].map(String::from).to_vec();
        let found = classify(&argv);
        assert_eq!(found.subcommand.as_deref(), Some("down"));
        assert!(
            found
                .reasons
                .iter()
                .any(|reason| reason.contains("removes the project's volumes")),
            "{found:?}"
        );
    }

    /// The rows of the table under `heading` in docs/guard.md: first and second cells.
    fn documented(heading: &str) -> Vec<(String, String)> {
        let text = include_str!("../../docs/guard.md");
        let section = text.split(heading).nth(1).expect("the section exists");
        section
            .lines()
            .skip_while(|line| !line.starts_with('|'))
            .take_while(|line| line.starts_with('|'))
            .skip(2)
            .map(|line| {
                let cells: Vec<&str> = line.split('|').map(str::trim).collect();
                (cells[1].to_string(), cells[2].to_string())
            })
            .collect()
    }

    #[test]
    fn the_docs_give_every_compose_subcommand_its_tier() {
        let rows = documented("## Compose subcommands");
        for name in known_subcommands() {
            let row = rows
                .iter()
                .find(|(cell, _)| cell == &format!("`{name}`"))
                .unwrap_or_else(|| panic!("docs/guard.md does not list `{name}`"));
            let tier = classify(&[name.to_string()]).tier;
            let expected = serde_json::to_value(tier).unwrap();
            assert_eq!(row.1, expected.as_str().unwrap(), "`{name}`");
        }
        assert_eq!(
            rows.len(),
            known_subcommands().len() + 1,
            "one row per subcommand, and `any other`"
        );
        assert_eq!(classify(&words("frobnicate")).tier, Tier::Data);
    }

    #[test]
    fn the_docs_give_every_devctl_verb_a_tier() {
        use clap::CommandFactory;
        let rows = documented("## devctl verbs");
        for verb in crate::cli::Cli::command().get_subcommands() {
            let name = verb.get_name();
            if name == "help" {
                continue;
            }
            assert!(
                rows.iter()
                    .any(|(cell, _)| cell.contains(&format!("`{name}`"))),
                "docs/guard.md does not list devctl {name}"
            );
        }
    }

    fn words(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn operands_and_globals() {
        let found = classify(&words("-p demo --profile=x -fa.yaml rm -sfv db cache"));
        assert_eq!(found.globals, ["-p", "--profile", "-f"]);
        assert_eq!(found.operands, ["db", "cache"]);
        assert_eq!(found.position, Some(4));
        let found = classify(&words("run --rm -v x:/x app rm -v /data"));
        assert_eq!(found.operands, ["app"]);
        let found = classify(&words("exec -- app rm -v /data"));
        assert_eq!(found.operands, ["app"]);
        let found = classify(&words("rm -f -- db"));
        assert_eq!(found.operands, ["db"]);
        assert!(found.readable);
        for unreadable in [
            "sp",
            "-- ps down -v",
            "--frobnicate ps",
            "--profile -- ps",
            "",
        ] {
            let found = classify(&words(unreadable));
            assert_eq!(found.readable, unreadable.is_empty(), "{unreadable}");
        }
    }

    #[test]
    fn keeping_volumes_drops_only_the_volume_flags() {
        let cases = [
            ("down -v", "down"),
            (
                "down --volumes=true --remove-orphans",
                "down --remove-orphans",
            ),
            (
                "--profile app -p v down -v -t 3",
                "--profile app -p v down -t 3",
            ),
            ("down -vt5", "down -t5"),
            ("down -vt 5", "down -t 5"),
            ("down -v=true", "down"),
            ("down --rmi all --volumes", "down --rmi all"),
            ("-f -v.yaml down -v", "-f -v.yaml down"),
        ];
        for (line, expected) in cases {
            let kept = keeping_volumes(&words(line));
            assert_eq!(kept.join(" "), expected, "{line}");
            assert!(classify(&kept).tier < Tier::Data, "{line} → {kept:?}");
        }
    }

    /// No argv that holds a volume-removing flag in a removing command is classified below
    /// data, whatever global flags, other flags and values surround it.
    #[test]
    fn volume_removal_is_never_below_data() {
        let globals: &[&[&str]] = &[
            &[],
            &["-p", "demo"],
            &["-pdemo"],
            &["--profile", "x"],
            &["--profile=x"],
            &["-f", "a.yaml"],
            &["--env-file", ".env"],
            &["--ansi", "never"],
            &["--parallel", "2"],
            &["--compatibility"],
            &["--project-directory=."],
            &["--dry-run=false"],
        ];
        let removals: &[(&str, &[&str])] = &[
            ("down", &["-v"]),
            ("down", &["--volumes"]),
            ("down", &["--volumes=true"]),
            ("down", &["-v=1"]),
            ("rm", &["-v"]),
            ("rm", &["-sfv"]),
            ("rm", &["-vf"]),
            ("rm", &["-fv"]),
            ("rm", &["--volumes"]),
            ("up", &["-V"]),
            ("up", &["-dV"]),
            ("up", &["--renew-anon-volumes"]),
        ];
        let others: &[(&str, &[&str])] = &[
            ("down", &["--remove-orphans"]),
            ("down", &["-t", "3"]),
            ("down", &["--rmi", "all"]),
            ("down", &["--timeout=1"]),
            ("rm", &["-f"]),
            ("rm", &["-s"]),
            ("rm", &["app"]),
            ("up", &["-d"]),
            ("up", &["--wait"]),
            ("up", &["--scale", "app=2"]),
            ("up", &["app"]),
            ("up", &["-t", "5"]),
            ("up", &["--pull", "never"]),
        ];
        let mut seed: u64 = 0x5eed;
        let mut next = |bound: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % bound as u64) as usize
        };
        for _ in 0..5000 {
            let (command, removal) = removals[next(removals.len())];
            let mut argv: Vec<String> = Vec::new();
            for _ in 0..next(3) {
                argv.extend(globals[next(globals.len())].iter().map(|s| s.to_string()));
            }
            argv.push(command.to_string());
            let mut flags: Vec<Vec<String>> = vec![removal.iter().map(|s| s.to_string()).collect()];
            for _ in 0..next(4) {
                let (other_command, other) = others[next(others.len())];
                if other_command == command {
                    flags.push(other.iter().map(|s| s.to_string()).collect());
                }
            }
            let position = next(flags.len());
            flags.swap(0, position);
            argv.extend(flags.into_iter().flatten());
            assert_eq!(classify(&argv).tier, Tier::Data, "{argv:?}");
        }
    }
}
