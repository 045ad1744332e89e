//! The guard's reading of the compose commands devctl runs for the person: whether
//! `devctl compose ARGS…` runs at once or as a `GuardedStep`, and the step of `devctl down` —
//! each step's tier, the volumes it reaches, and the compose arguments it runs.
//!
//! Commands the classifier finds safe run at once. Commands that remove containers, images or
//! volumes become a `GuardedStep`; a `down` that removes volumes runs without its volume flags
//! and devctl removes the unprotected volumes itself, by name.

use crate::guard::classifier::{self, Classification, Tier};
use crate::guard::deletion_plan::Reach;
use crate::guard::step::{Creates, GuardedStep};
use crate::project::ServiceScope;
use crate::report::command_line::Stack;
use crate::report::exit_status::ExitStatus;
use crate::report::failure::Failure;

/// Compose's global flags that would point the command at another project than the profile's.
const RETARGETING: &[&str] = &[
    "-p",
    "--project-name",
    "-f",
    "--file",
    "--env-file",
    "--project-directory",
    "--workdir",
];

/// Variables that, set in the environment, would point compose at another project or other
/// files than the profile's.
pub const RETARGETING_VARIABLES: &[&str] = &["COMPOSE_PROJECT_NAME", "COMPOSE_FILE"];

/// Compose subcommands that create or recreate containers (and may create volumes), though
/// the classifier puts them with the safe ones: aimed past the profile, they would build a
/// stack the guard does not know of.
const CREATING: &[&str] = &["up", "create", "run", "scale", "watch"];

/// How `devctl compose ARGS…` runs.
#[derive(Debug, Clone)]
pub enum Route {
    /// It destroys nothing: it runs at once, with the profile's settings.
    Direct,
    /// It removes something: through the guard.
    Guarded(GuardedStep),
}

/// Reads `devctl compose`'s arguments (compose's argv, without the program words). Refuses an
/// empty command line, and one that creates, recreates or destroys while its global flags or
/// `variables` (the `RETARGETING_VARIABLES` set in the environment) aim it past the profile.
/// Hints name the devctl command lines for `stack`.
pub fn route(arguments: &[String], variables: &[&str], stack: Stack) -> Result<Route, Failure> {
    if arguments.is_empty() {
        return Err(Failure::bad_input(format!(
            "`{}` needs a compose command",
            stack.devctl("compose")
        ))
        .hint(format!(
            "e.g. `{}` or `{}`",
            stack.devctl("compose ps"),
            stack.devctl("compose -- logs -f db")
        )));
    }
    let classification = classifier::classify(arguments);
    let subcommand = classification.subcommand.clone().unwrap_or_default();
    // Creating, recreating or starting containers takes the project's stack: those check
    // whose checkout the project is (and `up`/`create` which volumes compose would recreate).
    let creates = CREATING.contains(&subcommand.as_str()) || subcommand == "start";
    // A plain `down` deletes no data, but it removes every container: like `devctl down`, it
    // takes the lock and checks whose checkout the project is.
    let destroys = classification.tier != Tier::Safe || subcommand == "down";
    if destroys || creates {
        let aimed = retargeting_flag(&classification.globals)
            .map(|flag| format!("`{flag}`"))
            .or_else(|| {
                variables
                    .first()
                    .map(|name| format!("{name} in the environment"))
            });
        if let Some(aimed) = aimed {
            let what = match destroys {
                true => "what it deletes",
                false => "which stack it acts on",
            };
            return Err(Failure::new(
                ExitStatus::Refused,
                format!(
                    "refusing `{subcommand}`: {aimed} would aim it past the profile, so the guard could not tell {what}"
                ),
            )
            .hint("set compose files, env files and the project name in the profile (profiles/NAME.yaml), or choose another one with --profile"));
        }
    }
    if !destroys && !creates {
        return Ok(Route::Direct);
    }
    Ok(Route::Guarded(compose_step(arguments, classification)))
}

/// The services whose containers compose's command line `arguments` creates, when it creates
/// any: those `up` and `create` name (empty: all of the profile's, as for `watch`, which
/// brings services up first unless `--no-up`), the one `run` names, those `scale` names
/// (`web=3`). What they depend on is started too.
pub fn created_services(arguments: &[String]) -> Option<Vec<String>> {
    let classification = classifier::classify(arguments);
    match classification.subcommand.as_deref()? {
        "up" | "create" => Some(classification.operands),
        "watch" if creates("watch", arguments) != Creates::Nothing => Some(classification.operands),
        "run" => Some(classification.operands.into_iter().take(1).collect()),
        "scale" => Some(
            classification
                .operands
                .iter()
                .map(|operand| operand.split('=').next().unwrap_or(operand).to_string())
                .collect(),
        ),
        _ => None,
    }
}

