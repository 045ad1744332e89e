//! The image rules (`devctl doctor --images`): each image the profile's `doctor.images`
//! names against its runtime contract (`image_contract::check`), and each service against
//! the image it runs — its healthcheck's program, a shell, its user, its published ports,
//! the program it starts (`image_fit::misfits`, a rule for each).

use crate::doctor::finding::{Finding, Location};
use crate::doctor::image_contract;
use crate::doctor::image_fit::{Misfits, misfits};
use crate::doctor::lint_input::{ImageInput, ImageState};
use crate::doctor::rule::{Check, LintRule};
use crate::doctor::rule_id::RuleId;
use crate::doctor::rule_id::Severity::{Error, Warning};

pub(super) const IMAGE_CONTRACT: LintRule = LintRule {
    id: RuleId::ImageContract,
    severity: Error,
    summary: "a built image breaks its runtime contract (the profile's doctor.images)",
    fix: "fix the Dockerfile so the image has what the contract names, or update the contract",
    check: Check::Image(image_contract),
    #[cfg(test)]
    example: tests::image_contract,
};

/// Each broken term of the contract, or why the image could not be checked.
fn image_contract(input: &ImageInput) -> Vec<Finding> {
    let ImageInput { service, image, .. } = input;
    let finding =
        |message: String| IMAGE_CONTRACT.finding(message, Some(Location::file(&input.origin)));
    match &input.state {
        ImageState::UnknownService(services) => vec![finding(format!(
            "doctor.images names service `{service}`, which this profile does not run (services: {})",
            services.join(", ")
        ))],
        ImageState::Missing => vec![finding(format!(
            "service `{service}`: image {image} is not on the engine (build it first: `{}`)",
            input.stack.devctl("up --build")
        ))],
        ImageState::Read(facts) => image_contract::check(&input.contract, facts)
            .into_iter()
            .map(|broken| finding(format!("service `{service}`: image {image} {broken}")))
            .collect(),
    }
}

pub(super) const HEALTHCHECK_PROGRAM_MISSING: LintRule = LintRule {
    id: RuleId::HealthcheckProgramMissing,
    severity: Error,
    summary: "a service's healthcheck runs a program its built image does not have (`--images`)",
    fix: "install the program in the image, or test with one it has (busybox's `wget`, the server's own binary)",
    check: Check::Image(healthcheck_program_missing),
    #[cfg(test)]
    example: tests::healthcheck_program_missing,
};

pub(super) const SHELL_MISSING: LintRule = LintRule {
    id: RuleId::ShellMissing,
    severity: Error,
    summary: "a `CMD-SHELL` healthcheck or an `sh -c` command needs a shell its built image does not have (`--images`)",
    fix: "use the exec form (`test: [CMD, program, …]`, a command list without `sh -c`), or add a shell to the image",
    check: Check::Image(shell_missing),
    #[cfg(test)]
    example: tests::shell_missing,
};

pub(super) const USER_MISSING: LintRule = LintRule {
    id: RuleId::UserMissing,
    severity: Error,
    summary: "a service runs as a user or group its built image's /etc/passwd or /etc/group does not list (`--images`)",
    fix: "create the user in the Dockerfile, or use numeric ids (`user: \"1000:1000\"`)",
    check: Check::Image(user_missing),
    #[cfg(test)]
    example: tests::user_missing,
};

pub(super) const PORT_NOT_EXPOSED: LintRule = LintRule {
    id: RuleId::PortNotExposed,
    severity: Warning,
    summary: "a service publishes a container port its built image does not EXPOSE (`--images`)",
    fix: "publish the port the image serves on, or add `EXPOSE <port>` to its Dockerfile",
    check: Check::Image(port_not_exposed),
    #[cfg(test)]
    example: tests::port_not_exposed,
};

pub(super) const ENTRYPOINT_NOT_EXECUTABLE: LintRule = LintRule {
    id: RuleId::EntrypointNotExecutable,
    severity: Error,
    summary: "the program a service starts (its entrypoint, else its command) is missing from its built image or not executable (`--images`)",
    fix: "copy the program into the image with its executable bit (`COPY --chmod=755`, `RUN chmod +x`), or correct the entrypoint or command",
    check: Check::Image(entrypoint_not_executable),
    #[cfg(test)]
    example: tests::entrypoint_not_executable,
};

