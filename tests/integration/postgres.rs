//! A real PostgreSQL: backup with `stop` and with a `pg_dump` hook, damage the data, restore,
//! and the row counts and a checksum of the data match what was backed up.

use crate::backup::backup;
use crate::harness::{Fixture, repository, require_engine};

const QUERY: &str = "select (select count(*) from items) || ':' || (select md5(string_agg(id::text || '=' || name, ',' order by id)) from items) || ':' || (select count(*) from extra)";

fn psql(fixture: &Fixture, sql: &str) -> String {
    fixture
        .shell(
            "db",
            &format!("psql -U postgres -d app -v ON_ERROR_STOP=1 -At -c \"{sql}\""),
        )
        .trim()
        .to_string()
}

fn damage(fixture: &Fixture) {
    psql(
        fixture,
        "update items set name = 'changed' where id % 3 = 0; delete from items where id > 900; drop table extra;",
    );
    let after = psql(fixture, "select count(*) from items");
    assert_eq!(after, "900");
}

#[test]
fn postgres_round_trips_with_stop_and_with_a_dump_hook() {
    require_engine();
    let fixture = Fixture::new("postgres");
    let compose =
        std::fs::read_to_string(repository().join("tests/fixtures/postgres/compose.yaml")).unwrap();
    fixture.write("compose.yaml", &compose);
    fixture.write(
        "profiles/default.yaml",
        "compose:\n  project_name: {project}\nup:\n  wait_timeout: 2m\n",
    );
    fixture.write(
        "profiles/dump.yaml",
        "extends: default\nbackup:\n  volumes:\n    pg-data:\n      method: hook\n      service: db\n      command: [pg_dump, -U, postgres, --clean, --if-exists, app]\n      restore: [psql, -U, postgres, -v, ON_ERROR_STOP=1, -q, -d, app]\n",
    );
    fixture.devctl().args(["up"]).status(0).run();
    psql(
        &fixture,
        "create table items(id int primary key, name text); insert into items select g, 'item ' || g from generate_series(1, 1000) g; create table extra(x int); insert into extra values (1), (2), (3);",
    );
    let original = psql(&fixture, QUERY);
    assert!(
        original.starts_with("1000:") && original.ends_with(":3"),
        "{original}"
    );

    let stopped = backup(&fixture, &["--label", "stop"]);
    let dumped = {
        let outcome = fixture
            .devctl()
            .args(["--profile", "dump", "backup", "--label", "dump"])
            .status(0)
            .run();
        outcome.stdout.trim().to_string()
    };
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(fixture.backup_dir().join(&dumped).join("manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["artifacts"][0]["method"], "hook");
    assert_eq!(manifest["artifacts"][0]["kind"], "stream");

    damage(&fixture);
    fixture
        .devctl()
        .args(["restore", &stopped, "--confirm", &fixture.name])
        .status(0)
        .run();
    assert_eq!(
        psql(&fixture, QUERY),
        original,
        "stop backup did not restore the data"
    );

    damage(&fixture);
    fixture
        .devctl()
        .args([
            "--profile",
            "dump",
            "restore",
            &dumped,
            "--confirm",
            &fixture.name,
        ])
        .status(0)
        .run();
    assert_eq!(
        psql(&fixture, QUERY),
        original,
        "pg_dump backup did not restore the data"
    );
}

#[test]
fn a_failed_safety_dump_falls_back_to_a_copy_of_the_volume_and_the_restore_proceeds() {
    require_engine();
    let fixture = Fixture::new("pg-fallback");
    let compose =
        std::fs::read_to_string(repository().join("tests/fixtures/postgres/compose.yaml")).unwrap();
    fixture.write("compose.yaml", &compose);
    // The dump recreates its database: it restores even after the database was dropped.
    fixture.write(
        "profiles/default.yaml",
        "compose:\n  project_name: {project}\nup:\n  wait_timeout: 2m\nbackup:\n  volumes:\n    pg-data:\n      method: hook\n      service: db\n      command: [pg_dump, -U, postgres, --clean, --if-exists, --create, app]\n      restore: [psql, -U, postgres, -v, ON_ERROR_STOP=1, -q, -d, postgres]\n",
    );
    fixture.devctl().args(["up"]).status(0).run();
    psql(
        &fixture,
        "create table items(id int primary key, name text); insert into items select g, 'item ' || g from generate_series(1, 1000) g; create table extra(x int); insert into extra values (1), (2), (3);",
    );
    let original = psql(&fixture, QUERY);
    let dumped = backup(&fixture, &["--label", "dump"]);
    fixture.shell(
        "db",
        "psql -U postgres -d postgres -v ON_ERROR_STOP=1 -c 'drop database app'",
    );
    // The safety dump (pg_dump of a database that is gone) fails: the volume is copied instead.
    let restored = fixture
        .devctl()
        .args(["restore", &dumped, "--confirm", &fixture.name])
        .status(0)
        .stderr("the safety dump of pg-data failed")
        .stderr("safety copy of the volume instead")
        .run();
    assert!(
        restored.stderr.contains("undo it with: devctl restore"),
        "{}",
        restored.stderr
    );
    assert_eq!(psql(&fixture, QUERY), original, "the dump was not restored");
    let listing = crate::backup::listed(&fixture);
    let safety = listing
        .iter()
        .find(|backup| backup["kind"] == "safety")
        .unwrap_or_else(|| panic!("no safety backup: {listing:#?}"));
    let manifest = crate::backup::manifest(&fixture, safety["id"].as_str().unwrap());
    assert_eq!(manifest["artifacts"][0]["kind"], "tar", "{manifest:#}");
    assert_eq!(manifest["artifacts"][0]["method"], "stop", "{manifest:#}");
    // The copy holds the volume as it was (no database `app`): restoring it brings that back.
    let safety_id = safety["id"].as_str().unwrap().to_string();
    fixture
        .devctl()
        .args([
            "restore",
            &safety_id,
            "--no-safety-backup",
            "--confirm",
            &fixture.name,
        ])
        .status(0)
        .run();
    let databases = fixture
        .shell(
            "db",
            "psql -U postgres -d postgres -At -c \"select count(*) from pg_database where datname = 'app'\"",
        )
        .trim()
        .to_string();
    assert_eq!(databases, "0");
}

#[test]
fn init_writes_a_pg_dump_hook_that_backs_up_and_restores_the_rows() {
    require_engine();
    let fixture = Fixture::new("postgres-init");
    let compose =
        std::fs::read_to_string(repository().join("tests/fixtures/postgres/compose.yaml")).unwrap();
    fixture.write("compose.yaml", &format!("name: {{project}}\n{compose}"));
    let init = fixture.devctl().args(["init"]).status(0).run();
    assert!(
        init.stderr.contains("protected: volume pg-data") && init.stderr.contains("dump hook"),
        "{}",
        init.stderr
    );
    let profile = std::fs::read_to_string(fixture.root().join("profiles/default.yaml")).unwrap();
    assert!(
        profile.contains("pg_dump") && profile.contains("${POSTGRES_DB"),
        "{profile}"
    );
    fixture.devctl().args(["up"]).status(0).run();
    psql(
        &fixture,
        "create table items(id int primary key, name text); insert into items select g, 'item ' || g from generate_series(1, 1000) g; create table extra(x int); insert into extra values (1), (2), (3);",
    );
    let original = psql(&fixture, QUERY);
    assert!(original.starts_with("1000:"), "{original}");
    let dumped = backup(&fixture, &["--label", "init"]);
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(fixture.backup_dir().join(&dumped).join("manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["artifacts"][0]["method"], "hook");
    damage(&fixture);
    fixture
        .devctl()
        .args(["restore", &dumped, "--confirm", &fixture.name])
        .status(0)
        .run();
    assert_eq!(
        psql(&fixture, QUERY),
        original,
        "the generated pg_dump hook did not restore the data"
    );
    // The protection holds: a confirmed `down --volumes` keeps the database's volume.
    fixture
        .devctl()
        .args([
            "down",
            "--volumes",
            "--confirm",
            &fixture.name,
            "--no-backup",
        ])
        .status(0)
        .run();
    assert!(
        fixture
            .volumes()
            .iter()
            .any(|volume| volume.ends_with("pg-data")),
        "{:?}",
        fixture.volumes()
    );
}
