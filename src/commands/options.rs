//! Turns the global flags into the plain options the library takes (CLI over environment,
//! as clap reads them; the profile's settings come after), and opens the project they select.

use anyhow::Result;

use crate::backup::workspace::Workspace;
use crate::cli::{GlobalArgs, GuardArgs};
use crate::guard::confirmation::Confirmation;
use crate::guard::step::GuardOptions;
use crate::project::{Project, ProjectOptions, ServiceScope};
use crate::report::command_line::Stack;
use crate::report::printer::Printer;

/// The global flags with `--fidelity` set (`fidelity-up`, `fidelity-down`).
pub fn fidelity(global: &GlobalArgs) -> GlobalArgs {
    GlobalArgs {
        fidelity: true,
        ..global.clone()
    }
}

/// The stack the global flags address, for the devctl command lines hints name before the
/// project is open (once it is, `Project::stack`).
pub fn stack(global: &GlobalArgs) -> Stack {
    let stack = match global.fidelity {
        true => Stack::fidelity(),
        false => Stack::live(),
    };
    stack.through(global.context_name().as_deref())
}

/// The project the global flags select (`--project-dir`, `--profile`, `--context`, each also
/// from its environment variable).
pub fn project_options(global: &GlobalArgs) -> ProjectOptions {
    ProjectOptions {
        directory: global.project_dir.clone(),
        profile: global.profile_name().map(str::to_string),
        context: global.context_name(),
        quiet: global.quiet,
    }
}

/// `--confirm PROJECT` and `--yes` (or their environment variables), as the guard reads them.
impl From<&GuardArgs> for Confirmation {
    fn from(args: &GuardArgs) -> Confirmation {
        Confirmation {
            project: args.confirm.clone().filter(|project| !project.is_empty()),
            yes: args.yes,
        }
    }
}

/// Opens the project named by the global flags (shared by every verb that runs compose).
pub fn open(global: &GlobalArgs, printer: &Printer) -> Result<Project> {
    open_checked(global, printer, |_| Ok(()))
}

/// As `open`, with `check` run on the project before compose is first asked anything.
pub fn open_checked(
    global: &GlobalArgs,
    printer: &Printer,
    check: impl FnOnce(&Project) -> Result<()>,
) -> Result<Project> {
    let mut project = Project::open(&project_options(global))?;
    check(&project)?;
    if global.fidelity {
        crate::fidelity::entry::enter(&mut project, printer)?;
    }
    printer.detail(format!(
        "project root {}, profile `{}`, compose {} ({})",
        project.root.path().display(),
        project.profile.name,
        project.compose.version,
        project.compose.argv.join(" ")
    ));
    printer.detail(format!(
        "state in {}, backups in {}",
        project.layout.state_root.display(),
        project.layout.backup_root.display()
    ));
    Ok(project)
}

/// Opens the project named by the global flags for work on its volumes, with the model of
/// the services `scope` selects (afresh when `fresh`).
pub fn open_workspace(
    global: &GlobalArgs,
    printer: &Printer,
    scope: ServiceScope,
    fresh: bool,
) -> Result<Workspace> {
    Workspace::new(open(global, printer)?, scope, fresh, printer)
}

/// What the global flags say about a destructive step: `--dry-run`, `--confirm`, `--yes`,
/// `--no-backup`, `--allow-other-checkout`, and the profile asked for.
pub fn guard_options(global: &GlobalArgs) -> GuardOptions {
    GuardOptions {
        dry_run: global.dry_run,
        confirmation: Confirmation::from(&global.guard),
        no_backup: global.guard.no_backup,
        allow_other_checkout: global.guard.allow_other_checkout,
        profile: global.profile_name().map(str::to_string),
    }
}
