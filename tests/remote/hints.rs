//! The devctl command lines a run given `--context` prints carry it: pasted in the same
//! shell, they reach the same engine, not the local one.

use crate::engine::TLS;
use crate::fixture::Remote;
use crate::harness::Fixture;

pub fn the_lines_a_run_on_a_context_prints_name_that_context() {
    let fixture = Fixture::new("remote-hints");
    fixture
        .write(
            "compose.yaml",
            "services:\n  app:\n    image: {busybox}\n    init: true\n    command: [sleep, '600']\n    volumes: [data:/data]\nvolumes:\n  data:\n",
        )
        .write("profiles/default.yaml", "compose:\n  project_name: {project}\n");
    let remote = Remote::new(fixture, TLS);
    remote.devctl().args(["up"]).status(0).run();
    let name = remote.name().to_string();
    remote
        .devctl()
        .args(["backup"])
        .status(0)
        .stderr(&format!("restore it with: devctl --context {TLS} restore "))
        .stderr(&format!("--confirm {name}"))
        .run();
}