/// `rule`'s findings about a service and its image: the misfits `pick` takes, at the compose
/// key `key` (else the service).
fn misfit_findings(
    rule: &LintRule,
    input: &ImageInput,
    key: &str,
    pick: fn(Misfits) -> Vec<String>,
) -> Vec<Finding> {
    let (Some(compose), ImageState::Read(facts)) = (&input.compose, &input.state) else {
        return Vec::new();
    };
    let mut files = facts.files.clone();
    let found = misfits(&compose.definition, &input.image, facts, &mut files);
    pick(found)
        .into_iter()
        .map(|misfit| {
            rule.finding(
                format!("service `{}`: {misfit}", input.service),
                compose.location(key),
            )
        })
        .collect()
}

fn healthcheck_program_missing(input: &ImageInput) -> Vec<Finding> {
    misfit_findings(
        &HEALTHCHECK_PROGRAM_MISSING,
        input,
        "healthcheck",
        |found| found.healthcheck,
    )
}

fn shell_missing(input: &ImageInput) -> Vec<Finding> {
    misfit_findings(&SHELL_MISSING, input, "", |found| found.shell)
}

fn user_missing(input: &ImageInput) -> Vec<Finding> {
    misfit_findings(&USER_MISSING, input, "user", |found| found.user)
}

fn port_not_exposed(input: &ImageInput) -> Vec<Finding> {
    misfit_findings(&PORT_NOT_EXPOSED, input, "ports", |found| found.ports)
}

