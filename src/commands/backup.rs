//! `devctl backup`: back up the volumes the profile's services use (and drill the backup with
//! `--drill`); `list`, `verify`, `drill`, `export`, `import`, `prune`.

use anyhow::Result;
use serde_json::json;

use crate::backup::bundle::ImageRecord;
use crate::backup::bundle_export::{self, ExportRequest, ImageSelection};
use crate::backup::bundle_import::{self, ImportRequest};
use crate::backup::drill;
use crate::backup::drill_record::{DrillRecord, DrillResult, DrillState};
use crate::backup::journal;
use crate::backup::manifest::{BackupKind, Manifest};
use crate::backup::origin::EngineOrigin;
use crate::backup::store::StoredBackup;
use crate::backup::take;
use crate::backup::workspace::Workspace;
use crate::cli::{BackupAction, BackupArgs, BundleImages, Format, GlobalArgs};
use crate::compose::verb_plan::SCHEMA_VERSION;
use crate::guard::audit_log::AuditEntry;
use crate::guard::classifier::Tier;
use crate::guard::confirmation::Confirmation;
use crate::project::ServiceScope;
use crate::report::exit_status::ExitStatus;
use crate::report::failure::Failure;
use crate::report::printer::Printer;
use crate::report::text::{escaped, shell_quote};
use crate::report::units::human_bytes;

pub fn run(args: &BackupArgs, global: &GlobalArgs, printer: &Printer) -> Result<ExitStatus> {
    // Pruning deletes backups: like every destructive step, it resolves the model afresh.
    let fresh = matches!(args.action, Some(BackupAction::Prune { .. }));
    let workspace = super::options::open_workspace(global, printer, ServiceScope::Profile, fresh)?;
    match &args.action {
        None => create(&workspace, args, global, printer),
        Some(BackupAction::List { format }) => list(&workspace, format.resolved(), printer),
        Some(BackupAction::Verify { id }) => verify(&workspace, id.as_deref(), printer),
        Some(BackupAction::Drill {
            id,
            latest: _,
            wait_timeout,
        }) => {
            let _lock = workspace.lock("backup drill", printer)?;
            let backup = match id {
                Some(id) => workspace.store.get(id)?,
                None => workspace.store.latest()?,
            };
            let timeout = wait_timeout.unwrap_or(workspace.project.profile.wait_timeout);
            drill_backup(&workspace, &backup, timeout, printer)
        }
        Some(BackupAction::Export {
            id,
            latest: _,
            output,
            images,
            force,
        }) => {
            let _lock = workspace.lock("backup export", printer)?;
            let backup = match id {
                Some(id) => workspace.store.get(id)?,
                None => workspace.store.latest()?,
            };
            let images = match images {
                BundleImages::None => ImageSelection::None,
                BundleImages::Built => ImageSelection::Built,
                BundleImages::All => ImageSelection::All,
            };
            export(&workspace, &backup, output, images, *force, printer)
        }
        Some(BackupAction::Import { file, into_project }) => {
            let _lock = workspace.lock("backup import", printer)?;
            import(&workspace, file, into_project.as_deref(), printer)
        }
        Some(BackupAction::Prune { keep }) => prune(&workspace, *keep, global, printer),
    }
}

fn create(
    workspace: &Workspace,
    args: &BackupArgs,
    global: &GlobalArgs,
    printer: &Printer,
) -> Result<ExitStatus> {
    let anonymous = args.anonymous || workspace.project.profile.backup.anonymous;
    let targets = workspace.targets(&args.volumes, anonymous)?;
    if global.dry_run {
        for target in &targets {
            printer.data(format!(
                "{}\t{}\t{:?}\t{}\n",
                target.key,
                target.name,
                target.method,
                target.services.join(",")
            ));
        }
        return Ok(ExitStatus::Success);
    }
    let _lock = workspace.lock("backup", printer)?;
    journal::interrupted_run(
        &workspace.state,
        workspace.model.name(),
        workspace.project.stack(),
        workspace.engine.endpoint(),
        "back up",
        printer,
    )?;
    let backup = take::take(
        workspace,
        printer,
        &targets,
        BackupKind::Manual,
        args.label.as_deref(),
    )?;
    for artifact in backup
        .manifest
        .artifacts
        .iter()
        .filter(|a| a.warning.is_some())
    {
        printer.warn(format!(
            "{}: {}",
            artifact.key,
            artifact.warning.as_deref().unwrap_or_default()
        ));
    }
    printer.data(format!("{}\n", backup.manifest.id));
    printer.info(format!(
        "restore it with: {}",
        workspace.project.stack().devctl(&format!(
            "restore {} --confirm {}",
            shell_quote(&backup.manifest.id),
            shell_quote(workspace.model.name())
        ))
    ));
    if args.drill {
        return drill_backup(
            workspace,
            &backup,
            workspace.project.profile.wait_timeout,
            printer,
        );
    }
    Ok(ExitStatus::Success)
}

