//! The text of the profiles `devctl init` writes: YAML commented like
//! `profiles/reference.yaml`, each key with what it does and why init chose its value.

use std::collections::BTreeMap;

use crate::init::detect::{BuiltService, DataSource, DatabaseMount, dump_hook};

/// What init learned about a project, from which the profiles are written.
#[derive(Debug, Clone, Default)]
pub struct Setup {
    /// The compose files to name in `compose.files` (empty: compose's own defaults).
    pub compose_files: Vec<String>,
    /// Why those files (a sentence), for the comment above them.
    pub compose_files_reason: String,
    /// Every service, sorted.
    pub services: Vec<String>,
    /// Services that no compose profile gates.
    pub ungated: Vec<String>,
    /// The compose profiles the project defines, sorted.
    pub compose_profiles: Vec<String>,
    /// The compose profiles the `default` devctl profile activates.
    pub default_profiles: Vec<String>,
    pub databases: Vec<DatabaseMount>,
    /// Volumes chosen on the terminal besides the database ones.
    pub extra_protected: Vec<String>,
    pub built: Vec<BuiltService>,
}

impl Setup {
    /// The named volumes that hold database data, each once, sorted.
    pub fn protected_volumes(&self) -> Vec<String> {
        let mut volumes: Vec<String> = self
            .databases
            .iter()
            .filter_map(|mount| match &mount.source {
                DataSource::Volume(key) => Some(key.clone()),
                _ => None,
            })
            .collect();
        volumes.extend(self.extra_protected.iter().cloned());
        volumes.sort();
        volumes.dedup();
        volumes
    }

    /// The stage written into `fidelity.build_targets` per service (none when the last stage
    /// ships and has no name), with the reason.
    pub fn build_targets(&self) -> Vec<(String, Option<String>, String)> {
        self.built
            .iter()
            .map(|built| {
                let stage = built
                    .shipped
                    .stage
                    .clone()
                    .or_else(|| built.last_stage.clone());
                (
                    built.service.clone(),
                    stage,
                    built.shipped.reason.to_string(),
                )
            })
            .collect()
    }

    /// The devctl profiles for the compose profiles: `(devctl profile, compose profiles)`;
    /// `default` is not among them.
    pub fn tiers(&self) -> Vec<(String, Vec<String>)> {
        self.compose_profiles
            .iter()
            .filter(|profile| !self.default_profiles.contains(profile))
            .map(|profile| {
                let name = match profile.as_str() {
                    "default" => "compose-default".to_string(),
                    _ => profile.clone(),
                };
                let mut activated = self.default_profiles.clone();
                activated.push(profile.clone());
                (name, activated)
            })
            .collect()
    }
}

/// A YAML scalar: plain when that reads back as the same string, else quoted.
pub fn scalar(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./".contains(c))
        && !text.starts_with(['-', '.'])
        && !matches!(
            text.to_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n"
        )
        && text.parse::<f64>().is_err();
    if plain {
        return text.to_string();
    }
    if !text.contains('\'') && !text.contains('\n') {
        return format!("'{text}'");
    }
    serde_json::to_string(text).unwrap_or_default()
}

fn flow_list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|item| scalar(item)).collect();
    format!("[{}]", items.join(", "))
}

const HEADER: &str = "# Written by `devctl init`; edit freely (init never overwrites a file). Every key devctl\n# reads is in docs/profiles.md; `devctl profiles NAME` shows a profile resolved.\n";

