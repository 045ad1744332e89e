//! `devctl compose [--] ARGS…`: any compose command, with the profile's files, env files,
//! compose profiles and project name applied — through the guard first (see
//! `guard::passthrough`).

use anyhow::Result;

use crate::backup::workspace::Workspace;
use crate::cli::{ComposeArgs, GlobalArgs};
use crate::engine::bind_sources;
use crate::guard::passthrough::{self, Route};
use crate::project::ServiceScope;
use crate::report::exit_status::ExitStatus;
use crate::report::printer::Printer;

pub fn run(args: &ComposeArgs, global: &GlobalArgs, printer: &Printer) -> Result<ExitStatus> {
    let variables: Vec<&str> = passthrough::RETARGETING_VARIABLES
        .iter()
        .copied()
        .filter(|name| std::env::var_os(name).is_some_and(|value| !value.is_empty()))
        .collect();
    match passthrough::route(&args.arguments, &variables, super::options::stack(global))? {
        Route::Direct => {
            let project = super::options::open(global, printer)?;
            let model = project.model(ServiceScope::Profile, false, printer)?;
            let command = project.command(&model, ServiceScope::Profile, &args.arguments);
            if global.dry_run {
                printer.data(format!("{}\n", command.line()));
                return Ok(ExitStatus::Success);
            }
            printer.detail(format!("running: {}", command.line()));
            command.run()
        }
        Route::Guarded(step) => {
            let workspace =
                super::options::open_workspace(global, printer, ServiceScope::Everything, true)?;
            if let (Some(named), false) = (
                passthrough::created_services(&args.arguments),
                global.dry_run,
            ) {
                check_bind_sources(&workspace, &named, &args.arguments, printer)?;
            }
            step.run(&workspace, &super::options::guard_options(global), printer)
        }
    }
}

/// Refuses, as `up` does, containers of `named` (all of the profile's when empty) and what
/// they depend on when the engine does not have a folder of this machine they bind-mount,
/// counting the ones `run -v` adds (`arguments`, compose's command line).
fn check_bind_sources(
    workspace: &Workspace,
    named: &[String],
    arguments: &[String],
    printer: &Printer,
) -> Result<()> {
    let project = &workspace.project;
    let mut model = project.model(ServiceScope::Profile, false, printer)?;
    let mut services = match named.is_empty() {
        true => model.service_names(),
        false => model.with_dependencies(named),
    };
    // `--profile` on compose's command line starts services of other compose profiles too.
    let profiles = passthrough::compose_profiles(arguments);
    if !profiles.is_empty() {
        let everything = project.model(ServiceScope::Everything, false, printer)?;
        services = match named.is_empty() {
            true => everything
                .service_names()
                .into_iter()
                .filter(|service| {
                    services.contains(service)
                        || everything.service(service).is_some_and(|definition| {
                            definition["profiles"].as_array().is_some_and(|listed| {
                                listed.iter().any(|profile| {
                                    profile.as_str().is_some_and(|profile| {
                                        profiles
                                            .iter()
                                            .any(|named| named == profile || named == "*")
                                    })
                                })
                            })
                        })
                })
                .collect(),
            false => everything.with_dependencies(named),
        };
        model = everything;
    }
    let directory = project.compose_directory();
    let added = match named.first() {
        Some(service) => passthrough::run_volumes(arguments)
            .iter()
            .filter_map(|spec| bind_sources::run_volume(service, spec, &directory))
            .collect(),
        None => Vec::new(),
    };
    let advice = bind_sources::Advice::of(project);
    bind_sources::check_with(
        &workspace.engine,
        &model,
        &services,
        added,
        &advice,
        printer,
    )
}
