//! The printed results: a table per part with the command lines behind each row, or one
//! JSON document.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use crate::measurement::{Measurement, mebibytes, milliseconds};

/// What the demo stack's measurements print with.
pub(crate) struct DemoReport {
    pub(crate) project: String,
    pub(crate) directory: PathBuf,
    pub(crate) state: PathBuf,
    pub(crate) runs: usize,
    pub(crate) measurements: Vec<Measurement>,
}

/// What the volume measurements print with.
pub(crate) struct VolumeReport {
    pub(crate) project: String,
    pub(crate) directory: PathBuf,
    pub(crate) state: PathBuf,
    pub(crate) backups: PathBuf,
    pub(crate) volume: String,
    pub(crate) runs: usize,
    /// The processors the machine offers: devctl's compression competes with the engine's
    /// own copying for them.
    pub(crate) processors: usize,
    /// The profile's backup.compression_level; none for devctl's default.
    pub(crate) compression_level: Option<i32>,
    /// The volume's size as the engine reports it (`docker system df`).
    pub(crate) volume_bytes: Option<u64>,
    /// The backup's tar stream, its stored size and its entries, from its manifest.
    pub(crate) tar_bytes: u64,
    pub(crate) stored_bytes: u64,
    pub(crate) entries: u64,
    /// The size of `tar czf`'s output.
    pub(crate) gzip_bytes: u64,
    /// How much of devctl's restore step is creating and removing its helper container.
    pub(crate) helper_median: Duration,
    pub(crate) measurements: Vec<Measurement>,
}

/// The header and one line per measurement; `baseline` names the column compared with.
fn print_rows(baseline: &str, measurements: &[Measurement]) {
    println!(
        "\n{:<20} {:>12} {:>12} {:>7}  {:<8}",
        "measurement", "devctl", baseline, "ratio", "target"
    );
    for measurement in measurements {
        let baseline = measurement.baseline_median.map_or("-".to_string(), |time| {
            format!("{:.1} ms", milliseconds(time))
        });
        let ratio = measurement
            .ratio()
            .map_or("-".to_string(), |ratio| format!("{ratio:.2}"));
        let mark = match measurement.met() {
            Some(true) => "✔",
            Some(false) => "✘",
            None => "",
        };
        let line = format!(
            "{:<20} {:>9.1} ms {:>12} {:>7}  {:<8} {}",
            measurement.name,
            milliseconds(measurement.devctl_median),
            baseline,
            ratio,
            measurement.target_text(),
            mark
        );
        println!("{}", line.trim_end());
    }
}

/// The command lines of each measurement; `baseline` names the compared side.
fn print_command_lines(directory: &Path, baseline: &str, measurements: &[Measurement]) {
    println!("\ncommand lines (run in {}):", directory.display());
    for measurement in measurements {
        println!("  {}", measurement.name);
        println!("    devctl:  {}", measurement.devctl_line);
        if let Some(line) = &measurement.baseline_line {
            println!("    {:<8} {line}", format!("{baseline}:"));
        }
    }
}

pub(crate) fn print_table(demo: Option<&DemoReport>, volume: &VolumeReport) {
    if let Some(demo) = demo {
        println!(
            "devctl vs docker compose: project {}, median of {} alternating runs each",
            demo.project, demo.runs
        );
        print_rows("compose", &demo.measurements);
        print_command_lines(&demo.directory, "compose", &demo.measurements);
        println!(
            "  devctl runs with DEVCTL_STATE_DIR={}",
            demo.state.display()
        );
        println!();
    }
    println!(
        "devctl vs raw docker on a {:.1} MiB volume: project {}, median of {} runs each, taken in turn, {} processors",
        mebibytes(volume.volume_bytes.unwrap_or(volume.tar_bytes)),
        volume.project,
        volume.runs,
        volume.processors
    );
    print_rows("docker", &volume.measurements);
    println!(
        "\nratio: devctl ÷ docker; on `backup, tar czf` tar czf ÷ devctl (devctl that many times as fast)"
    );
    println!(
        "volume {}: {} on the engine (docker system df); tar stream {:.1} MiB in {} entries",
        volume.volume,
        volume
            .volume_bytes
            .map_or("size unknown".to_string(), |bytes| format!(
                "{:.1} MiB",
                mebibytes(bytes)
            )),
        mebibytes(volume.tar_bytes),
        volume.entries
    );
    println!(
        "stored: devctl {:.1} MiB (zstd level {}, {:.0}% of the tar), tar czf {:.1} MiB ({:.0}%)",
        mebibytes(volume.stored_bytes),
        volume
            .compression_level
            .map_or("the profile default".to_string(), |level| level.to_string()),
        100.0 * volume.stored_bytes as f64 / volume.tar_bytes as f64,
        mebibytes(volume.gzip_bytes),
        100.0 * volume.gzip_bytes as f64 / volume.tar_bytes as f64
    );
    println!(
        "devctl's restore step includes creating and removing its helper container: {:.1} ms (median)",
        milliseconds(volume.helper_median)
    );
    print_command_lines(&volume.directory, "docker", &volume.measurements);
    println!(
        "  devctl runs with DEVCTL_STATE_DIR={} DEVCTL_BACKUP_DIR={}",
        volume.state.display(),
        volume.backups.display()
    );
}

/// The rows of one table as JSON; `baseline` names the compared side in the keys.
fn json_rows(baseline: &str, measurements: &[Measurement]) -> Vec<Value> {
    measurements
        .iter()
        .map(|measurement| {
            let mut row = serde_json::Map::new();
            row.insert("measurement".into(), json!(measurement.name));
            row.insert(
                "devctl_median_ms".into(),
                json!(milliseconds(measurement.devctl_median)),
            );
            row.insert(
                format!("{baseline}_median_ms"),
                json!(measurement.baseline_median.map(milliseconds)),
            );
            row.insert("ratio".into(), json!(measurement.ratio()));
            row.insert("target".into(), json!(measurement.target_text()));
            row.insert("met".into(), json!(measurement.met()));
            row.insert("devctl_command".into(), json!(measurement.devctl_line));
            row.insert(
                format!("{baseline}_command"),
                json!(measurement.baseline_line),
            );
            Value::Object(row)
        })
        .collect()
}

pub(crate) fn print_json(demo: Option<&DemoReport>, volume: &VolumeReport) {
    let mut document = serde_json::Map::new();
    if let Some(demo) = demo {
        document.insert("project".into(), json!(demo.project));
        document.insert("directory".into(), json!(demo.directory));
        document.insert("state_dir".into(), json!(demo.state));
        document.insert("runs".into(), json!(demo.runs));
        document.insert(
            "measurements".into(),
            json!(json_rows("compose", &demo.measurements)),
        );
    }
    document.insert(
        "volume".into(),
        json!({
            "project": volume.project,
            "directory": volume.directory,
            "state_dir": volume.state,
            "backup_dir": volume.backups,
            "volume": volume.volume,
            "runs": volume.runs,
            "processors": volume.processors,
            "compression_level": volume.compression_level,
            "volume_bytes": volume.volume_bytes,
            "tar_bytes": volume.tar_bytes,
            "stored_bytes": volume.stored_bytes,
            "entries": volume.entries,
            "gzip_bytes": volume.gzip_bytes,
            "helper_median_ms": milliseconds(volume.helper_median),
            "measurements": json_rows("docker", &volume.measurements),
        }),
    );
    println!("{:#}", Value::Object(document));
}