/// Drills `backup` (holding the lock), says how it went, and fails when the drill did.
fn drill_backup(
    workspace: &Workspace,
    backup: &StoredBackup,
    wait_timeout: std::time::Duration,
    printer: &Printer,
) -> Result<ExitStatus> {
    let record: DrillRecord = drill::drill(workspace, printer, backup, wait_timeout)?;
    match record.result {
        DrillResult::Ok => {
            printer.info(format!(
                "✔ drill of backup {} passed in {:.1}s: {} healthy{}",
                record.backup,
                record.duration_seconds,
                record.services.join(", "),
                match record.checks.len() {
                    0 => String::new(),
                    1 => ", 1 check passed".to_string(),
                    count => format!(", {count} checks passed"),
                }
            ));
            Ok(ExitStatus::Success)
        }
        DrillResult::Failed => Err(drill::failed(&record, workspace.project.stack()).into()),
    }
}

fn export(
    workspace: &Workspace,
    backup: &StoredBackup,
    output: &std::path::Path,
    images: ImageSelection,
    force: bool,
    printer: &Printer,
) -> Result<ExitStatus> {
    let exported = bundle_export::export(
        workspace,
        printer,
        &ExportRequest {
            backup,
            output,
            images,
            force,
        },
    )?;
    let carried: Vec<&str> = exported
        .images
        .iter()
        .filter(|image| image.saved)
        .map(|image| image.reference.as_str())
        .collect();
    printer.data(format!("{}\n", exported.path.display()));
    printer.info(format!(
        "✔ backup {} exported to {} ({}{})",
        backup.manifest.id,
        escaped(&exported.path.display().to_string()),
        human_bytes(exported.bytes),
        match carried.is_empty() {
            true => ", no images".to_string(),
            false => format!(", images {}", carried.join(", ")),
        }
    ));
    printer.info(format!(
        "import it where it goes with: {}",
        // The bundle goes to another engine: the line names none of this run's.
        workspace.project.stack().through(None).devctl(&format!(
            "backup import {}",
            shell_quote(&exported.path.display().to_string())
        ))
    ));
    Ok(ExitStatus::Success)
}

fn import(
    workspace: &Workspace,
    file: &std::path::Path,
    into_project: Option<&str>,
    printer: &Printer,
) -> Result<ExitStatus> {
    let imported =
        bundle_import::import(workspace, printer, &ImportRequest { file, into_project })?;
    let id = &imported.backup.manifest.id;
    let project = workspace.model.name();
    match imported.stored {
        true => printer.info(format!(
            "✔ backup {id} of project {} stored in {}",
            escaped(&imported.project),
            imported.backup.directory.display()
        )),
        false => printer.info(format!(
            "backup {id} is already in {}: nothing to store",
            workspace.store.directory().display()
        )),
    }
    for image in &imported.loaded {
        printer.info(format!(
            "✔ image {} loaded ({})",
            escaped(&image.reference),
            image.id.as_deref().map(escaped).unwrap_or_default()
        ));
    }
    printer.data(format!("{id}\n"));
    let stack = workspace.project.stack();
    let missing: Vec<&ImageRecord> = imported
        .images
        .iter()
        .filter(|image| !workspace.engine.has_image(&image.reference))
        .collect();
    if workspace.running_services()?.is_empty() {
        let up = match missing.iter().any(|image| image.built) {
            true => "up --build",
            false => "up",
        };
        let missing: Vec<String> = missing
            .iter()
            .map(|image| escaped(&image.reference))
            .collect();
        printer.info(format!(
            "bring the stack up first: {}{}",
            stack.devctl(up),
            match missing.is_empty() {
                true => String::new(),
                false => format!(" (the engine lacks {})", missing.join(", ")),
            }
        ));
    }
    printer.info(format!(
        "restore it with: {}",
        stack.devctl(&format!(
            "restore {} --confirm {}",
            shell_quote(id),
            shell_quote(project)
        ))
    ));
    Ok(ExitStatus::Success)
}