/// The compose profiles compose's command line `arguments` turns on with its global
/// `--profile` flags (`--profile debug`, `--profile=debug`), beside the devctl profile's.
pub fn compose_profiles(arguments: &[String]) -> Vec<String> {
    let position = classifier::classify(arguments)
        .position
        .unwrap_or(arguments.len());
    let mut profiles = Vec::new();
    let mut rest = arguments[..position].iter();
    while let Some(flag) = rest.next() {
        match flag.strip_prefix("--profile") {
            Some("") => profiles.extend(rest.next().cloned()),
            Some(inline) if inline.starts_with('=') => profiles.push(inline[1..].to_string()),
            _ => {}
        }
    }
    profiles
}

/// The mounts a `run` command line `arguments` adds to its service (`-v`/`--volume`, as
/// written); none for any other command.
pub fn run_volumes(arguments: &[String]) -> Vec<String> {
    classifier::run_volumes(arguments)
}

/// The first of `globals` (compose's global flags, as written) that retargets the command.
fn retargeting_flag(globals: &[String]) -> Option<&str> {
    globals
        .iter()
        .map(String::as_str)
        .find(|flag| RETARGETING.contains(flag))
}

/// The guarded step of a destructive `devctl compose ARGS…`, classified as `classification`.
fn compose_step(arguments: &[String], classification: Classification) -> GuardedStep {
    let subcommand = classification.subcommand.clone().unwrap_or_default();
    let is_down = subcommand == "down";
    // devctl removes a `down`'s volumes itself, so that it can keep the protected ones.
    let run = match (is_down, classification.tier) {
        (true, Tier::Data) => classifier::keeping_volumes(arguments),
        _ => arguments.to_vec(),
    };
    let tier_without_volumes = match is_down {
        true => classifier::classify(&run).tier,
        false => Tier::State,
    };
    GuardedStep {
        action: format!("compose {}", arguments.join(" ")),
        tier: classification.tier,
        readable: classification.readable,
        reach: reach(&subcommand, &classification.operands),
        reasons: classification.reasons,
        tier_without_volumes,
        arguments: run,
        scope: ServiceScope::Profile,
        removes_volumes: is_down,
        label: format!("before-{subcommand}"),
        creates: creates(&subcommand, arguments),
    }
}

/// What compose's `subcommand` creates, given its `arguments` (compose's argv).
fn creates(subcommand: &str, arguments: &[String]) -> Creates {
    match subcommand {
        "up" | "create" => Creates::Containers,
        "watch" if arguments.iter().any(|argument| argument == "--no-up") => Creates::Nothing,
        "run" | "scale" | "watch" => Creates::WithoutYes,
        _ => Creates::Nothing,
    }
}

/// The volumes compose's `subcommand` reaches when it deletes volumes, given its operands.
fn reach(subcommand: &str, operands: &[String]) -> Reach {
    match subcommand {
        "down" if operands.is_empty() => Reach::Project,
        "down" => Reach::Services(operands.to_vec()),
        "rm" | "up" => Reach::Anonymous(operands.to_vec()),
        _ => Reach::Everything,
    }
}

/// The guarded step of `devctl down`: compose's `arguments` (never `-v`: devctl removes the
/// volumes itself, every service's, when `volumes`).
pub fn down(arguments: Vec<String>, volumes: bool) -> GuardedStep {
    let mut asked = arguments.clone();
    if volumes {
        asked.push("--volumes".into());
    }
    let classification = classifier::classify(&asked);
    GuardedStep {
        action: match volumes {
            true => "down --volumes".into(),
            false => "down".into(),
        },
        tier: classification.tier,
        reasons: classification.reasons,
        readable: true,
        reach: Reach::Project,
        tier_without_volumes: Tier::Safe,
        arguments,
        scope: ServiceScope::Everything,
        removes_volumes: true,
        label: "before-down".into(),
        creates: Creates::Nothing,
    }
}

