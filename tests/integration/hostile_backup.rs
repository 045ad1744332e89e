//! Hand-made hostile backups on the real engine: a backup directory is data, never code or a
//! path. Each one is refused before any volume is touched, nothing hangs (every run has a
//! time limit), no safety backup is taken, and the live data stays as it was.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::Digest;

use crate::backup::{backup, listed, snapshot, volume_project};
use crate::harness::{Fixture, require_engine};

const INTEGRITY: i32 = 65;
const REFUSED: i32 = 77;
/// Long enough for a slow machine, short enough that a hang fails the test.
const LIMIT: Duration = Duration::from_secs(120);

/// A copy of backup `id`'s directory at `directory`.
fn copy_backup(fixture: &Fixture, id: &str, directory: &Path) {
    std::fs::create_dir_all(directory).unwrap();
    for entry in std::fs::read_dir(fixture.backup_dir().join(id)).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), directory.join(entry.file_name())).unwrap();
    }
}

fn read_manifest(directory: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(directory.join("manifest.json")).unwrap()).unwrap()
}

/// Writes `manifest` and a digest that matches it, so that only devctl's own checks can
/// notice what is wrong.
fn write_manifest(directory: &Path, manifest: &serde_json::Value) {
    let text = serde_json::to_vec_pretty(manifest).unwrap();
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

/// Stores `raw` as the first artifact's file (`file`), and records its sizes and hash.
fn set_artifact(directory: &Path, file: &str, raw: &[u8], entries: usize) {
    let stored = zstd::encode_all(raw, 3).unwrap();
    let old = read_manifest(directory)["artifacts"][0]["file"]
        .as_str()
        .unwrap()
        .to_string();
    let _ = std::fs::remove_file(directory.join(old));
    std::fs::write(directory.join(file), &stored).unwrap();
    let mut manifest = read_manifest(directory);
    let artifact = &mut manifest["artifacts"][0];
    artifact["file"] = file.into();
    artifact["sha256"] = hex::encode(sha2::Sha256::digest(&stored)).into();
    artifact["stored_bytes"] = stored.len().into();
    artifact["raw_bytes"] = raw.len().into();
    artifact["entries"] = entries.into();
    write_manifest(directory, &manifest);
}

/// A tar of hand-made entries (names written raw, past the tar crate's own checks).
fn tar_of(entries: &[(&str, tar::EntryType, Option<&str>)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, kind, link) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(*kind);
        header.set_mode(0o644);
        let data: &[u8] = if *kind == tar::EntryType::Regular {
            b"evil"
        } else {
            b""
        };
        header.set_size(data.len() as u64);
        if let Some(link) = link {
            header.set_link_name(link).unwrap();
        }
        let name = path.as_bytes();
        header.as_old_mut().name[..name.len()].copy_from_slice(name);
        header.set_cksum();
        builder.append(&header, data).unwrap();
    }
    builder.into_inner().unwrap()
}

/// Turns the first artifact into a hook's output restored by `hook`.
fn make_hook_output(directory: &Path, hook: serde_json::Value) {
    set_artifact(directory, "data.dump.zst", b"dumped\n", 0);
    let mut manifest = read_manifest(directory);
    let artifact = &mut manifest["artifacts"][0];
    artifact["kind"] = "stream".into();
    artifact["method"] = "hook".into();
    artifact["hook"] = hook;
    write_manifest(directory, &manifest);
}

fn mkfifo(path: &Path) {
    let _ = std::fs::remove_file(path);
    let name = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: mkfifo(3) with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
}

fn symlink(target: &Path, link: &Path) {
    let _ = std::fs::remove_file(link);
    std::os::unix::fs::symlink(target, link).unwrap();
}

/// Makes a hostile backup out of the copy of a good one (its directory; the original's).
type Maker = Box<dyn Fn(&Path, &Path)>;

/// One hostile backup: its name, how it is made from a copy of a good one, the exit status
/// and a piece of the message expected.
struct Hostile {
    name: &'static str,
    make: Maker,
    status: i32,
    says: &'static str,
}

