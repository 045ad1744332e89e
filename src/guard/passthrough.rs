//! The guard's reading of the compose commands devctl runs for the person: whether
//! `devctl compose ARGS…` runs at once or as a `GuardedStep`, and the step of `devctl down` —
//! each step's tier, the volumes it reaches, and the compose arguments it runs.
//!
//! Commands the classifier finds safe run at once. Commands that remove containers, images or
//! volumes become a `GuardedStep`; a `down` that removes volumes runs without its volume flags
//! and devctl removes the unprotected volumes itself, by name.

use crate::guard::classifier::{self, Classification, Tier};
use crate::guard::deletion_plan::Reach;
use crate::guard::step::GuardedStep;
use crate::project::ServiceScope;
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

/// How `devctl compose ARGS…` runs.
#[derive(Debug, Clone)]
pub enum Route {
    /// It destroys nothing: it runs at once, with the profile's settings.
    Direct,
    /// It removes something: through the guard.
    Guarded(GuardedStep),
}

/// Reads `devctl compose`'s arguments (compose's argv, without the program words). Refuses an
/// empty command line, and a destructive one whose global flags aim it past the profile.
pub fn route(arguments: &[String]) -> Result<Route, Failure> {
    if arguments.is_empty() {
        return Err(
            Failure::bad_input("`devctl compose` needs a compose command")
                .hint("e.g. `devctl compose ps` or `devctl compose -- logs -f db`"),
        );
    }
    let classification = classifier::classify(arguments);
    let subcommand = classification.subcommand.clone().unwrap_or_default();
    // A plain `down` deletes no data, but it removes every container: like `devctl down`, it
    // takes the lock and checks whose checkout the project is.
    if classification.tier == Tier::Safe && subcommand != "down" {
        return Ok(Route::Direct);
    }
    if let Some(flag) = retargeting_flag(&classification.globals) {
        return Err(Failure::bad_input(format!(
            "`{flag}` in a destructive compose command would aim it past the profile, so the guard could not tell what it deletes"
        ))
        .hint("set compose files, env files and the project name in the profile (profiles/NAME.yaml), or choose another one with --profile"));
    }
    Ok(Route::Guarded(compose_step(arguments, classification)))
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    fn guarded(line: &str) -> GuardedStep {
        match route(&words(line)) {
            Ok(Route::Guarded(step)) => step,
            other => panic!("`{line}`: {other:?}"),
        }
    }

    #[test]
    fn an_empty_command_line_is_bad_input() {
        let failure = route(&[]).unwrap_err();
        assert_eq!(
            failure.status,
            crate::report::exit_status::ExitStatus::BadInput
        );
        assert!(failure.message.contains("needs a compose command"));
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
            assert!(matches!(route(&words(line)), Ok(Route::Direct)), "`{line}`");
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
    fn every_retargeting_flag_refuses_a_destructive_command() {
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
            let line = format!("{flag} elsewhere rm -fv");
            let failure = route(&words(&line)).unwrap_err();
            assert_eq!(
                failure.status,
                crate::report::exit_status::ExitStatus::BadInput,
                "`{line}`"
            );
            assert!(
                failure
                    .message
                    .starts_with(&format!("`{flag}` in a destructive")),
                "{}",
                failure.message
            );
        }
        // An attached value is the same flag.
        assert!(route(&words("-pelsewhere down -v")).is_err());
        assert!(route(&words("--project-name=elsewhere down")).is_err());
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
