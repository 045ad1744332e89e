//! What `devctl init` reads out of a resolved compose model: which mounts hold database data
//! (by the service's image and the mount's path), the backup each such volume gets, and the
//! services that build with the stage that ships.

use std::path::Path;

use serde_json::Value;

use crate::compose::build_stage::{self, DockerfileSource, ShippedStage};
use crate::compose::model::{ComposeModel, text};
use crate::doctor::dockerfile::Dockerfile;

/// A kind of data store: the words its images carry and where it keeps its data.
struct Store {
    name: &'static str,
    /// Words of the image's repository path (`postgres`, `bitnami/mysql`).
    images: &'static [&'static str],
    /// Data directories; a mount at one of them or below holds the store's data.
    paths: &'static [&'static str],
    /// Whether a mount at one of `paths` is database data whatever the image (paths no other
    /// software uses).
    distinctive: bool,
}

const STORES: &[Store] = &[
    Store {
        name: "postgres",
        images: &[
            "postgres",
            "postgis",
            "timescale",
            "pgvector",
            "supabase/postgres",
        ],
        paths: &["/var/lib/postgresql", "/bitnami/postgresql"],
        distinctive: true,
    },
    Store {
        name: "mysql",
        images: &["mysql", "mariadb", "percona"],
        paths: &["/var/lib/mysql", "/bitnami/mysql", "/bitnami/mariadb"],
        distinctive: true,
    },
    Store {
        name: "mongo",
        images: &["mongo"],
        paths: &["/data/db", "/data/configdb", "/bitnami/mongodb"],
        distinctive: true,
    },
    Store {
        name: "redis",
        images: &["redis", "valkey", "keydb", "dragonfly"],
        paths: &["/data", "/bitnami/redis"],
        distinctive: false,
    },
    Store {
        name: "clickhouse",
        images: &["clickhouse"],
        paths: &["/var/lib/clickhouse"],
        distinctive: true,
    },
    Store {
        name: "elasticsearch",
        images: &["elasticsearch", "opensearch"],
        paths: &[
            "/usr/share/elasticsearch/data",
            "/usr/share/opensearch/data",
        ],
        distinctive: true,
    },
    Store {
        name: "rabbitmq",
        images: &["rabbitmq"],
        paths: &["/var/lib/rabbitmq", "/bitnami/rabbitmq"],
        distinctive: true,
    },
    Store {
        name: "kafka",
        images: &["kafka", "redpanda", "zookeeper"],
        paths: &[
            "/var/lib/kafka",
            "/bitnami/kafka",
            "/var/lib/redpanda",
            "/var/lib/zookeeper",
        ],
        distinctive: true,
    },
    Store {
        name: "mssql",
        images: &["mssql", "azure-sql-edge"],
        paths: &["/var/opt/mssql"],
        distinctive: true,
    },
    Store {
        name: "prometheus",
        images: &["prometheus"],
        paths: &["/prometheus"],
        distinctive: false,
    },
    Store {
        name: "grafana",
        images: &["grafana/grafana"],
        paths: &["/var/lib/grafana"],
        distinctive: true,
    },
    Store {
        name: "other",
        images: &[
            "couchdb",
            "influxdb",
            "neo4j",
            "cassandra",
            "minio",
            "etcd",
            "meilisearch",
            "qdrant",
        ],
        paths: &[
            "/opt/couchdb/data",
            "/var/lib/influxdb",
            "/var/lib/influxdb2",
            "/var/lib/cassandra",
            "/etcd-data",
            "/meili_data",
            "/qdrant/storage",
            "/data",
        ],
        distinctive: false,
    },
];

/// Where a database keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataSource {
    /// A named volume, by its compose key.
    Volume(String),
    /// A folder of the host (a bind mount).
    Bind(String),
    /// An anonymous volume: no name to protect it by.
    Anonymous,
    /// No mount at all at the store's data directory: the data is in the container (or in
    /// an anonymous volume the image declares).
    Unmounted,
}

/// Words of images that are tools around a store, not the store (`mongo-express`, `pgadmin`).
const TOOLS: [&str; 6] = [
    "express",
    "admin",
    "exporter",
    "commander",
    "insight",
    "-ui",
];

/// One mount that holds database data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseMount {
    pub service: String,
    pub image: String,
    /// The store's kind: `postgres`, `mysql`, `mongo`, … (`other` for the rest).
    pub store: &'static str,
    pub source: DataSource,
    pub target: String,
}