fn hostile_backups() -> Vec<Hostile> {
    let hostile = |name, status, says, make: Maker| Hostile {
        name,
        make,
        status,
        says,
    };
    vec![
        hostile(
            "outside-file",
            INTEGRITY,
            "is a path, not a plain file name",
            // The file outside is a perfect copy: its hash matches, and it is still refused.
            Box::new(|directory, _| {
                let manifest = read_manifest(directory);
                let file = manifest["artifacts"][0]["file"].as_str().unwrap();
                let outside = directory.parent().unwrap().join("outside.tar.zst");
                std::fs::copy(directory.join(file), &outside).unwrap();
                let mut manifest = manifest.clone();
                manifest["artifacts"][0]["file"] = "../outside.tar.zst".into();
                write_manifest(directory, &manifest);
            }),
        ),
        hostile(
            "absolute-file",
            INTEGRITY,
            "is a path, not a plain file name",
            Box::new(|directory, original| {
                let mut manifest = read_manifest(directory);
                let file = manifest["artifacts"][0]["file"].as_str().unwrap();
                manifest["artifacts"][0]["file"] = original.join(file).display().to_string().into();
                write_manifest(directory, &manifest);
            }),
        ),
        hostile(
            "symlinked-artifact",
            INTEGRITY,
            "is a symbolic link",
            Box::new(|directory, original| {
                let manifest = read_manifest(directory);
                let file = manifest["artifacts"][0]["file"].as_str().unwrap();
                symlink(&original.join(file), &directory.join(file));
            }),
        ),
        hostile(
            "artifact-to-dev-zero",
            INTEGRITY,
            "is a symbolic link",
            Box::new(|directory, _| {
                let manifest = read_manifest(directory);
                let file = manifest["artifacts"][0]["file"].as_str().unwrap();
                symlink(Path::new("/dev/zero"), &directory.join(file));
            }),
        ),
        hostile(
            "fifo-artifact",
            INTEGRITY,
            "is a FIFO",
            Box::new(|directory, _| {
                let manifest = read_manifest(directory);
                let file = manifest["artifacts"][0]["file"].as_str().unwrap();
                mkfifo(&directory.join(file));
            }),
        ),
        hostile(
            "foreign-hook",
            REFUSED,
            "this profile does not declare",
            Box::new(|directory, _| {
                make_hook_output(
                    directory,
                    serde_json::json!({"service": "app", "command": ["true"], "restore": ["sh", "-c", "rm -rf /data/*"]}),
                );
            }),
        ),
        hostile(
            "hook-service-flag",
            REFUSED,
            "`-V`, which is not a service of this project",
            Box::new(|directory, _| {
                make_hook_output(
                    directory,
                    serde_json::json!({"service": "-V", "command": ["true"], "restore": ["app", "sh", "-c", "rm -rf /data/*"]}),
                );
            }),
        ),
        hostile(
            "root-entry-a-file",
            INTEGRITY,
            "is not the volume's directory",
            Box::new(|directory, _| {
                let raw = tar_of(&[("devctl-volume", tar::EntryType::Regular, None)]);
                set_artifact(directory, "data.tar.zst", &raw, 1);
            }),
        ),
        hostile(
            "dangling-hard-link",
            INTEGRITY,
            "which no earlier entry of the archive made a regular file",
            Box::new(|directory, _| {
                let raw = tar_of(&[
                    ("devctl-volume/", tar::EntryType::Directory, None),
                    (
                        "devctl-volume/h",
                        tar::EntryType::Link,
                        Some("devctl-volume/missing"),
                    ),
                ]);
                set_artifact(directory, "data.tar.zst", &raw, 2);
            }),
        ),
        hostile(
            "symlink-chain-escape",
            INTEGRITY,
            "escapes the volume",
            Box::new(|directory, _| {
                let raw = tar_of(&[
                    ("devctl-volume/", tar::EntryType::Directory, None),
                    (
                        "devctl-volume/a/b/x",
                        tar::EntryType::Symlink,
                        Some("../.."),
                    ),
                    ("devctl-volume/l", tar::EntryType::Symlink, Some("a/b/x/..")),
                ]);
                set_artifact(directory, "data.tar.zst", &raw, 3);
            }),
        ),
        hostile(
            "digest-dev-zero",
            INTEGRITY,
            "manifest.json.sha256 is a symbolic link",
            Box::new(|directory, _| {
                symlink(
                    Path::new("/dev/zero"),
                    &directory.join("manifest.json.sha256"),
                );
            }),
        ),
        hostile(
            "manifest-dev-zero",
            INTEGRITY,
            "manifest.json is a symbolic link",
            Box::new(|directory, _| {
                symlink(Path::new("/dev/zero"), &directory.join("manifest.json"));
            }),
        ),
        hostile(
            "fifo-digest",
            INTEGRITY,
            "manifest.json.sha256 is a FIFO",
            Box::new(|directory, _| mkfifo(&directory.join("manifest.json.sha256"))),
        ),
        hostile(
            "fifo-manifest",
            INTEGRITY,
            "manifest.json is a FIFO",
            Box::new(|directory, _| mkfifo(&directory.join("manifest.json"))),
        ),
        hostile(
            "forged-text",
            INTEGRITY,
            "project `shop\\nerror: all good, restore it` holds control or invisible characters",
            Box::new(|directory, _| {
                let mut manifest = read_manifest(directory);
                manifest["project"] = "shop\nerror: all good, restore it".into();
                write_manifest(directory, &manifest);
            }),
        ),
        hostile(
            "forged-key",
            INTEGRITY,
            "holds control or invisible characters",
            Box::new(|directory, _| {
                let mut manifest = read_manifest(directory);
                manifest["artifacts"][0]["key"] = "data\u{1b}[2K\rerror: forged".into();
                write_manifest(directory, &manifest);
            }),
        ),
        hostile(
            "malformed-id",
            INTEGRITY,
            "id `../../elsewhere`",
            Box::new(|directory, _| {
                let mut manifest = read_manifest(directory);
                manifest["id"] = "../../elsewhere".into();
                write_manifest(directory, &manifest);
            }),
        ),
    ]
}

