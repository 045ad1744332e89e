//! The demo stack: up healthy, status, compose profiles, down keeping volumes.

use crate::harness::{Fixture, require_engine, service_row};

#[test]
fn up_status_down_keeps_every_volume() {
    require_engine();
    let demo = Fixture::demo("demo");
    let up = demo.devctl().args(["up"]).status(0).run();
    for service in ["backend", "db"] {
        assert!(
            up.stderr
                .lines()
                .any(|line| line.contains(service) && line.contains("healthy")),
            "{service} not reported healthy:\n{}",
            up.stderr
        );
    }
    assert!(
        up.stderr.contains("migrate") && up.stderr.contains("completed (exit 0)"),
        "{}",
        up.stderr
    );

    let status = demo.status();
    assert_eq!(status["schema_version"], 1);
    assert_eq!(status["project"], demo.name.as_str());
    let backend = service_row(&status, "backend");
    assert_eq!(backend["state"], "running");
    assert_eq!(backend["health"], "healthy");
    assert!(
        backend["ports"][0]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:"),
        "{backend:#}"
    );
    assert!(
        backend["ports"][0]
            .as_str()
            .unwrap()
            .ends_with("->8080/tcp"),
        "{backend:#}"
    );
    assert_eq!(backend["mounts"][0]["kind"], "bind");
    assert_eq!(backend["mounts"][0]["target"], "/app");
    assert_eq!(backend["image"], "devctl-demo/backend:dev");
    let db = service_row(&status, "db");
    assert_eq!(db["health"], "healthy");
    assert_eq!(db["mounts"][0]["kind"], "volume");
    assert_eq!(db["mounts"][0]["source"], format!("{}_db-data", demo.name));
    let migrate = service_row(&status, "migrate");
    assert_eq!(migrate["state"], "exited");
    assert_eq!(migrate["exit_code"], 0);

    let table = demo.devctl().args(["status"]).status(0).run();
    assert!(table.stdout.starts_with("SERVICE"), "{}", table.stdout);

    let volumes_before = demo.volumes();
    assert_eq!(volumes_before, vec![format!("{}_db-data", demo.name)]);
    assert!(!demo.networks().is_empty());
    demo.devctl()
        .args(["down"])
        .status(0)
        .stderr("volumes kept")
        .run();
    assert!(
        demo.containers().is_empty(),
        "containers left: {:?}",
        demo.containers()
    );
    assert!(
        demo.networks().is_empty(),
        "networks left: {:?}",
        demo.networks()
    );
    assert_eq!(demo.volumes(), volumes_before);
}

#[test]
fn profile_with_compose_profile_starts_it_and_down_removes_it() {
    require_engine();
    let demo = Fixture::demo("tiers");
    demo.devctl()
        .args(["--profile", "full", "up"])
        .status(0)
        .run();
    let admin = format!("{}-admin-1", demo.name);
    assert!(
        demo.running().contains(&admin),
        "admin not running: {:?}",
        demo.running()
    );
    let status = demo
        .devctl()
        .args(["--profile", "full", "status", "--json"])
        .status(0)
        .run()
        .json();
    let admin_row = service_row(&status, "admin");
    assert_eq!(admin_row["health"], "healthy");
    assert_eq!(admin_row["mounts"][0]["read_only"], true);

    // The default profile does not activate `tools`, yet down removes admin too.
    let plain = demo.status();
    let outside = service_row(&plain, "admin");
    assert_eq!(outside["in_profile"], false);
    demo.devctl().args(["down"]).status(0).run();
    assert!(
        demo.containers().is_empty(),
        "containers left: {:?}",
        demo.containers()
    );
    assert_eq!(demo.volumes().len(), 1);
}

#[test]
fn logs_and_exec_reach_the_services() {
    require_engine();
    let fixture = Fixture::new("exec");
    fixture.write(
        "compose.yaml",
        "name: {project}\nservices:\n  app:\n    image: {busybox}\n    init: true\n    command: [sh, -c, 'echo hello-from-app; sleep 600']\n",
    );
    fixture.devctl().args(["up"]).status(0).run();
    fixture
        .devctl()
        .args(["logs", "app"])
        .status(0)
        .stdout("hello-from-app")
        .run();
    fixture
        .devctl()
        .args(["exec", "app", "sh", "-c", "echo from-exec; exit 3"])
        .status(3)
        .stdout("from-exec")
        .run();
    fixture
        .devctl()
        .args(["exec", "app", "cat"])
        .stdin("piped-into-exec\n")
        .status(0)
        .stdout("piped-into-exec")
        .run();
    fixture
        .devctl()
        .args(["exec", "nope", "true"])
        .status(64)
        .stderr("service `nope` is not in profile")
        .run();
    fixture.devctl().args(["down"]).status(0).run();
    assert!(fixture.containers().is_empty());
}

#[test]
fn the_demo_comes_up_healthy_with_the_profile_init_writes() {
    require_engine();
    let fixture = Fixture::demo("demo-init");
    std::fs::remove_dir_all(fixture.root().join("profiles")).unwrap();
    let compose = std::fs::read_to_string(fixture.root().join("compose.yaml")).unwrap();
    let renamed = compose.replace("name: devctl-demo\n", &format!("name: {}\n", fixture.name));
    assert_ne!(
        renamed, compose,
        "the demo's compose file names its project"
    );
    std::fs::write(fixture.root().join("compose.yaml"), renamed).unwrap();
    let init = fixture.devctl().args(["init"]).status(0).run();
    // The demo's database runs an image devctl does not know; its service's name says what
    // it is.
    assert!(
        init.stderr
            .contains("protected: volume db-data (database data of service db"),
        "{}",
        init.stderr
    );
    let profile = std::fs::read_to_string(fixture.root().join("profiles/default.yaml")).unwrap();
    assert!(
        profile.contains("protected_volumes: [db-data]"),
        "{profile}"
    );
    assert!(fixture.root().join("profiles/tools.yaml").is_file());
    fixture.devctl().args(["up"]).status(0).run();
    let status = fixture.status();
    for service in ["backend", "db"] {
        let row = service_row(&status, service);
        assert_eq!(row["health"], "healthy", "{service}: {row}");
    }
}
