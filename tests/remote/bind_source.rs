//! A bind mount whose source the engine cannot see: on the second engine (which cannot see
//! the tests' folders), `up` refuses, naming the source and pointing at `--fidelity`, while
//! the same project's fidelity stack, which ships the source in its image, comes up there.

use crate::engine::{SSH, TLS};
use crate::fixture::{Remote, resources, source_mounted_project};
use crate::harness::service_row;

pub fn an_unseen_bind_source_is_refused_and_fidelity_comes_up() {
    let remote = Remote::new(source_mounted_project("bind", ""), TLS);
    let name = remote.name().to_string();
    let refused = remote.devctl().args(["up"]).status(77).run();
    assert!(
        refused.stderr.contains("./app/www"),
        "the refusal does not name the source:\n{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("hint:") && refused.stderr.contains("--fidelity"),
        "no hint at --fidelity:\n{}",
        refused.stderr
    );
    assert_eq!(resources(Some(TLS), &name), Vec::<String>::new());
    // Over ssh the engine is asked the same way, through `docker system dial-stdio`.
    let over_ssh = Remote::new(source_mounted_project("bind", ""), SSH);
    over_ssh
        .devctl()
        .args(["up"])
        .status(77)
        .stderr(
            "these bind mounts' sources are not on its host: service app: ./app/www → /app/www;",
        )
        .stderr(" at ssh://")
        .run();
    assert_eq!(resources(Some(SSH), over_ssh.name()), Vec::<String>::new());
    assert_eq!(resources(None, over_ssh.name()), Vec::<String>::new());

    remote.devctl().args(["up", "--fidelity"]).status(0).run();
    let status = remote
        .devctl()
        .args(["status", "--json", "--fidelity"])
        .status(0)
        .run()
        .json();
    let row = service_row(&status, "app");
    assert_eq!(row["health"], "healthy", "{row:#}");
    assert_eq!(
        crate::fixture::shell_on(
            Some(TLS),
            &format!("{name}-fidelity"),
            "app",
            "cat /app/www/index.html"
        ),
        "shipped\n"
    );
}
