//! Portable bundles on the real engine: `backup export` of a project with a built image and a
//! volume, carried as a file onto an engine that has neither, `backup import`, `up` and
//! `restore`; and bundles changed anywhere, cut short, forged or not files at all, refused
//! before anything is stored or loaded.

use std::path::{Path, PathBuf};
use std::process::Command;

use devctl::backup::bundle::{self, Index, Member};
use sha2::{Digest, Sha256};

use crate::backup::{backup, listed, snapshot, volume_project};
use crate::harness::{Fixture, require_engine};

const BAD_INPUT: i32 = 64;
const INTEGRITY: i32 = 65;
const REFUSED: i32 = 77;

/// Values of the project's `.env`, which no bundle may hold.
const GREETING: &str = "hello-from-dotenv-4711";
const PASSWORD: &str = "pa55-word-from-dotenv-0815";

/// A project whose `app` is built from a Dockerfile on the test image, gets two variables of
/// its `.env` (one under a secret name, one not), and mounts the volume `data`.
fn built_project(label: &str) -> Fixture {
    let fixture = Fixture::new(label);
    fixture.write(
        "profiles/default.yaml",
        "compose:\n  project_name: {project}\n",
    );
    fixture.write(
        "app/Dockerfile",
        "FROM {busybox}\nRUN echo built > /built\n",
    );
    fixture.write(
        "compose.yaml",
        "services:\n  app:\n    build: ./app\n    init: true\n    command: [sh, -c, 'echo ${GREETING} > /tmp/greeting; exec sleep 600']\n    environment:\n      GREETING: ${GREETING}\n      DB_PASSWORD: ${DB_PASSWORD}\n    volumes: [data:/data]\nvolumes:\n  data:\n",
    );
    fixture.write(
        ".env",
        &format!("GREETING={GREETING}\nDB_PASSWORD={PASSWORD}\n"),
    );
    fixture
}

fn docker(arguments: &[&str]) -> (bool, String) {
    let output = Command::new("docker").args(arguments).output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).trim().to_string(),
    )
}

/// The id of image `reference` on the engine, if it has it.
fn image_id(reference: &str) -> Option<String> {
    match docker(&["image", "inspect", "--format", "{{.Id}}", reference]) {
        (true, id) => Some(id),
        (false, _) => None,
    }
}

/// Where a fixture keeps a bundle: beside its project folder.
fn bundle_path(fixture: &Fixture, name: &str) -> PathBuf {
    fixture.root().parent().unwrap().join(name)
}

/// A running volume project with one file in its volume, backed up and exported to the
/// bundle `name` beside it: the project, the backup's id and the bundle's path.
fn exported_project(label: &str, name: &str) -> (Fixture, String, PathBuf) {
    require_engine();
    let fixture = volume_project(label, "");
    fixture.devctl().args(["up"]).status(0).run();
    fixture.shell("app", "echo one > /data/file");
    let id = backup(&fixture, &[]);
    let path = bundle_path(&fixture, name);
    fixture
        .devctl()
        .args(["backup", "export", &id, "-o", &path.display().to_string()])
        .status(0)
        .run();
    (fixture, id, path)
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

/// The bundle's members as a tar reader sees them: name, header offset, data offset, size.
fn layout(bytes: &[u8]) -> Vec<(String, u64, u64, u64)> {
    let mut archive = tar::Archive::new(bytes);
    archive
        .entries()
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            (
                entry.path().unwrap().display().to_string(),
                entry.raw_header_position(),
                entry.raw_file_position(),
                entry.size(),
            )
        })
        .collect()
}

/// The index and members of a bundle.
fn members(bytes: &[u8]) -> (Index, Vec<(String, Vec<u8>)>) {
    let mut members = Vec::new();
    for (name, _, data, size) in layout(bytes) {
        let data = &bytes[data as usize..(data + size) as usize];
        members.push((name, data.to_vec()));
    }
    let index: Index = serde_json::from_slice(&members[0].1).unwrap();
    members.remove(0);
    members.pop(); // the digest
    (index, members)
}

