//! Small readers the rules share: fields of compose's JSON model, and what an image
//! reference says (an unpinned image: untagged, or a floating tag). Whether a name is a secret's is
//! `compose::secrets::is_secret_name`.

use std::fmt;

/// Tags that name no release but follow the releases as they come: the same reference
/// pulls another image after each one. Compared case-insensitively.
const FLOATING_TAGS: [&str; 22] = [
    "latest", "stable", "edge", "lts", "nightly", "dev", "devel", "develop", "beta", "alpha",
    "canary", "test", "testing", "unstable", "mainline", "rolling", "current", "main", "master",
    "next", "preview", "snapshot",
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

#[cfg(test)]
mod tests {
    use super::*;

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
