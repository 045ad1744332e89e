//! docker-compose-linter's cases, default options, for the rules devctl shares with it:
//! an item is one service (or one port) that the peer's test expects in its report, or not;
//! a rule about the whole file has one item per test. Each test's compose file is restated
//! in the project's words, and where compose's resolved model matters (ports) the input holds
//! what `docker compose config --format json` gives for it (`examples::resolved`), or compose's
//! error where it refuses the file (`examples::unresolved`). 64 items in all.

use super::case::Case;
use super::case::Verdict::{Clean, Finds};
use crate::doctor::lint_input::LintInput;
use crate::doctor::rules::compose::{
    BUILD_AND_IMAGE, DUPLICATE_CONTAINER_NAME, DUPLICATE_HOST_PORT, IMAGE_UNPINNED,
    NO_PROJECT_NAME, OBSOLETE_VERSION,
};
use crate::doctor::rules::compose_security::PORT_ALL_INTERFACES;
use crate::doctor::rules::examples::{project, resolved, unresolved};

/// Why a port without a host port (`- 8080`) clashes with nothing for devctl.
const CONTAINER_ONLY: &str = "compose publishes a port without a host port (`- 8080`) on an ephemeral host port the engine picks, so it never clashes with another: it is not host port 8080";

/// Two services that build and name an image, with `policy` added to each.
fn build_and_image(policy: &str) -> LintInput {
    project(&format!(
        "services:\n  web:\n    build: .\n    image: shop/web{policy}\n  db:\n    build: ./db\n    image: shop/db{policy}\n"
    ))
}

/// Services `a-svc` … naming `images` in turn.
fn images(images: &[&str]) -> LintInput {
    let mut yaml = String::from("services:\n");
    for (index, image) in images.iter().enumerate() {
        let letter = char::from(b'a' + index as u8);
        yaml.push_str(&format!("  {letter}-svc:\n    image: {image}\n"));
    }
    project(&yaml)
}

/// The same host port 8080 in every syntax, and a service whose ports name a variable that
/// is not set, so compose refuses the file.
fn duplicate_ports() -> LintInput {
    unresolved(
        "services:\n  a-svc:\n    image: caddy:2\n    ports:\n      - '8080'\n  b-svc:\n    image: caddy:2\n    ports:\n      - 8080\n      - 9090\n  c-svc:\n    image: caddy:2\n    ports:\n      - 8080:8080\n  d-svc:\n    image: caddy:2\n    ports:\n      - 0.0.0.0:8080:8002\n  e-svc:\n    image: caddy:2\n    ports:\n      - \"127.0.0.1:8080:8001\"\n  f-svc:\n    image: caddy:2\n    ports:\n      - target: 1000\n        published: 8080\n        protocol: tcp\n        mode: host\n  g-svc:\n    image: caddy:2\n    ports:\n      - \"$DCLINT_CASE_WEB_PORT:80\"\n      - \"$DCLINT_CASE_WEB_PORT:81\"\n      - \"$DCLINT_CASE_WEB_PORT-9000:80-81\"\n",
        "invalid hostPort: -9000",
    )
}

/// A different host port for each service, in every syntax.
fn unique_ports() -> LintInput {
    resolved(
        "services:\n  a-svc:\n    image: caddy:2\n    ports:\n      - '8080'\n  b-svc:\n    image: caddy:2\n    ports:\n      - 8081\n      - 9090\n  c-svc:\n    image: caddy:2\n    ports:\n      - 8082:8082\n  d-svc:\n    image: caddy:2\n    ports:\n      - 0.0.0.0:8083:8003\n  e-svc:\n    image: caddy:2\n    ports:\n      - \"127.0.0.1:8084:8004\"\n  f-svc:\n    image: caddy:2\n    ports:\n      - target: 1000\n        published: 8085\n        protocol: tcp\n        mode: host\n",
        r#"{"services":{"a-svc":{"image":"caddy:2","ports":[{"mode":"ingress","target":8080,"protocol":"tcp"}]},"b-svc":{"image":"caddy:2","ports":[{"mode":"ingress","target":8081,"protocol":"tcp"},{"mode":"ingress","target":9090,"protocol":"tcp"}]},"c-svc":{"image":"caddy:2","ports":[{"mode":"ingress","target":8082,"published":"8082","protocol":"tcp"}]},"d-svc":{"image":"caddy:2","ports":[{"mode":"ingress","host_ip":"0.0.0.0","target":8003,"published":"8083","protocol":"tcp"}]},"e-svc":{"image":"caddy:2","ports":[{"mode":"ingress","host_ip":"127.0.0.1","target":8004,"published":"8084","protocol":"tcp"}]},"f-svc":{"image":"caddy:2","ports":[{"mode":"host","target":1000,"published":"8085","protocol":"tcp"}]}}}"#,
    )
}

