//! A restore through the guard: the backup chosen and verified, what it will replace listed,
//! the checkout and the project's name checked, then the restore run under the project's
//! lock, and the decision logged either way.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;
use bollard::models::ContainerInspectResponse;

use crate::backup::journal::{Journal, Operation};
use crate::backup::last_restore::LastRestore;
use crate::backup::manifest::Artifact;
use crate::backup::origin::{EngineOrigin, crossing_note};
use crate::backup::restore::{self, RestoreRequest};
use crate::backup::store::{BackupStore, StoredBackup};
use crate::backup::target::VolumeTarget;
use crate::backup::workspace::Workspace;
use crate::guard::audit_log::{AuditEntry, AuditLog};
use crate::guard::checkout_owner;
use crate::guard::classifier::Tier;
use crate::guard::confirmation;
use crate::guard::step::GuardOptions;
use crate::report::command_line::Stack;
use crate::report::exit_status::ExitStatus;
use crate::report::failure::Failure;
use crate::report::printer::Printer;
use crate::report::text::escaped;
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
    /// Put the safety backup back when the restored services do not become healthy or a
    /// hook restore fails (only with a safety backup).
    pub rollback: bool,
    /// Restore the safety backup of the last restore instead (`restore --undo`).
    pub undo: bool,
    /// How long to wait for the services afterwards; else the profile's `up.wait_timeout`.
    pub wait_timeout: Option<Duration>,
    /// Run a restore hook the backup records though the profile does not declare it (asked
    /// on a terminal, after showing its commands).
    pub trust_backup_hook: bool,
}

