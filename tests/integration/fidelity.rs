//! Fidelity mode on the real engine: the iteration and fidelity stacks side by side with no
//! collision, no source mounts in fidelity, a source change shown at once in iteration and
//! only after the next fidelity up, stacks taken down independently, the production build
//! target, verification against the allow-list, and seeding from the live stack's backup.

use std::io::{Read, Write};

use crate::harness::{Fixture, free_port, require_engine, service_row};

/// A project whose `app` is built from a two-stage Dockerfile (dev, production), live-mounts
/// its web root, has a fixed container_name, a fixed-name volume and a published port.
fn fidelity_project(label: &str, fidelity: &str) -> (Fixture, u16) {
    let fixture = Fixture::new(label);
    let port = free_port();
    fixture.write(
        "profiles/default.yaml",
        &format!("compose:\n  project_name: {{project}}\nfidelity:\n  build_targets: {{app: production}}\n{fidelity}"),
    );
    let stage = |name: &str| {
        format!(
            "FROM {{busybox}} AS {name}\nCOPY www/ /app/www/\nRUN echo {name} > /stage\nCMD [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/app/www\"]\n"
        )
    };
    fixture.write(
        "app/Dockerfile",
        &format!("{}{}", stage("dev"), stage("production")),
    );
    fixture.write("app/www/index.html", "version one\n");
    fixture.write(
        "compose.yaml",
        &format!(
            "services:\n  app:\n    build: {{context: ./app, target: dev}}\n    container_name: {{project}}-app-fixed\n    init: true\n    ports: ['127.0.0.1:{port}:8080']\n    volumes: [./app/www:/app/www, store:/store]\n    healthcheck:\n      test: [CMD-SHELL, 'wget -q -O /dev/null http://127.0.0.1:8080/ || exit 1']\n      interval: 1s\n      retries: 30\nvolumes:\n  store:\n    name: {{project}}-store-fixed\n"
        ),
    );
    (fixture, port)
}

/// The body of `GET /` on 127.0.0.1:`port`.
fn http_get(port: u16) -> String {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or(response)
}