/// A bundle of `members` with an index that lists them truthfully and a digest that matches:
/// what anyone can write.
fn forge(index: &Index, members: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut index = index.clone();
    index.members = members
        .iter()
        .map(|(name, bytes)| Member {
            name: name.clone(),
            size: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(bytes)),
        })
        .collect();
    let mut writer = bundle::Writer::new(Vec::new(), &index, 0).unwrap();
    for (name, bytes) in members {
        writer
            .member(name, bytes.len() as u64, &mut bytes.as_slice(), &|_| {})
            .unwrap();
    }
    writer.finish().unwrap()
}

/// A `docker save` archive whose manifest also tags its image `tag`.
fn retagged(archive: &[u8], tag: &str) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut reader = tar::Archive::new(archive);
    for entry in reader.entries().unwrap() {
        let mut entry = entry.unwrap();
        let mut header = entry.header().clone();
        let path = entry.path().unwrap().into_owned();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut data).unwrap();
        if path == Path::new("manifest.json") {
            let mut manifest: serde_json::Value = serde_json::from_slice(&data).unwrap();
            manifest[0]["RepoTags"]
                .as_array_mut()
                .unwrap()
                .push(tag.into());
            data = serde_json::to_vec(&manifest).unwrap();
            header.set_size(data.len() as u64);
            header.set_cksum();
        }
        builder
            .append_data(&mut header, &path, data.as_slice())
            .unwrap();
    }
    builder.into_inner().unwrap()
}

/// Asserts the backup store of `fixture` holds nothing: no backup, no staging folder.
fn store_is_empty(fixture: &Fixture, context: &str) {
    assert!(listed(fixture).is_empty(), "{context}: a backup was stored");
    let leftovers: Vec<String> = std::fs::read_dir(fixture.backup_dir())
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "{context}: left {leftovers:?}");
}