/// Host port ranges: one holding a single port, one a container-only range overlaps.
fn port_ranges() -> LintInput {
    resolved(
        "services:\n  a-svc:\n    image: caddy:2\n    ports:\n      - \"8093-9000:80\"\n  b-svc:\n    image: postgres:16\n    ports:\n      - \"8094:5432\"\n  c-svc:\n    image: caddy:2\n    ports:\n      - target: 1000\n        published: 8080-8090\n        protocol: tcp\n        mode: host\n  d-svc:\n    image: postgres:16\n    ports:\n      - 8084-8086\n",
        r#"{"services":{"a-svc":{"image":"caddy:2","ports":[{"mode":"ingress","target":80,"published":"8093-9000","protocol":"tcp"}]},"b-svc":{"image":"postgres:16","ports":[{"mode":"ingress","target":5432,"published":"8094","protocol":"tcp"}]},"c-svc":{"image":"caddy:2","ports":[{"mode":"host","target":1000,"published":"8080-8090","protocol":"tcp"}]},"d-svc":{"image":"postgres:16","ports":[{"mode":"ingress","target":8084,"protocol":"tcp"},{"mode":"ingress","target":8085,"protocol":"tcp"},{"mode":"ingress","target":8086,"protocol":"tcp"}]}}}"#,
    )
}

/// The same host port and address over tcp and over udp.
fn protocols() -> LintInput {
    resolved(
        "services:\n  dns:\n    image: caddy:2\n    ports:\n      - '127.0.0.1:8388:8388/tcp'\n      - '127.0.0.1:8388:8388/udp'\n      - '127.0.0.1:8888:8888/tcp'\n  tcp-svc:\n    image: caddy:2\n    ports:\n      - '127.0.0.1:8080:8080/tcp'\n  udp-svc:\n    image: caddy:2\n    ports:\n      - '127.0.0.1:8080:8080/udp'\n",
        r#"{"services":{"dns":{"image":"caddy:2","ports":[{"mode":"ingress","host_ip":"127.0.0.1","target":8388,"published":"8388","protocol":"tcp"},{"mode":"ingress","host_ip":"127.0.0.1","target":8388,"published":"8388","protocol":"udp"},{"mode":"ingress","host_ip":"127.0.0.1","target":8888,"published":"8888","protocol":"tcp"}]},"tcp-svc":{"image":"caddy:2","ports":[{"mode":"ingress","host_ip":"127.0.0.1","target":8080,"published":"8080","protocol":"tcp"}]},"udp-svc":{"image":"caddy:2","ports":[{"mode":"ingress","host_ip":"127.0.0.1","target":8080,"published":"8080","protocol":"udp"}]}}}"#,
    )
}

/// Ports published without an address.
fn unbound_ports() -> LintInput {
    resolved(
        "services:\n  a-svc:\n    image: caddy:2\n    ports:\n      - 8080:80\n      - 9080\n  b-svc:\n    image: caddy:2\n    ports:\n      - target: 1000\n        published: 8081\n        protocol: tcp\n        mode: host\n",
        r#"{"services":{"a-svc":{"image":"caddy:2","ports":[{"mode":"ingress","target":80,"published":"8080","protocol":"tcp"},{"mode":"ingress","target":9080,"protocol":"tcp"}]},"b-svc":{"image":"caddy:2","ports":[{"mode":"host","target":1000,"published":"8081","protocol":"tcp"}]}}}"#,
    )
}

