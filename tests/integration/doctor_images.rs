//! `devctl doctor --images`, compose against the built image: images built here (from the
//! busybox test image, and from scratch with only a program copied in) that lack a shell,
//! curl, a user, an EXPOSEd port, an executable entrypoint or its script's interpreter are
//! each caught by their rule;
//! a compliant image passes; no inspection container is left behind.

use std::collections::BTreeSet;

use crate::doctor::{docker_build, findings_in};
use crate::harness::{Fixture, require_engine};

/// The compose-against-image rules.
pub const RULES: [&str; 5] = [
    "healthcheck-program-missing",
    "shell-missing",
    "user-missing",
    "port-not-exposed",
    "entrypoint-not-executable",
];

/// (rule, message) of each finding of the compose-against-image rules.
fn misfits(report: &serde_json::Value) -> BTreeSet<(String, String)> {
    findings_in(report)
        .into_iter()
        .filter(|(rule, _)| RULES.contains(&rule.as_str()))
        .collect()
}

#[test]
fn each_way_a_service_does_not_fit_its_built_image_is_caught_and_a_fitting_one_passes() {
    require_engine();
    // Images named after the project: the fixture removes them when it is dropped.
    let fixture = Fixture::new("fit");
    let good = format!("{}-good", fixture.name);
    let bare = format!("{}-bare", fixture.name);
    let locked = format!("{}-locked", fixture.name);
    let bashful = format!("{}-bashful", fixture.name);
    let absent = format!("{}-absent", fixture.name);
    let images = fixture.root().join("../images");
    // A user and group, an entrypoint script reached through a symbolic link, port 8080.
    docker_build(
        &good,
        &images.join("good"),
        "FROM {busybox}\nRUN echo 'app:x:1000:1000::/app:/bin/sh' > /etc/passwd && echo 'app:x:1000:' > /etc/group \\\n && printf '#!/bin/sh\\nexec \"$@\"\\n' > /entrypoint.sh && chmod 755 /entrypoint.sh \\\n && mkdir -p /usr/local/bin && ln -s /entrypoint.sh /usr/local/bin/start\nEXPOSE 8080\nENTRYPOINT [\"start\"]\nCMD [\"httpd\", \"-f\", \"-p\", \"8080\"]\n",
    );
    // Distroless-like: one program, no shell, no curl, no /etc/passwd.
    docker_build(
        &bare,
        &images.join("bare"),
        "FROM {busybox} AS tools\nFROM scratch\nCOPY --from=tools /bin/busybox /app/server\nEXPOSE 8080\nENTRYPOINT [\"/app/server\", \"httpd\", \"-f\", \"-p\", \"8080\"]\n",
    );
    // The entrypoint script lost its executable bit.
    docker_build(
        &locked,
        &images.join("locked"),
        "FROM {busybox}\nRUN printf '#!/bin/sh\\nexec \"$@\"\\n' > /entrypoint.sh && chmod 644 /entrypoint.sh \\\n && mkdir -p /usr/local/bin && ln -s /entrypoint.sh /usr/local/bin/start\nENTRYPOINT [\"/entrypoint.sh\"]\nCMD [\"sleep\", \"600\"]\n",
    );
    // An executable script for an interpreter the image does not have.
    docker_build(
        &bashful,
        &images.join("bashful"),
        "FROM {busybox}\nRUN printf '#!/bin/bash\\nexec \"$@\"\\n' > /entrypoint.sh && chmod 755 /entrypoint.sh\nENTRYPOINT [\"/entrypoint.sh\"]\nCMD [\"sleep\", \"600\"]\n",
    );
    let fitting = format!(
        "name: {project}\nservices:\n  web:\n    image: {good}\n    user: app:app\n    ports: ['127.0.0.1::8080']\n    healthcheck: {{test: [CMD, wget, -q, -O, /dev/null, 'http://127.0.0.1:8080/'], start_period: 5s}}\n  shell:\n    image: {good}\n    user: '1000'\n    healthcheck: {{test: 'wget -q -O /dev/null http://127.0.0.1:8080/ || exit 1', start_period: 5s}}\n  server:\n    image: {bare}\n    user: '1000:1000'\n    ports: ['127.0.0.1::8080']\n    healthcheck: {{test: [CMD, /app/server, wget, -q, 'http://127.0.0.1:8080/'], start_period: 5s}}\n",
        project = fixture.name
    );
    fixture.write("compose.yaml", &fitting);
    let report = fixture
        .devctl()
        .args(["doctor", "--images", "--format", "json"])
        .status(0)
        .run()
        .json();
    assert_eq!(misfits(&report), BTreeSet::new(), "{report:#}");

    let misfitting = format!(
        "{fitting}  curl:\n    image: {bare}\n    healthcheck: {{test: [CMD, curl, -f, 'http://127.0.0.1:8080/'], start_period: 5s}}\n  script:\n    image: {bare}\n    healthcheck: {{test: 'wget -q -O /dev/null http://127.0.0.1:8080/ || exit 1', start_period: 5s}}\n  stranger:\n    image: {good}\n    user: nobody-here:staff-here\n  unexposed:\n    image: {good}\n    ports: ['127.0.0.1::9000']\n  locked:\n    image: {locked}\n  linked:\n    image: {locked}\n    entrypoint: [start]\n  bashful:\n    image: {bashful}\n  unbuilt:\n    image: {absent}\n"
    );
    fixture.write("compose.yaml", &misfitting);
    let outcome = fixture
        .devctl()
        .args(["doctor", "--images", "--format", "json"])
        .status(1)
        .stderr(&format!(
            "not on the engine, so not checked against compose: unbuilt ({absent})"
        ))
        .run();
    let found = misfits(&outcome.json());
    let expected: BTreeSet<(String, String)> = [
        (
            "healthcheck-program-missing",
            format!(
                "service `curl`: the healthcheck runs curl, which image {bare} does not have (not in its PATH /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)"
            ),
        ),
        (
            "shell-missing",
            format!(
                "service `script`: the healthcheck is CMD-SHELL, run by /bin/sh, which image {bare} does not have"
            ),
        ),
        (
            "user-missing",
            format!(
                "service `stranger`: runs as user `nobody-here` (compose's user), which image {good}'s /etc/passwd does not have"
            ),
        ),
        (
            "user-missing",
            format!(
                "service `stranger`: runs as group `staff-here` (compose's user), which image {good}'s /etc/group does not have"
            ),
        ),
        (
            "port-not-exposed",
            format!(
                "service `unexposed`: publishes container port 9000/tcp, which image {good} does not EXPOSE (it exposes 8080/tcp)"
            ),
        ),
        (
            "entrypoint-not-executable",
            format!(
                "service `locked`: runs (the image's ENTRYPOINT) /entrypoint.sh, which is not executable in image {locked} (/entrypoint.sh, mode 644)"
            ),
        ),
        (
            "entrypoint-not-executable",
            format!(
                "service `linked`: runs (compose's entrypoint) start, which is not executable in image {locked} (/usr/local/bin/start, mode 644)"
            ),
        ),
        (
            "entrypoint-not-executable",
            format!(
                "service `bashful`: runs (the image's ENTRYPOINT) /entrypoint.sh, a script for /bin/bash, which image {bashful} does not have"
            ),
        ),
    ]
    .into_iter()
    .map(|(rule, message)| (rule.to_string(), message))
    .collect();
    assert_eq!(found, expected, "{}", outcome.stderr);
    // The inspection containers are gone.
    for image in [&good, &bare, &locked, &bashful] {
        let left = std::process::Command::new("docker")
            .args(["ps", "-aq", "--filter", &format!("ancestor={image}")])
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&left.stdout).trim().is_empty());
    }
}
