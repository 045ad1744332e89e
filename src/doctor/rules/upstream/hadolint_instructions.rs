//! hadolint's cases for the rules that read instructions other than RUN's packages: the user
//! the image runs as (DL3002), base image tags (DL3006, DL3007), ADD (DL3020), the form of
//! CMD and ENTRYPOINT (DL3025), pipefail (DL4006), and the new rules' codes.

use super::case::Case;
use super::case::Verdict::{Clean, Finds};
use crate::doctor::rules::dockerfile::{ADD_LOCAL_FILE, BASE_IMAGE_UNPINNED, DOCKERFILE_ROOT};

pub(super) fn cases() -> Vec<Case> {
    vec![
        Case::hadolint(
            "DL3002",
            &DOCKERFILE_ROOT,
            "root set in a builder stage, an unprivileged USER in the last stage",
            "FROM debian:12 AS builder\nUSER root\nRUN make\nFROM scratch\nUSER app\nRUN run\n",
            Finds,
        )
        .deliberately(
            "devctl judges the stage that ships: a builder stage's user never runs in production",
        ),
        Case::hadolint(
            "DL3006",
            &BASE_IMAGE_UNPINNED,
            "an untagged FROM",
            "FROM alpine\n",
            Finds,
        ),
        Case::hadolint(
            "DL3006",
            &BASE_IMAGE_UNPINNED,
            "an untagged, named FROM",
            "FROM alpine AS build\n",
            Finds,
        ),
        Case::hadolint(
            "DL3006",
            &BASE_IMAGE_UNPINNED,
            "a FROM pinned by digest",
            "FROM python@sha256:0a1b2c3d4e5f\n",
            Clean,
        ),
        Case::hadolint(
            "DL3006",
            &BASE_IMAGE_UNPINNED,
            "a major-version tag",
            "FROM python:3\n",
            Clean,
        ),
        Case::hadolint(
            "DL3006",
            &BASE_IMAGE_UNPINNED,
            "a FROM from a build argument",
            "FROM ${BASE}\n",
            Clean,
        ),
        Case::hadolint(
            "DL3006",
            &BASE_IMAGE_UNPINNED,
            "a stage built FROM an earlier stage",
            "FROM rust:1.80-alpine AS build\nRUN cargo build\nFROM build AS check\nRUN cargo test\nFROM alpine:3.20\nRUN true\n",
            Clean,
        ),
        Case::hadolint(
            "DL3006",
            &BASE_IMAGE_UNPINNED,
            "a middle stage FROM an untagged image",
            "FROM rust:1.80-alpine AS build\nRUN cargo build\nFROM python AS check\nRUN pytest\nFROM alpine:3.20\nRUN true\n",
            Finds,
        ),
        Case::hadolint(
            "DL3006",
            &BASE_IMAGE_UNPINNED,
            "FROM scratch",
            "FROM scratch\n",
            Clean,
        ),
        Case::hadolint(
            "DL3007",
            &BASE_IMAGE_UNPINNED,
            "FROM …:latest",
            "FROM alpine:latest\n",
            Finds,
        ),
        Case::hadolint(
            "DL3007",
            &BASE_IMAGE_UNPINNED,
            "a named stage FROM …:latest",
            "FROM alpine:latest AS build\n",
            Finds,
        ),
        Case::hadolint(
            "DL3007",
            &BASE_IMAGE_UNPINNED,
            "a release-name tag",
            "FROM debian:bookworm\n",
            Clean,
        ),
        Case::hadolint(
            "DL3007",
            &BASE_IMAGE_UNPINNED,
            "a registry image pinned by digest",
            "FROM registry.example.com/alpine@sha256:0a1b2c3d\n",
            Clean,
        ),
        Case::hadolint(
            "DL3007",
            &BASE_IMAGE_UNPINNED,
            "`latest` with a digest",
            "FROM registry.example.com/alpine:latest@sha256:0a1b2c3d\n",
            Clean,
        ),
        Case::hadolint(
            "DL3007",
            &BASE_IMAGE_UNPINNED,
            "a named stage with a release-name tag",
            "FROM debian:bookworm AS build\n",
            Clean,
        ),
        Case::hadolint(
            "DL3020",
            &ADD_LOCAL_FILE,
            "a local .tar",
            "ADD app.tar /srv/app/\n",
            Clean,
        ),
        Case::hadolint(
            "DL3020",
            &ADD_LOCAL_FILE,
            "a local .gz",
            "ADD app.gz /srv/app/\n",
            Clean,
        ),
        Case::hadolint(
            "DL3020",
            &ADD_LOCAL_FILE,
            "a local .bz2",
            "ADD app.bz2 /srv/app/\n",
            Clean,
        ),
        Case::hadolint(
            "DL3020",
            &ADD_LOCAL_FILE,
            "a local .xz",
            "ADD app.xz /srv/app/\n",
            Clean,
        ),
        Case::hadolint(
            "DL3020",
            &ADD_LOCAL_FILE,
            "a local .tgz",
            "ADD app.tgz /srv/app/\n",
            Clean,
        ),
        Case::hadolint(
            "DL3020",
            &ADD_LOCAL_FILE,
            "a URL",
            "ADD http://example.com /srv/app/\n",
            Clean,
        ),
        Case::hadolint(
            "DL3020",
            &ADD_LOCAL_FILE,
            "a plain local file",
            "ADD app /srv/app/\n",
            Finds,
        ),
        Case::hadolint(
            "DL3020",
            &ADD_LOCAL_FILE,
            "a local .zip, which ADD does not unpack",
            "ADD app.zip /srv/app/\n",
            Finds,
        ),
        Case::hadolint(
            "DL3020",
            &ADD_LOCAL_FILE,
            "a quoted .tgz",
            "ADD \"app.tgz\" /srv/app/\n",
            Clean,
        ),
        Case::hadolint(
            "DL3020",
            &ADD_LOCAL_FILE,
            "a quoted URL",
            "ADD \"http://example.com\" /srv/app/\n",
            Clean,
        ),
        Case::hadolint(
            "DL3020",
            &ADD_LOCAL_FILE,
            "a quoted .zip",
            "ADD \"app.zip\" /srv/app/\n",
            Finds,
        ),
    ]
}
