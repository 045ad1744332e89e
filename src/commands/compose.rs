//! `devctl compose [--] ARGS…`: any compose command, with the profile's files, env files,
//! compose profiles and project name applied — through the guard first.
//!
//! Commands the classifier finds safe run at once. Commands that remove containers, images or
//! volumes go through a `GuardedStep`; a `down` that removes volumes runs without its volume
//! flags and devctl removes the unprotected volumes itself, by name.

use anyhow::Result;

use crate::cli::{ComposeArgs, GlobalArgs};
use crate::guard::classifier::{self, Tier};
use crate::guard::deletion_plan::Reach;
use crate::guard::step::GuardedStep;
use crate::project::ServiceScope;
use crate::report::exit_status::ExitStatus;
use crate::report::failure::Failure;
use crate::report::printer::Printer;

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

pub fn run(args: &ComposeArgs, global: &GlobalArgs, printer: &Printer) -> Result<ExitStatus> {
    if args.arguments.is_empty() {
        return Err(
            Failure::bad_input("`devctl compose` needs a compose command")
                .hint("e.g. `devctl compose ps` or `devctl compose -- logs -f db`")
                .into(),
        );
    }
    let classification = classifier::classify(&args.arguments);
    let subcommand = classification.subcommand.clone().unwrap_or_default();
    // A plain `down` deletes no data, but it removes every container: like `devctl down`, it
    // takes the lock and checks whose checkout the project is.
    if classification.tier == Tier::Safe && subcommand != "down" {
        let project = super::open(global, printer)?;
        let model = project.model(ServiceScope::Profile, false, printer)?;
        let command = project.command(&model, ServiceScope::Profile, &args.arguments);
        if global.dry_run {
            printer.data(format!("{}\n", command.line()));
            return Ok(ExitStatus::Success);
        }
        printer.detail(format!("running: {}", command.line()));
        return command.run();
    }
    if let Some(flag) = classification
        .globals
        .iter()
        .find(|flag| RETARGETING.contains(&flag.as_str()))
    {
        return Err(Failure::bad_input(format!(
            "`{flag}` in a destructive compose command would aim it past the profile, so the guard could not tell what it deletes"
        ))
        .hint("set compose files, env files and the project name in the profile (profiles/NAME.yaml), or choose another one with --profile")
        .into());
    }
    let workspace = super::open_workspace(global, printer, ServiceScope::Everything, true)?;
    let action = format!("compose {}", args.arguments.join(" "));
    if !classification.readable {
        // devctl cannot tell what compose would do with it: nothing to confirm, back up or run.
        let error = Failure::new(
            ExitStatus::Refused,
            format!("refusing `{action}`: {}", classification.reasons.join("; ")),
        )
        .hint("check the subcommand's spelling (`docker compose --help` lists them) and put no `--` before it; devctl runs only command lines it reads as compose will");
        let error = error.into();
        return Err(match global.dry_run {
            true => error,
            false => crate::guard::audit_log::AuditLog::new(&workspace.state).refuse(
                crate::guard::audit_log::AuditEntry::for_workspace(&workspace, &action, Tier::Data),
                error,
            ),
        });
    }
    let is_down = subcommand == "down";
    let arguments = match (is_down, classification.tier) {
        (true, Tier::Data) => classifier::keeping_volumes(&args.arguments),
        _ => args.arguments.clone(),
    };
    let reach = match subcommand.as_str() {
        "down" if classification.operands.is_empty() => Reach::Project,
        "down" => Reach::Services(classification.operands.clone()),
        "rm" | "up" => Reach::Anonymous(classification.operands.clone()),
        _ => Reach::Everything,
    };
    let tier_without_volumes = match is_down {
        true => classifier::classify(&arguments).tier,
        false => Tier::State,
    };
    let step = GuardedStep {
        action,
        tier: classification.tier,
        reasons: classification.reasons.clone(),
        reach,
        tier_without_volumes,
        commands: vec![workspace.project.command(
            &workspace.model,
            ServiceScope::Profile,
            &arguments,
        )],
        removes_volumes: is_down,
        label: format!("before-{subcommand}"),
    };
    step.run(&workspace, global, printer)
}
