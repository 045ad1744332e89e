//! `devctl down`: stop and remove every container and network of the project — services behind
//! any compose profile included. Volumes stay, unless `--volumes`: then the guard lists them,
//! asks for the project name, backs them up, and devctl removes them (never a protected or an
//! external one) after compose has removed the containers.

use anyhow::Result;

use crate::cli::{DownArgs, GlobalArgs};
use crate::compose::verb_plan::{DeletionNote, VerbPlan};
use crate::guard::classifier::{self, Tier};
use crate::guard::deletion_plan::Reach;
use crate::guard::step::GuardedStep;
use crate::project::{Project, ServiceScope};
use crate::report::exit_status::ExitStatus;
use crate::report::printer::Printer;

/// Compose's arguments for `down` (never `-v`: devctl removes volumes itself).
fn arguments(args: &DownArgs) -> Vec<String> {
    let mut arguments = vec!["down".to_string()];
    if !args.keep_orphans {
        arguments.push("--remove-orphans".into());
    }
    arguments
}

pub fn plan(project: &Project, args: &DownArgs, printer: &Printer) -> Result<VerbPlan> {
    // Removing containers is destructive: always ask compose afresh.
    let model = project.model(ServiceScope::Everything, true, printer)?;
    let command = project.command(&model, ServiceScope::Everything, &arguments(args));
    let mut plan = VerbPlan::single("down", model, command);
    if args.volumes {
        plan.deletion = Some(deletion_note(
            &plan.model,
            &project.profile.protected_volumes,
        ));
    }
    Ok(plan)
}

/// The declared volumes `down --volumes` deletes and those it keeps, from the model alone.
fn deletion_note(
    model: &crate::compose::model::ComposeModel,
    protected: &[String],
) -> DeletionNote {
    let mut note = DeletionNote {
        volumes: Vec::new(),
        kept: Vec::new(),
    };
    let declared = model
        .value()
        .get("volumes")
        .and_then(serde_json::Value::as_object);
    for (key, volume) in declared.into_iter().flatten() {
        let name = volume
            .get("name")
            .and_then(serde_json::Value::as_str)
            .map_or_else(|| format!("{}_{key}", model.name()), String::from);
        let external = volume.get("external").and_then(serde_json::Value::as_bool) == Some(true);
        if external {
            note.kept.push(format!("{name} (external)"));
        } else if protected.iter().any(|entry| entry == key || *entry == name) {
            note.kept.push(format!("{name} (protected)"));
        } else {
            note.volumes.push(name);
        }
    }
    note
}

pub fn run(args: &DownArgs, global: &GlobalArgs, printer: &Printer) -> Result<ExitStatus> {
    if global.dry_run && !args.volumes {
        // Nothing to list or confirm: print the command, as `plan down` does, without the engine.
        let project = super::open(global, printer)?;
        return super::execute(&plan(&project, args, printer)?, true, printer);
    }
    let workspace = super::open_workspace(global, printer, ServiceScope::Everything, true)?;
    let mut asked = arguments(args);
    if args.volumes {
        asked.push("--volumes".into());
    }
    let classification = classifier::classify(&asked);
    let step = GuardedStep {
        action: match args.volumes {
            true => "down --volumes".into(),
            false => "down".into(),
        },
        tier: classification.tier,
        reasons: classification.reasons,
        reach: Reach::Project,
        tier_without_volumes: Tier::Safe,
        commands: vec![workspace.project.command(
            &workspace.model,
            ServiceScope::Everything,
            &arguments(args),
        )],
        removes_volumes: true,
        label: "before-down".into(),
    };
    let status = step.run(&workspace, global, printer)?;
    if status.is_success() && !global.dry_run {
        let kept: Vec<String> = match args.volumes {
            true => Vec::new(),
            false => workspace.model.volume_names(),
        };
        match kept.is_empty() {
            true => printer.info(format!("{} is down", workspace.model.name())),
            false => printer.info(format!(
                "{} is down; volumes kept: {}",
                workspace.model.name(),
                kept.join(", ")
            )),
        }
    }
    Ok(status)
}