#[test]
fn a_bundle_brings_the_same_image_and_data_to_an_engine_without_them_and_any_flipped_byte_is_refused()
 {
    require_engine();
    let fixture = built_project("bundle");
    let image = format!("{}-app", fixture.name);
    fixture.devctl().args(["up", "--build"]).status(0).run();
    fixture.shell(
        "app",
        "cd /data && echo kept > owned && chown 999:999 owned && chmod 0600 owned \
         && mkdir -p nested/deeper && ln -s owned link && ln -s ../owned nested/up \
         && chmod 0750 nested && chown 1234:5678 nested/deeper \
         && dd if=/dev/urandom of=blob bs=1K count=300 2>/dev/null",
    );
    let before = snapshot(&fixture);
    let built = image_id(&image).expect("the built image");
    let id = backup(&fixture, &[]);

    let path = bundle_path(&fixture, "carried.bundle");
    let shown = path.display().to_string();
    let export = fixture
        .devctl()
        .args(["backup", "export", &id, "-o", &shown, "--images=built"])
        .status(0)
        .stdout(&shown)
        .run();
    assert!(
        export.stderr.contains(&format!("images {image}")),
        "{}",
        export.stderr
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let bytes = std::fs::read(&path).unwrap();
    // The model is carried, masked: no value of .env is anywhere in the file.
    for value in [GREETING, PASSWORD] {
        assert!(!contains(&bytes, value), "the bundle holds {value}");
    }
    let (index, carried) = members(&bytes);
    let model: serde_json::Value = serde_json::from_slice(
        &carried
            .iter()
            .find(|(name, _)| name == bundle::MODEL)
            .unwrap()
            .1,
    )
    .unwrap();
    assert_eq!(
        model["services"]["app"]["environment"]["GREETING"],
        "********"
    );
    assert_eq!(index.project, fixture.name);
    assert_eq!(index.images.len(), 1);
    assert_eq!(index.images[0].id.as_deref(), Some(built.as_str()));
    assert!(index.images[0].saved && index.images[0].built);
    // An existing file is never replaced without --force; with it, atomically.
    fixture
        .devctl()
        .args(["backup", "export", &id, "-o", &shown])
        .status(BAD_INPUT)
        .stderr("exists already")
        .run();
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    fixture
        .devctl()
        .args([
            "backup",
            "export",
            "--latest",
            "-o",
            &shown,
            "--images=built",
            "--force",
        ])
        .status(0)
        .run();
    let bytes = std::fs::read(&path).unwrap();

    // Another engine: no container, no volume, no image, no backup.
    docker(&["rm", "-f", &format!("{}-app-1", fixture.name)]);
    assert!(docker(&["volume", "rm", &format!("{}_data", fixture.name)]).0);
    assert!(docker(&["image", "rm", &image]).0);
    std::fs::remove_dir_all(fixture.backup_dir()).unwrap();
    assert_eq!(image_id(&image), None);

    // One flipped byte anywhere is refused, and nothing is stored or loaded.
    let layout = layout(&bytes);
    let mut positions: Vec<u64> = Vec::new();
    for (name, header, data, size) in &layout {
        // Every header: its name, mode, size, checksum, type, magic and unused end.
        positions.extend([0, 50, 101, 125, 150, 156, 258, 400].map(|at| header + at));
        match name.as_str() {
            bundle::INDEX | bundle::DIGEST => {
                positions.extend((0..*size).step_by(131).map(|at| data + at));
                positions.push(data + size - 1);
            }
            _ => positions.extend((0..8).map(|part| data + size * part / 8)),
        }
        // The padding after the member, when it has some.
        if size % 512 != 0 {
            positions.push(data + size);
            positions.push(data + size.div_ceil(512) * 512 - 1);
        }
    }
    let length = bytes.len() as u64;
    positions.extend([length - 1024, length - 513, length - 512, length - 1]);
    let flipped_path = bundle_path(&fixture, "flipped.bundle");
    for position in positions {
        let mut flipped = bytes.clone();
        flipped[position as usize] ^= 0x20;
        std::fs::write(&flipped_path, &flipped).unwrap();
        let outcome = fixture
            .devctl()
            .args(["backup", "import", &flipped_path.display().to_string()])
            .run();
        assert_eq!(
            outcome.code,
            Some(INTEGRITY),
            "byte {position} flipped: {}",
            outcome.stderr
        );
        assert!(
            outcome.stderr.contains("is refused: "),
            "byte {position}: {}",
            outcome.stderr
        );
    }
    let truncated = &bytes[..bytes.len() - 700];
    std::fs::write(&flipped_path, truncated).unwrap();
    fixture
        .devctl()
        .args(["backup", "import", &flipped_path.display().to_string()])
        .status(INTEGRITY)
        .stderr("truncated")
        .run();
    // An image archive that would also take another image's name, with an index and digest
    // made to match: refused before `docker load` reads it.
    let (index, carried) = members(&bytes);
    let evil = format!("{}-evil:latest", fixture.name);
    let forged: Vec<(String, Vec<u8>)> = carried
        .iter()
        .map(|(name, data)| match name.as_str() {
            bundle::IMAGES => (name.clone(), retagged(data, &evil)),
            _ => (name.clone(), data.clone()),
        })
        .collect();
    std::fs::write(&flipped_path, forge(&index, &forged)).unwrap();
    fixture
        .devctl()
        .args(["backup", "import", &flipped_path.display().to_string()])
        .status(INTEGRITY)
        .stderr(&format!("would tag image {evil}"))
        .run();
    assert_eq!(image_id(&evil), None, "the forged archive was loaded");
    store_is_empty(&fixture, "after the refused bundles");
    assert_eq!(image_id(&image), None, "a refused bundle loaded its image");

    // The bundle itself: stored, image loaded with its id, and the commands that follow.
    let import = fixture
        .devctl()
        .args(["backup", "import", &shown])
        .status(0)
        .stdout(&id)
        .stderr("bring the stack up first: devctl up")
        .stderr(&format!(
            "restore it with: devctl restore {id} --confirm {}",
            fixture.name
        ))
        .run();
    assert!(import.stderr.contains("loaded"), "{}", import.stderr);
    assert_eq!(image_id(&image).as_deref(), Some(built.as_str()));
    fixture
        .devctl()
        .args(["backup", "import", &shown])
        .status(0)
        .stderr("is already in")
        .run();
    fixture.devctl().args(["up"]).status(0).run();
    fixture
        .devctl()
        .args(["restore", &id, "--confirm", &fixture.name])
        .status(0)
        .run();
    assert_eq!(snapshot(&fixture), before);
    let (_, running) = docker(&[
        "inspect",
        "--format",
        "{{.Image}}",
        &format!("{}-app-1", fixture.name),
    ]);
    assert_eq!(running, built, "the service runs another image");
}

#[test]
fn hostile_bundles_and_other_projects_are_refused_before_anything_is_stored() {
    let (fixture, id, path) = exported_project("bundle-hostile", "made.bundle");
    let bytes = std::fs::read(&path).unwrap();
    let (index, carried) = members(&bytes);
    assert!(index.images.iter().all(|image| !image.saved));

    let other = volume_project("bundle-other", "");
    let import = |into: &Fixture, file: &Path, extra: &[&str]| {
        into.devctl()
            .args(["backup", "import", &file.display().to_string()])
            .args(extra)
            .timeout(std::time::Duration::from_secs(60))
    };
    // Not files: refused without being read (a FIFO would block a reader forever).
    let fifo = bundle_path(&other, "fifo");
    let name = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: mkfifo(3) with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
    import(&other, &fifo, &[])
        .status(BAD_INPUT)
        .stderr("FIFO")
        .run();
    import(&other, Path::new("/dev/zero"), &[])
        .status(BAD_INPUT)
        .stderr("is a device")
        .run();
    import(&other, &other.root(), &[])
        .status(BAD_INPUT)
        .stderr("is a directory")
        .run();
    // Members a bundle never holds, listed truthfully in the index and digested.
    for (name, why) in [
        ("backup/../../escaped", "is a path"),
        ("../escaped", "not a member a bundle holds"),
        ("backup/extra.tar.zst", "is not a file of backup"),
    ] {
        let mut forged = carried.clone();
        forged.push((name.to_string(), b"x".to_vec()));
        let file = bundle_path(&other, "forged.bundle");
        std::fs::write(&file, forge(&index, &forged)).unwrap();
        import(&other, &file, &[])
            .status(INTEGRITY)
            .stderr(why)
            .run();
    }
    // A manifest changed, with its digest and the index made to match: the archive's
    // hash is still the manifest's, so the backup is checked as a restore checks it.
    let mut changed = carried.clone();
    for (name, bytes) in changed.iter_mut() {
        if name.ends_with(".zst") {
            let middle = bytes.len() / 2;
            bytes[middle] ^= 1;
        }
    }
    let file = bundle_path(&other, "forged.bundle");
    std::fs::write(&file, forge(&index, &changed)).unwrap();
    import(&other, &file, &[])
        .status(INTEGRITY)
        .stderr("does not match the manifest")
        .run();
    store_is_empty(&other, "after the forged bundles");

    // Another project's bundle goes in only when the flag names this project.
    import(&other, &path, &[])
        .status(REFUSED)
        .stderr(&format!("holds a backup of project {}", fixture.name))
        .stderr(&format!("--into-project {}", other.name))
        .run();
    import(&other, &path, &["--into-project", &fixture.name])
        .status(BAD_INPUT)
        .stderr("is not this project")
        .run();
    store_is_empty(&other, "after the refused projects");
    import(&other, &path, &["--into-project", &other.name])
        .status(0)
        .stdout(&id)
        .run();
    // The same backup again, now carrying every image it runs: already stored, and the
    // image loaded with its id.
    let all = bundle_path(&fixture, "all.bundle");
    fixture
        .devctl()
        .args(["backup", "export", &id, "-o", &all.display().to_string()])
        .args(["--images=all"])
        .status(0)
        .stderr("images devctl-test/busybox:1")
        .run();
    let busybox = image_id(crate::harness::BUSYBOX);
    import(&other, &all, &["--into-project", &other.name])
        .status(0)
        .stderr(&format!("backup {id} is already in"))
        .stderr("image devctl-test/busybox:1 loaded")
        .run();
    assert_eq!(image_id(crate::harness::BUSYBOX), busybox);
    // The store has this id now: a different backup under it is refused.
    let mut relabelled = carried.clone();
    let manifest = relabelled
        .iter()
        .position(|(name, _)| name == "backup/manifest.json")
        .unwrap();
    let text = String::from_utf8(relabelled[manifest].1.clone())
        .unwrap()
        .replace("\"label\": null", "\"label\": \"other\"");
    let digest = format!(
        "{}  manifest.json\n",
        hex::encode(Sha256::digest(text.as_bytes()))
    );
    relabelled[manifest].1 = text.into_bytes();
    for (name, bytes) in relabelled.iter_mut() {
        if name == "backup/manifest.json.sha256" {
            *bytes = digest.clone().into_bytes();
        }
    }
    std::fs::write(&file, forge(&index, &relabelled)).unwrap();
    import(&other, &file, &["--into-project", &other.name])
        .status(REFUSED)
        .stderr(&format!("holds another backup {id}"))
        .run();
    assert_eq!(listed(&other).len(), 1);
    // The imported backup restores into the other project.
    other.devctl().args(["up"]).status(0).run();
    other
        .devctl()
        .args(["restore", &id, "--confirm", &other.name])
        .status(0)
        .run();
    assert_eq!(other.shell("app", "cat /data/file"), "one\n");
}

/// Tags and images a test made on the engine, removed when it ends however it ends.
struct Images(Vec<String>);

impl Drop for Images {
    fn drop(&mut self) {
        for reference in &self.0 {
            let _ = Command::new("docker")
                .args(["image", "rm", "--force", reference])
                .output();
        }
    }
}

#[test]
fn an_image_archive_that_tags_other_images_than_the_index_says_is_refused_before_it_is_loaded() {
    let (fixture, _, path) = exported_project("bundle-image-tags", "plain.bundle");
    let (mut index, mut carried) = members(&std::fs::read(&path).unwrap());

    // A tag the user has (the victim), and another image a hostile archive gives that tag.
    let victim = format!("devctl-victim-{}:1", fixture.name);
    let hostile = format!("devctl-hostile-{}:1", fixture.name);
    let _images = Images(vec![victim.clone(), hostile.clone()]);
    assert!(docker(&["tag", crate::harness::BUSYBOX, &victim]).0);
    let victim_id = image_id(&victim).unwrap();
    fixture.write(
        "hostile/Dockerfile",
        "FROM {busybox}\nRUN echo hostile > /hostile\n",
    );
    let context = fixture.root().join("hostile").display().to_string();
    assert!(docker(&["build", "-q", "-t", &hostile, &context]).0);
    let hostile_id = image_id(&hostile).unwrap();
    let archive = bundle_path(&fixture, "images.tar");
    assert!(docker(&["tag", &hostile, &victim]).0);
    assert!(docker(&["save", "-o", &archive.display().to_string(), &victim]).0);
    assert!(docker(&["tag", crate::harness::BUSYBOX, &victim]).0);

    // The index says the archive holds the project's own image, with the archive's id.
    index.images = vec![bundle::ImageRecord {
        service: "app".into(),
        reference: format!("{}-app:latest", fixture.name),
        id: Some(hostile_id),
        built: true,
        saved: true,
    }];
    carried.push((bundle::IMAGES.into(), std::fs::read(&archive).unwrap()));
    let other = volume_project("bundle-image-tags-into", "");
    let file = bundle_path(&other, "hostile.bundle");
    std::fs::write(&file, forge(&index, &carried)).unwrap();
    other
        .devctl()
        .args(["backup", "import", &file.display().to_string()])
        .args(["--into-project", &other.name])
        .status(INTEGRITY)
        .stderr(&victim)
        .stderr("nothing was stored or loaded")
        .run();
    assert_eq!(
        image_id(&victim).as_deref(),
        Some(victim_id.as_str()),
        "the import retagged an image the bundle does not name"
    );
    store_is_empty(&other, "after the hostile image archive");
}

#[test]
fn an_import_stopped_by_a_signal_stores_nothing() {
    require_engine();
    let fixture = volume_project("bundle-signal", "");
    // A bundle whose index declares a member of 4 GiB, the file as long as the index says
    // (sparse: zeros): reading it through would take minutes, the signal stops it at once.
    let id = "20261130T000000Z";
    let large: u64 = 4 << 30;
    let small = vec![
        (bundle::MODEL.to_string(), b"{}".to_vec()),
        ("backup/manifest.json".to_string(), b"{}".to_vec()),
        ("backup/manifest.json.sha256".to_string(), b"x".to_vec()),
    ];
    let mut members: Vec<Member> = small
        .iter()
        .map(|(name, bytes)| Member {
            name: name.clone(),
            size: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(bytes)),
        })
        .collect();
    members.push(Member {
        name: "backup/data.tar.zst".into(),
        size: large,
        sha256: "0".repeat(64),
    });
    let index = Index {
        format: bundle::FORMAT.into(),
        format_version: bundle::FORMAT_VERSION,
        devctl_version: "0.1.0".into(),
        created: "2026-11-30T00:00:00Z".into(),
        project: fixture.name.clone(),
        backup: id.into(),
        images: Vec::new(),
        members,
    };
    let mut writer = bundle::Writer::new(Vec::new(), &index, 0).unwrap();
    for (name, bytes) in &small {
        writer
            .member(name, bytes.len() as u64, &mut bytes.as_slice(), &|_| {})
            .unwrap();
    }
    // The digest member and end blocks that `finish` adds are dropped: only the start counts.
    let written = writer.finish().unwrap();
    let mut start = written[..written.len() - 2048].to_vec();
    start.extend_from_slice(&bundle::header("backup/data.tar.zst", large, 0));
    let path = bundle_path(&fixture, "large.bundle");
    std::fs::write(&path, &start).unwrap();
    let index_size = serde_json::to_vec_pretty(&index).unwrap().len() as u64;
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(index.file_size(index_size).unwrap())
        .unwrap();
    let child = fixture
        .devctl()
        .args(["backup", "import", &path.display().to_string()])
        .spawn();
    // The staging folder appears when the reading begins.
    let started = std::time::Instant::now();
    let staging = || {
        std::fs::read_dir(fixture.backup_dir())
            .map(|entries| {
                entries.flatten().any(|entry| {
                    entry
                        .file_name()
                        .to_string_lossy()
                        .starts_with(".partial-import-")
                })
            })
            .unwrap_or(false)
    };
    while !staging() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "the import did not start reading"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // SAFETY: kill(2) on the child this test started.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let signalled = std::time::Instant::now();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(143), "{stderr}");
    assert!(
        signalled.elapsed() < std::time::Duration::from_secs(10),
        "the import went on reading for {:?} after the signal",
        signalled.elapsed()
    );
    assert!(stderr.contains("nothing was stored or loaded"), "{stderr}");
    store_is_empty(&fixture, "after the interrupted import");
}

