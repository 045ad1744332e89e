//! `devctl restore`: verify a backup, confirm, take a safety backup, and put the backup's
//! volumes back in place.

use anyhow::Result;

use crate::backup::journal::Journal;
use crate::backup::restore::{self, RestoreRequest};
use crate::backup::store::StoredBackup;
use crate::cli::{GlobalArgs, RestoreArgs};
use crate::guard::audit_log::{AuditEntry, AuditLog};
use crate::guard::checkout_owner;
use crate::guard::classifier::Tier;
use crate::guard::confirmation::Confirmation;
use crate::project::ServiceScope;
use crate::report::exit_status::ExitStatus;
use crate::report::printer::Printer;
use crate::report::units::human_bytes;

pub fn run(args: &RestoreArgs, global: &GlobalArgs, printer: &Printer) -> Result<ExitStatus> {
    // Restoring destroys the volumes' current contents: resolve the model afresh.
    let workspace = super::options::open_workspace(global, printer, ServiceScope::Profile, true)?;
    // The fidelity stack is seeded from the live stack's backups: `--latest` takes the live
    // stack's newest, and an id is looked up among the fidelity stack's own, then the live's.
    let live_store = workspace.project.fidelity.as_ref().map(|stack| {
        crate::backup::store::BackupStore::new(
            workspace.project.layout.project_backups(&stack.live),
        )
    });
    let backup = match (&args.id, &args.from, args.latest, &live_store) {
        (_, Some(directory), _, _) => StoredBackup::open(directory)?,
        (Some(id), None, _, Some(live)) => match workspace.store.get(id) {
            Ok(backup) => backup,
            Err(_) => live.get(id)?,
        },
        (Some(id), None, _, None) => workspace.store.get(id)?,
        (None, None, _, Some(live)) => live.latest()?,
        (None, None, _, None) => workspace.store.latest()?,
    };
    printer.info(format!("verifying backup {}…", backup.manifest.id));
    backup.verify()?;
    // Every volume a backup's artifact could go into, anonymous ones included.
    let targets = workspace.targets(&[], true)?;
    let artifacts: Vec<String> = backup
        .manifest
        .artifacts
        .iter()
        .filter(|a| {
            args.volumes.is_empty() || args.volumes.iter().any(|v| v == &a.key || v == &a.volume)
        })
        .filter(|a| {
            let skipped = a.anonymous && args.volumes.is_empty();
            if skipped {
                printer.warn(format!(
                    "not restored in place: {} is an anonymous volume (compose gives a recreated container a new one)",
                    a.key
                ));
            }
            !skipped
        })
        .map(|a| format!("{} ({})", a.key, human_bytes(a.stats.raw_bytes)))
        .collect();
    printer.info(format!(
        "backup {} ({}, {}) will replace: {}",
        backup.manifest.id,
        backup.manifest.created,
        backup.manifest.project,
        artifacts.join(", ")
    ));
    if global.dry_run {
        return Ok(ExitStatus::Success);
    }
    let log = AuditLog::new(&workspace.state);
    let mut entry = AuditEntry::for_workspace(
        &workspace,
        &format!("restore {}", backup.manifest.id),
        Tier::Data,
    );
    entry.volumes = artifacts.clone();
    let confirmation = Confirmation::from(&global.guard);
    let containers = workspace
        .engine
        .project_containers(workspace.model.name())?;
    let decided = checkout_owner::check(
        &workspace.working_directory(),
        workspace.model.name(),
        &containers,
        global.guard.allow_other_checkout,
    )
    .and_then(|()| {
        confirmation.require_project_name(
            workspace.model.name(),
            &format!(
                "replace {} volume(s) with backup {}",
                artifacts.len(),
                backup.manifest.id
            ),
        )
    });
    if let Err(error) = decided {
        return Err(log.refuse(entry, error));
    }
    let _lock = workspace.lock("restore", printer)?;
    let interrupted = Journal::read(&workspace.state)?;
    if let Some(journal) = &interrupted {
        let (what, _) = journal.advice(workspace.model.name());
        printer.warn(format!("{what}; this restore replaces that state"));
    }
    let request = RestoreRequest {
        backup: &backup,
        targets: &targets,
        volumes: &args.volumes,
        safety_backup: !args.no_safety_backup && !global.guard.no_backup,
        wait_timeout: args
            .wait_timeout
            .unwrap_or(workspace.project.profile.wait_timeout),
        also_start: interrupted
            .map(|journal| journal.stopped_services)
            .unwrap_or_default(),
    };
    let mut safety_backup = None;
    let restored = restore::restore(&workspace, printer, &request, &mut safety_backup);
    entry.decision = "confirmed".into();
    entry.detail = confirmation.how(true).into();
    entry.backup = safety_backup;
    log.append(&entry)?;
    restored.map(|()| ExitStatus::Success)
}
