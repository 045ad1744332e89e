//! Small readers the rules share: fields of compose's JSON model, what an image reference
//! says (an unpinned image: untagged, or a floating tag), and what a Dockerfile stage
//! inherits (its healthcheck). Whether a name is a secret's is
//! `compose::secrets::is_secret_name`.

use std::fmt;

use crate::doctor::dockerfile::{Dockerfile, Instruction, StageTree};

/// Tags that name no release but follow the releases as they come: the same reference
/// pulls another image after each one. Compared case-insensitively.
const FLOATING_TAGS: [&str; 23] = [
    "latest", "stable", "edge", "lts", "nightly", "dev", "devel", "develop", "beta", "alpha",
    "canary", "test", "testing", "unstable", "mainline", "rolling", "current", "main", "master",
    "next", "preview", "snapshot", "release",
];

/// Variant words that name no release either: a tag made only of them and floating tags
/// (`alpine`, `slim`, `lts-alpine`, `stable-slim`) floats too; `3.12-alpine` or
/// `bookworm-slim` does not.
const FLOATING_VARIANTS: [&str; 2] = ["alpine", "slim"];

/// Why an image reference is not pinned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unpinned<'a> {
    /// No tag and no digest: `latest`.
    Untagged,
    /// A tag that follows the releases (`FLOATING_TAGS`, `FLOATING_VARIANTS`).
    Floating(&'a str),
}

impl fmt::Display for Unpinned<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unpinned::Untagged => formatter.write_str("is untagged"),
            Unpinned::Floating(tag) => write!(formatter, "has the floating tag `{tag}`"),
        }
    }
}

/// Why `image` is not pinned, unless it is: a digest pins it, a variable is not read, any
/// other tag is taken as a release.
pub(crate) fn unpinned(image: &str) -> Option<Unpinned<'_>> {
    if image.contains('@') || image.contains('$') {
        return None;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        None => Some(Unpinned::Untagged),
        Some((_, tag)) if is_floating(tag) => Some(Unpinned::Floating(tag)),
        Some(_) => None,
    }
}

fn is_floating(tag: &str) -> bool {
    let tag = tag.to_lowercase();
    tag.split('-')
        .all(|part| FLOATING_TAGS.contains(&part) || FLOATING_VARIANTS.contains(&part))
}

/// A stage's healthcheck: the HEALTHCHECK instruction that holds for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StageHealthcheck<'a> {
    /// A HEALTHCHECK with a command, in the stage or a stage it is built FROM.
    Checks(&'a Instruction),
    /// `HEALTHCHECK NONE`: the check the stage (or a stage it is built FROM) turns off.
    Disabled(&'a Instruction),
    /// No HEALTHCHECK in the stage or the stages it is built FROM.
    Absent,
}

/// The index of the stage `target` names (case-insensitively; `None`: the last stage), if
/// the Dockerfile has it.
pub(crate) fn stage_index(dockerfile: &Dockerfile, target: Option<&str>) -> Option<usize> {
    StageTree::of(&dockerfile.stages()).index(target)
}

/// The healthcheck of stage `index` of `dockerfile`: its last HEALTHCHECK, else the one of
/// the earlier stage it is built FROM, and so on (an image from a registry is not read).
pub(crate) fn stage_healthcheck(dockerfile: &Dockerfile, index: usize) -> StageHealthcheck<'_> {
    let stages = dockerfile.stages();
    if index >= stages.len() {
        return StageHealthcheck::Absent;
    }
    let check = StageTree::of(&stages)
        .lineage(index)
        .into_iter()
        .find_map(|stage| {
            stages[stage]
                .iter()
                .rev()
                .find(|i| i.keyword == "HEALTHCHECK")
        });
    match check {
        None => StageHealthcheck::Absent,
        Some(check)
            if check
                .arguments
                .split_whitespace()
                .next()
                .is_some_and(|word| word.eq_ignore_ascii_case("NONE")) =>
        {
            StageHealthcheck::Disabled(check)
        }
        Some(check) => StageHealthcheck::Checks(check),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_has_its_own_healthcheck_else_its_base_stage_s() {
        let dockerfile = Dockerfile::parse(
            "FROM alpine:3.20 AS Base\nHEALTHCHECK CMD wget -q -O /dev/null http://localhost/\nFROM base AS dev\nRUN true\nFROM dev AS quiet\nHEALTHCHECK none\nFROM alpine:3.20 AS production\nRUN true\nFROM quiet\n",
        );
        let at = |target: Option<&str>| {
            let index = stage_index(&dockerfile, target).unwrap();
            match stage_healthcheck(&dockerfile, index) {
                StageHealthcheck::Checks(check) => format!("checks at {}", check.line),
                StageHealthcheck::Disabled(check) => format!("disabled at {}", check.line),
                StageHealthcheck::Absent => "absent".to_string(),
            }
        };
        assert_eq!(at(Some("base")), "checks at 2");
        assert_eq!(at(Some("DEV")), "checks at 2");
        assert_eq!(at(Some("quiet")), "disabled at 6");
        assert_eq!(at(Some("production")), "absent");
        assert_eq!(at(None), "disabled at 6");
        assert_eq!(stage_index(&dockerfile, Some("missing")), None);
        assert_eq!(stage_index(&Dockerfile::parse(""), None), None);
        // A stage named like its own base image is built FROM that image, not itself.
        let own = Dockerfile::parse("FROM web AS web\nRUN true\n");
        assert_eq!(stage_healthcheck(&own, 0), StageHealthcheck::Absent);
    }

    #[test]
    fn pinned_images() {
        for image in [
            "nginx",
            "nginx:latest",
            "registry:5000/team/app",
            "a/b:latest",
            "nginx:stable",
            "node:lts",
            "node:LTS",
            "node:lts-alpine",
            "node:current-slim",
            "node:alpine",
            "alpine:edge",
            "ubuntu:rolling",
            "nginx:mainline",
            "ghcr.io/team/app:main",
            "registry:5000/nginx:dev",
        ] {
            assert!(unpinned(image).is_some(), "{image}");
        }
        for pinned in [
            "nginx:1.27",
            "registry:5000/team/app:2",
            "nginx@sha256:0123",
            "nginx:latest@sha256:0123",
            "${IMAGE}",
            "node:20-alpine",
            "python:3.12-slim",
            "debian:bookworm",
            "debian:bookworm-slim",
            "alpine:3.20",
            "team/app:stable-2024.06",
        ] {
            assert_eq!(unpinned(pinned), None, "{pinned}");
        }
        assert_eq!(unpinned("nginx"), Some(Unpinned::Untagged));
        assert_eq!(
            unpinned("node:lts-alpine").unwrap().to_string(),
            "has the floating tag `lts-alpine`"
        );
    }
}
