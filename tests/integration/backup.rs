//! Backup and restore on the real engine: round trips, integrity, consistency methods,
//! confirmation, fresh projects and other checkouts.

use std::path::{Path, PathBuf};

use crate::harness::{Fixture, require_engine};

const INTEGRITY: i32 = 65;
const REFUSED: i32 = 77;

/// A project whose `app` service mounts the named volume `data` at /data.
pub fn volume_project(label: &str, profile_extra: &str) -> Fixture {
    let fixture = Fixture::new(label);
    fixture.write(
        "profiles/default.yaml",
        &format!("compose:\n  project_name: {{project}}\n{profile_extra}"),
    );
    fixture.write(
        "compose.yaml",
        "services:\n  app:\n    image: {busybox}\n    init: true\n    command: [sleep, '600']\n    volumes: [data:/data]\nvolumes:\n  data:\n",
    );
    fixture
}

/// Every path's type, owner, mode, size and link target, and every file's checksum.
pub fn snapshot(fixture: &Fixture) -> String {
    fixture.shell(
        "app",
        "cd /data && find . | sort | while read -r f; do stat -c '%n|%u:%g|%a|%F|%s' \"$f\"; if [ -L \"$f\" ]; then readlink \"$f\"; fi; done; find . -type f | sort | while read -r f; do md5sum \"$f\"; done",
    )
}

/// The backups `devctl backup list --json` shows.
pub fn listed(fixture: &Fixture) -> Vec<serde_json::Value> {
    let outcome = fixture
        .devctl()
        .args(["backup", "list", "--json"])
        .status(0)
        .run();
    outcome.json()["backups"].as_array().unwrap().clone()
}