/// The repository path of an image, without registry port, tag or digest, lower-cased.
fn repository(image: &str) -> String {
    let image = image.split('@').next().unwrap_or_default();
    let last_slash = image.rfind('/').map_or(0, |position| position + 1);
    let image = match image[last_slash..].find(':') {
        Some(colon) => &image[..last_slash + colon],
        None => image,
    };
    image.to_lowercase()
}

fn under(target: &str, path: &str) -> bool {
    let target = target.trim_end_matches('/');
    target == path || target.starts_with(&format!("{path}/"))
}

/// The store an image runs, by the words of its repository.
fn store_by_image(image: &str) -> Option<&'static Store> {
    let repository = repository(image);
    if TOOLS.iter().any(|word| repository.contains(word)) {
        return None;
    }
    STORES
        .iter()
        .find(|store| store.images.iter().any(|word| repository.contains(word)))
}

/// Whether a service's name says it is a database (`db`, `app-db`, `database`, `postgres`).
fn named_like_a_database(service: &str) -> bool {
    const NAMES: [&str; 9] = [
        "db",
        "database",
        "postgres",
        "postgresql",
        "pg",
        "mysql",
        "mariadb",
        "mongo",
        "mongodb",
    ];
    service
        .to_lowercase()
        .split(['-', '_', '.'])
        .any(|word| NAMES.contains(&word))
}

/// The store whose data `target` holds in a service running `image`, if any.
fn store_of(image: &str, target: &str) -> Option<&'static str> {
    if let Some(store) = store_by_image(image)
        && store.paths.iter().any(|path| under(target, path))
    {
        return Some(store.name);
    }
    STORES
        .iter()
        .filter(|store| store.distinctive)
        .find(|store| store.paths.iter().any(|path| under(target, path)))
        .map(|store| store.name)
}

/// Every mount of the model that holds database data, by service and mount order.
/// Bind mounts inside `root` are shown relative to it (`./data/postgres`).
pub fn database_mounts(model: &ComposeModel, root: &Path) -> Vec<DatabaseMount> {
    let mut found = Vec::new();
    for service in model.service_names() {
        let image = model
            .service(&service)
            .map(|definition| text(definition, "image").to_string())
            .unwrap_or_default();
        let mounts = model.mounts(&service);
        let mut mounted = false;
        for mount in mounts {
            let Some(store) = store_of(&image, mount.target) else {
                continue;
            };
            mounted = true;
            let source = match (mount.kind, mount.source) {
                ("volume", Some(key)) => DataSource::Volume(key.to_string()),
                ("volume", None) => DataSource::Anonymous,
                ("bind", Some(path)) => DataSource::Bind(shown(path, root)),
                _ => continue,
            };
            found.push(DatabaseMount {
                service: service.clone(),
                image: image.clone(),
                store,
                source,
                target: mount.target.to_string(),
            });
        }
        if !mounted && store_by_image(&image).is_none() && named_like_a_database(&service) {
            // An image devctl does not know, in a service named as a database: its volumes.
            for mount in model.mounts(&service) {
                let source = match (mount.kind, mount.source) {
                    ("volume", Some(key)) => DataSource::Volume(key.to_string()),
                    ("volume", None) => DataSource::Anonymous,
                    _ => continue,
                };
                mounted = true;
                found.push(DatabaseMount {
                    service: service.clone(),
                    image: image.clone(),
                    store: "database",
                    source,
                    target: mount.target.to_string(),
                });
            }
        }
        if let (false, Some(store)) = (mounted, store_by_image(&image)) {
            found.push(DatabaseMount {
                service: service.clone(),
                image: image.clone(),
                store: store.name,
                source: DataSource::Unmounted,
                target: store.paths[0].to_string(),
            });
        }
    }
    found
}

/// A dump hook: the service it runs in, the backup command and the restore command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpHook {
    pub command: Vec<String>,
    pub restore: Vec<String>,
    /// What it dumps, and where its credentials come from.
    pub explanation: &'static str,
}

/// The PostgreSQL user and database, as the official image reads them: the service's own
/// variables, read in the container when the hook runs.
const PG_USER: &str = r#""${POSTGRES_USER:-postgres}""#;
const PG_DATABASE: &str = r#""${POSTGRES_DB:-${POSTGRES_USER:-postgres}}""#;
/// The MySQL/MariaDB root password, from the service's own variables.
const MYSQL_PASSWORD: &str = r#"MYSQL_PWD="${MARIADB_ROOT_PASSWORD:-${MYSQL_ROOT_PASSWORD:-}}""#;
/// The database to dump: the service's `MYSQL_DATABASE` / `MARIADB_DATABASE`, else all.
const MYSQL_DATABASES: &str = r#"database="${MARIADB_DATABASE:-${MYSQL_DATABASE:-}}"; if [ -n "$database" ]; then set -- --databases "$database"; else set -- --all-databases; fi"#;