/// The host port `status --json` shows for the service, from `IP:PORT->TARGET/tcp`.
fn published_port(status: &serde_json::Value, service: &str) -> u16 {
    let row = service_row(status, service);
    let port = row["ports"][0]
        .as_str()
        .unwrap_or_else(|| panic!("{row:#}"));
    port.split("->")
        .next()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// `devctl status --json --fidelity` of the fixture.
fn fidelity_status(fixture: &Fixture) -> serde_json::Value {
    fixture
        .devctl()
        .args(["status", "--json", "--fidelity"])
        .status(0)
        .run()
        .json()
}

fn docker(arguments: &[&str]) -> String {
    let output = std::process::Command::new("docker")
        .args(arguments)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "docker {arguments:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

fn in_container(container: &str, script: &str) -> String {
    docker(&["exec", container, "sh", "-c", script])
}

#[test]
fn both_stacks_run_side_by_side_and_a_change_reaches_fidelity_only_with_its_next_up() {
    require_engine();
    let (fixture, port) = fidelity_project("side", "");
    fixture.devctl().args(["up"]).status(0).run();
    let up = fixture
        .devctl()
        .args(["up", "--fidelity"])
        .status(0)
        .stderr("fidelity verified: 1 services, no source mounts, images built app")
        .stderr(&format!("port app 127.0.0.1:{port} → 127.0.0.1:"))
        .run();
    let live = fixture.status();
    let fidelity = fidelity_status(&fixture);
    assert_eq!(fidelity["project"], format!("{}-fidelity", fixture.name));
    for status in [&live, &fidelity] {
        assert_eq!(
            service_row(status, "app")["health"],
            "healthy",
            "{status:#}"
        );
    }
    let fidelity_port = published_port(&fidelity, "app");
    assert_eq!(published_port(&live, "app"), port);
    assert_ne!(fidelity_port, port, "{}", up.stderr);
    // Names of their own: container, volume, network.
    let live_container = format!("{}-app-fixed", fixture.name);
    let fidelity_container = format!("{}-app-fixed-fidelity", fixture.name);
    let mounts = |container: &str| {
        docker(&[
            "inspect",
            "--format",
            "{{range .Mounts}}{{.Type}}:{{.Name}}>{{.Destination}} {{end}}",
            container,
        ])
    };
    let live_mounts = mounts(&live_container);
    let fidelity_mounts = mounts(&fidelity_container);
    assert!(live_mounts.contains("bind:"), "{live_mounts}");
    assert!(
        !fidelity_mounts.contains("bind:"),
        "a source mount in fidelity: {fidelity_mounts}"
    );
    assert!(
        live_mounts.contains(&format!("volume:{}-store-fixed>", fixture.name)),
        "{live_mounts}"
    );
    assert!(
        fidelity_mounts.contains(&format!("volume:{}-store-fixed-fidelity>", fixture.name)),
        "{fidelity_mounts}"
    );
    // The production stage in fidelity, the dev stage in iteration.
    assert_eq!(
        in_container(&fidelity_container, "cat /stage"),
        "production"
    );
    assert_eq!(in_container(&live_container, "cat /stage"), "dev");

    assert_eq!(http_get(port), "version one\n");
    assert_eq!(http_get(fidelity_port), "version one\n");
    fixture.write("app/www/index.html", "version two\n");
    assert_eq!(
        http_get(port),
        "version two\n",
        "iteration shows the change at once"
    );
    assert_eq!(
        http_get(fidelity_port),
        "version one\n",
        "fidelity runs the image it built"
    );
    let before = docker(&["inspect", "--format", "{{.Image}}", &fidelity_container]);
    fixture.devctl().args(["up", "--fidelity"]).status(0).run();
    // The rebuild leaves the first image untagged: it is this test's to remove.
    let _ = std::process::Command::new("docker")
        .args(["rmi", &before])
        .output();
    let fidelity = fidelity_status(&fixture);
    // The same port is kept from one up to the next.
    assert_eq!(published_port(&fidelity, "app"), fidelity_port);
    assert_eq!(http_get(fidelity_port), "version two\n");
}

#[test]
fn each_stack_comes_down_alone_and_a_confirmed_fidelity_down_v_keeps_the_live_volumes() {
    require_engine();
    let (fixture, _) = fidelity_project("apart", "");
    fixture.devctl().args(["up"]).status(0).run();
    let live_container = format!("{}-app-fixed", fixture.name);
    in_container(&live_container, "echo live > /store/file");
    fixture.devctl().args(["fidelity-up"]).status(0).run();
    let fidelity_container = format!("{}-app-fixed-fidelity", fixture.name);
    in_container(&fidelity_container, "echo fidelity > /store/file");

    fixture
        .devctl()
        .args(["down", "--fidelity"])
        .status(0)
        .run();
    assert_eq!(fixture.running(), std::slice::from_ref(&live_container));
    fixture.devctl().args(["up", "--fidelity"]).status(0).run();
    fixture.devctl().args(["down"]).status(0).run();
    assert!(fixture.containers().is_empty());
    let fidelity_status = fidelity_status(&fixture);
    assert_eq!(service_row(&fidelity_status, "app")["state"], "running");

    // The data-tier confirmation names the fidelity project; the live project's name is refused.
    fixture
        .devctl()
        .args(["down", "-v", "--fidelity", "--confirm", &fixture.name])
        .status(77)
        .stderr(&format!("this project is `{}-fidelity`", fixture.name))
        .run();
    fixture
        .devctl()
        .args([
            "fidelity-down",
            "-v",
            "--confirm",
            &format!("{}-fidelity", fixture.name),
        ])
        .status(0)
        .run();
    let volumes = docker(&["volume", "ls", "--format", "{{.Name}}"]);
    assert!(
        !volumes.contains(&format!("{}-store-fixed-fidelity", fixture.name)),
        "{volumes}"
    );
    assert!(
        volumes.contains(&format!("{}-store-fixed\n", fixture.name))
            || volumes.ends_with(&format!("{}-store-fixed", fixture.name)),
        "{volumes}"
    );
    fixture.devctl().args(["up"]).status(0).run();
    assert_eq!(in_container(&live_container, "cat /store/file"), "live");
}

#[test]
fn verification_fails_on_a_source_mount_off_the_allow_list_and_passes_once_listed() {
    require_engine();
    let kept = "  keep_mounts: [app/www]\n";
    let (fixture, _) = fidelity_project("verify", kept);
    fixture
        .devctl()
        .args(["up", "--fidelity"])
        .status(0)
        .stderr("fidelity verified")
        .run();
    let plan = fixture
        .devctl()
        .args(["plan", "--fidelity"])
        .status(0)
        .run();
    assert!(
        plan.stdout
            .contains("bind mount ./app/www → /app/www kept (fidelity.keep_mounts)"),
        "{}",
        plan.stdout
    );
    // The same running stack, checked against a profile that no longer allows the mount.
    let profile = std::fs::read_to_string(fixture.root().join("profiles/default.yaml")).unwrap();
    fixture.write("profiles/default.yaml", &profile.replace(kept, ""));
    fixture
        .devctl()
        .args(["status", "--fidelity"])
        .status(1)
        .stderr("fidelity verification failed")
        .stderr("app: bind mount ./app/www → /app/www from the project tree, not in fidelity.keep_mounts")
        .run();
    fixture.write("profiles/default.yaml", &profile);
    fixture
        .devctl()
        .args(["status", "--fidelity"])
        .status(0)
        .stderr("fidelity verified: 1 services")
        .run();
    // A container on another image than the one its tag names now fails too.
    docker(&[
        "tag",
        crate::harness::BUSYBOX,
        &format!("{}-fidelity-app", fixture.name),
    ]);
    fixture
        .devctl()
        .args(["status", "--fidelity"])
        .status(1)
        .stderr("app: runs image")
        .run();
}

#[test]
fn the_fidelity_stack_is_seeded_from_the_live_stack_s_backup() {
    require_engine();
    let (fixture, _) = fidelity_project("seed", "");
    fixture.devctl().args(["up"]).status(0).run();
    in_container(
        &format!("{}-app-fixed", fixture.name),
        "echo realistic > /store/data",
    );
    let id = crate::backup::backup(&fixture, &[]);
    fixture.devctl().args(["up", "--fidelity"]).status(0).run();
    fixture
        .devctl()
        .args([
            "restore",
            "--fidelity",
            "--latest",
            "--confirm",
            &format!("{}-fidelity", fixture.name),
        ])
        .status(0)
        .stderr(&format!("backup {id}"))
        .run();
    assert_eq!(
        in_container(
            &format!("{}-app-fixed-fidelity", fixture.name),
            "cat /store/data"
        ),
        "realistic"
    );
    // backup and compose address the fidelity stack too.
    let own = fixture
        .devctl()
        .args(["backup", "--fidelity"])
        .status(0)
        .run();
    let listed = fixture
        .devctl()
        .args(["backup", "list", "--json", "--fidelity"])
        .status(0)
        .run()
        .json();
    let ids: Vec<&str> = listed["backups"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|backup| backup["id"].as_str())
        .collect();
    assert!(ids.contains(&own.stdout.trim()), "{ids:?}");
    assert!(
        !ids.contains(&id.as_str()),
        "the live stack's backup is not the fidelity stack's"
    );
    fixture
        .devctl()
        .args(["--fidelity", "compose", "ps", "--format", "{{.Name}}"])
        .status(0)
        .stdout(&format!("{}-app-fixed-fidelity", fixture.name))
        .run();
    // Building without the cache, or pulling, is a build step before the up.
    fixture
        .devctl()
        .args(["-n", "up", "--fidelity", "--no-cache", "--pull"])
        .status(0)
        .stdout("build --no-cache --pull\n")
        .stdout("up --detach\n")
        .run();
}

#[test]
fn the_demo_runs_in_both_modes_at_once() {
    require_engine();
    let demo = Fixture::demo("fidelity-demo");
    demo.devctl().args(["up"]).status(0).run();
    demo.devctl()
        .args(["up", "--fidelity"])
        .status(0)
        .stderr("fidelity verified: 3 services, no source mounts")
        .run();
    let live = demo.status();
    let fidelity = fidelity_status(&demo);
    for status in [&live, &fidelity] {
        assert_eq!(
            service_row(status, "backend")["health"],
            "healthy",
            "{status:#}"
        );
        assert_eq!(service_row(status, "db")["health"], "healthy", "{status:#}");
    }
    assert_ne!(
        published_port(&live, "backend"),
        published_port(&fidelity, "backend")
    );
    assert!(http_get(published_port(&fidelity, "backend")).contains("devctl demo"));
}

#[test]
fn fixed_names_can_be_refused_with_an_explanation() {
    require_engine();
    let (fixture, _) = fidelity_project("refuse", "  fixed_names: refuse\n");
    fixture
        .devctl()
        .args(["up", "--fidelity"])
        .status(64)
        .stderr("fixed name")
        .stderr("fidelity.fixed_names: rename")
        .run();
    assert!(fixture.containers().is_empty());
    // An empty fidelity project name would let compose fall back to the live project's.
    let profile = std::fs::read_to_string(fixture.root().join("profiles/default.yaml")).unwrap();
    fixture.write(
        "profiles/default.yaml",
        &format!("{profile}  project_name: ''\n"),
    );
    fixture
        .devctl()
        .args(["down", "--fidelity"])
        .status(64)
        .stderr("fidelity.project_name is ``, which is not a compose project name")
        .run();
}

#[test]
fn volumes_bound_to_source_go_secrets_stay_and_images_the_live_stack_builds_are_rebuilt() {
    require_engine();
    let (fixture, _) = fidelity_project("inputs", "");
    let root = fixture.root().display().to_string();
    fixture.write("secret.txt", "s3cret\n");
    fixture.write(
        "compose.override.yaml",
        &format!(
            "services:\n  app:\n    image: {{project}}/app:dev\n    secrets: [token]\n    volumes: [served:/served]\n  worker:\n    image: {{project}}/app:dev\n    init: true\n    command: [sleep, '600']\nvolumes:\n  served:\n    driver_opts: {{type: none, o: bind, device: {root}/app/www}}\nsecrets:\n  token:\n    file: ./secret.txt\n"
        ),
    );
    let profile = std::fs::read_to_string(fixture.root().join("profiles/default.yaml")).unwrap();
    fixture.write(
        "profiles/default.yaml",
        &profile.replace(
            "compose:\n",
            "compose:\n  files: [compose.yaml, compose.override.yaml]\n",
        ),
    );
    fixture.devctl().args(["up", "--no-wait"]).status(0).run();
    let plan = fixture
        .devctl()
        .args(["plan", "--fidelity"])
        .status(0)
        .run();
    assert!(
        plan.stdout
            .contains("dropped (a volume bound to a folder inside the project)"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains(&format!(
            "image {}/app:dev → {}-fidelity-app",
            fixture.name, fixture.name
        )),
        "{}",
        plan.stdout
    );
    fixture
        .devctl()
        .args(["up", "--fidelity", "--no-wait"])
        .status(0)
        .stderr("fidelity verified")
        .run();
    let fidelity_app = format!("{}-app-fixed-fidelity", fixture.name);
    assert_eq!(
        in_container(&fidelity_app, "cat /run/secrets/token"),
        "s3cret"
    );
    assert_eq!(
        in_container(&fidelity_app, "test -e /served && echo yes || echo no"),
        "no"
    );
    let image = |container: &str| docker(&["inspect", "--format", "{{.Image}}", container]);
    assert_eq!(
        image(&format!("{}-fidelity-worker-1", fixture.name)),
        image(&fidelity_app),
        "the worker runs the image this run built"
    );
}

#[test]
fn without_a_profile_target_the_dockerfile_s_production_stage_ships_instead_of_the_compose_target()
{
    require_engine();
    let fixture = Fixture::new("shipped");
    fixture.write(
        "profiles/default.yaml",
        "compose:\n  project_name: {project}\n",
    );
    // Each stage serves its own name; nothing is pulled (both start from the test image).
    let stage = |name: &str| {
        format!(
            "FROM {{busybox}} AS {name}\nRUN mkdir /www && echo {name} > /www/index.html\nCMD [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n"
        )
    };
    fixture.write(
        "app/Dockerfile",
        &format!("{}{}", stage("dev"), stage("production")),
    );
    fixture.write(
        "compose.yaml",
        "services:\n  app:\n    build: {context: ./app, target: dev}\n    init: true\n",
    );
    let plan = fixture
        .devctl()
        .args(["plan", "--fidelity"])
        .status(0)
        .run();
    assert!(
        plan.stdout.contains(
            "build stage production: the Dockerfile's production-like stage, instead of the compose file's target `dev`"
        ),
        "{}",
        plan.stdout
    );
    let json = fixture
        .devctl()
        .args(["plan", "--fidelity", "--format", "json"])
        .status(0)
        .run()
        .json();
    assert_eq!(
        json["fidelity"]["changes"]["stages"]["app"]["stage"], "production",
        "{json:#}"
    );
    fixture
        .devctl()
        .args(["up", "--fidelity", "--no-wait"])
        .status(0)
        .stderr("fidelity verified")
        .run();
    let container = format!("{}-fidelity-app-1", fixture.name);
    assert_eq!(
        in_container(&container, "cat /www/index.html"),
        "production"
    );
    assert_eq!(
        in_container(
            &container,
            "for try in 1 2 3 4 5 6 7 8 9 10; do wget -q -O - http://127.0.0.1:8080/ && exit; sleep 0.5; done; exit 1"
        ),
        "production"
    );
}

/// The devctl command line between the backticks (or after `prefix`, to the end of its line)
/// of the first line of `text` that has `prefix`, as the arguments after `devctl`.
fn printed_command(text: &str, prefix: &str) -> Vec<String> {
    let start = text
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix:?} in:\n{text}"))
        + prefix.len();
    let rest = &text[start..];
    let line = rest.split(['`', '\n']).next().unwrap();
    let mut words: Vec<String> = line.split_whitespace().map(String::from).collect();
    assert_eq!(words.first().map(String::as_str), Some("devctl"), "{line}");
    words.remove(0);
    assert!(
        words.iter().any(|word| word == "--fidelity"),
        "a hint about the fidelity stack without --fidelity: {line}"
    );
    words
}

#[test]
fn hints_about_the_fidelity_stack_carry_fidelity_and_act_on_it_when_pasted() {
    require_engine();
    let fixture = Fixture::new("hints");
    fixture.write(
        "profiles/default.yaml",
        "compose:\n  project_name: {project}\n",
    );
    fixture.write(
        "compose.yaml",
        "services:\n  app:\n    image: {busybox}\n    init: true\n    command: [sleep, '600']\n    volumes: [data:/data]\nvolumes:\n  data: {}\n",
    );
    // Only the fidelity stack runs: a hint without --fidelity would act on nothing.
    fixture.devctl().args(["up", "--fidelity"]).status(0).run();
    let fidelity = format!("{}-fidelity", fixture.name);
    let container = format!("{fidelity}-app-1");

    let compose = fixture
        .devctl()
        .args(["--fidelity", "compose"])
        .status(64)
        .run();
    let ps = printed_command(&compose.stderr, "e.g. `");
    assert_eq!(ps, ["--fidelity", "compose", "ps"]);
    fixture
        .devctl()
        .args(&ps)
        .status(0)
        .stdout(&container)
        .run();

    let empty = fixture
        .devctl()
        .args(["backup", "list", "--fidelity"])
        .status(0)
        .run();
    let backup = printed_command(&empty.stderr, "yet: `");
    assert_eq!(backup, ["backup", "--fidelity"]);
    fixture.devctl().args(&backup).status(0).run();
    let listed = fixture
        .devctl()
        .args(["backup", "list", "--json", "--fidelity"])
        .status(0)
        .run()
        .json();
    assert_eq!(listed["backups"].as_array().unwrap().len(), 1, "{listed:#}");

    in_container(&container, "echo one > /data/file");
    let taken = fixture
        .devctl()
        .args(["backup", "--fidelity"])
        .status(0)
        .run();
    let restore = printed_command(&taken.stderr, "restore it with: ");
    assert!(
        restore.contains(&fidelity),
        "the confirmation names the fidelity project: {restore:?}"
    );
    in_container(&container, "echo two > /data/file");
    let restored = fixture.devctl().args(&restore).status(0).run();
    let container = format!("{fidelity}-app-1");
    assert_eq!(in_container(&container, "cat /data/file"), "one");
    let undo = printed_command(&restored.stderr, "undo it with: ");
    fixture.devctl().args(&undo).status(0).run();
    assert_eq!(in_container(&container, "cat /data/file"), "two");
    assert!(
        fixture.containers().is_empty(),
        "the live stack was never touched"
    );
}

#[test]
fn a_crash_in_the_fidelity_stack_hints_at_its_own_logs() {
    require_engine();
    let fixture = Fixture::new("crash-hint");
    fixture.write(
        "profiles/default.yaml",
        "compose:\n  project_name: {project}\n",
    );
    fixture.write(
        "compose.yaml",
        "services:\n  app:\n    image: {busybox}\n    command: [sh, -c, 'echo fidelity-crash-says-bye; exit 4']\n",
    );
    let up = fixture.devctl().args(["up", "--fidelity"]).status(79).run();
    let logs = printed_command(&up.stderr, "read `");
    assert_eq!(logs, ["logs", "app", "--fidelity"]);
    fixture
        .devctl()
        .args(&logs)
        .status(0)
        .stdout("fidelity-crash-says-bye")
        .run();
}
