//! The image rule (`devctl doctor --images`): over what the engine says of each image the
//! profile's `doctor.images` names, against that image's runtime contract
//! (`image_contract::check`).

use crate::doctor::finding::{Finding, Location};
use crate::doctor::image_contract;
use crate::doctor::lint_input::{ImageInput, ImageState};
use crate::doctor::rule::{Check, LintRule};
use crate::doctor::rule_id::RuleId;
use crate::doctor::rule_id::Severity::Error;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::image_contract::ImageFacts;
    use crate::doctor::rules::examples::{Example, findings};
    use crate::project::profile_file::ImageContract;
    use crate::report::command_line::Stack;
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
        }
    }

    pub(super) fn image_contract() -> Example {
        let mut broken = facts();
        broken.user = "root".into();
        broken.paths.insert("/usr/bin/gcc".into());
        Example::new(
            input(ImageState::Read(broken)),
            &[
                "profiles/default.yaml service `app`: image shop-app runs as root (no USER, or USER root)",
                "profiles/default.yaml service `app`: image shop-app contains /usr/bin/gcc (forbidden: /usr/bin/gcc)",
            ],
            input(ImageState::Read(facts())),
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
