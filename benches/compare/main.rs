//! devctl against raw `docker compose` and raw `docker`, side by side.
//!
//! Measures, in one run, the median wall time of each side over several runs taken in turn
//! (devctl, the other, devctl, the other, …) so that drift hits every side equally.
//!
//! On a private copy of the demo stack, `--runs N` runs (default 10):
//!
//! 1. `devctl --version` (target: under 5 ms; `docker compose version` shown for scale);
//! 2. a no-op `devctl up` against `docker compose … up -d --wait` (target: ratio ≤ 1.05);
//! 3. `devctl status --json` against `docker compose … ps --format json` (target: ≤ 1.15);
//! 4. a warm `devctl up --fidelity` (sources unchanged) against
//!    `docker compose -f GENERATED --project-directory DEMO -p PROJECT-fidelity up -d --build
//!    --wait` on the same generated fidelity file (target: ≤ 1.1);
//! 5. `devctl compose ps --format json`, the guarded passthrough of a safe command, against
//!    the same `docker compose … ps --format json` (target: ≤ 1.1).
//!
//! On a ~300 MiB volume of mixed data (half `/dev/urandom`, half generated logs and notes),
//! `--volume-runs N` runs (default 5):
//!
//! 6. backup: `devctl backup --volume data` (method live, zstd) against
//!    `docker cp APP:/data - > /dev/null` from the running app container (target: ratio
//!    ≤ 1.3), and against the usual script
//!    `docker run --rm -v VOLUME:/data devctl-test/busybox:1 tar czf - -C /data . > FILE`
//!    (target: that takes at least 3 times as long as devctl);
//! 7. the restore step alone, from an already verified backup, no safety backup: devctl's
//!    own code path called as a library (`Engine::create_helper` on the volume,
//!    `DockerCli::copy_in` fed by `archive::unpack_into`, the helper removed; all
//!    timed) against `docker cp - HELPER:/ < FILE.tar` (the same tar, decompressed
//!    beforehand, into the same kind of helper, created and removed untimed); each run writes
//!    into a freshly created, empty volume (target: ratio ≤ 1.3);
//! 8. the full `devctl restore ID --confirm PROJECT` (verify, safety backup, replace the
//!    volume, restore, start and wait) against the same raw `docker cp - HELPER:/ < FILE.tar`
//!    as in 7 (target: ratio ≤ 2.5);
//! 9. `devctl backup drill ID` of the same backup (a sibling stack created, the volume
//!    restored into it, its service waited for, everything removed) against the same raw
//!    `docker cp - HELPER:/ < FILE.tar` (target: ratio ≤ 3);
//! 10. backup over TLS: the same volume project on a second engine reached through a docker
//!     context over TLS (scripts/remote-engine.sh starts it, and stops it after unless it was
//!     running), `devctl --context X backup --volume data` against
//!     `docker --context X cp APP:/data - > /dev/null` (target: ratio ≤ 1.3).
//!
//! The `--demo DIR` project is copied into a temporary directory, given the compose project
//! name `devctl-bench-<pid>` and free host ports, and brought up once with devctl. The volume
//! project `devctl-bench-vol-<pid>` is written into another temporary directory: one busybox
//! service `app` (`init: true`) mounting the named volume `data` at /data, and a devctl
//! profile with `backup: {method: live}` (and `compression_level` when
//! `--compression-level N` is given). devctl gets temporary `DEVCTL_STATE_DIR` and
//! `DEVCTL_BACKUP_DIR`; backups are removed between runs so the disk does not fill. Each
//! side gets one warm-up run; each timed run of a command is one child process, output
//! captured or redirected, timed with `Instant` from spawn to exit. Both projects are always
//! removed at the end (containers, helper containers, networks, volumes, backups, files),
//! also on error or panic; the demo stack is removed before the volume project is made.
//!
//! Usage: `cargo bench --bench compare -- --demo examples/demo [--runs N] [--volume-runs N]
//! [--compression-level N] [--volume-only] [--json]`.
//! The exit status is 0 even when a target is missed; it is 1 when a command fails.
//!
//! Its parts: `options` (the command line), `demo` and `volume` (the two projects and their
//! measurements), `volume_data` (the volume's generated text), `measurement` (timing,
//! medians, targets), `report` (the table or the JSON); the project copies and their removal
//! are tests/support/sandbox.rs, shared with the integration tests.

mod demo;
mod measurement;
mod options;
mod remote;
mod report;
#[path = "../../tests/support/sandbox.rs"]
mod sandbox;
mod volume;
mod volume_data;

use std::process::ExitCode;

use anyhow::Result;

use crate::demo::measure_demo;
use crate::options::parse_options;
use crate::report::{print_json, print_table};
use crate::volume::measure_volume;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Measures and prints; each project is removed when its part returns or unwinds.
fn run() -> Result<()> {
    let options = parse_options()?;
    let demo = if options.volume_only {
        None
    } else {
        Some(measure_demo(&options)?)
    };
    let volume = measure_volume(&options)?;
    if options.json {
        print_json(demo.as_ref(), &volume);
    } else {
        print_table(demo.as_ref(), &volume);
    }
    Ok(())
}