/// The guarded step of `devctl up`: compose's `arguments` (`up --detach …`), which delete
/// nothing unless compose would recreate a changed volume.
pub fn up(arguments: Vec<String>) -> GuardedStep {
    GuardedStep {
        action: "up".into(),
        tier: Tier::Safe,
        reasons: Vec::new(),
        readable: true,
        reach: Reach::Recreated(Vec::new()),
        tier_without_volumes: Tier::Safe,
        arguments,
        scope: ServiceScope::Profile,
        removes_volumes: false,
        label: "before-up".into(),
        creates: Creates::Containers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    fn guarded(line: &str) -> GuardedStep {
        match route(&words(line), &[], Stack::live()) {
            Ok(Route::Guarded(step)) => step,
            other => panic!("`{line}`: {other:?}"),
        }
    }

    #[test]
    fn the_services_a_command_line_creates_containers_of_are_named() {
        let created = |line: &str| created_services(&words(line));
        assert_eq!(created("up -d"), Some(Vec::new()));
        assert_eq!(
            created("-p x up --build web worker"),
            Some(vec!["web".to_string(), "worker".to_string()])
        );
        assert_eq!(created("create web"), Some(vec!["web".to_string()]));
        assert_eq!(
            created("run --rm web sh -c true"),
            Some(vec!["web".to_string()])
        );
        assert_eq!(
            created("scale web=3 worker=0"),
            Some(vec!["web".to_string(), "worker".to_string()])
        );
        // Its flags unknown to the classifier, `watch` is taken to bring up them all.
        assert_eq!(created("watch web"), Some(Vec::new()));
        assert_eq!(created("watch --no-up web"), None);
        assert_eq!(created("ps"), None);
        assert_eq!(created("restart web"), None);
        assert_eq!(created("down -v"), None);
    }

    #[test]
    fn compose_profiles_of_the_command_line_are_read() {
        assert_eq!(
            compose_profiles(&words("--profile debug --profile=tools -p x up -d")),
            ["debug", "tools"]
        );
        assert!(compose_profiles(&words("up --profile x")).is_empty());
    }

    #[test]
    fn an_empty_command_line_is_bad_input() {
        let failure = route(&[], &[], Stack::live()).unwrap_err();
        assert_eq!(
            failure.status,
            crate::report::exit_status::ExitStatus::BadInput
        );
        assert!(failure.message.contains("needs a compose command"));
        assert_eq!(
            failure.hint.as_deref(),
            Some("e.g. `devctl compose ps` or `devctl compose -- logs -f db`")
        );
        let fidelity = route(&[], &[], Stack::fidelity()).unwrap_err();
        assert_eq!(
            fidelity.message,
            "`devctl --fidelity compose` needs a compose command"
        );
        assert_eq!(
            fidelity.hint.as_deref(),
            Some(
                "e.g. `devctl --fidelity compose ps` or `devctl --fidelity compose -- logs -f db`"
            )
        );
    }

    #[test]
    fn safe_commands_run_at_once_even_retargeted() {
        for line in [
            "ps",
            "logs -f db",
            "-p other ps",
            "--file x.yaml config",
            "stop",
        ] {
            assert!(
                matches!(route(&words(line), &[], Stack::live()), Ok(Route::Direct)),
                "`{line}`"
            );
        }
    }

    #[test]
    fn commands_that_create_or_start_containers_are_guarded_at_their_own_tier() {
        for (line, tier, creates) in [
            ("up -d", Tier::Safe, Creates::Containers),
            ("up -dy", Tier::Safe, Creates::Containers),
            ("--profile tools up --yes", Tier::Safe, Creates::Containers),
            ("create -y", Tier::Safe, Creates::Containers),
            ("up -d --force-recreate", Tier::State, Creates::Containers),
            ("run --rm app sh", Tier::Safe, Creates::WithoutYes),
            ("watch", Tier::Safe, Creates::WithoutYes),
            ("watch --no-up", Tier::Safe, Creates::Nothing),
            ("scale app=2", Tier::State, Creates::WithoutYes),
            ("start", Tier::Safe, Creates::Nothing),
        ] {
            let step = guarded(line);
            assert_eq!((step.tier, step.creates), (tier, creates), "`{line}`");
            assert_eq!(step.arguments, words(line));
        }
    }

    #[test]
    fn a_plain_down_is_guarded() {
        let step = guarded("down");
        assert_eq!(step.tier, Tier::Safe);
        assert_eq!(step.reach, Reach::Project);
        assert!(step.removes_volumes);
        assert_eq!(step.label, "before-down");
        assert_eq!(step.action, "compose down");
    }

    #[test]
    fn every_retargeting_flag_refuses_a_command_that_creates_or_destroys() {
        let flags = [
            "-p",
            "--project-name",
            "-f",
            "--file",
            "--env-file",
            "--project-directory",
            "--workdir",
        ];
        for flag in flags {
            for (command, what) in [
                ("rm -fv", "what it deletes"),
                ("down", "what it deletes"),
                ("up -d", "which stack it acts on"),
                ("create", "which stack it acts on"),
                ("run --rm app sh", "which stack it acts on"),
                ("start", "which stack it acts on"),
            ] {
                let line = format!("{flag} elsewhere {command}");
                let failure = route(&words(&line), &[], Stack::live()).unwrap_err();
                assert_eq!(failure.status, ExitStatus::Refused, "`{line}`");
                let subcommand = command.split(' ').next().unwrap();
                assert_eq!(
                    failure.message,
                    format!(
                        "refusing `{subcommand}`: `{flag}` would aim it past the profile, so the guard could not tell {what}"
                    )
                );
            }
        }
        // An attached value is the same flag.
        assert!(route(&words("-pelsewhere down -v"), &[], Stack::live()).is_err());
        assert!(route(&words("--project-name=elsewhere down"), &[], Stack::live()).is_err());
        assert!(route(&words("-pelsewhere up -dy"), &[], Stack::live()).is_err());
    }

    #[test]
    fn retargeting_variables_refuse_what_creates_or_destroys_and_nothing_else() {
        for variable in RETARGETING_VARIABLES {
            for line in ["up -d", "create", "rm -fv", "down -v", "down"] {
                let failure = route(&words(line), &[variable], Stack::live()).unwrap_err();
                assert_eq!(failure.status, ExitStatus::Refused, "`{line}`");
                assert!(
                    failure
                        .message
                        .contains(&format!("{variable} in the environment would aim it")),
                    "{}",
                    failure.message
                );
            }
            for line in ["ps", "logs -f db", "config", "stop"] {
                assert!(
                    matches!(
                        route(&words(line), &[variable], Stack::live()),
                        Ok(Route::Direct)
                    ),
                    "`{line}`"
                );
            }
        }
    }

    #[test]
    fn global_flags_that_keep_the_project_are_allowed() {
        let step = guarded("--ansi never --profile web rm -fv");
        assert_eq!(step.tier, Tier::Data);
        assert_eq!(retargeting_flag(&words("--ansi --profile")), None);
        assert_eq!(retargeting_flag(&words("--ansi -f --file")), Some("-f"));
    }

    #[test]
    fn each_subcommand_reaches_its_volumes() {
        assert_eq!(guarded("down -v").reach, Reach::Project);
        assert_eq!(
            guarded("down -v app worker").reach,
            Reach::Services(words("app worker"))
        );
        assert_eq!(guarded("rm -fv").reach, Reach::Anonymous(Vec::new()));
        assert_eq!(guarded("rm -sfv db").reach, Reach::Anonymous(words("db")));
        assert_eq!(guarded("up -V app").reach, Reach::Anonymous(words("app")));
        assert_eq!(guarded("frobnicate").reach, Reach::Everything);
    }

    #[test]
    fn a_compose_down_with_volumes_runs_without_them_and_devctl_removes_them() {
        let step = guarded("down -v --rmi all");
        assert_eq!(step.tier, Tier::Data);
        assert_eq!(step.arguments, words("down --rmi all"));
        // Without volumes it still removes images.
        assert_eq!(step.tier_without_volumes, Tier::State);
        assert!(step.removes_volumes);
        assert_eq!(step.scope, ServiceScope::Profile);
        let plain = guarded("down -vt5");
        assert_eq!(plain.arguments, words("down -t5"));
        assert_eq!(plain.tier_without_volumes, Tier::Safe);
    }

    #[test]
    fn other_destructive_commands_run_as_written() {
        let step = guarded("rm -sfv db");
        assert_eq!(step.arguments, words("rm -sfv db"));
        assert_eq!(step.tier_without_volumes, Tier::State);
        assert!(!step.removes_volumes);
        assert_eq!(step.label, "before-rm");
        assert_eq!(step.action, "compose rm -sfv db");
    }

    #[test]
    fn a_command_line_devctl_cannot_read_is_guarded_unreadable() {
        let step = guarded("frobnicate --all");
        assert!(!step.readable);
        assert_eq!(step.tier, Tier::Data);
        assert!(guarded("rm -fv").readable);
    }

    #[test]
    fn devctl_down_keeps_volumes_unless_asked() {
        let arguments = words("down --remove-orphans");
        let step = down(arguments.clone(), false);
        assert_eq!(step.action, "down");
        // It removes containers: guarded, but with nothing to confirm.
        assert_eq!(step.tier, Tier::Safe);
        assert_eq!(step.arguments, arguments);
        assert_eq!(step.reach, Reach::Project);
        assert_eq!(step.scope, ServiceScope::Everything);
        let step = down(arguments.clone(), true);
        assert_eq!(step.action, "down --volumes");
        assert_eq!(step.tier, Tier::Data);
        assert_eq!(step.tier_without_volumes, Tier::Safe);
        // Compose is never given the volume flag: devctl removes the volumes itself.
        assert_eq!(step.arguments, arguments);
        assert!(step.removes_volumes);
        assert_eq!(step.label, "before-down");
    }
}
