//! docker-compose-linter's cases, default options, for the rules devctl shares with it:
//! an item is one service (or one port) that the peer's test expects in its report, or not.

use super::case::Case;
use super::case::Verdict::{Clean, Finds};
use crate::doctor::rules::compose::{IMAGE_UNPINNED, OBSOLETE_VERSION};
use crate::doctor::rules::examples::project;

pub(super) fn cases() -> Vec<Case> {
    vec![
        Case::dclint(
            "no-version-field",
            &OBSOLETE_VERSION,
            "a top-level version",
            project("version: '3.9'\nservices:\n  web:\n    image: caddy:2\n"),
            Finds,
        ),
        Case::dclint(
            "no-version-field",
            &OBSOLETE_VERSION,
            "no version",
            project("services:\n  web:\n    image: caddy:2\n"),
            Clean,
        ),
        Case::dclint(
            "service-image-require-explicit-tag",
            &IMAGE_UNPINNED,
            "an image without a tag, among tagged ones",
            project("services:\n  a:\n    image: caddy\n  b:\n    image: caddy:2.8.4\n"),
            Finds,
        )
        .about("`a`"),
        Case::dclint(
            "service-image-require-explicit-tag",
            &IMAGE_UNPINNED,
            "a tagged image, beside an untagged one",
            project("services:\n  a:\n    image: caddy\n  b:\n    image: caddy:2.8.4\n"),
            Clean,
        )
        .about("`b`"),
    ]
}
