//! The bench's command line: `--demo DIR`, `--runs N`, `--volume-runs N`,
//! `--compression-level N`, `--volume-only`, `--json`.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

/// What to measure, and how often.
pub(crate) struct Options {
    pub(crate) demo: PathBuf,
    pub(crate) runs: usize,
    pub(crate) volume_runs: usize,
    pub(crate) compression_level: Option<i32>,
    pub(crate) volume_only: bool,
    pub(crate) json: bool,
}

/// The options from the command line; `--runs` below 10 or `--volume-runs` below 5 are
/// refused, as their medians would say too little.
pub(crate) fn parse_options() -> Result<Options> {
    let mut options = Options {
        demo: PathBuf::from("examples/demo"),
        runs: 10,
        volume_runs: 5,
        compression_level: None,
        volume_only: false,
        json: false,
    };
    let mut arguments = std::env::args().skip(1);
    while let Some(argument) = arguments.next() {
        match argument.as_str() {
            "--demo" => options.demo = arguments.next().context("--demo needs a DIR")?.into(),
            "--runs" => {
                let value = arguments.next().context("--runs needs a number")?;
                options.runs = value.parse().context("--runs needs a number")?;
            }
            "--volume-runs" => {
                let value = arguments.next().context("--volume-runs needs a number")?;
                options.volume_runs = value.parse().context("--volume-runs needs a number")?;
            }
            "--compression-level" => {
                let value = arguments
                    .next()
                    .context("--compression-level needs a number")?;
                let level = value
                    .parse()
                    .context("--compression-level needs a number")?;
                options.compression_level = Some(level);
            }
            "--volume-only" => options.volume_only = true,
            "--json" => options.json = true,
            "--bench" => {} // cargo bench passes it to every bench binary
            other => bail!(
                "unknown argument `{other}` (expected --demo DIR, --runs N, --volume-runs N, \
--compression-level N, --volume-only, --json)"
            ),
        }
    }
    if options.runs < 10 {
        bail!("--runs must be at least 10");
    }
    if options.volume_runs < 5 {
        bail!("--volume-runs must be at least 5");
    }
    Ok(options)
}