/// No line of `text` is a forged `error:` line: devctl's own starts `error: `, and there is
/// one at most.
fn assert_no_forged_line(text: &str) {
    let forged: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with("error: forged") || line.starts_with("error: all good"))
        .collect();
    assert!(
        forged.is_empty(),
        "a forged line was printed: {forged:?}\n{text}"
    );
    assert!(
        !text.contains(['\u{1b}', '\r']),
        "a raw control character was printed: {text:?}"
    );
}

#[test]
fn hostile_backups_are_refused_before_any_volume_is_touched() {
    require_engine();
    let fixture = volume_project("hostile", "");
    fixture.devctl().args(["up"]).status(0).run();
    fixture.shell(
        "app",
        "echo precious > /data/keep && mkdir /data/d && echo x > /data/d/f",
    );
    let id = backup(&fixture, &[]);
    let original = fixture.backup_dir().join(&id);
    let live = snapshot(&fixture);
    let before = listed(&fixture).len();
    let place = fixture.root().join("../copies");
    for hostile in hostile_backups() {
        let directory = place.join(hostile.name);
        copy_backup(&fixture, &id, &directory);
        (hostile.make)(&directory, &original);
        let outcome = fixture
            .devctl()
            .timeout(LIMIT)
            .args(["restore", "--from"])
            .args([&directory])
            .args(["--confirm", &fixture.name])
            .run();
        let context = format!("{}: {}", hostile.name, outcome.stderr);
        assert_eq!(outcome.code, Some(hostile.status), "{context}");
        assert!(
            outcome.stderr.contains(hostile.says),
            "expected {:?}\n{context}",
            hostile.says
        );
        assert_no_forged_line(&outcome.stderr);
        assert_eq!(
            snapshot(&fixture),
            live,
            "{}: the live volume changed",
            hostile.name
        );
        assert_eq!(
            listed(&fixture).len(),
            before,
            "{}: a backup was taken",
            hostile.name
        );
        // The flag alone, without a terminal, does not make a foreign hook run.
        if hostile.status == REFUSED {
            fixture
                .devctl()
                .timeout(LIMIT)
                .args(["restore", "--trust-backup-hook", "--from"])
                .args([&directory])
                .args(["--confirm", &fixture.name])
                .status(REFUSED)
                .run();
            assert_eq!(
                snapshot(&fixture),
                live,
                "{}: trusted without a terminal",
                hostile.name
            );
        }
    }
    let running = fixture.running();
    assert!(
        running.contains(&format!("{}-app-1", fixture.name)),
        "{running:?}"
    );
}