/// Backup `id`'s manifest, as JSON.
pub fn manifest(fixture: &Fixture, id: &str) -> serde_json::Value {
    let path = fixture.backup_dir().join(id).join("manifest.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The compose keys of backup `id`'s artifacts, in the manifest's order.
pub fn artifact_keys(fixture: &Fixture, id: &str) -> Vec<String> {
    manifest(fixture, id)["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|artifact| artifact["key"].as_str().unwrap().to_string())
        .collect()
}

/// The id `devctl backup` printed on stdout.
pub fn backup(fixture: &Fixture, args: &[&str]) -> String {
    let outcome = fixture.devctl().arg("backup").args(args).status(0).run();
    outcome.stdout.trim().to_string()
}

trait Arg {
    fn arg(self, value: &str) -> Self;
}

impl Arg for crate::harness::Test {
    fn arg(self, value: &str) -> Self {
        self.args([value])
    }
}

fn artifact(fixture: &Fixture, id: &str) -> PathBuf {
    let directory = fixture.backup_dir().join(id);
    std::fs::read_dir(&directory)
        .unwrap()
        .flatten()
        .map(|entry| entry.path())
        .find(|path| path.to_string_lossy().ends_with(".zst"))
        .unwrap_or_else(|| panic!("no artifact in {}", directory.display()))
}

#[test]
fn round_trip_keeps_contents_owners_modes_links_and_names() {
    require_engine();
    let fixture = volume_project("roundtrip", "");
    fixture.devctl().args(["up"]).status(0).run();
    fixture.shell(
        "app",
        "cd /data && echo secret > owned && chown 999:999 owned && chmod 0600 owned \
         && mkdir -p 'empty dir' nested/deeper && ln -s owned link && ln -s ../owned nested/up \
         && printf 'ü' > 'ünïcödé ✓.txt' && dd if=/dev/urandom of=big bs=1M count=100 2>/dev/null \
         && chmod 0750 nested && chown 1234:5678 nested/deeper",
    );
    let before = snapshot(&fixture);
    assert!(
        before.contains("owned|999:999|600|regular file"),
        "{before}"
    );
    assert!(
        before.contains("big|0:0|644|regular file|104857600"),
        "{before}"
    );
    let id = backup(&fixture, &["--label", "round trip"]);
    assert!(id.ends_with("-round-trip"), "{id}");

    fixture.shell(
        "app",
        "cd /data && echo changed > owned && rm link && rm -r 'empty dir' && chmod 0777 nested && echo extra > extra && truncate -s 10 big",
    );
    assert_ne!(snapshot(&fixture), before);
    let restore = fixture
        .devctl()
        .args(["restore", &id, "--confirm", &fixture.name])
        .status(0)
        .run();
    assert!(
        restore.stderr.contains("safety backup"),
        "{}",
        restore.stderr
    );
    assert!(
        restore.stderr.contains("undo it with: devctl restore"),
        "{}",
        restore.stderr
    );
    assert_eq!(snapshot(&fixture), before);
    assert!(
        fixture
            .running()
            .contains(&format!("{}-app-1", fixture.name)),
        "app was not started again"
    );

    let listing = listed(&fixture);
    let kinds: Vec<&str> = listing
        .iter()
        .map(|b| b["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["manual", "safety"], "{listing:?}");
    fixture.devctl().args(["backup", "verify"]).status(0).run();
}

#[test]
fn damaged_backups_fail_verify_and_restore_touches_nothing() {
    require_engine();
    let fixture = volume_project("damaged", "");
    fixture.devctl().args(["up"]).status(0).run();
    fixture.shell(
        "app",
        "dd if=/dev/urandom of=/data/blob bs=1K count=512 2>/dev/null && echo v1 > /data/note",
    );
    let id = backup(&fixture, &[]);
    fixture.shell("app", "echo v2 > /data/note");
    let live = snapshot(&fixture);
    let path = artifact(&fixture, &id);
    let original = std::fs::read(&path).unwrap();
    let manifest_path = fixture.backup_dir().join(&id).join("manifest.json");
    let manifest = std::fs::read_to_string(&manifest_path).unwrap();

    let mut flipped = original.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x01;
    let truncated = original[..original.len() / 2].to_vec();
    for (damage, bytes) in [("flipped byte", flipped), ("truncated", truncated)] {
        std::fs::write(&path, &bytes).unwrap();
        fixture
            .devctl()
            .args(["backup", "verify", &id])
            .status(INTEGRITY)
            .stderr("does not match the manifest")
            .run();
        fixture
            .devctl()
            .args(["restore", &id, "--confirm", &fixture.name])
            .status(INTEGRITY)
            .run();
        assert_eq!(
            snapshot(&fixture),
            live,
            "{damage}: the live volume changed"
        );
    }
    std::fs::write(&path, &original).unwrap();
    fixture
        .devctl()
        .args(["backup", "verify", &id])
        .status(0)
        .run();

    std::fs::write(
        &manifest_path,
        manifest.replace("\"raw_bytes\": ", "\"raw_bytes\": 1"),
    )
    .unwrap();
    fixture
        .devctl()
        .args(["backup", "verify"])
        .status(INTEGRITY)
        .run();
    fixture
        .devctl()
        .args(["restore", &id, "--confirm", &fixture.name])
        .status(INTEGRITY)
        .stderr("was changed after the backup was written")
        .run();
    assert_eq!(snapshot(&fixture), live);
    // No restore happened, so no safety backup was taken either.
    let listed = listed(&fixture);
    assert_eq!(listed.len(), 1);
}

/// Replaces a backup's artifact with a hand-made tar, fixing up every hash so that only the
/// entry guard can notice.
fn forge(fixture: &Fixture, id: &str, entries: &[(&str, tar::EntryType, Option<&str>)]) {
    use sha2::Digest;
    let mut builder = tar::Builder::new(Vec::new());
    for (path, kind, link) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(*kind);
        header.set_mode(0o644);
        header.set_size(if *kind == tar::EntryType::Regular {
            4
        } else {
            0
        });
        if let Some(link) = link {
            header.set_link_name(link).unwrap();
        }
        let name = path.as_bytes();
        header.as_old_mut().name[..name.len()].copy_from_slice(name);
        header.set_cksum();
        let data: &[u8] = if *kind == tar::EntryType::Regular {
            b"evil"
        } else {
            b""
        };
        builder.append(&header, data).unwrap();
    }
    let raw = builder.into_inner().unwrap();
    let stored = zstd::encode_all(&raw[..], 3).unwrap();
    let path = artifact(fixture, id);
    std::fs::write(&path, &stored).unwrap();
    let directory = fixture.backup_dir().join(id);
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(directory.join("manifest.json")).unwrap()).unwrap();
    let artifact = &mut manifest["artifacts"][0];
    artifact["sha256"] = hex::encode(sha2::Sha256::digest(&stored)).into();
    artifact["stored_bytes"] = stored.len().into();
    artifact["raw_bytes"] = raw.len().into();
    artifact["entries"] = entries.len().into();
    let text = serde_json::to_vec_pretty(&manifest).unwrap();
    std::fs::write(directory.join("manifest.json"), &text).unwrap();
    std::fs::write(
        directory.join("manifest.json.sha256"),
        format!(
            "{}  manifest.json\n",
            hex::encode(sha2::Sha256::digest(&text))
        ),
    )
    .unwrap();
}

#[test]
fn hand_made_archives_that_escape_are_refused_before_anything_is_written() {
    require_engine();
    let fixture = volume_project("escape", "");
    fixture.devctl().args(["up"]).status(0).run();
    fixture.shell("app", "echo keep > /data/keep");
    let live = snapshot(&fixture);
    for entries in [
        vec![
            ("devctl-volume/", tar::EntryType::Directory, None),
            ("devctl-volume/../../evil", tar::EntryType::Regular, None),
        ],
        vec![
            ("devctl-volume/", tar::EntryType::Directory, None),
            (
                "devctl-volume/link",
                tar::EntryType::Symlink,
                Some("../../../etc"),
            ),
        ],
        vec![
            ("devctl-volume/", tar::EntryType::Directory, None),
            ("devctl-volume/out", tar::EntryType::Symlink, Some("sub")),
            ("devctl-volume/out/evil", tar::EntryType::Regular, None),
        ],
    ] {
        let id = backup(&fixture, &[]);
        forge(&fixture, &id, &entries);
        fixture
            .devctl()
            .args(["restore", &id, "--confirm", &fixture.name])
            .status(INTEGRITY)
            .stderr("unsafe entry")
            .run();
        assert_eq!(snapshot(&fixture), live, "{entries:?} changed the volume");
    }
}

#[test]
fn stop_consistency_restarts_exactly_what_was_running() {
    require_engine();
    let fixture = Fixture::new("stop");
    fixture.write(
        "profiles/default.yaml",
        "compose:\n  project_name: {project}\n",
    );
    fixture.write(
        "compose.yaml",
        "services:\n  app:\n    image: {busybox}\n    init: true\n    command: [sleep, '600']\n    volumes: [data:/data]\n  idle:\n    image: {busybox}\n    init: true\n    command: [sleep, '600']\n    volumes: [data:/data]\n  other:\n    image: {busybox}\n    init: true\n    command: [sleep, '600']\nvolumes:\n  data:\n",
    );
    fixture.devctl().args(["up"]).status(0).run();
    let stop = std::process::Command::new("docker")
        .args(["stop", &format!("{}-idle-1", fixture.name)])
        .output()
        .unwrap();
    assert!(stop.status.success());
    let started_at = |service: &str| {
        let output = std::process::Command::new("docker")
            .args([
                "inspect",
                "--format",
                "{{.State.StartedAt}}",
                &format!("{}-{service}-1", fixture.name),
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    };
    let (app_before, other_before) = (started_at("app"), started_at("other"));
    let id = backup(&fixture, &[]);
    let running = fixture.running();
    assert!(
        running.contains(&format!("{}-app-1", fixture.name)),
        "{running:?}"
    );
    assert!(
        running.contains(&format!("{}-other-1", fixture.name)),
        "{running:?}"
    );
    assert!(
        !running.contains(&format!("{}-idle-1", fixture.name)),
        "idle was started: {running:?}"
    );
    assert_ne!(
        started_at("app"),
        app_before,
        "app was not stopped for the copy"
    );
    assert_eq!(
        started_at("other"),
        other_before,
        "other was stopped though it mounts nothing"
    );
    let manifest = manifest(&fixture, &id);
    assert_eq!(manifest["artifacts"][0]["method"], "stop");
    assert_eq!(
        manifest["artifacts"][0]["services_stopped"],
        serde_json::json!(["app"])
    );
}

#[test]
fn hook_consistency_stores_the_output_and_fails_with_the_hook() {
    require_engine();
    let profile = "backup:\n  volumes:\n    data:\n      method: hook\n      service: app\n      command: [sh, -c, 'echo dumped-line-1; cat /data/state']\n      restore: [sh, -c, 'cat > /data/restored']\n";
    let fixture = volume_project("hook", profile);
    fixture.devctl().args(["up"]).status(0).run();
    fixture.shell("app", "echo state-one > /data/state");
    let id = backup(&fixture, &[]);
    let stored = std::fs::read(artifact(&fixture, &id)).unwrap();
    let dump = String::from_utf8(zstd::decode_all(&stored[..]).unwrap()).unwrap();
    assert_eq!(dump, "dumped-line-1\nstate-one\n");
    fixture
        .devctl()
        .args(["restore", &id, "--confirm", &fixture.name])
        .status(0)
        .run();
    assert_eq!(
        fixture.shell("app", "cat /data/restored"),
        "dumped-line-1\nstate-one\n"
    );

    fixture.write(
        "profiles/default.yaml",
        &format!(
            "compose:\n  project_name: {{project}}\n{}",
            profile.replace("cat /data/state'", "cat /data/state; exit 3'")
        ),
    );
    let before = listed(&fixture);
    // A failed step (not a bug in devctl): exit 1, with the hook's message.
    let failed = fixture.devctl().args(["backup"]).status(1).run();
    assert!(
        failed
            .stderr
            .contains("the backup hook of volume data failed"),
        "{}",
        failed.stderr
    );
    let after = listed(&fixture);
    assert_eq!(before, after, "a failed hook left a backup");
}

#[test]
fn restore_needs_a_named_confirmation_and_always_takes_a_safety_backup() {
    require_engine();
    let fixture = volume_project("confirm", "");
    fixture.devctl().args(["up"]).status(0).run();
    fixture.shell("app", "echo one > /data/file");
    let id = backup(&fixture, &[]);
    fixture.shell("app", "echo two > /data/file");
    fixture
        .devctl()
        .args(["restore", &id])
        .status(REFUSED)
        .stderr("there is no terminal to ask on")
        .stderr(&format!("--confirm {}", fixture.name))
        .run();
    fixture
        .devctl()
        .args(["restore", &id, "--confirm", "some-other-project"])
        .status(REFUSED)
        .stderr("names `some-other-project`")
        .run();
    fixture
        .devctl()
        .env("DEVCTL_CONFIRM", "nope")
        .args(["restore", "--latest"])
        .status(REFUSED)
        .run();
    assert_eq!(fixture.shell("app", "cat /data/file"), "two\n");
    assert_eq!(listed(&fixture).len(), 1, "a refused restore took a backup");

    fixture
        .devctl()
        .env("DEVCTL_CONFIRM", &fixture.name)
        .args(["restore", &id])
        .status(0)
        .run();
    assert_eq!(fixture.shell("app", "cat /data/file"), "one\n");
    let safety = listed(&fixture)
        .iter()
        .find(|b| b["kind"] == "safety")
        .cloned()
        .unwrap();
    // The safety backup undoes the restore.
    fixture
        .devctl()
        .args([
            "restore",
            safety["id"].as_str().unwrap(),
            "--confirm",
            &fixture.name,
        ])
        .status(0)
        .run();
    assert_eq!(fixture.shell("app", "cat /data/file"), "two\n");
}

#[test]
fn restore_into_a_fresh_project_and_from_another_checkout() {
    require_engine();
    let source = volume_project("source", "");
    source.devctl().args(["up"]).status(0).run();
    source.shell(
        "app",
        "mkdir /data/d && echo precious > /data/d/file && chown -R 999:999 /data/d",
    );
    let id = backup(&source, &[]);
    let expected = snapshot(&source);

    // Same project, its volume gone (as after `down -v`, or on a fresh clone).
    source.devctl().args(["down"]).status(0).run();
    let removed = std::process::Command::new("docker")
        .args(["volume", "rm", &format!("{}_data", source.name)])
        .output()
        .unwrap();
    assert!(removed.status.success());
    source
        .devctl()
        .args(["restore", &id, "--confirm", &source.name])
        .status(0)
        .run();
    assert_eq!(source.volumes(), vec![format!("{}_data", source.name)]);
    source.devctl().args(["up"]).status(0).run();
    assert_eq!(snapshot(&source), expected);

    // Another checkout under another project name, from the backup directory itself.
    let other = volume_project("other", "");
    other
        .devctl()
        .args(["restore", "--from"])
        .args([source.backup_dir().join(&id)])
        .args(["--confirm", &other.name])
        .status(0)
        .run();
    other
        .devctl()
        .args(["up"])
        .status(0)
        .stderr_absent("already exists but was not created")
        .run();
    assert_eq!(snapshot(&other), expected);
}

#[test]
fn prune_keeps_the_newest_and_refuses_to_remove_all() {
    require_engine();
    let fixture = volume_project("prune", "backup:\n  method: live\n");
    fixture.devctl().args(["up"]).status(0).run();
    let ids: Vec<String> = (0..3).map(|_| backup(&fixture, &[])).collect();
    let live = fixture.devctl().args(["backup"]).status(0).run();
    assert!(
        live.stderr.contains("copied while in use"),
        "{}",
        live.stderr
    );
    fixture
        .devctl()
        .args(["backup", "prune", "--keep", "0"])
        .status(64)
        .stderr("would remove every backup")
        .run();
    fixture
        .devctl()
        .args(["backup", "prune", "--keep", "2"])
        .status(REFUSED)
        .stderr(&format!("will remove backup {} (manual)", ids[0]))
        .run();
    fixture
        .devctl()
        .args(["backup", "prune", "--keep", "2", "--confirm", &fixture.name])
        .status(0)
        .run();
    let listed = listed(&fixture);
    let left: Vec<&str> = listed.iter().map(|b| b["id"].as_str().unwrap()).collect();
    assert_eq!(left.len(), 2);
    assert!(
        !left.contains(&ids[0].as_str()) && !left.contains(&ids[1].as_str()),
        "{left:?}"
    );
    assert_eq!(left[1], live.stdout.trim(), "the newest was not kept");
}

pub fn directory_has_partial(directory: &Path) -> bool {
    std::fs::read_dir(directory)
        .map(|entries| {
            entries
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with(".partial-"))
        })
        .unwrap_or(false)
}

#[test]
fn on_a_terminal_the_project_name_must_be_typed() {
    require_engine();
    let fixture = volume_project("typed", "");
    fixture.devctl().args(["up"]).status(0).run();
    fixture.shell("app", "echo one > /data/file");
    let id = backup(&fixture, &[]);
    fixture.shell("app", "echo two > /data/file");
    // What is typed on the terminal is what the person types.
    let restore = format!("restore {id} --no-safety-backup");
    let typed = |text: &str| crate::harness::typed_on_terminal(&fixture, &restore, text);
    let (code, screen) = typed("not-the-name");
    assert_eq!(code, Some(REFUSED), "{screen}");
    assert!(
        screen.contains(&format!("type the project name `{}`", fixture.name)),
        "{screen}"
    );
    assert!(screen.contains("will replace: data"), "{screen}");
    assert_eq!(fixture.shell("app", "cat /data/file"), "two\n");
    let (code, screen) = typed(&fixture.name);
    assert_eq!(code, Some(0), "{screen}");
    assert_eq!(fixture.shell("app", "cat /data/file"), "one\n");
}

/// Removes a volume by name when dropped (external volumes carry no project label).
pub struct VolumeGuard(pub String);

impl Drop for VolumeGuard {
    fn drop(&mut self) {
        // The fixture's containers may still use it: they go first.
        let users = std::process::Command::new("docker")
            .args(["ps", "-aq", "--filter", &format!("volume={}", self.0)])
            .output();
        if let Ok(users) = users {
            for id in String::from_utf8_lossy(&users.stdout).split_whitespace() {
                let _ = std::process::Command::new("docker")
                    .args(["rm", "-f", "-v", id])
                    .output();
            }
        }
        let _ = std::process::Command::new("docker")
            .args(["volume", "rm", "-f", &self.0])
            .output();
    }
}

#[test]
fn external_volumes_are_backed_up_and_recreated_by_their_declared_name() {
    require_engine();
    let fixture = Fixture::new("external");
    let external = format!("{}-shared", fixture.name);
    let _guard = VolumeGuard(external.clone());
    fixture.write(
        "profiles/default.yaml",
        "compose:\n  project_name: {project}\n",
    );
    fixture.write(
        "compose.yaml",
        &format!(
            "services:\n  app:\n    image: {{busybox}}\n    init: true\n    command: [sleep, '600']\n    volumes: [data:/data, shared:/shared]\nvolumes:\n  data:\n  shared:\n    external: true\n    name: {external}\n"
        ),
    );
    let created = std::process::Command::new("docker")
        .args(["volume", "create", &external])
        .output()
        .unwrap();
    assert!(created.status.success());
    fixture.devctl().args(["up"]).status(0).run();
    fixture.shell(
        "app",
        "echo outside > /shared/precious && echo inside > /data/file",
    );
    let id = backup(&fixture, &[]);
    let manifest = manifest(&fixture, &id);
    let keys: Vec<(&str, bool)> = manifest["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["key"].as_str().unwrap(), a["external"].as_bool().unwrap()))
        .collect();
    assert_eq!(keys, vec![("data", false), ("shared", true)]);

    fixture.devctl().args(["down"]).status(0).run();
    for volume in [external.clone(), format!("{}_data", fixture.name)] {
        let removed = std::process::Command::new("docker")
            .args(["volume", "rm", &volume])
            .output()
            .unwrap();
        assert!(
            removed.status.success(),
            "{}",
            String::from_utf8_lossy(&removed.stderr)
        );
    }
    fixture
        .devctl()
        .args(["restore", &id, "--confirm", &fixture.name])
        .status(0)
        .run();
    fixture.devctl().args(["up"]).status(0).run();
    assert_eq!(
        fixture.shell("app", "cat /shared/precious /data/file"),
        "outside\ninside\n"
    );
}

/// Unmounts a directory when dropped.
struct MountGuard(PathBuf);

impl Drop for MountGuard {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).output();
    }
}

#[test]
fn a_backup_that_would_not_fit_says_so_before_it_starts() {
    require_engine();
    let fixture = volume_project("room", "");
    fixture.devctl().args(["up"]).status(0).run();
    fixture.shell(
        "app",
        "dd if=/dev/urandom of=/data/blob bs=1M count=8 2>/dev/null",
    );
    let small = fixture.root().join("../small-disk");
    std::fs::create_dir_all(&small).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=2m", "tmpfs"])
        .arg(&small)
        .output()
        .unwrap();
    assert!(
        mounted.status.success(),
        "cannot mount a small tmpfs: {}",
        String::from_utf8_lossy(&mounted.stderr)
    );
    let _guard = MountGuard(small.clone());
    fixture
        .devctl()
        .env("DEVCTL_BACKUP_DIR", &small)
        .args(["backup"])
        .status(74)
        .stderr("not enough room for this backup")
        .stderr("DEVCTL_BACKUP_DIR")
        .run();
    let left: Vec<_> = std::fs::read_dir(small.join(&fixture.name))
        .map(|d| d.flatten().count())
        .into_iter()
        .collect();
    assert!(
        left.iter().all(|count| *count == 0),
        "the refused backup left files"
    );
    assert!(
        fixture
            .running()
            .contains(&format!("{}-app-1", fixture.name)),
        "app was stopped"
    );
}

#[test]
fn anonymous_volumes_are_backed_up_on_request_and_not_restored_in_place() {
    require_engine();
    let fixture = Fixture::new("anonymous");
    fixture.write(
        "profiles/default.yaml",
        "compose:\n  project_name: {project}\n",
    );
    fixture.write(
        "compose.yaml",
        "services:\n  app:\n    image: {busybox}\n    init: true\n    command: [sleep, '600']\n    volumes: [data:/data, /cache]\nvolumes:\n  data:\n",
    );
    fixture.devctl().args(["up"]).status(0).run();
    // Restore keeps the old anonymous volume when it recreates the container: remove it after.
    let inspect = std::process::Command::new("docker")
        .args([
            "inspect",
            "--format",
            "{{range .Mounts}}{{if eq .Destination \"/cache\"}}{{.Name}}{{end}}{{end}}",
            &format!("{}-app-1", fixture.name),
        ])
        .output()
        .unwrap();
    let _anonymous = VolumeGuard(String::from_utf8_lossy(&inspect.stdout).trim().to_string());
    fixture.shell(
        "app",
        "echo cached > /cache/file && echo named > /data/file",
    );
    let plain = backup(&fixture, &[]);
    let with_anonymous = backup(&fixture, &["--anonymous"]);
    let keys = |id: &str| -> Vec<String> {
        let manifest = manifest(&fixture, id);
        manifest["artifacts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["key"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(keys(&plain), vec!["data"]);
    assert_eq!(keys(&with_anonymous), vec!["app:/cache", "data"]);
    fixture
        .devctl()
        .args([
            "restore",
            &with_anonymous,
            "--volume",
            "app:/cache",
            "--confirm",
            &fixture.name,
        ])
        .status(64)
        .stderr("is anonymous")
        .run();
    fixture
        .devctl()
        .args(["restore", &with_anonymous, "--confirm", &fixture.name])
        .status(0)
        .stderr("not restored in place: app:/cache")
        .run();
    assert_eq!(fixture.shell("app", "cat /data/file"), "named\n");
}

#[test]
fn safety_backups_are_pruned_to_the_profile_s_count_but_never_the_one_restored() {
    require_engine();
    let fixture = volume_project("safety-pruned", "guard:\n  keep_automatic_backups: 1\n");
    fixture.devctl().args(["up"]).status(0).run();
    fixture.shell("app", "echo mine > /data/file");
    let manual = backup(&fixture, &["--label", "mine"]);
    for round in 0..3 {
        fixture.shell("app", &format!("echo {round} > /data/file"));
        fixture
            .devctl()
            .args(["restore", &manual, "--confirm", &fixture.name])
            .status(0)
            .run();
    }
    let listing = listed(&fixture);
    let kinds: Vec<&str> = listing
        .iter()
        .map(|b| b["kind"].as_str().unwrap())
        .collect();
    // The manual backup stays; of the three safety backups only the newest is kept.
    assert_eq!(kinds, ["manual", "safety"], "{listing:#?}");
    let safety = listing[1]["id"].as_str().unwrap().to_string();
    assert_eq!(fixture.shell("app", "cat /data/file"), "mine\n");

    // Restoring that safety backup takes a new one, and the one being restored is spared.
    let restored = fixture
        .devctl()
        .args(["restore", &safety, "--confirm", &fixture.name])
        .status(0)
        .run();
    assert!(
        !restored
            .stderr
            .contains("removed the older automatic backup"),
        "{}",
        restored.stderr
    );
    assert_eq!(fixture.shell("app", "cat /data/file"), "2\n");
    let ids: Vec<String> = listed(&fixture)
        .iter()
        .map(|b| b["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert_eq!(ids[..2], [manual.clone(), safety.clone()]);
    // The next restore prunes down to one again, the manual one untouched.
    fixture
        .devctl()
        .args(["restore", &manual, "--confirm", &fixture.name])
        .status(0)
        .stderr(&format!("removed the older automatic backup {safety}"))
        .run();
    let kinds: Vec<String> = listed(&fixture)
        .iter()
        .map(|b| b["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds, ["manual", "safety"]);
}

/// Runs `devctl ARGUMENTS` in `fixture` on a pseudo-terminal (`script` gives it one) and
/// returns the exit code and every byte the terminal received.
fn on_terminal(fixture: &Fixture, arguments: &str) -> (Option<i32>, String) {
    let devctl = env!("CARGO_BIN_EXE_devctl");
    let output = std::process::Command::new("script")
        .args(["-qfec", &format!("{devctl} {arguments}"), "/dev/null"])
        .current_dir(fixture.root())
        .env("DEVCTL_STATE_DIR", fixture.state_dir())
        .env("DEVCTL_BACKUP_DIR", fixture.backup_dir().parent().unwrap())
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

/// The lines a terminal shows once it has received `stream`: a small emulator for what
/// devctl, indicatif and compose write (text, `\r`, `\n`, and the escape sequences that move
/// the cursor up, to a column, or clear a line; others are ignored).
fn screen(stream: &str) -> Vec<String> {
    let mut lines: Vec<Vec<char>> = vec![Vec::new()];
    let (mut row, mut column) = (0usize, 0usize);
    let mut characters = stream.chars().peekable();
    while let Some(character) = characters.next() {
        match character {
            '\r' => column = 0,
            '\n' => {
                row += 1;
                if row == lines.len() {
                    lines.push(Vec::new());
                }
            }
            '\u{1b}' if characters.peek() == Some(&'[') => {
                characters.next();
                let mut parameter = String::new();
                let mut command = ' ';
                for next in characters.by_ref() {
                    if next.is_ascii_alphabetic() {
                        command = next;
                        break;
                    }
                    parameter.push(next);
                }
                let count: usize = parameter.parse().unwrap_or(1);
                match command {
                    'A' => row = row.saturating_sub(count),
                    'G' => column = count.saturating_sub(1),
                    'K' if parameter == "2" => lines[row].clear(),
                    'K' => lines[row].truncate(column),
                    'J' => lines.truncate(row + 1),
                    _ => {}
                }
            }
            _ => {
                let line = &mut lines[row];
                while line.len() < column {
                    line.push(' ');
                }
                if column < line.len() {
                    line[column] = character;
                } else {
                    line.push(character);
                }
                column += 1;
            }
        }
    }
    lines
        .into_iter()
        .map(|line| line.into_iter().collect::<String>().trim_end().to_string())
        .filter(|line| !line.is_empty())
        .collect()
}

#[test]
fn a_finished_copy_leaves_no_progress_line_on_the_terminal() {
    require_engine();
    // `live`: nothing else (compose's own output) is drawn over the line after the copy.
    let fixture = volume_project("progress", "backup:\n  method: live\n");
    fixture.devctl().args(["up"]).status(0).run();
    fixture.shell(
        "app",
        "dd if=/dev/urandom of=/data/blob bs=1M count=16 2>/dev/null",
    );
    for arguments in ["backup", "backup --label second"] {
        let (code, stream) = on_terminal(&fixture, arguments);
        assert_eq!(code, Some(0), "{stream:?}");
        let shown = screen(&stream);
        // The bar was drawn…
        assert!(stream.contains("B/s"), "{stream:?}");
        // …and is gone once the copy finished: no line of the screen is a progress line.
        let left: Vec<&String> = shown
            .iter()
            .filter(|line| line.contains("B/s") || line.contains('░') || line.contains('█'))
            .collect();
        assert!(
            left.is_empty(),
            "progress left on screen: {left:?}\n{shown:#?}"
        );
        assert!(
            shown
                .iter()
                .any(|line| line.starts_with("backup 2") && line.contains("16.0 MiB →")),
            "{shown:#?}"
        );
    }
}