#[test]
fn a_bundle_of_a_backup_whose_stored_copy_is_damaged_says_so_instead_of_nothing_to_store() {
    let (fixture, id, path) = exported_project("bundle-damaged-copy", "whole.bundle");
    let shown = path.display().to_string();
    // The store's copy loses its archive's last bytes; the bundle is the good one.
    let archive = std::fs::read_dir(fixture.backup_dir().join(&id))
        .unwrap()
        .flatten()
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|extension| extension == "zst"))
        .unwrap();
    let bytes = std::fs::read(&archive).unwrap();
    std::fs::write(&archive, &bytes[..bytes.len() - 8]).unwrap();
    fixture
        .devctl()
        .args(["backup", "import", &shown])
        .status(INTEGRITY)
        .stderr(&format!("backup {id} in the store is damaged"))
        .stderr_absent("nothing to store")
        .run();
    // Its damaged copy moved aside, the bundle's goes in and restores.
    std::fs::remove_dir_all(fixture.backup_dir().join(&id)).unwrap();
    fixture
        .devctl()
        .args(["backup", "import", &shown])
        .status(0)
        .stderr("stored in")
        .run();
    fixture
        .devctl()
        .args(["restore", &id, "--confirm", &fixture.name])
        .status(0)
        .run();
    assert_eq!(fixture.shell("app", "cat /data/file"), "one\n");
}