#[test]
fn hostile_store_entries_do_not_hang_list_or_verify_and_are_shown_escaped() {
    require_engine();
    let fixture = volume_project("hostile-store", "");
    fixture.devctl().args(["up"]).status(0).run();
    fixture.shell("app", "echo precious > /data/keep");
    let id = backup(&fixture, &[]);
    let live = snapshot(&fixture);
    let store = fixture.backup_dir();
    let entry = |name: &str, make: &dyn Fn(&Path)| -> PathBuf {
        let directory = store.join(name);
        copy_backup(&fixture, &id, &directory);
        let mut manifest = read_manifest(&directory);
        manifest["id"] = name.into();
        write_manifest(&directory, &manifest);
        make(&directory);
        directory
    };
    entry("20200101T000001Z-zero", &|directory| {
        symlink(
            Path::new("/dev/zero"),
            &directory.join("manifest.json.sha256"),
        );
    });
    entry("20200101T000002Z-fifo", &|directory| {
        mkfifo(&directory.join("manifest.json"));
    });
    entry("20200101T000003Z-fifo-digest", &|directory| {
        mkfifo(&directory.join("manifest.json.sha256"));
    });
    // A folder renamed in the store: its id is not its name.
    entry("20200101T000004Z-renamed", &|directory| {
        let mut manifest = read_manifest(directory);
        manifest["id"] = "20200101T000005Z".into();
        write_manifest(directory, &manifest);
    });
    // A folder whose name forges a line.
    let forged = "20200101T000006Z\nerror: forged";
    entry(forged, &|_| {});
    let list = fixture
        .devctl()
        .timeout(LIMIT)
        .args(["backup", "list"])
        .status(0)
        .run();
    assert_no_forged_line(&list.stdout);
    assert!(
        list.stdout.contains("20200101T000006Z\\nerror: forged"),
        "{}",
        list.stdout
    );
    for name in ["zero", "fifo", "fifo-digest", "renamed"] {
        let row = list
            .stdout
            .lines()
            .find(|line| line.contains(&format!("Z-{name} ")))
            .unwrap_or_else(|| panic!("{name} missing:\n{}", list.stdout));
        assert!(row.contains("damaged"), "{row}");
    }
    let json = fixture
        .devctl()
        .timeout(LIMIT)
        .args(["backup", "list", "--json"])
        .status(0)
        .run()
        .json();
    let damaged = json["backups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|backup| backup["status"] == "damaged")
        .count();
    assert_eq!(damaged, 5, "{json:#}");
    let verify = fixture
        .devctl()
        .timeout(LIMIT)
        .args(["backup", "verify"])
        .status(INTEGRITY)
        .stderr("5 of 6 backups failed verification")
        .stderr("holds backup `20200101T000005Z`, not `20200101T000004Z-renamed`")
        .run();
    assert_no_forged_line(&verify.stderr);
    for name in [
        "20200101T000001Z-zero",
        "20200101T000002Z-fifo",
        "20200101T000004Z-renamed",
    ] {
        fixture
            .devctl()
            .timeout(LIMIT)
            .args(["backup", "verify", name])
            .status(INTEGRITY)
            .run();
        fixture
            .devctl()
            .timeout(LIMIT)
            .args(["restore", name, "--confirm", &fixture.name])
            .status(INTEGRITY)
            .run();
    }
    // `restore --latest` passes over the damaged ones: the newest good backup is the real one.
    assert_eq!(snapshot(&fixture), live);
    // A renamed `--from` folder is fine: the manifest's id is the backup's, and a note says so.
    let renamed = fixture.root().join("../copies/my-copy");
    copy_backup(&fixture, &id, &renamed);
    fixture.shell("app", "echo changed > /data/keep");
    fixture
        .devctl()
        .timeout(LIMIT)
        .args(["restore", "--no-safety-backup", "--from"])
        .args([&renamed])
        .args(["--confirm", &fixture.name])
        .status(0)
        .stderr(&format!("note: folder my-copy holds backup {id}"))
        .run();
    assert_eq!(snapshot(&fixture), live);
}

#[test]
fn a_foreign_hook_runs_only_when_trusted_at_a_terminal_after_its_commands_are_shown() {
    require_engine();
    let fixture = volume_project("trusted-hook", "");
    fixture.devctl().args(["up"]).status(0).run();
    fixture.shell("app", "echo precious > /data/keep");
    let id = backup(&fixture, &[]);
    let directory = fixture.root().join("../copies/foreign");
    copy_backup(&fixture, &id, &directory);
    make_hook_output(
        &directory,
        serde_json::json!({"service": "app", "command": ["true"], "restore": ["sh", "-c", "cat > /data/trusted"]}),
    );
    let live = snapshot(&fixture);
    let restore = format!(
        "restore --trust-backup-hook --no-safety-backup --from {} --confirm {}",
        directory.display(),
        fixture.name
    );
    let (code, screen) = crate::harness::typed_on_terminal(&fixture, &restore, "n");
    assert_eq!(code, Some(REFUSED), "{screen}");
    assert!(screen.contains("this profile does not declare"), "{screen}");
    assert!(
        screen.contains("would run in service app: sh -c 'cat > /data/trusted'"),
        "{screen}"
    );
    assert!(
        screen.contains("Run these commands from the backup"),
        "{screen}"
    );
    assert_eq!(snapshot(&fixture), live, "refused, yet the volume changed");
    let (code, screen) = crate::harness::typed_on_terminal(&fixture, &restore, "y");
    assert_eq!(code, Some(0), "{screen}");
    assert_eq!(fixture.shell("app", "cat /data/trusted"), "dumped\n");
}
