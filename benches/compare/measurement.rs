//! Timing: one child process per run, timed from spawn to exit; alternating runs of each
//! side with a warm-up first; medians; the targets each measurement is judged by.

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

pub(crate) const MEBIBYTE: u64 = 1 << 20;

/// Runs `command` to its end with its output captured; fails unless it exits 0.
pub(crate) fn run_timed(command: &mut Command) -> Result<Duration> {
    let started = Instant::now();
    let output = command
        .output()
        .with_context(|| format!("cannot run {}", describe(command)))?;
    let elapsed = started.elapsed();
    if !output.status.success() {
        bail!(
            "{} failed ({}):\n{}{}",
            describe(command),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(elapsed)
}

/// The command line of `command`, as shown in the report.
pub(crate) fn describe(command: &Command) -> String {
    let mut words = vec![command.get_program().to_string_lossy().into_owned()];
    words.extend(
        command
            .get_args()
            .map(|word| word.to_string_lossy().into_owned()),
    );
    words.join(" ")
}

/// What a measurement is judged by.
pub(crate) enum Target {
    /// The devctl median must stay under this many milliseconds.
    DevctlUnder(f64),
    /// devctl median ÷ baseline median must be at most this.
    RatioAtMost(f64),
    /// Baseline median ÷ devctl median must be at least this: devctl that many times as fast.
    SpeedupAtLeast(f64),
}

/// One row of the report: the medians of devctl and of the command it is compared with.
pub(crate) struct Measurement {
    pub(crate) name: &'static str,
    pub(crate) devctl_line: String,
    /// The command devctl is compared with, if any.
    pub(crate) baseline_line: Option<String>,
    pub(crate) devctl_median: Duration,
    pub(crate) baseline_median: Option<Duration>,
    pub(crate) target: Target,
}

impl Measurement {
    /// devctl ÷ baseline, or baseline ÷ devctl for a speed-up target.
    pub(crate) fn ratio(&self) -> Option<f64> {
        let devctl = self.devctl_median.as_secs_f64();
        let baseline = self.baseline_median?.as_secs_f64();
        Some(match self.target {
            Target::SpeedupAtLeast(_) => baseline / devctl,
            _ => devctl / baseline,
        })
    }

    pub(crate) fn target_text(&self) -> String {
        match self.target {
            Target::DevctlUnder(limit) => format!("< {limit} ms"),
            Target::RatioAtMost(limit) => format!("≤ {limit:.2}"),
            Target::SpeedupAtLeast(limit) => format!("≥ {limit:.2}"),
        }
    }

    pub(crate) fn met(&self) -> Option<bool> {
        match self.target {
            Target::DevctlUnder(limit) => Some(milliseconds(self.devctl_median) < limit),
            Target::RatioAtMost(limit) => self.ratio().map(|ratio| ratio <= limit),
            Target::SpeedupAtLeast(limit) => self.ratio().map(|ratio| ratio >= limit),
        }
    }
}

/// One warm-up of each side, then `runs` runs of each in turn; returns both medians.
pub(crate) fn measure(
    name: &'static str,
    target: Target,
    runs: usize,
    mut devctl: Command,
    mut compose: Command,
) -> Result<Measurement> {
    eprintln!("measuring {name} ({runs} runs each) …");
    run_timed(&mut devctl)?;
    run_timed(&mut compose)?;
    let (mut devctl_times, mut compose_times) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        devctl_times.push(run_timed(&mut devctl)?);
        compose_times.push(run_timed(&mut compose)?);
    }
    Ok(Measurement {
        name,
        devctl_line: describe(&devctl),
        baseline_line: Some(describe(&compose)),
        devctl_median: median(devctl_times),
        baseline_median: Some(median(compose_times)),
        target,
    })
}

/// One side of a volume measurement: one run, returning the part of it that is timed
/// (preparation and clean-up around it are not).
pub(crate) type Side<'a> = Box<dyn FnMut() -> Result<Duration> + 'a>;

/// One warm-up of each side, then `runs` runs of every side in turn; the median of each.
pub(crate) fn measure_sides(name: &str, runs: usize, sides: &mut [Side]) -> Result<Vec<Duration>> {
    eprintln!("measuring {name} ({runs} runs each) …");
    for side in sides.iter_mut() {
        side()?;
    }
    let mut times = vec![Vec::new(); sides.len()];
    for _ in 0..runs {
        for (side, times) in sides.iter_mut().zip(&mut times) {
            times.push(side()?);
        }
    }
    Ok(times.into_iter().map(median).collect())
}

/// The median; of an even count, the mean of the middle two.
pub(crate) fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    let middle = times.len() / 2;
    if times.len().is_multiple_of(2) {
        (times[middle - 1] + times[middle]) / 2
    } else {
        times[middle]
    }
}

pub(crate) fn milliseconds(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

pub(crate) fn mebibytes(bytes: u64) -> f64 {
    bytes as f64 / MEBIBYTE as f64
}