#[test]
fn an_export_stopped_by_a_signal_leaves_no_file() {
    require_engine();
    let fixture = volume_project("bundle-export-signal", "");
    fixture.devctl().args(["up"]).status(0).run();
    fixture.shell(
        "app",
        "dd if=/dev/urandom of=/data/blob bs=1M count=96 2>/dev/null",
    );
    let id = backup(&fixture, &[]);
    let folder = bundle_path(&fixture, "exports");
    std::fs::create_dir(&folder).unwrap();
    let path = folder.join("stopped.bundle");
    let child = fixture
        .devctl()
        .args(["backup", "export", &id, "-o", &path.display().to_string()])
        .spawn();
    let entries = || -> Vec<String> {
        std::fs::read_dir(&folder)
            .unwrap()
            .flatten()
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect()
    };
    // The temporary file appears when the writing begins.
    let started = std::time::Instant::now();
    while entries().is_empty() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(120),
            "the export did not start writing"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // SAFETY: kill(2) on the child this test started.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Caught (128 + 15), not killed by the signal's default action, which would leave the
    // temporary file; and not finished: an export that went on writing would exit 0.
    assert_eq!(output.status.code(), Some(143), "{stderr}");
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert_eq!(entries(), Vec::<String>::new(), "the export left files");
}