/// Restores the backup `options` name into `workspace`'s volumes, through the guard.
pub fn run(
    workspace: &Workspace,
    options: &RestoreOptions,
    guard: &GuardOptions,
    printer: &Printer,
) -> Result<()> {
    let backup = choose(workspace, options)?;
    if let Some(directory) = &options.from {
        note_renamed(directory, &backup, printer);
    }
    printer.info(format!("verifying backup {}…", backup.manifest.id));
    backup.verify(&workspace.project.stack())?;
    // Every volume a backup's artifact could go into, anonymous ones included.
    let targets = workspace.targets(&[], true)?;
    let replaced = replaced_volumes(&backup, &options.volumes, printer);
    printer.info(format!(
        "{} of project {}, made {}, will replace: {}",
        described(&backup),
        escaped(&backup.manifest.project),
        escaped(&backup.manifest.created),
        replaced.join(", ")
    ));
    let identity = workspace.engine.identity()?;
    let here = EngineOrigin::reached(workspace.engine.host(), &identity);
    if let Some(note) = crossing_note(&backup.manifest, &here) {
        printer.info(note);
    }
    let hooks = check_hooks(
        workspace,
        &backup,
        &targets,
        options,
        guard.dry_run,
        printer,
    );
    if guard.dry_run {
        return hooks;
    }
    let log = AuditLog::new(&workspace.state);
    let mut entry = AuditEntry::for_workspace(
        workspace,
        &format!("restore {}", backup.manifest.id),
        Tier::Data,
    );
    entry.volumes = replaced.clone();
    if let Err(error) = hooks {
        return Err(log.refuse(entry, error));
    }
    let containers = workspace
        .engine
        .project_containers(workspace.model.name())?;
    if let Err(error) = confirm(
        workspace,
        &containers,
        guard,
        &backup,
        replaced.len(),
        options,
    ) {
        return Err(log.refuse(entry, error));
    }
    let _lock = workspace.lock("restore", printer)?;
    let interrupted = Journal::read(&workspace.state)?;
    if let Some(journal) = &interrupted {
        journal.check_engine(
            workspace.model.name(),
            &workspace.project.stack(),
            workspace.engine.endpoint(),
            &format!("restore {}", backup.manifest.id),
        )?;
        let (what, _) = journal.advice(workspace.model.name(), &workspace.project.stack());
        printer.warn(format!("{what}; this restore replaces that state"));
    }
    let request = RestoreRequest {
        backup: &backup,
        targets: &targets,
        volumes: &options.volumes,
        safety_backup: options.safety_backup,
        rollback: options.rollback && options.safety_backup,
        record: true,
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
    if options.undo {
        return undo_backup(workspace);
    }
    let live = workspace.project.fidelity.as_ref().map(|stack| {
        BackupStore::new(
            workspace.project.layout.project_backups(&stack.live),
            Stack::live().through(workspace.project.context.as_deref()),
        )
    });
    match (&options.id, &options.from, &live) {
        (_, Some(directory), _) => StoredBackup::open(directory, &workspace.project.stack()),
        (Some(id), None, Some(live)) => match workspace.store.get(id) {
            Ok(backup) => Ok(backup),
            Err(_) => live.get(id),
        },
        (Some(id), None, None) => workspace.store.get(id),
        (None, None, Some(live)) => live.latest(),
        (None, None, None) => workspace.store.latest(),
    }
}

/// The safety backup that holds what the last restore replaced: an interrupted restore's
/// (from its journal), else the last finished one's (from devctl's record).
fn undo_backup(workspace: &Workspace) -> Result<StoredBackup> {
    let stack = workspace.project.stack();
    let interrupted = Journal::read(&workspace.state)?
        .filter(|journal| journal.operation == Operation::Restore)
        .map(|journal| (journal.backup, journal.safety_backup));
    let last = interrupted.or_else(|| {
        LastRestore::read(&workspace.state).map(|record| (record.backup, record.safety_backup))
    });
    match last {
        Some((_, Some(safety))) => workspace.store.get(&safety),
        Some((backup, None)) => Err(Failure::bad_input(format!(
            "the last restore (of backup {}) took no safety backup: there is nothing to undo it with",
            escaped(&backup)
        ))
        .hint(format!(
            "restore an earlier backup by its id (`{}` lists them)",
            stack.devctl("backup list")
        ))
        .into()),
        None => Err(Failure::bad_input(format!(
            "no restore of project {} to undo from this checkout",
            workspace.model.name()
        ))
        .hint(format!(
            "`{}` lists the backups, safety backups included",
            stack.devctl("backup list")
        ))
        .into()),
    }
}

/// Says so when the `--from` folder's name is not the backup's id (a copy may be renamed).
fn note_renamed(directory: &Path, backup: &StoredBackup, printer: &Printer) {
    let folder = directory.canonicalize().ok().and_then(|path| {
        path.file_name()
            .map(|name| name.to_string_lossy().into_owned())
    });
    if let Some(folder) = folder.filter(|folder| *folder != backup.manifest.id) {
        printer.info(format!(
            "note: folder {} holds backup {} (renamed since it was made)",
            escaped(&folder),
            backup.manifest.id
        ));
    }
}

/// Hooks run only as the current profile declares them: a hook output whose recorded hook
/// runs in a service that is not in the compose model is refused; one whose service or
/// restore command differs from the profile's (or that the profile does not declare) is
/// refused with the difference shown (exit 77), unless `--trust-backup-hook` and the person
/// at the terminal agrees after reading the commands. Without a terminal the flag alone is
/// not enough: nobody would have read what runs.
fn check_hooks(
    workspace: &Workspace,
    backup: &StoredBackup,
    targets: &[VolumeTarget],
    options: &RestoreOptions,
    dry_run: bool,
    printer: &Printer,
) -> Result<()> {
    let selected: Vec<&Artifact> = backup
        .manifest
        .artifacts
        .iter()
        .filter(|artifact| is_asked(artifact, &options.volumes))
        .collect();
    for artifact in &selected {
        if let Some(hook) = &artifact.hook
            && workspace.model.service(&hook.service).is_none()
        {
            return Err(Failure::new(
                ExitStatus::Refused,
                format!(
                    "refusing backup {}: the restore hook of volume {} runs in `{}`, which is not a service of this project",
                    backup.manifest.id,
                    artifact.key,
                    escaped(&hook.service)
                ),
            )
            .hint(format!(
                "services: {}",
                workspace.model.service_names().join(", ")
            ))
            .into());
        }
    }
    let foreign = restore::foreign_hooks(selected.iter().copied(), targets);
    if foreign.is_empty() {
        return Ok(());
    }
    let mut lines = Vec::new();
    for hook in &foreign {
        lines.push(format!("volume {}:", hook.key));
        lines.extend(hook.differences.iter().map(|line| format!("  {line}")));
    }
    let id = &backup.manifest.id;
    if !options.trust_backup_hook {
        return Err(Failure::new(
            ExitStatus::Refused,
            format!(
                "refusing to run restore commands that backup {id} records but this profile does not declare:\n{}",
                lines.join("\n")
            ),
        )
        .hint("restore with the profile that declares this hook (--profile NAME), declare it under the profile's backup.volumes, or, at a terminal, pass --trust-backup-hook to read the commands and allow them")
        .into());
    }
    printer.warn(format!(
        "backup {id} records restore commands this profile does not declare:\n{}",
        lines.join("\n")
    ));
    for hook in &foreign {
        printer.info(format!(
            "would run in service {}: {}",
            escaped(&hook.recorded.service),
            restore::command_line(&hook.recorded.restore)
        ));
    }
    if dry_run {
        return Ok(());
    }
    confirmation::ask_on_terminal(
        "Run these commands from the backup",
        "refusing to run the backup's restore commands with --trust-backup-hook",
        "--trust-backup-hook works only at a terminal, where the commands are shown and you agree to them; without one, declare the hook in the profile's backup.volumes (service, command, restore) so the profile vouches for it",
    )
}

/// Whether `volumes` (keys or engine names; all when empty) selects `artifact`.
fn is_asked(artifact: &Artifact, volumes: &[String]) -> bool {
    volumes.is_empty()
        || volumes
            .iter()
            .any(|volume| volume == &artifact.key || volume == &artifact.volume)
}

/// The artifacts `volumes` selects (all when empty), each as `key (size)`. Anonymous volumes
/// are restored only when asked for by name: a recreated container gets a new one.
fn replaced_volumes(backup: &StoredBackup, volumes: &[String], printer: &Printer) -> Vec<String> {
    backup
        .manifest
        .artifacts
        .iter()
        .filter(|artifact| is_asked(artifact, volumes))
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
    options: &RestoreOptions,
) -> Result<()> {
    checkout_owner::check(workspace, containers, guard.allow_other_checkout)?;
    let undoable = match (options.safety_backup, options.rollback) {
        (false, _) => " — no safety backup: this cannot be undone, nor rolled back if it fails",
        (true, false) => " — kept as restored if it fails (--no-rollback)",
        (true, true) => "",
    };
    guard.confirmation.require_project_name(
        workspace.model.name(),
        &format!(
            "replace {count} volume(s) with {}{undoable}",
            described(backup)
        ),
    )
}

/// `backup ID (KIND, label "LABEL")`: which backup, of which kind, in words.
pub fn described(backup: &StoredBackup) -> String {
    let manifest = &backup.manifest;
    match &manifest.label {
        Some(label) => format!(
            "backup {} ({}, label \"{}\")",
            manifest.id,
            manifest.kind.name(),
            escaped(label)
        ),
        None => format!("backup {} ({})", manifest.id, manifest.kind.name()),
    }
}