/// `profiles/default.yaml`.
pub fn default_profile(setup: &Setup) -> String {
    let mut out = String::from(HEADER);
    out.push('\n');
    out.push_str("# One line shown by `devctl profiles`.\n");
    let services = match setup.default_profiles.is_empty() {
        true => setup.ungated.clone(),
        false => setup.services.clone(),
    };
    let description = match setup.default_profiles.as_slice() {
        [] => format!("The services no compose profile gates ({})", services.len()),
        activated => format!("The stack with compose profile {}", activated.join(", ")),
    };
    out.push_str(&format!("description: {}\n", scalar(&description)));

    let mut compose = String::new();
    if setup.compose_files.is_empty() {
        compose.push_str(&format!(
            "  # Compose files (-f): none listed, so compose reads its own defaults ({}).\n",
            setup.compose_files_reason
        ));
    } else {
        compose.push_str(&format!(
            "  # Compose files (-f), in order, relative to the project root: {}.\n",
            setup.compose_files_reason
        ));
        compose.push_str(&format!("  files: {}\n", flow_list(&setup.compose_files)));
    }
    compose.push_str("  # Env files (--env-file): none listed, so compose reads `.env` beside the first compose\n  # file for interpolation; each service's env_file is compose's own.\n");
    if setup.default_profiles.is_empty() {
        if !setup.compose_profiles.is_empty() {
            compose.push_str(&format!(
                "  # Compose profiles (--profile): none, the services no profile gates; profiles/ has one\n  # devctl profile per compose profile ({}).\n",
                setup.compose_profiles.join(", ")
            ));
        }
    } else {
        compose.push_str("  # Compose profiles (--profile) to activate: every service sits behind one, so this one\n  # (the one named `default`, else the first in name order).\n");
        compose.push_str(&format!(
            "  profiles: {}\n",
            flow_list(&setup.default_profiles)
        ));
    }
    let has_keys = compose
        .lines()
        .any(|line| !line.trim_start().starts_with('#'));
    match has_keys {
        true => out.push_str(&format!("\ncompose:\n{compose}")),
        // A section without keys is an error: its comments stand at the top level.
        false => {
            out.push_str("\n# compose: nothing to set, compose's own defaults apply.\n");
            for line in compose.lines() {
                out.push_str(line.trim_start());
                out.push('\n');
            }
        }
    }

    let protected = setup.protected_volumes();
    out.push_str("\nguard:\n");
    out.push_str("  # Volumes devctl never deletes, not even on a confirmed `down --volumes`: the ones that\n  # hold database data (found by the service's image and the mount's path).\n");
    for key in &protected {
        for mount in setup
            .databases
            .iter()
            .filter(|mount| matches!(&mount.source, DataSource::Volume(volume) if volume == key))
        {
            out.push_str(&format!(
                "  #   {key}: {} data of service {} ({}) at {}\n",
                mount.store,
                mount.service,
                if mount.image.is_empty() {
                    "built"
                } else {
                    &mount.image
                },
                mount.target
            ));
        }
    }
    out.push_str(&format!("  protected_volumes: {}\n", flow_list(&protected)));
    for mount in &setup.databases {
        match &mount.source {
            DataSource::Bind(path) => out.push_str(&format!(
                "  # {} data of service {} is kept in the host folder {} (a bind mount): compose never deletes it (not even `down --volumes`), and devctl backup does not copy it; back it up from the host, or move it into a named volume to have devctl guard and back it up.\n",
                mount.store, mount.service, path
            )),
            DataSource::Anonymous => out.push_str(&format!(
                "  # {} data of service {} at {} is in an anonymous volume: it has no name to protect it by, and `down --volumes` or a recreation loses it; give it a named volume.\n",
                mount.store, mount.service, mount.target
            )),
            DataSource::Unmounted => out.push_str(&format!(
                "  # {} data of service {} ({}) is in no volume of the compose file: it lives in the container (or an anonymous volume its image declares) and is lost with it; mount a named volume at {} to keep, guard and back it up.\n",
                mount.store, mount.service, mount.image, mount.target
            )),
            DataSource::Volume(_) => {}
        }
    }

    out.push_str("\nbackup:\n");
    out.push_str("  # How `devctl backup` makes a volume consistent, for volumes not listed below: stop the\n  # services that mount it, copy it, start them again.\n  method: stop\n");
    if !protected.is_empty() {
        out.push_str("  # Per-volume settings, by compose volume key.\n  volumes:\n");
        let mut first_mount: BTreeMap<&str, &DatabaseMount> = BTreeMap::new();
        for mount in &setup.databases {
            if let DataSource::Volume(key) = &mount.source {
                first_mount.entry(key.as_str()).or_insert(mount);
            }
        }
        for (key, mount) in first_mount {
            match dump_hook(mount.store) {
                Some(hook) => {
                    out.push_str(&format!("    # {}: {}.\n", key, hook.explanation));
                    out.push_str(&format!("    {}:\n", scalar(key)));
                    out.push_str("      # hook: run a dump command in a service and store its output instead of the files.\n      method: hook\n");
                    out.push_str(&format!(
                        "      # The service the commands run in.\n      service: {}\n",
                        scalar(&mount.service)
                    ));
                    out.push_str(&format!(
                        "      # The backup command; its standard output is what is stored.\n      command: {}\n",
                        flow_list(&hook.command)
                    ));
                    out.push_str(&format!(
                        "      # The restore command; the stored output is streamed to its standard input.\n      restore: {}\n",
                        flow_list(&hook.restore)
                    ));
                }
                None => {
                    out.push_str(&format!(
                        "    # {key}: {} data of service {}; copied with its services stopped.\n",
                        mount.store, mount.service
                    ));
                    out.push_str(&format!("    {}:\n      method: stop\n", scalar(key)));
                }
            }
        }
    }

    out.push_str("\nfidelity:\n");
    out.push_str("  # The build target (Dockerfile stage) per service for `devctl up --fidelity`: the stage\n  # that ships, by the rule of docs/fidelity.md, written out so that it is not guessed.\n");
    let targets = setup.build_targets();
    if targets.iter().all(|(_, stage, _)| stage.is_none()) {
        for (service, _, reason) in &targets {
            out.push_str(&format!("  #   {service}: {reason} (it has no name)\n"));
        }
        out.push_str("  build_targets: {}\n");
    } else {
        out.push_str("  build_targets:\n");
        for (service, stage, reason) in &targets {
            match stage {
                Some(stage) => {
                    out.push_str(&format!("    # {service}: {reason}.\n"));
                    out.push_str(&format!("    {}: {}\n", scalar(service), scalar(stage)));
                }
                None => out.push_str(&format!("    # {service}: {reason} (it has no name).\n")),
            }
        }
    }
    out.push_str("  # Bind mounts from inside the project to keep; every other source mount is dropped, so\n  # the fidelity stack runs what the image holds.\n");
    let mounts: Vec<String> = setup
        .built
        .iter()
        .flat_map(|built| {
            built
                .source_mounts
                .iter()
                .map(|(source, target)| format!("  #   {}: {source} -> {target}\n", built.service))
        })
        .collect();
    if !mounts.is_empty() {
        out.push_str("  # The source mounts it drops:\n");
        out.extend(mounts);
    }
    out.push_str("  keep_mounts: []\n");
    wrap_comments(&out)
}

