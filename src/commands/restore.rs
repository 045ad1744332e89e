//! `devctl restore`: verify a backup, confirm, take a safety backup, and put the backup's
//! volumes back in place.

use anyhow::Result;

use crate::cli::{GlobalArgs, RestoreArgs};
use crate::guard::restore_step::{self, RestoreOptions};
use crate::project::ServiceScope;
use crate::report::exit_status::ExitStatus;
use crate::report::printer::Printer;

pub fn run(args: &RestoreArgs, global: &GlobalArgs, printer: &Printer) -> Result<ExitStatus> {
    // Restoring destroys the volumes' current contents: resolve the model afresh.
    let workspace = super::options::open_workspace(global, printer, ServiceScope::Profile, true)?;
    let options = RestoreOptions {
        id: args.id.clone(),
        from: args.from.clone(),
        volumes: args.volumes.clone(),
        safety_backup: !args.no_safety_backup && !global.guard.no_backup,
        rollback: !args.no_rollback,
        undo: args.undo,
        wait_timeout: args.wait_timeout,
        trust_backup_hook: args.trust_backup_hook,
    };
    let guard = super::options::guard_options(global);
    restore_step::run(&workspace, &options, &guard, printer)?;
    Ok(ExitStatus::Success)
}
