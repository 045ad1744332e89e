//! `devctl init` on real projects: every project of the awesome-compose corpus and the
//! fixtures with what the corpus lacks, without a terminal — inputs untouched, a second run
//! changes nothing, the profiles it writes work (`plan up`, `plan --fidelity up`), database
//! volumes protected and the stage that ships chosen.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::harness::{Fixture, repository};

/// Every file under `root` with its bytes.
fn contents(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(directory) = pending.pop() {
        for entry in std::fs::read_dir(&directory).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(root).unwrap().to_path_buf();
                files.insert(relative, std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

/// A generated profile, as data.
fn profile(fixture: &Fixture, name: &str) -> Value {
    let text = std::fs::read_to_string(fixture.root().join(format!("profiles/{name}.yaml")))
        .unwrap_or_else(|error| panic!("profiles/{name}.yaml: {error}"));
    serde_saphyr::from_str(&text).unwrap_or_else(|error| panic!("{error}:\n{text}"))
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(String::from)
        .collect()
}

/// Runs init on `fixture` without a terminal and checks what every project must get: exit 0,
/// the files that were there untouched (but an appended Makefile), only profiles, a Makefile
/// and `.env.example` added, a second run that changes nothing, and profiles that `plan up`
/// (and `plan --fidelity up` when a service builds) accept. Returns init's stderr.
fn init_checked(fixture: &Fixture, label: &str) -> String {
    let before = contents(&fixture.root());
    let first = fixture.devctl().args(["init"]).run();
    assert_eq!(
        first.code,
        Some(0),
        "{label}: init failed:\n{}",
        first.stderr
    );
    let after = contents(&fixture.root());
    for (path, bytes) in &before {
        if path == Path::new("Makefile") {
            assert!(
                after[path].starts_with(bytes),
                "{label}: the Makefile's own text changed"
            );
            continue;
        }
        assert_eq!(
            after.get(path),
            Some(bytes),
            "{label}: init changed {}",
            path.display()
        );
    }
    for path in after.keys().filter(|path| !before.contains_key(*path)) {
        let allowed = path.starts_with("profiles")
            || path == Path::new("Makefile")
            || path == Path::new(".env.example");
        assert!(allowed, "{label}: init wrote {}", path.display());
    }
    let second = fixture.devctl().args(["init"]).run();
    assert_eq!(
        second.code,
        Some(0),
        "{label}: second init:\n{}",
        second.stderr
    );
    assert!(
        second.stderr.contains("already set up"),
        "{label}: {}",
        second.stderr
    );
    assert_eq!(
        contents(&fixture.root()),
        after,
        "{label}: the second init changed files"
    );
    let plan = fixture.devctl().args(["plan", "--json", "up"]).run();
    assert_eq!(plan.code, Some(0), "{label}: plan up:\n{}", plan.stderr);
    let planned = plan.json();
    let builds = planned["model"]["services"]
        .as_object()
        .into_iter()
        .flatten()
        .any(|(_, service)| service.get("build").is_some());
    if builds {
        let fidelity = fixture.devctl().args(["plan", "--fidelity", "up"]).run();
        assert_eq!(
            fidelity.code,
            Some(0),
            "{label}: plan --fidelity up:\n{}",
            fidelity.stderr
        );
    }
    first.stderr
}

/// The corpus projects whose database data is in a named volume, with that volume (read
/// from their compose files); the others have none.
const CORPUS_DATABASE_VOLUMES: &[(&str, &[&str])] = &[
    ("gitea-postgres", &["db_data"]),
    ("nextcloud-postgres", &["db_data"]),
    ("nextcloud-redis-mariadb", &["db_data"]),
    ("nginx-aspnet-mysql", &["db-data"]),
    ("nginx-flask-mysql", &["db-data"]),
    ("nginx-golang-mysql", &["db-data"]),
    ("nginx-golang-postgres", &["db-data"]),
    ("prometheus-grafana", &["prom_data"]),
    ("react-express-mongodb", &["mongo_data"]),
    ("react-express-mysql", &["db-data"]),
    ("react-java-mysql", &["db-data"]),
    ("react-rust-postgres", &["db-data"]),
    ("sparkjava-mysql", &["db-data"]),
    ("spring-postgres", &["db-data"]),
    ("wordpress-mysql", &["db_data"]),
];

#[test]
fn init_sets_up_every_project_of_the_corpus() {
    let corpus = repository().join("tests/fixtures/awesome-compose");
    let mut projects: Vec<String> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.path().is_dir())
        .map(|entry| entry.file_name().to_string_lossy().to_string())
        .collect();
    projects.sort();
    assert!(projects.len() >= 39, "{projects:?}");
    // Four at a time: each run mostly waits for compose.
    let chunk = projects.len().div_ceil(4);
    std::thread::scope(|scope| {
        for projects in projects.chunks(chunk) {
            scope.spawn(move || projects.iter().for_each(|project| corpus_project(project)));
        }
    });
}

/// `init_checked` on one corpus project, and its protections and backups.
fn corpus_project(project: &str) {
    let fixture = Fixture::copy("init", &format!("tests/fixtures/awesome-compose/{project}"));
    init_checked(&fixture, project);
    let default = profile(&fixture, "default");
    let expected: Vec<String> = CORPUS_DATABASE_VOLUMES
        .iter()
        .find(|(name, _)| *name == project)
        .map(|(_, volumes)| volumes.iter().map(|volume| volume.to_string()).collect())
        .unwrap_or_default();
    assert_eq!(
        strings(&default["guard"]["protected_volumes"]),
        expected,
        "{project}"
    );
    // PostgreSQL and MySQL/MariaDB data gets a dump hook run in the database's service.
    let compose = std::fs::read_to_string(
        ["compose.yaml", "compose.yml"]
            .iter()
            .map(|name| fixture.root().join(name))
            .find(|path| path.is_file())
            .unwrap(),
    )
    .unwrap();
    let dumpable = ["postgres", "mysql", "mariadb"]
        .iter()
        .any(|image| compose.contains(&format!("image: {image}")));
    for volume in &expected {
        let backup = &default["backup"]["volumes"][volume];
        let method = backup["method"].as_str().unwrap_or_default();
        match dumpable && !project.contains("mongo") && !project.contains("prometheus") {
            true => {
                assert_eq!(method, "hook", "{project}: {backup}");
                let command = strings(&backup["command"]).join(" ");
                assert!(
                    command.contains("pg_dump") || command.contains("mysqldump"),
                    "{project}: {command}"
                );
            }
            false => assert_eq!(method, "stop", "{project}: {backup}"),
        }
    }
}

#[test]
fn init_chooses_among_compose_files_with_other_names() {
    let fixture = Fixture::copy("init-named", "tests/fixtures/init/named-files");
    let stderr = init_checked(&fixture, "named-files");
    assert!(
        stderr.contains("compose files: docker-compose.postgres.yml")
            && stderr.contains("docker-compose.dev.yml (1 service)")
            && stderr.contains("To use another, edit compose.files"),
        "{stderr}"
    );
    assert!(stderr.contains("cp .env.example .env"), "{stderr}");
    let default = profile(&fixture, "default");
    assert_eq!(
        strings(&default["compose"]["files"]),
        ["docker-compose.postgres.yml"]
    );
    assert_eq!(strings(&default["guard"]["protected_volumes"]), ["pg"]);
    let hook = &default["backup"]["volumes"]["pg"];
    assert_eq!(hook["service"], "db");
    let command = strings(&hook["command"]).join(" ");
    // The credentials are the service's own variables, never their values.
    assert!(
        command.contains("$POSTGRES_USER") || command.contains("${POSTGRES_USER"),
        "{command}"
    );
    let written = std::fs::read_to_string(fixture.root().join("profiles/default.yaml")).unwrap();
    assert!(
        !written.contains("example") && !written.contains("shop"),
        "{written}"
    );
}

#[test]
fn init_reads_overrides_anchors_env_files_and_the_stage_that_ships() {
    let fixture = Fixture::copy("init-layered", "tests/fixtures/init/layered");
    let stderr = init_checked(&fixture, "layered");
    assert!(
        stderr.contains("compose.yaml, compose.override.yaml"),
        "{stderr}"
    );
    assert!(
        stderr.contains("service api reads common.env, api.env"),
        "{stderr}"
    );
    assert!(
        stderr.contains("postgres data of service pg is kept in the host folder"),
        "{stderr}"
    );
    // The doctor's findings close the run, the most severe first.
    assert!(
        stderr.contains("the 3 that matter most")
            && stderr.contains("warning dockerfile-root: the shipped stage `production`"),
        "{stderr}"
    );
    let default = profile(&fixture, "default");
    // The override's cache and the base file's MariaDB; the bind-mounted PostgreSQL is no volume.
    assert_eq!(
        strings(&default["guard"]["protected_volumes"]),
        ["cache-data", "sql-data"]
    );
    assert_eq!(default["backup"]["volumes"]["sql-data"]["method"], "hook");
    assert_eq!(default["backup"]["volumes"]["cache-data"]["method"], "stop");
    assert_eq!(default["fidelity"]["build_targets"]["api"], "production");
    let plan = fixture
        .devctl()
        .args(["plan", "--fidelity", "up"])
        .status(0)
        .run();
    assert!(
        plan.stdout.contains("build stage production"),
        "{}",
        plan.stdout
    );
    // The Makefile keeps its own targets; the block's clashing one is renamed.
    let makefile = std::fs::read_to_string(fixture.root().join("Makefile")).unwrap();
    assert!(makefile.starts_with("# The project's own targets.\nup:\n\tdocker compose up -d\n"));
    assert!(
        makefile.contains("\ndevctl-up:\n\tdevctl up\n"),
        "{makefile}"
    );
    assert!(makefile.contains("\ndown:\n\tdevctl down\n"), "{makefile}");
    assert_eq!(
        makefile.matches("\nup:").count() + usize::from(makefile.starts_with("up:")),
        1
    );
    // .env.example: the keys of .env, values blanked.
    let example = std::fs::read_to_string(fixture.root().join(".env.example")).unwrap();
    assert!(
        example.contains("PG_IMAGE=\nMARIADB_ROOT_PASSWORD=\n"),
        "{example}"
    );
    assert!(!example.contains("secret"), "{example}");
}

#[test]
fn init_gives_every_compose_profile_a_devctl_profile() {
    let fixture = Fixture::copy("init-profiles", "tests/fixtures/init/all-profiles");
    init_checked(&fixture, "all-profiles");
    let default = profile(&fixture, "default");
    assert_eq!(strings(&default["compose"]["profiles"]), ["default"]);
    assert_eq!(
        strings(&default["guard"]["protected_volumes"]),
        ["mongo-data"]
    );
    for (name, profiles) in [
        ("full", ["default", "full"]),
        ("tools", ["default", "tools"]),
    ] {
        let tier = profile(&fixture, name);
        assert_eq!(tier["extends"], "default");
        assert_eq!(strings(&tier["compose"]["profiles"]), profiles);
        assert!(tier["description"].as_str().is_some());
    }
    let plan = fixture
        .devctl()
        .args(["--profile", "full", "plan", "up"])
        .status(0)
        .run();
    assert!(plan.stdout.contains("worker"), "{}", plan.stdout);
}

#[test]
fn init_with_profiles_present_writes_nothing_and_lists_what_it_would_add() {
    let fixture = Fixture::copy("init-existing", "tests/fixtures/init/all-profiles");
    fixture.write("profiles/default.yaml", "description: mine\n");
    let before = contents(&fixture.root());
    let outcome = fixture.devctl().args(["init"]).status(0).run();
    assert_eq!(contents(&fixture.root()), before);
    assert!(
        outcome
            .stderr
            .contains("it would add: profiles/full.yaml, profiles/tools.yaml, Makefile"),
        "{}",
        outcome.stderr
    );
    let dry = fixture.devctl().args(["--dry-run", "init"]).status(0).run();
    assert!(
        dry.stdout
            .contains("# devctl init would write profiles/full.yaml:"),
        "{}",
        dry.stdout
    );
    assert_eq!(contents(&fixture.root()), before);
}

#[test]
fn a_dry_run_prints_the_files_and_writes_nothing() {
    let fixture = Fixture::copy("init-dry", "tests/fixtures/init/layered");
    let before = contents(&fixture.root());
    let outcome = fixture.devctl().args(["-n", "init"]).status(0).run();
    assert_eq!(contents(&fixture.root()), before);
    assert!(
        outcome
            .stdout
            .contains("# devctl init would write profiles/default.yaml:")
    );
    assert!(
        outcome
            .stdout
            .contains("# devctl init would append to Makefile:")
    );
    assert!(
        outcome.stderr.contains("wrote nothing"),
        "{}",
        outcome.stderr
    );
}

#[test]
fn a_project_devctl_cannot_find_names_init_in_its_hint() {
    let fixture = Fixture::new("init-hint");
    fixture.write(
        "docker-compose.dev.yml",
        "services:\n  app:\n    image: {busybox}\n",
    );
    let outcome = fixture.devctl().args(["status"]).run();
    assert_ne!(outcome.code, Some(0));
    assert!(outcome.stderr.contains("devctl init"), "{}", outcome.stderr);
}

/// Runs a hook's command (`sh -c SCRIPT`) as the service would, with stub programs that
/// print their arguments and the password they were given, and `environment` set.
fn run_hook(command: &[String], stubs: &[&str], environment: &[(&str, &str)]) -> String {
    let bin = tempfile::tempdir().unwrap();
    for stub in stubs {
        crate::harness::script(
            &bin.path().join(stub),
            &format!("echo \"{stub} $* password=${{MYSQL_PWD:-none}}\""),
        );
    }
    let mut process = std::process::Command::new(&command[0]);
    process
        .args(&command[1..])
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", bin.path().display()));
    for (key, value) in environment {
        process.env(key, value);
    }
    let output = process.output().unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

#[test]
fn the_dump_hooks_take_their_credentials_from_the_service_environment() {
    let fixture = Fixture::copy("init-hooks", "tests/fixtures/init/layered");
    fixture.devctl().args(["init"]).status(0).run();
    let default = profile(&fixture, "default");
    let hook = &default["backup"]["volumes"]["sql-data"];
    let command = strings(&hook["command"]);
    let restore = strings(&hook["restore"]);
    // MariaDB's own variables; mariadb-dump where the image has it, else mysqldump.
    assert_eq!(
        run_hook(
            &command,
            &["mariadb-dump"],
            &[
                ("MARIADB_ROOT_PASSWORD", "s3cret"),
                ("MARIADB_DATABASE", "shop")
            ]
        ),
        "mariadb-dump -uroot --single-transaction --routines --events --databases shop password=s3cret"
    );
    assert_eq!(
        run_hook(&command, &["mysqldump"], &[("MYSQL_ROOT_PASSWORD", "pw")]),
        "mysqldump -uroot --single-transaction --routines --events --all-databases password=pw"
    );
    assert_eq!(
        run_hook(&restore, &["mysql"], &[("MYSQL_ROOT_PASSWORD", "pw")]),
        "mysql -uroot password=pw"
    );
    let fixture = Fixture::copy("init-hooks-pg", "tests/fixtures/init/named-files");
    fixture.devctl().args(["init"]).status(0).run();
    let default = profile(&fixture, "default");
    let hook = &default["backup"]["volumes"]["pg"];
    assert_eq!(
        run_hook(
            &strings(&hook["command"]),
            &["pg_dump"],
            &[("POSTGRES_USER", "shop"), ("POSTGRES_DB", "orders")]
        ),
        "pg_dump -U shop --clean --if-exists orders password=none"
    );
    // The official image's defaults: the database is named after the user.
    assert_eq!(
        run_hook(
            &strings(&hook["restore"]),
            &["psql"],
            &[("POSTGRES_USER", "shop")]
        ),
        "psql -U shop -v ON_ERROR_STOP=1 -q -d shop password=none"
    );
}

#[test]
fn on_a_terminal_init_asks_which_compose_file() {
    let fixture = Fixture::copy("init-terminal-files", "tests/fixtures/init/named-files");
    // The file with the most services is preselected; `k` moves up to the other one.
    let (code, shown) = crate::harness::typed_on_terminal(&fixture, "init", "k");
    assert_eq!(code, Some(0), "{shown}");
    assert!(
        shown.contains("Which compose file does this project run with?"),
        "{shown}"
    );
    let default = profile(&fixture, "default");
    assert_eq!(
        strings(&default["compose"]["files"]),
        ["docker-compose.dev.yml"],
        "{shown}"
    );
}

#[test]
fn on_a_terminal_init_asks_which_volumes_to_protect() {
    let fixture = Fixture::copy("init-terminal-volumes", "tests/fixtures/init/layered");
    // Both database volumes are preselected; a space unselects the first, cache-data.
    let (code, shown) = crate::harness::typed_on_terminal(&fixture, "init", " ");
    assert_eq!(code, Some(0), "{shown}");
    assert!(
        shown.contains("Which volumes must devctl never delete?"),
        "{shown}"
    );
    let default = profile(&fixture, "default");
    assert_eq!(
        strings(&default["guard"]["protected_volumes"]),
        ["sql-data"],
        "{shown}"
    );
    // The compose files are compose's own: nothing to ask about them.
    assert!(!shown.contains("Which compose file"), "{shown}");
    // Set up: a second run asks nothing and changes nothing.
    let before = contents(&fixture.root());
    let (code, shown) = crate::harness::typed_on_terminal(&fixture, "init", "");
    assert_eq!(code, Some(0), "{shown}");
    assert!(
        shown.contains("already set up") && !shown.contains("Which volumes"),
        "{shown}"
    );
    assert_eq!(contents(&fixture.root()), before);
}

#[test]
fn init_takes_the_files_compose_file_in_dotenv_names() {
    let fixture = Fixture::new("init-compose-file");
    fixture
        .write("base.yml", "services:\n  app:\n    image: {busybox}\n")
        .write(
            "dev.yml",
            "services:\n  db:\n    image: mariadb:11\n    volumes: [sql:/var/lib/mysql]\nvolumes:\n  sql:\n",
        )
        .write("docker-compose.other.yml", "services:\n  a: {image: x}\n  b: {image: x}\n  c: {image: x}\n")
        .write(".env", "COMPOSE_FILE=base.yml:dev.yml\n");
    let stderr = init_checked(&fixture, "compose-file");
    assert!(stderr.contains("named by COMPOSE_FILE in .env"), "{stderr}");
    let default = profile(&fixture, "default");
    assert_eq!(
        strings(&default["compose"]["files"]),
        ["base.yml", "dev.yml"]
    );
    assert_eq!(strings(&default["guard"]["protected_volumes"]), ["sql"]);
}

#[test]
fn a_project_compose_cannot_read_is_a_clear_error_and_nothing_is_written() {
    let fixture = Fixture::new("init-broken");
    fixture.write(
        "compose.yaml",
        "services:\n  app:\n    image: {busybox}\n    env_file: [missing.env]\n",
    );
    let before = contents(&fixture.root());
    let outcome = fixture.devctl().args(["init"]).run();
    assert_eq!(outcome.code, Some(64), "{}", outcome.stderr);
    assert!(
        outcome
            .stderr
            .contains("error: compose cannot read compose.yaml")
            && outcome.stderr.contains("missing.env")
            && outcome.stderr.contains("hint:"),
        "{}",
        outcome.stderr
    );
    assert_eq!(contents(&fixture.root()), before);
}