/// The widest a comment line is written (as in `profiles/reference.yaml`).
const WIDTH: usize = 95;

/// `text` with every comment line longer than `WIDTH` wrapped at spaces, each continuation
/// with the line's indentation and `#`.
fn wrap_comments(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let body = line.trim_start();
        if line.chars().count() <= WIDTH || !body.starts_with("# ") {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let prefix = format!("{}# ", &line[..line.len() - body.len()]);
        let mut current = prefix.clone();
        for word in body[2..].split(' ') {
            let fits = current.chars().count() + word.chars().count() < WIDTH;
            if !fits && current.len() > prefix.len() {
                out.push_str(current.trim_end());
                out.push('\n');
                current = prefix.clone();
            }
            current.push_str(word);
            current.push(' ');
        }
        out.push_str(current.trim_end());
        out.push('\n');
    }
    out
}

/// `profiles/NAME.yaml` for a tier: the default profile plus one compose profile.
pub fn tier_profile(activated: &[String]) -> String {
    let added = activated.last().cloned().unwrap_or_default();
    let mut out = String::from(HEADER);
    out.push('\n');
    out.push_str("# One line shown by `devctl profiles`.\n");
    out.push_str(&format!(
        "description: {}\n",
        scalar(&format!("The default stack plus compose profile {added}"))
    ));
    out.push_str("# The profile whose keys this one inherits (protections, backups, fidelity).\n");
    out.push_str("extends: default\n\ncompose:\n");
    out.push_str("  # Compose profiles (service tiers) to activate (--profile).\n");
    out.push_str(&format!("  profiles: {}\n", flow_list(activated)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_read_back_as_the_same_string() {
        for text in [
            "db-data",
            "yes",
            "1.5",
            "-c",
            "exec pg_dump -U \"${POSTGRES_USER:-postgres}\"",
            "it's",
            "",
            "a: b",
        ] {
            let yaml = format!("value: {}\n", scalar(text));
            let parsed: BTreeMap<String, String> = serde_saphyr::from_str(&yaml).unwrap();
            assert_eq!(parsed["value"], text, "{yaml}");
        }
    }

    fn mount(service: &str, store: &'static str, source: DataSource) -> DatabaseMount {
        DatabaseMount {
            service: service.into(),
            image: format!("{store}:1"),
            store,
            source,
            target: "/var/lib/data".into(),
        }
    }

    #[test]
    fn the_default_profile_reads_back_with_every_choice() {
        use crate::compose::build_stage::{ShippedStage, StageReason};
        use crate::project::profile_file::{BackupMethod, ProfileFile};
        let setup = Setup {
            compose_files: vec!["docker-compose.dev.yml".into()],
            compose_files_reason: "the only one".into(),
            services: vec!["app".into(), "db".into()],
            compose_profiles: vec!["tools".into()],
            default_profiles: vec!["tools".into()],
            databases: vec![
                mount("db", "postgres", DataSource::Volume("pg-data".into())),
                mount("sql", "mysql", DataSource::Volume("sql".into())),
                mount("cache", "redis", DataSource::Volume("yes".into())),
                mount("old", "postgres", DataSource::Bind("/srv/pg".into())),
            ],
            built: vec![BuiltService {
                service: "app".into(),
                shipped: ShippedStage {
                    stage: Some("production".into()),
                    reason: StageReason::ProductionLike {
                        instead_of: "dev".into(),
                    },
                },
                last_stage: Some("test".into()),
                source_mounts: vec![("src".into(), "/app/src".into())],
            }],
            ..Setup::default()
        };
        let text = default_profile(&setup);
        let profile: ProfileFile = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(
            profile.guard.protected_volumes.unwrap(),
            ["pg-data", "sql", "yes"]
        );
        assert_eq!(profile.compose.files.unwrap(), ["docker-compose.dev.yml"]);
        assert_eq!(profile.compose.profiles.unwrap(), ["tools"]);
        let volumes = profile.backup.volumes.unwrap();
        assert_eq!(volumes["pg-data"].method, Some(BackupMethod::Hook));
        assert_eq!(volumes["pg-data"].service.as_deref(), Some("db"));
        assert!(volumes["pg-data"].command.as_ref().unwrap()[2].contains("pg_dump"));
        assert!(volumes["sql"].restore.as_ref().unwrap()[2].contains("mysql"));
        assert_eq!(volumes["yes"].method, Some(BackupMethod::Stop));
        assert_eq!(profile.fidelity.build_targets.unwrap()["app"], "production");
        assert!(text.contains("host folder /srv/pg"), "{text}");
        assert!(text.contains("#   app: src -> /app/src"), "{text}");
        let tier: ProfileFile =
            serde_saphyr::from_str(&tier_profile(&["tools".into(), "debug".into()])).unwrap();
        assert_eq!(tier.extends.as_deref(), Some("default"));
        assert_eq!(tier.compose.profiles.unwrap(), ["tools", "debug"]);
    }

    #[test]
    fn long_comments_wrap_and_keys_do_not() {
        let long = format!(
            "  # {}\n  key: [{}]\n",
            "word ".repeat(40).trim(),
            "x, ".repeat(40)
        );
        let wrapped = wrap_comments(&long);
        for line in wrapped
            .lines()
            .filter(|line| line.trim_start().starts_with('#'))
        {
            assert!(
                line.len() <= WIDTH && line.starts_with("  # word"),
                "{line}"
            );
        }
        assert_eq!(wrapped.matches("word").count(), 40);
        assert!(wrapped.ends_with(&format!("  key: [{}]\n", "x, ".repeat(40))));
    }

    #[test]
    fn tiers_add_each_compose_profile_to_the_default_ones() {
        let setup = Setup {
            compose_profiles: vec!["default".into(), "tools".into(), "worker".into()],
            default_profiles: vec!["default".into()],
            ..Setup::default()
        };
        assert_eq!(
            setup.tiers(),
            [
                (
                    "tools".to_string(),
                    vec!["default".to_string(), "tools".to_string()]
                ),
                (
                    "worker".to_string(),
                    vec!["default".to_string(), "worker".to_string()]
                ),
            ]
        );
        let plain = Setup {
            compose_profiles: vec!["default".into(), "debug".into()],
            ..Setup::default()
        };
        assert_eq!(plain.tiers()[0].0, "compose-default");
    }
}
