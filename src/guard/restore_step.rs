//! A restore through the guard: the backup chosen and verified, what it will replace listed,
//! the checkout and the project's name checked, then the restore run under the project's
//! lock, and the decision logged either way.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use bollard::models::ContainerInspectResponse;

use crate::backup::journal::Journal;
use crate::backup::manifest::Artifact;
use crate::backup::restore::{self, RestoreRequest};
use crate::backup::store::{BackupStore, StoredBackup};
use crate::backup::workspace::Workspace;
use crate::guard::audit_log::{AuditEntry, AuditLog};
use crate::guard::checkout_owner;
use crate::guard::classifier::Tier;
use crate::guard::step::GuardOptions;
use crate::report::command_line::Stack;
use crate::report::printer::Printer;
use crate::report::units::human_bytes;

/// What `restore` is asked to do.
#[derive(Debug, Clone, Default)]
pub struct RestoreOptions {
    /// The backup's id; with neither this nor `from`, the newest backup.
    pub id: Option<String>,
    /// A backup directory anywhere (a copy from another machine).
    pub from: Option<PathBuf>,
    /// Only these volumes (by key or engine name); else every one the backup holds.
    pub volumes: Vec<String>,
    /// Back up what is about to be replaced first.
    pub safety_backup: bool,
    /// How long to wait for the services afterwards; else the profile's `up.wait_timeout`.
    pub wait_timeout: Option<Duration>,
}

/// Restores the backup `options` name into `workspace`'s volumes, through the guard.
pub fn run(
    workspace: &Workspace,
    options: &RestoreOptions,
    guard: &GuardOptions,
    printer: &Printer,
) -> Result<()> {
    let backup = choose(workspace, options)?;
    printer.info(format!("verifying backup {}…", backup.manifest.id));
    backup.verify(workspace.project.stack())?;
    // Every volume a backup's artifact could go into, anonymous ones included.
    let targets = workspace.targets(&[], true)?;
    let replaced = replaced_volumes(&backup, &options.volumes, printer);
    printer.info(format!(
        "backup {} ({}, {}) will replace: {}",
        backup.manifest.id,
        backup.manifest.created,
        backup.manifest.project,
        replaced.join(", ")
    ));
    if guard.dry_run {
        return Ok(());
    }
    let log = AuditLog::new(&workspace.state);
    let mut entry = AuditEntry::for_workspace(
        workspace,
        &format!("restore {}", backup.manifest.id),
        Tier::Data,
    );
    entry.volumes = replaced.clone();
    let containers = workspace
        .engine
        .project_containers(workspace.model.name())?;
    if let Err(error) = confirm(workspace, &containers, guard, &backup, replaced.len()) {
        return Err(log.refuse(entry, error));
    }
    let _lock = workspace.lock("restore", printer)?;
    let interrupted = Journal::read(&workspace.state)?;
    if let Some(journal) = &interrupted {
        let (what, _) = journal.advice(workspace.model.name(), workspace.project.stack());
        printer.warn(format!("{what}; this restore replaces that state"));
    }
    let request = RestoreRequest {
        backup: &backup,
        targets: &targets,
        volumes: &options.volumes,
        safety_backup: options.safety_backup,
        wait_timeout: options
            .wait_timeout
            .unwrap_or(workspace.project.profile.wait_timeout),
        also_start: interrupted
            .map(|journal| journal.stopped_services)
            .unwrap_or_default(),
    };
    let mut safety_backup = None;
    let restored = restore::restore(workspace, printer, &request, &mut safety_backup);
    entry.decision = "confirmed".into();
    entry.detail = guard.confirmation.how(true).into();
    entry.backup = safety_backup;
    log.append(&entry)?;
    restored
}

/// The backup asked for. The fidelity stack is seeded from the live stack's backups:
/// without an id it takes the live stack's newest, and an id is looked up among the fidelity
/// stack's own, then the live stack's.
fn choose(workspace: &Workspace, options: &RestoreOptions) -> Result<StoredBackup> {
    let live = workspace.project.fidelity.as_ref().map(|stack| {
        BackupStore::new(
            workspace.project.layout.project_backups(&stack.live),
            Stack::Live,
        )
    });
    match (&options.id, &options.from, &live) {
        (_, Some(directory), _) => StoredBackup::open(directory, workspace.project.stack()),
        (Some(id), None, Some(live)) => match workspace.store.get(id) {
            Ok(backup) => Ok(backup),
            Err(_) => live.get(id),
        },
        (Some(id), None, None) => workspace.store.get(id),
        (None, None, Some(live)) => live.latest(),
        (None, None, None) => workspace.store.latest(),
    }
}

/// The artifacts `volumes` selects (all when empty), each as `key (size)`. Anonymous volumes
/// are restored only when asked for by name: a recreated container gets a new one.
fn replaced_volumes(backup: &StoredBackup, volumes: &[String], printer: &Printer) -> Vec<String> {
    let asked = |artifact: &&Artifact| {
        volumes.is_empty()
            || volumes
                .iter()
                .any(|volume| volume == &artifact.key || volume == &artifact.volume)
    };
    backup
        .manifest
        .artifacts
        .iter()
        .filter(asked)
        .filter(|artifact| {
            let skipped = artifact.anonymous && volumes.is_empty();
            if skipped {
                printer.warn(format!(
                    "not restored in place: {} is an anonymous volume (compose gives a recreated container a new one)",
                    artifact.key
                ));
            }
            !skipped
        })
        .map(|artifact| {
            format!(
                "{} ({})",
                artifact.key,
                human_bytes(artifact.stats.raw_bytes)
            )
        })
        .collect()
}

/// Refuses another checkout's stack, then asks for (or checks) the project's name.
fn confirm(
    workspace: &Workspace,
    containers: &[ContainerInspectResponse],
    guard: &GuardOptions,
    backup: &StoredBackup,
    count: usize,
) -> Result<()> {
    checkout_owner::check(workspace, containers, guard.allow_other_checkout)?;
    guard.confirmation.require_project_name(
        workspace.model.name(),
        &format!(
            "replace {count} volume(s) with backup {}",
            backup.manifest.id
        ),
    )
}