/// The dump hook for a store that has one (PostgreSQL, MySQL/MariaDB).
pub fn dump_hook(store: &str) -> Option<DumpHook> {
    let shell = |script: String| vec!["sh".to_string(), "-c".to_string(), script];
    match store {
        "postgres" => Some(DumpHook {
            command: shell(format!(
                "exec pg_dump -U {PG_USER} --clean --if-exists {PG_DATABASE}"
            )),
            restore: shell(format!(
                "exec psql -U {PG_USER} -v ON_ERROR_STOP=1 -q -d {PG_DATABASE}"
            )),
            explanation: "pg_dump of the database the service's own POSTGRES_USER and POSTGRES_DB name (read in the container when it runs; the official image's defaults otherwise)",
        }),
        "mysql" => Some(DumpHook {
            command: shell(format!(
                "{MYSQL_DATABASES}; {MYSQL_PASSWORD} exec \"$(command -v mariadb-dump || command -v mysqldump)\" -uroot --single-transaction --routines --events \"$@\""
            )),
            restore: shell(format!(
                "{MYSQL_PASSWORD} exec \"$(command -v mariadb || command -v mysql)\" -uroot"
            )),
            explanation: "a dump of the database the service's own MYSQL_DATABASE (or MARIADB_DATABASE) names, else of all, as root with the service's own MYSQL_ROOT_PASSWORD (or MARIADB_ROOT_PASSWORD), read in the container when it runs",
        }),
        _ => None,
    }
}

/// A service that builds, and the stage of its Dockerfile that ships.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltService {
    pub service: String,
    pub shipped: ShippedStage,
    /// When the rule picks the last stage: its name, if the Dockerfile gives it one.
    pub last_stage: Option<String>,
    /// Bind mounts of sources from inside the project: `(source relative to root, target)`.
    pub source_mounts: Vec<(String, String)>,
}

/// Every service that builds, with the stage that ships (docs/fidelity.md's rule).
pub fn built_services(model: &ComposeModel, root: &Path) -> Vec<BuiltService> {
    let mut built = Vec::new();
    for service in model.service_names() {
        let Some(build) = model
            .service(&service)
            .and_then(|definition| definition.get("build"))
        else {
            continue;
        };
        let compose_target = build.get("target").and_then(Value::as_str);
        let dockerfile = match build_stage::dockerfile_source(build, root) {
            DockerfileSource::File { dockerfile, .. } => std::fs::read_to_string(dockerfile)
                .ok()
                .map(|text| Dockerfile::parse(&text)),
            DockerfileSource::Inline(text) => Some(Dockerfile::parse(&text)),
            DockerfileSource::Remote => None,
        };
        let stages = dockerfile.as_ref().map(Dockerfile::stage_names);
        let shipped = build_stage::shipped_stage(None, compose_target, stages.as_deref());
        let last_stage = dockerfile.as_ref().and_then(|dockerfile| {
            let last = dockerfile.stages().len();
            named_stage(dockerfile, last)
        });
        let source_mounts = model
            .mounts(&service)
            .into_iter()
            .filter(|mount| mount.kind == "bind")
            .filter_map(|mount| {
                let source = Path::new(mount.source?);
                let relative = source.strip_prefix(root).ok()?;
                let relative = match relative.as_os_str().is_empty() {
                    true => ".".to_string(),
                    false => relative.display().to_string(),
                };
                Some((relative, mount.target.to_string()))
            })
            .collect();
        built.push(BuiltService {
            service,
            shipped,
            last_stage,
            source_mounts,
        });
    }
    built
}

/// A host path as the compose file would write it: `./…` inside `root`, else as it is.
fn shown(path: &str, root: &Path) -> String {
    match Path::new(path).strip_prefix(root) {
        Ok(relative) if relative.as_os_str().is_empty() => ".".into(),
        Ok(relative) => format!("./{}", relative.display()),
        Err(_) => path.to_string(),
    }
}