fn list(workspace: &Workspace, format: Format, printer: &Printer) -> Result<ExitStatus> {
    let listed = workspace.store.list()?;
    let here = EngineOrigin::reached(workspace.engine.host(), &workspace.engine.identity()?);
    let elsewhere = |manifest: &Manifest| {
        let made = EngineOrigin::of_backup(manifest);
        made.is_other_than(&here).then_some(made)
    };
    match format {
        Format::Json => {
            let backups: Vec<serde_json::Value> = listed
                .iter()
                .map(|entry| match &entry.manifest {
                    Ok(manifest) => json!({
                        "id": entry.id,
                        "status": "complete",
                        "kind": manifest.kind,
                        "created": manifest.created,
                        "label": manifest.label,
                        "volumes": manifest.artifacts.iter().map(|a| &a.key).collect::<Vec<_>>(),
                        "raw_bytes": manifest.raw_bytes(),
                        "stored_bytes": manifest.stored_bytes(),
                        "engine": {
                            "host": manifest.engine,
                            "id": manifest.engine_id,
                            "name": manifest.engine_name,
                            "other": elsewhere(manifest).is_some(),
                        },
                        "directory": entry.directory,
                        "drill": drill_json(&DrillRecord::state(&entry.directory, &entry.id)),
                    }),
                    Err(error) => json!({
                        "id": entry.id,
                        "status": "damaged",
                        "error": error,
                        "directory": entry.directory,
                    }),
                })
                .collect();
            let document = json!({
                "schema_version": SCHEMA_VERSION,
                "project": workspace.model.name(),
                "directory": workspace.store.directory(),
                "backups": backups,
            });
            printer.data(format!("{document:#}\n"));
        }
        Format::Table => {
            if listed.is_empty() {
                printer.info(format!(
                    "no backups of {} in {} yet: `{}` makes one",
                    workspace.model.name(),
                    workspace.store.directory().display(),
                    workspace.project.stack().devctl("backup")
                ));
                return Ok(ExitStatus::Success);
            }
            // Which engine a backup was made on is shown only when one was made on another.
            let crossing = listed.iter().any(|entry| {
                entry
                    .manifest
                    .as_ref()
                    .is_ok_and(|manifest| elsewhere(manifest).is_some())
            });
            let mut rows: Vec<Vec<String>> = listed
                .iter()
                .map(|entry| match &entry.manifest {
                    Ok(manifest) => vec![
                        escaped(&entry.id),
                        manifest.kind.name().to_string(),
                        manifest.created.clone(),
                        manifest
                            .artifacts
                            .iter()
                            .map(|a| a.key.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                        human_bytes(manifest.stored_bytes()),
                        drill_text(&DrillRecord::state(&entry.directory, &entry.id)),
                    ],
                    Err(error) => vec![
                        escaped(&entry.id),
                        "damaged".into(),
                        "-".into(),
                        escaped(error.lines().next().unwrap_or_default()),
                        "-".into(),
                        "-".into(),
                    ],
                })
                .collect();
            let mut headers = vec!["ID", "KIND", "CREATED", "VOLUMES", "STORED", "DRILL"];
            if crossing {
                headers.push("ENGINE");
                for (row, entry) in rows.iter_mut().zip(&listed) {
                    let made = entry.manifest.as_ref().ok().and_then(elsewhere);
                    row.push(made.map_or_else(
                        || "this one".to_string(),
                        |made| format!("other: {}", made.describe()),
                    ));
                }
            }
            printer.data(crate::report::table::render(&headers, &rows));
        }
    }
    Ok(ExitStatus::Success)
}

/// A backup's last drill, for `backup list --json`: `{"result": "ok"|"failed"|"never"|
/// "unreadable", "when": …}`.
fn drill_json(state: &DrillState) -> serde_json::Value {
    match state {
        DrillState::Unreadable(error) => json!({ "result": state.name(), "error": error }),
        _ => json!({ "result": state.name(), "when": state.when() }),
    }
}

/// A backup's last drill, for the DRILL column: `ok 2026-…`, `failed 2026-…`, `never`.
fn drill_text(state: &DrillState) -> String {
    match state.when() {
        Some(when) => format!("{} {when}", state.name()),
        None => state.name().to_string(),
    }
}

fn verify(workspace: &Workspace, id: Option<&str>, printer: &Printer) -> Result<ExitStatus> {
    let mut damaged = 0;
    let backups = match id {
        Some(id) => vec![workspace.store.get(id)?],
        None => {
            let mut backups = Vec::new();
            for entry in workspace.store.list()? {
                match entry.manifest {
                    Ok(manifest) => backups.push(crate::backup::store::StoredBackup {
                        directory: entry.directory,
                        manifest,
                    }),
                    Err(error) => {
                        damaged += 1;
                        printer.report(format!("✘ {}: {}", escaped(&entry.id), escaped(&error)));
                    }
                }
            }
            backups
        }
    };
    let mut failures = 0;
    for backup in &backups {
        match backup.verify(&workspace.project.stack()) {
            Ok(()) => printer.info(format!(
                "✔ {}: {} artifact{}, {} verified",
                backup.manifest.id,
                backup.manifest.artifacts.len(),
                if backup.manifest.artifacts.len() == 1 {
                    ""
                } else {
                    "s"
                },
                human_bytes(backup.manifest.stored_bytes())
            )),
            Err(error) if id.is_some() => return Err(error),
            Err(error) => {
                failures += 1;
                printer.report(format!(
                    "✘ {}: {}",
                    backup.manifest.id,
                    escaped(&format!("{error:#}"))
                ));
            }
        }
    }
    if failures + damaged > 0 {
        return Err(Failure::new(
            ExitStatus::IntegrityFailure,
            format!(
                "{} of {} backups failed verification",
                failures + damaged,
                backups.len() + damaged
            ),
        )
        .hint(format!(
            "do not restore those; `{}` or removing their directories clears them",
            workspace.project.stack().devctl("backup prune")
        ))
        .into());
    }
    Ok(ExitStatus::Success)
}

fn prune(
    workspace: &Workspace,
    keep: usize,
    global: &GlobalArgs,
    printer: &Printer,
) -> Result<ExitStatus> {
    if keep == 0 {
        return Err(Failure::bad_input("--keep 0 would remove every backup")
            .hint("keep at least one: --keep 1 keeps the newest")
            .into());
    }
    let _lock = workspace.lock("backup prune", printer)?;
    let listed = workspace.store.list()?;
    let complete: Vec<_> = listed
        .iter()
        .filter(|entry| entry.manifest.is_ok())
        .collect();
    if complete.len() <= keep {
        printer.info(format!(
            "nothing to prune: {} backup(s), keeping {keep}",
            complete.len()
        ));
        return Ok(ExitStatus::Success);
    }
    // The newest backup whose drill passed stays, whatever its age. The record is advisory:
    // it can only spare a backup, never doom one.
    let drilled = complete
        .iter()
        .rev()
        .find(|entry| DrillRecord::state(&entry.directory, &entry.id).passed());
    let mut doomed: Vec<_> = complete[..complete.len() - keep].to_vec();
    if let Some(drilled) = drilled
        && doomed.iter().any(|entry| entry.id == drilled.id)
    {
        doomed.retain(|entry| entry.id != drilled.id);
        printer.info(format!(
            "keeping backup {}: it is the newest backup whose drill passed",
            drilled.id
        ));
    }
    if doomed.is_empty() {
        printer.info("nothing to prune");
        return Ok(ExitStatus::Success);
    }
    for entry in &doomed {
        let kind = match &entry.manifest {
            Ok(manifest) => match &manifest.label {
                Some(label) => format!(
                    "{}, label \"{}\"",
                    manifest.kind.name(),
                    crate::report::text::escaped(label)
                ),
                None => manifest.kind.name().to_string(),
            },
            Err(_) => "damaged".into(),
        };
        printer.info(format!("will remove backup {} ({kind})", entry.id));
    }
    if global.dry_run {
        return Ok(ExitStatus::Success);
    }
    let log = crate::guard::audit_log::AuditLog::new(&workspace.state);
    let mut entry = AuditEntry::for_workspace(
        workspace,
        &format!("backup prune --keep {keep}"),
        Tier::Data,
    );
    let confirmation = Confirmation::from(&global.guard);
    if let Err(error) = confirmation.require_project_name(
        workspace.model.name(),
        &format!("remove {} backup(s)", doomed.len()),
    ) {
        return Err(log.refuse(entry, error));
    }
    entry.decision = "confirmed".into();
    entry.detail = format!(
        "{}; removes backups {}",
        confirmation.how(true),
        doomed
            .iter()
            .map(|entry| entry.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    log.append(&entry)?;
    for entry in &doomed {
        std::fs::remove_dir_all(&entry.directory).map_err(|error| {
            anyhow::anyhow!("cannot remove {}: {error}", entry.directory.display())
        })?;
        printer.info(format!("removed backup {}", entry.id));
    }
    Ok(ExitStatus::Success)
}
