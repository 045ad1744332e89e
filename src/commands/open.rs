//! `devctl open [SERVICE]`: opens the service's URL (its first published TCP port) in the
//! browser, or the first service's that publishes one; prints the URL either way, which is
//! all it does where there is no browser to open.

use anyhow::Result;

use crate::cli::{GlobalArgs, OpenArgs};
use crate::engine::api::Engine;
use crate::engine::service_status::ServiceStatus;
use crate::project::ServiceScope;
use crate::report::exit_status::ExitStatus;
use crate::report::failure::Failure;
use crate::report::printer::Printer;

pub fn run(args: &OpenArgs, global: &GlobalArgs, printer: &Printer) -> Result<ExitStatus> {
    let project = super::options::open(global, printer)?;
    let model = project.model(ServiceScope::Profile, false, printer)?;
    project.check_services(&model, args.service.as_slice())?;
    let engine = Engine::connect(&project.endpoint)?;
    let containers = engine.project_containers(model.name())?;
    let rows = ServiceStatus::with_urls(ServiceStatus::collect(&model, &containers), engine.host());
    let chosen = rows
        .iter()
        .filter(|row| {
            args.service
                .as_ref()
                .is_none_or(|service| *service == row.service)
        })
        .find_map(|row| row.urls.first().map(|url| (row.service.as_str(), url)));
    let Some((service, url)) = chosen else {
        let what = match &args.service {
            Some(service) => format!("service `{service}` has no published TCP port"),
            None => format!("no service of {} has a published TCP port", model.name()),
        };
        return Err(Failure::bad_input(what)
            .hint(format!(
                "`{}` shows the services and their ports; a service is reached from here through `ports:` in the compose file",
                project.stack().devctl("status")
            ))
            .into());
    };
    printer.data(format!("{url}\n"));
    if global.dry_run {
        return Ok(ExitStatus::Success);
    }
    match crate::compose::program::open_url(url) {
        true => printer.info(format!("opened {service} at {url}")),
        false => printer.info(format!(
            "{service} is at {url} (no browser opener, xdg-open or open, could open it here)"
        )),
    }
    Ok(ExitStatus::Success)
}