fn entrypoint_not_executable(input: &ImageInput) -> Vec<Finding> {
    misfit_findings(&ENTRYPOINT_NOT_EXECUTABLE, input, "entrypoint", |found| {
        found.entrypoint
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::image_contract::ImageFacts;
    use crate::doctor::image_files::{FileStat, ImageFiles};
    use crate::doctor::lint_input::ComposeService;
    use crate::doctor::rules::examples::{Example, findings};
    use crate::project::profile_file::ImageContract;
    use crate::report::command_line::Stack;
    use serde_json::json;
    use std::path::PathBuf;

    fn contract() -> ImageContract {
        ImageContract {
            non_root: Some(true),
            healthcheck: Some(true),
            forbidden_paths: Some(vec!["/usr/bin/gcc".into()]),
            ..ImageContract::default()
        }
    }

    fn facts() -> ImageFacts {
        ImageFacts {
            user: "1000".into(),
            healthcheck: true,
            paths: ["/bin/sh", "/app/server"].map(String::from).into(),
            ..ImageFacts::default()
        }
    }

    fn input(state: ImageState) -> ImageInput {
        ImageInput {
            service: "app".into(),
            image: "shop-app".into(),
            contract: contract(),
            origin: PathBuf::from("profiles/default.yaml"),
            state,
            stack: Stack::live(),
            compose: None,
        }
    }

    /// Service `app` of compose.yaml, `definition` as compose resolves it, each key it reads
    /// written on its own line.
    fn fitted(definition: serde_json::Value, facts: ImageFacts) -> ImageInput {
        let mut locations = std::collections::BTreeMap::new();
        for (line, key) in ["", "healthcheck", "command", "entrypoint", "user", "ports"]
            .into_iter()
            .enumerate()
        {
            locations.insert(key, Location::at("compose.yaml", line as u64 + 3, 5));
        }
        ImageInput {
            compose: Some(ComposeService {
                definition,
                locations,
            }),
            ..input(ImageState::Read(Box::new(facts)))
        }
    }

    /// A small image: a shell, an executable server, a user `app`, port 8080.
    fn small() -> ImageFacts {
        ImageFacts {
            cmd: vec!["/app/server".into()],
            exposed_ports: vec!["8080/tcp".into()],
            search_path: Some("/bin".into()),
            files: ImageFiles::default()
                .with("/bin/sh", FileStat::file(0o755))
                .with("/bin/wget", FileStat::link("/bin/sh"))
                .with("/app/server", FileStat::file(0o755))
                .with("/app/notes", FileStat::file(0o644))
                .with_text("/etc/passwd", "app:x:1000:1000::/app:/bin/sh\n")
                .with_text("/etc/group", "app:x:1000:\n"),
            ..ImageFacts::default()
        }
    }

    pub(super) fn healthcheck_program_missing() -> Example {
        Example::new(
            fitted(
                json!({"healthcheck": {"test": ["CMD", "curl", "-f", "http://localhost:8080/"]}}),
                small(),
            ),
            &[
                "compose.yaml:4:5 service `app`: the healthcheck runs curl, which image shop-app does not have (not in its PATH /bin)",
            ],
            fitted(
                json!({"healthcheck": {"test": ["CMD", "wget", "-q", "http://localhost:8080/"]}}),
                small(),
            ),
        )
    }

    pub(super) fn shell_missing() -> Example {
        let mut shell_less = small();
        shell_less.files = ImageFiles::default().with("/app/server", FileStat::file(0o755));
        Example::new(
            fitted(
                json!({"healthcheck": {"test": ["CMD-SHELL", "/app/server --check || exit 1"]}}),
                shell_less.clone(),
            ),
            &[
                "compose.yaml:3:5 service `app`: the healthcheck is CMD-SHELL, run by /bin/sh, which image shop-app does not have",
            ],
            fitted(
                json!({"healthcheck": {"test": ["CMD", "/app/server", "--check"]}}),
                shell_less,
            ),
        )
    }

    pub(super) fn user_missing() -> Example {
        Example::new(
            fitted(json!({"user": "www-data"}), small()),
            &[
                "compose.yaml:7:5 service `app`: runs as user `www-data` (compose's user), which image shop-app's /etc/passwd does not have",
            ],
            fitted(json!({"user": "app:app"}), small()),
        )
    }

    pub(super) fn port_not_exposed() -> Example {
        let published = |target: u16| json!({"ports": [{"target": target, "published": "8080", "protocol": "tcp"}]});
        Example::new(
            fitted(published(80), small()),
            &[
                "compose.yaml:8:5 service `app`: publishes container port 80/tcp, which image shop-app does not EXPOSE (it exposes 8080/tcp)",
            ],
            fitted(published(8080), small()),
        )
    }

    pub(super) fn entrypoint_not_executable() -> Example {
        Example::new(
            fitted(json!({"entrypoint": ["/app/notes"]}), small()),
            &[
                "compose.yaml:6:5 service `app`: runs (compose's entrypoint) /app/notes, which is not executable in image shop-app (/app/notes, mode 644)",
            ],
            fitted(
                json!({"command": ["/app/server", "--port", "8080"]}),
                small(),
            ),
        )
    }

    #[test]
    fn the_compose_rules_find_nothing_without_a_service_or_without_the_image() {
        let mut broken = small();
        broken.files = ImageFiles::default();
        let mut unread = fitted(json!({"user": "www-data"}), broken.clone());
        unread.state = ImageState::Missing;
        let mut contract_only = fitted(json!({}), broken);
        contract_only.compose = None;
        for rule in [
            &HEALTHCHECK_PROGRAM_MISSING,
            &SHELL_MISSING,
            &USER_MISSING,
            &PORT_NOT_EXPOSED,
            &ENTRYPOINT_NOT_EXECUTABLE,
        ] {
            assert_eq!(findings(rule, unread.clone()), Vec::<String>::new());
            assert_eq!(findings(rule, contract_only.clone()), Vec::<String>::new());
        }
    }

    pub(super) fn image_contract() -> Example {
        let mut broken = facts();
        broken.user = "root".into();
        broken.paths.insert("/usr/bin/gcc".into());
        Example::new(
            input(ImageState::Read(Box::new(broken))),
            &[
                "profiles/default.yaml service `app`: image shop-app runs as root (no USER, or USER root)",
                "profiles/default.yaml service `app`: image shop-app contains /usr/bin/gcc (forbidden: /usr/bin/gcc)",
            ],
            input(ImageState::Read(Box::new(facts()))),
        )
    }

    #[test]
    fn an_image_that_cannot_be_checked_is_a_finding() {
        assert_eq!(
            findings(&IMAGE_CONTRACT, input(ImageState::Missing)),
            [
                "profiles/default.yaml service `app`: image shop-app is not on the engine (build it first: `devctl up --build`)"
            ]
        );
        let mut fidelity = input(ImageState::Missing);
        fidelity.stack = Stack::fidelity();
        assert_eq!(
            findings(&IMAGE_CONTRACT, fidelity),
            [
                "profiles/default.yaml service `app`: image shop-app is not on the engine (build it first: `devctl up --build --fidelity`)"
            ]
        );
        assert_eq!(
            findings(
                &IMAGE_CONTRACT,
                input(ImageState::UnknownService(vec!["db".into(), "web".into()]))
            ),
            [
                "profiles/default.yaml doctor.images names service `app`, which this profile does not run (services: db, web)"
            ]
        );
    }
}