/// Ports published on an explicit address.
fn bound_ports() -> LintInput {
    resolved(
        "services:\n  a-svc:\n    image: caddy:2\n    ports:\n      - 0.0.0.0:8080:8080\n  b-svc:\n    image: caddy:2\n    ports:\n      - 127.0.0.1:8081:8081\n      - '[::1]:8082:8082'\n",
        r#"{"services":{"a-svc":{"image":"caddy:2","ports":[{"mode":"ingress","host_ip":"0.0.0.0","target":8080,"published":"8080","protocol":"tcp"}]},"b-svc":{"image":"caddy:2","ports":[{"mode":"ingress","host_ip":"127.0.0.1","target":8081,"published":"8081","protocol":"tcp"},{"mode":"ingress","host_ip":"::1","target":8082,"published":"8082","protocol":"tcp"}]}}}"#,
    )
}

pub(super) fn cases() -> Vec<Case> {
    let mut cases = vec![
        Case::dclint(
            "no-build-and-image",
            &BUILD_AND_IMAGE,
            "build and image, first service",
            build_and_image(""),
            Finds,
        )
        .about("`web`"),
        Case::dclint(
            "no-build-and-image",
            &BUILD_AND_IMAGE,
            "build and image, second service",
            build_and_image(""),
            Finds,
        )
        .about("`db`"),
    ];
    for (service, mirrors) in [
        (
            "`web`",
            "build, image and pull_policy: always, first service",
        ),
        (
            "`db`",
            "build, image and pull_policy: always, second service",
        ),
    ] {
        cases.push(
            Case::dclint(
                "no-build-and-image",
                &BUILD_AND_IMAGE,
                mirrors,
                build_and_image("\n    pull_policy: always"),
                Clean,
            )
            .about(service)
            .deliberately(
                "pull_policy: always pulls the named image over what the service builds on every up: the risk the rule names is certain, not avoided (build and never are not findings)",
            ),
        );
    }
    for (service, mirrors) in [
        ("`web`", "only build, first service"),
        ("`db`", "only build, second service"),
    ] {
        cases.push(
            Case::dclint(
                "no-build-and-image",
                &BUILD_AND_IMAGE,
                mirrors,
                project("services:\n  web:\n    build: .\n  db:\n    build: ./db\n"),
                Clean,
            )
            .about(service),
        );
    }
    for (service, mirrors) in [
        ("`web`", "only image, first service"),
        ("`db`", "only image, second service"),
    ] {
        cases.push(
            Case::dclint(
                "no-build-and-image",
                &BUILD_AND_IMAGE,
                mirrors,
                project("services:\n  web:\n    image: caddy\n  db:\n    image: postgres\n"),
                Clean,
            )
            .about(service),
        );
    }
    cases.extend([
        Case::dclint(
            "no-duplicate-container-names",
            &DUPLICATE_CONTAINER_NAME,
            "two services with one container_name",
            unresolved(
                "services:\n  web:\n    image: caddy:2\n    container_name: shop\n  db:\n    image: postgres:16\n    container_name: shop\n",
                "services.db: container name \"shop\" is already in use by service {}\"",
            ),
            Finds,
        ),
        Case::dclint(
            "no-duplicate-container-names",
            &DUPLICATE_CONTAINER_NAME,
            "each service its own container_name",
            project(
                "services:\n  web:\n    image: caddy:2\n    container_name: shop-web\n  db:\n    image: postgres:16\n    container_name: shop-db\n",
            ),
            Clean,
        ),
    ]);
    // Port 8080 in every syntax; the peer counts the container-only one first.
    cases.push(
        Case::dclint(
            "no-duplicate-exported-ports",
            &DUPLICATE_HOST_PORT,
            "8080 in every syntax: the container-only '8080' that comes first",
            duplicate_ports(),
            Clean,
        )
        .about("`a-svc`"),
    );
    cases.push(
        Case::dclint(
            "no-duplicate-exported-ports",
            &DUPLICATE_HOST_PORT,
            "8080 in every syntax: container-only 8080 and 9090",
            duplicate_ports(),
            Finds,
        )
        .about("`b-svc`")
        .deliberately(CONTAINER_ONLY),
    );
    cases.push(
        Case::dclint(
            "no-duplicate-exported-ports",
            &DUPLICATE_HOST_PORT,
            "8080 in every syntax: 8080:8080, the first fixed host port 8080",
            duplicate_ports(),
            Finds,
        )
        .about("`c-svc`")
        .deliberately(
            "the peer flags it against the container-only '8080' before it; for devctl it is the first service on host port 8080, and the ones after it are the findings",
        ),
    );
    for (service, mirrors) in [
        ("`d-svc`", "8080 in every syntax: 0.0.0.0:8080:8002"),
        ("`e-svc`", "8080 in every syntax: 127.0.0.1:8080:8001"),
        (
            "`f-svc`",
            "8080 in every syntax: long syntax, published 8080",
        ),
    ] {
        cases.push(
            Case::dclint(
                "no-duplicate-exported-ports",
                &DUPLICATE_HOST_PORT,
                mirrors,
                duplicate_ports(),
                Finds,
            )
            .about(service),
        );
    }
    cases.push(
        Case::dclint(
            "no-duplicate-exported-ports",
            &DUPLICATE_HOST_PORT,
            "8080 in every syntax: ports from an unset variable",
            duplicate_ports(),
            Clean,
        )
        .about("`g-svc`"),
    );
    for (service, mirrors) in [
        ("`a-svc`", "unique ports: container-only '8080'"),
        ("`b-svc`", "unique ports: container-only 8081 and 9090"),
        ("`c-svc`", "unique ports: 8082:8082"),
        ("`d-svc`", "unique ports: 0.0.0.0:8083:8003"),
        ("`e-svc`", "unique ports: 127.0.0.1:8084:8004"),
        ("`f-svc`", "unique ports: long syntax, published 8085"),
    ] {
        cases.push(
            Case::dclint(
                "no-duplicate-exported-ports",
                &DUPLICATE_HOST_PORT,
                mirrors,
                unique_ports(),
                Clean,
            )
            .about(service),
        );
    }
    cases.extend([
        Case::dclint(
            "no-duplicate-exported-ports",
            &DUPLICATE_HOST_PORT,
            "ranges: 8093-9000:80, the first",
            port_ranges(),
            Clean,
        )
        .about("`a-svc`"),
        Case::dclint(
            "no-duplicate-exported-ports",
            &DUPLICATE_HOST_PORT,
            "ranges: 8094, inside 8093-9000",
            port_ranges(),
            Finds,
        )
        .about("`b-svc`"),
        Case::dclint(
            "no-duplicate-exported-ports",
            &DUPLICATE_HOST_PORT,
            "ranges: long syntax, published 8080-8090",
            port_ranges(),
            Clean,
        )
        .about("`c-svc`"),
        Case::dclint(
            "no-duplicate-exported-ports",
            &DUPLICATE_HOST_PORT,
            "ranges: a container-only range inside 8080-8090",
            port_ranges(),
            Finds,
        )
        .about("`d-svc`")
        .deliberately(CONTAINER_ONLY),
    ]);
    for (service, mirrors) in [
        (
            "`dns`",
            "protocols: 8388 over tcp and over udp in one service",
        ),
        ("`tcp-svc`", "protocols: 8080 over tcp"),
        ("`udp-svc`", "protocols: 8080 over udp"),
    ] {
        cases.push(
            Case::dclint(
                "no-duplicate-exported-ports",
                &DUPLICATE_HOST_PORT,
                mirrors,
                protocols(),
                Clean,
            )
            .about(service),
        );
    }
    cases.extend([
        Case::dclint(
            "no-unbound-port-interfaces",
            &PORT_ALL_INTERFACES,
            "8080:80 without an address",
            unbound_ports(),
            Finds,
        )
        .about("port 8080 on"),
        Case::dclint(
            "no-unbound-port-interfaces",
            &PORT_ALL_INTERFACES,
            "a container-only port",
            unbound_ports(),
            Finds,
        )
        .about("port 9080 on"),
        Case::dclint(
            "no-unbound-port-interfaces",
            &PORT_ALL_INTERFACES,
            "long syntax, published without host_ip",
            unbound_ports(),
            Finds,
        )
        .about("port 8081 on"),
        Case::dclint(
            "no-unbound-port-interfaces",
            &PORT_ALL_INTERFACES,
            "an explicit 0.0.0.0",
            bound_ports(),
            Clean,
        )
        .about("port 8080 on")
        .deliberately(
            "0.0.0.0 is every interface, written out: the port is as reachable from the network as one without an address",
        ),
        Case::dclint(
            "no-unbound-port-interfaces",
            &PORT_ALL_INTERFACES,
            "127.0.0.1",
            bound_ports(),
            Clean,
        )
        .about("port 8081 on"),
        Case::dclint(
            "no-unbound-port-interfaces",
            &PORT_ALL_INTERFACES,
            "[::1]",
            bound_ports(),
            Clean,
        )
        .about("port 8082 on"),
        Case::dclint(
            "no-version-field",
            &OBSOLETE_VERSION,
            "a top-level version",
            project("version: '3'\nservices:\n  web:\n    image: caddy\n"),
            Finds,
        ),
        Case::dclint(
            "no-version-field",
            &OBSOLETE_VERSION,
            "no version",
            project("services:\n  web:\n    image: caddy\n"),
            Clean,
        ),
        Case::dclint(
            "require-project-name-field",
            &NO_PROJECT_NAME,
            "no name",
            project("services:\n  web:\n    image: caddy\n"),
            Finds,
        ),
        Case::dclint(
            "require-project-name-field",
            &NO_PROJECT_NAME,
            "a top-level name",
            project("name: shop\nservices:\n  web:\n    image: caddy\n"),
            Clean,
        ),
    ]);
    let references = [
        "caddy",
        "library/caddy",
        "docker.io/library/caddy",
        "registry.example.com:5000/caddy",
    ];
    let subjects = [
        "`a-svc`", "`b-svc`", "`c-svc`", "`d-svc`", "`e-svc`", "`f-svc`",
    ];
    for (tag, mirrors) in [
        (
            "",
            [
                "untagged",
                "untagged, with a namespace",
                "untagged, with registry and namespace",
                "untagged, from a registry with a port",
            ],
        ),
        (
            ":latest",
            [
                "latest",
                "latest, with a namespace",
                "latest, with registry and namespace",
                "latest, from a registry with a port",
            ],
        ),
        (
            ":stable",
            [
                "stable",
                "stable, with a namespace",
                "stable, with registry and namespace",
                "stable, from a registry with a port",
            ],
        ),
    ] {
        let tagged: Vec<String> = references
            .iter()
            .map(|image| format!("{image}{tag}"))
            .collect();
        let tagged: Vec<&str> = tagged.iter().map(String::as_str).collect();
        for (subject, mirrors) in subjects.iter().zip(mirrors) {
            cases.push(
                Case::dclint(
                    "service-image-require-explicit-tag",
                    &IMAGE_UNPINNED,
                    mirrors,
                    images(&tagged),
                    Finds,
                )
                .about(subject),
            );
        }
    }
    let floating = [
        "caddy:edge",
        "library/caddy:test",
        "docker.io/library/caddy:nightly",
        "registry.example.com:5000/caddy:dev",
        "library/caddy:beta",
        "library/caddy:canary",
    ];
    for (subject, mirrors) in subjects.iter().zip([
        "the tag edge",
        "the tag test",
        "the tag nightly",
        "the tag dev",
        "the tag beta",
        "the tag canary",
    ]) {
        cases.push(
            Case::dclint(
                "service-image-require-explicit-tag",
                &IMAGE_UNPINNED,
                mirrors,
                images(&floating),
                Finds,
            )
            .about(subject),
        );
    }
    let pinned = "services:\n  a-svc:\n    image: caddy:2.8.4\n  b-svc:\n    image: library/caddy:2.8.4\n  c-svc:\n    image: docker.io/library/caddy:2.8.4\n  d-svc:\n    image: registry.example.com:5000/caddy:2.8.4\n  e-svc:\n    image: caddy@sha256:5d2ea1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e\n  f-svc:\n    build:\n      context: .\n      dockerfile: Dockerfile\n";
    for (subject, mirrors) in subjects.iter().zip([
        "a version tag",
        "a version tag, with a namespace",
        "a version tag, with registry and namespace",
        "a version tag, from a registry with a port",
        "a digest",
        "a service that builds, without image",
    ]) {
        cases.push(
            Case::dclint(
                "service-image-require-explicit-tag",
                &IMAGE_UNPINNED,
                mirrors,
                project(pinned),
                Clean,
            )
            .about(subject),
        );
    }
    cases
}

#[test]
fn every_default_option_item_of_the_peer_s_tests_is_here() {
    assert_eq!(cases().len(), 64);
}
