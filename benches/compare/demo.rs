//! The demo stack's part: a private copy of the demo brought up once, then devctl against
//! `docker compose` on `--version`, a no-op `up`, `status --json`, a warm `up --fidelity`
//! and the guarded `compose ps`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};
use serde_json::Value;

use crate::measurement::{Measurement, Target, measure, run_timed};
use crate::options::Options;
use crate::report::DemoReport;
use crate::sandbox::{self, Sandbox};

/// The private copy of the demo stack; dropping it removes the stack, its fidelity stack and
/// the images they built, then the directory.
struct DemoSandbox {
    sandbox: Sandbox,
    directory: PathBuf,
    state: PathBuf,
}

impl DemoSandbox {
    /// A copy of `demo` as the project `devctl-bench-<pid>`, on free host ports (in its .env).
    fn create(demo: &Path) -> Result<DemoSandbox> {
        let project = format!("devctl-bench-{}", std::process::id());
        let sandbox = Sandbox::new("devctl-bench-", project)?;
        let directory = sandbox.path().join("demo");
        let state = sandbox.path().join("state");
        sandbox::copy_demo(demo, &directory, sandbox.project())
            .with_context(|| format!("cannot copy {}", demo.display()))?;
        Ok(DemoSandbox {
            sandbox,
            directory,
            state,
        })
    }

    fn project(&self) -> &str {
        self.sandbox.project()
    }

    /// `devctl ARGUMENTS`, run in the copy with only the bench's DEVCTL_* variables.
    fn devctl(&self, arguments: &[&str]) -> Command {
        let mut command = sandbox::devctl(&self.directory);
        command.args(arguments).env("DEVCTL_STATE_DIR", &self.state);
        command
    }

    /// `docker compose ARGUMENTS`, run in the copy.
    fn compose(&self, arguments: &[&str]) -> Command {
        let mut command = Command::new("docker");
        command
            .arg("compose")
            .args(arguments)
            .current_dir(&self.directory);
        command
    }

    /// `docker compose -f compose.yaml --env-file .env -p PROJECT ARGUMENTS`.
    fn compose_project(&self, arguments: &[&str]) -> Command {
        let mut command = self.compose(&["-f", "compose.yaml", "--env-file", ".env"]);
        command.args(["-p", self.project()]).args(arguments);
        command
    }
}

/// The measurements on the demo stack.
pub(crate) fn measure_demo(options: &Options) -> Result<DemoReport> {
    let sandbox = DemoSandbox::create(&options.demo)?;
    eprintln!("bringing up {} with devctl …", sandbox.project());
    run_timed(&mut sandbox.devctl(&["up"]))?;
    let runs = options.runs;
    let measurements = vec![
        measure(
            "--version",
            Target::DevctlUnder(5.0),
            runs,
            sandbox.devctl(&["--version"]),
            sandbox.compose(&["version"]),
        )?,
        measure(
            "no-op up",
            Target::RatioAtMost(1.05),
            runs,
            sandbox.devctl(&["up"]),
            sandbox.compose_project(&["up", "-d", "--wait"]),
        )?,
        measure(
            "status --json",
            Target::RatioAtMost(1.15),
            runs,
            sandbox.devctl(&["status", "--json"]),
            sandbox.compose_project(&["ps", "--format", "json"]),
        )?,
        measure_fidelity(&sandbox, runs)?,
        measure(
            "compose ps",
            Target::RatioAtMost(1.1),
            runs,
            sandbox.devctl(&["compose", "ps", "--format", "json"]),
            sandbox.compose_project(&["ps", "--format", "json"]),
        )?,
    ];
    Ok(DemoReport {
        project: sandbox.project().to_string(),
        directory: sandbox.directory.clone(),
        state: sandbox.state.clone(),
        runs,
        measurements,
    })
}

/// A warm `devctl up --fidelity` (sources unchanged: the build is all cache hits, nothing is
/// recreated) against `docker compose up -d --build --wait` on the same generated file.
fn measure_fidelity(sandbox: &DemoSandbox, runs: usize) -> Result<Measurement> {
    eprintln!("bringing up the fidelity stack of {} …", sandbox.project());
    run_timed(&mut sandbox.devctl(&["up", "--fidelity"]))?;
    let output = sandbox
        .devctl(&["plan", "--fidelity", "--json"])
        .output()
        .context("cannot run devctl plan --fidelity")?;
    let plan: Value = serde_json::from_slice(&output.stdout)
        .context("devctl plan --fidelity --json printed no JSON")?;
    let file = plan["fidelity"]["compose_file"]
        .as_str()
        .context("the plan names no fidelity compose file")?
        .to_string();
    let project = plan["fidelity"]["changes"]["project"]
        .as_str()
        .context("the plan names no fidelity project")?
        .to_string();
    let directory = sandbox.directory.display().to_string();
    let baseline = sandbox.compose(&[
        "-f",
        &file,
        "--project-directory",
        &directory,
        "-p",
        &project,
        "up",
        "-d",
        "--build",
        "--wait",
    ]);
    measure(
        "warm up --fidelity",
        Target::RatioAtMost(1.1),
        runs,
        sandbox.devctl(&["up", "--fidelity"]),
        baseline,
    )
}