/// The name of the `number`th stage (1-based) when its `FROM` names it.
fn named_stage(dockerfile: &Dockerfile, number: usize) -> Option<String> {
    let stage = dockerfile
        .stages()
        .get(number.checked_sub(1)?)?
        .first()?
        .clone();
    let words: Vec<&str> = stage.arguments.split_whitespace().collect();
    let position = words
        .iter()
        .position(|word| word.eq_ignore_ascii_case("as"))?;
    words.get(position + 1).map(|name| name.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn model(services: Value) -> ComposeModel {
        ComposeModel::new(json!({"name": "shop", "services": services})).unwrap()
    }

    #[test]
    fn database_data_is_found_by_image_and_path() {
        let model = model(json!({
            "db": {"image": "postgres:18", "volumes": [
                {"type": "volume", "source": "pg", "target": "/var/lib/postgresql"}]},
            "cache": {"image": "redis:7-alpine", "volumes": [
                {"type": "volume", "source": "cache", "target": "/data"}]},
            "web": {"image": "nginx", "volumes": [
                {"type": "volume", "source": "static", "target": "/data"}]},
            "legacy": {"image": "registry.local:5000/team/custom-db:1", "volumes": [
                {"type": "bind", "source": "/srv/pg", "target": "/var/lib/postgresql/data"}]},
            "local": {"image": "mysql:8", "volumes": [
                {"type": "bind", "source": "/srv/app/data/sql", "target": "/var/lib/mysql"}]},
            "maria": {"image": "mariadb:10.6", "volumes": [
                {"type": "volume", "target": "/var/lib/mysql"}]},
            "mongo": {"image": "mongo:7"},
            "mongo-ui": {"image": "mongo-express"},
            "app-db": {"image": "registry.local/fake:1", "volumes": [
                {"type": "volume", "source": "app-data", "target": "/var/lib/app"},
                {"type": "bind", "source": "/srv/conf", "target": "/etc/app"}]},
            "site": {"image": "nginx", "volumes": [
                {"type": "volume", "source": "web-data", "target": "/srv"}]},
        }));
        let found = database_mounts(&model, Path::new("/srv/app"));
        let summary: Vec<(&str, &str, DataSource)> = found
            .iter()
            .map(|mount| (mount.service.as_str(), mount.store, mount.source.clone()))
            .collect();
        assert_eq!(
            summary,
            [
                ("app-db", "database", DataSource::Volume("app-data".into())),
                ("cache", "redis", DataSource::Volume("cache".into())),
                ("db", "postgres", DataSource::Volume("pg".into())),
                ("legacy", "postgres", DataSource::Bind("/srv/pg".into())),
                ("local", "mysql", DataSource::Bind("./data/sql".into())),
                ("maria", "mysql", DataSource::Anonymous),
                ("mongo", "mongo", DataSource::Unmounted),
            ]
        );
    }

    #[test]
    fn repositories_lose_registry_ports_tags_and_digests() {
        assert_eq!(
            repository("registry.local:5000/Team/DB:1"),
            "registry.local:5000/team/db"
        );
        assert_eq!(repository("postgres@sha256:abc"), "postgres");
        assert_eq!(repository("mysql:8"), "mysql");
    }

    #[test]
    fn dump_hooks_name_credentials_by_reference_only() {
        for store in ["postgres", "mysql"] {
            let hook = dump_hook(store).unwrap();
            let words = [hook.command.join(" "), hook.restore.join(" ")].join(" ");
            assert!(words.contains("${"), "{words}");
            assert!(!words.contains("password="), "{words}");
        }
        assert!(dump_hook("redis").is_none());
    }

    #[test]
    fn a_multi_stage_build_ships_its_production_stage() {
        let temp = tempfile::tempdir().unwrap();
        std::fs::create_dir(temp.path().join("app")).unwrap();
        std::fs::write(
            temp.path().join("app/Dockerfile"),
            "FROM alpine AS base\nFROM base AS dev\nFROM base AS production\nFROM base AS test\n",
        )
        .unwrap();
        let root = temp.path();
        let model = model(json!({
            "app": {
                "build": {"context": root.join("app").display().to_string(), "dockerfile": "Dockerfile", "target": "dev"},
                "volumes": [{"type": "bind", "source": root.join("app/src").display().to_string(), "target": "/src"},
                            {"type": "bind", "source": "/etc/hosts", "target": "/etc/hosts"}],
            },
            "db": {"image": "postgres"},
        }));
        let built = built_services(&model, root);
        assert_eq!(built.len(), 1);
        assert_eq!(built[0].shipped.stage.as_deref(), Some("production"));
        assert_eq!(built[0].last_stage.as_deref(), Some("test"));
        assert_eq!(
            built[0].source_mounts,
            [("app/src".to_string(), "/src".to_string())]
        );
    }
}
