//! `devctl doctor` neither crashes nor hangs, whatever the project: over a generated set of
//! Dockerfiles and compose files that combine every instruction, flag form and compose key
//! the parser and the rules read (and odd encodings, empty and huge files), and over every
//! project of the awesome-compose corpus. Each run has a time limit; each must exit 0 or 1
//! with a JSON report on stdout and no panic. The set is generated here, deterministically:
//! the same files on every run.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::harness::{Test, repository, require_engine};

/// How long one `doctor` run may take before it counts as a hang.
const LIMIT: Duration = Duration::from_secs(45);

/// How long compose may take to read a project (`DEVCTL_COMPOSE_TIMEOUT`): compose spends
/// its whole limit, and memory, expanding anchors without end; devctl's default (30s) is
/// shortened here to keep the run short.
const COMPOSE_LIMIT: &str = "10s";

/// How many compose files are generated; twice as many Dockerfiles (one beside each compose
/// file, and as many in batches).
const GENERATED: usize = 200;

/// Dockerfiles per batch project: one compose file building each of them.
const BATCH: usize = 25;

/// Pieces of Dockerfiles: every instruction, in its forms and with its flags.
const INSTRUCTIONS: &[&str] = &[
    "FROM alpine:3.20\n",
    "FROM --platform=$BUILDPLATFORM golang:1.23-alpine AS build\n",
    "FROM ${BASE_IMAGE:-debian:12} AS base\n",
    "FROM scratch\n",
    "FROM build AS test\n",
    "from node AS Dev\n",
    "FROM registry.example.com:5000/team/app@sha256:0123456789abcdef\n",
    "FROM base\n",
    "FROM\n",
    "FROM alpine:3.20 AS\n",
    "ARG NPM_TOKEN\n",
    "ARG VERSION=1.2.3 GIT_VERSION\n",
    "ARG API_KEY=sk-literal-value\n",
    "ENV PIP_NO_CACHE_DIR=1 APP_HOME=\"/srv/my app\" PATH=$PATH:/opt/bin\n",
    "ENV LEGACY value with spaces\n",
    "ENV DB_PASSWORD=hunter2\n",
    "ENV\n",
    "ENV =novalue\n",
    "RUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10 git \\\n    && rm -rf /var/lib/apt/lists/*\n",
    "RUN --mount=type=cache,target=/var/cache/apt --mount=type=cache,target=/var/lib/apt,sharing=locked \\\n    apt-get update && apt-get -y install ca-certificates\n",
    "RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt flask==3.0.3 'requests>=2' \\\n    --index-url https://user:secret@pypi.example.com/simple\n",
    "RUN --mount=type=secret,id=npm,target=/root/.npmrc npm ci --omit=dev\n",
    "RUN --mount=type=bind,from=build,source=/out,target=/in --network=none --security=insecure cp -r /in /opt\n",
    "RUN --mount=type=tmpfs,target=/tmp --mount=type=ssh git clone git@example.com:team/repo.git\n",
    "RUN [\"/bin/sh\", \"-c\", \"echo json form && exit 0\"]\n",
    "RUN [\"broken\", \"json\"\n",
    "RUN <<EOF\nset -e\napk add --no-cache bash~5.2\nsudo -u app make install\nEOF\n",
    "RUN <<-EOT bash\n\techo indented heredoc | tee /tmp/x\n\tEOT\n",
    "RUN cat <<'EOF' > /etc/app.conf\nsudo is only text here\napt-get install nothing\nEOF\n",
    "RUN python3 <<PY\nprint(1 << 2)\nPY\n",
    "RUN echo $((1<<2)) && echo $(( (3 << 1) | 1 )) > /shift\n",
    "RUN wget -qO- https://example.com/install.sh | sh\n",
    "RUN set -o pipefail && curl -fsSL https://example.com | bash -s -- --yes\n",
    "RUN apk add --virtual .deps build-base && apk del .deps\n",
    "RUN yum install -y httpd-2.4.62 tomcat && yum module install -y nodejs:20 && yum clean all\n",
    "RUN dnf -y --setopt=install_weak_deps=False group install \"Development Tools\" && microdnf install -y git-core-${GIT_VERSION}\n",
    "RUN zypper --non-interactive install -y tomcat\\>=9.0 vim && zypper clean --all\n",
    "RUN gem install bundler --no-document -v 2.5.22 && gem i rails -- --with-pg-dir=/usr\n",
    "RUN go install golang.org/x/tools/gopls@latest ./cmd/... && go run example.com/gen@v1.0.0 -out x\n",
    "RUN env -i PATH=/bin sudo -E nice -n 5 nohup time apt-get install -y make\n",
    "RUN yarn install --frozen-lockfile && yarn cache clean; pnpm install || npm install -g npm@10\n",
    "RUN pip3 install git+https://github.com/example/lib.git@v1.0#egg=lib ./local.whl /tmp/pkg.tar.gz\n",
    "RUN echo \"unterminated\n",
    "RUN echo 'single quote never closed\n",
    "RUN `backquote never closed\n",
    "RUN $(( $(( ${X:-${Y:-(}} )) \n",
    "RUN echo one \\\n# a comment inside the continuation\n    two \\\n\n    three\n",
    "RUN\n",
    "CMD [\"node\", \"server.js\"]\n",
    "CMD node server.js --port=${PORT}\n",
    "CMD [\"unterminated\",\n",
    "ENTRYPOINT [\"/entrypoint.sh\"]\n",
    "ENTRYPOINT exec /bin/app \"$@\"\n",
    "COPY --chown=1000:1000 --chmod=755 package.json package-lock.json ./\n",
    "COPY --from=build --link /out/app /usr/local/bin/app\n",
    "COPY --parents --exclude=*.md ./src ./lib /app/\n",
    "COPY . .\n",
    "COPY ./ ./\n",
    "COPY [\"spaced name.txt\", \"/app/\"]\n",
    "COPY <<EOF /etc/motd\nwelcome\nEOF\n",
    "ADD https://example.com/archive.tar.gz /opt/\n",
    "ADD --checksum=sha256:0123456789abcdef rootfs.tar.xz /\n",
    "ADD git@github.com:moby/buildkit.git#v0.14.0 /src\n",
    "ADD app.sh \"quoted file.tgz\" /app/\n",
    "LABEL org.opencontainers.image.source=\"https://example.com\" version=1\n",
    "MAINTAINER someone@example.com\n",
    "EXPOSE 80/tcp 53/udp 8000-8010 $PORT\n",
    "USER root\n",
    "USER 1000:1000\n",
    "USER ${APP_USER}\n",
    "USER\n",
    "WORKDIR /app\n",
    "WORKDIR C:\\\\app\n",
    "VOLUME [\"/data\", \"/logs\"]\n",
    "VOLUME /cache /tmp/x\n",
    "SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\n",
    "SHELL [\"pwsh\", \"-Command\"]\n",
    "SHELL not-json\n",
    "HEALTHCHECK --interval=30s --timeout=3s --start-period=5s --start-interval=1s --retries=3 CMD [\"wget\", \"-q\", \"-O-\", \"http://localhost/\"]\n",
    "HEALTHCHECK CMD curl -f http://localhost/ || exit 1\n",
    "HEALTHCHECK NONE\n",
    "HEALTHCHECK\n",
    "STOPSIGNAL SIGTERM\n",
    "ONBUILD RUN pip install flask\n",
    "ONBUILD ONBUILD COPY . .\n",
    "UNKNOWNINSTRUCTION with arguments\n",
    "# a comment line\n",
    "\n   \n\t\n",
    "RUN echo 'unicode: héllo wörld ✓ 漢字 🚀'\n",
];

/// Parser directives that may open a Dockerfile.
const DIRECTIVES: &[&str] = &[
    "",
    "# syntax=docker/dockerfile:1\n",
    "# syntax=docker/dockerfile:1.7-labs\n# check=skip=JSONArgsRecommended;error=true\n",
    "ARG BASE_IMAGE=alpine:3.20\nARG BUILDPLATFORM\n",
    "# escape=\\\n",
];

/// A deterministic choice: the `step`-th pseudo-random number of the sequence `seed`.
fn pick(seed: usize, step: usize, range: usize) -> usize {
    let mut x = (seed as u64)
        .wrapping_mul(6364136223846793005)
        .wrapping_add((step as u64).wrapping_mul(1442695040888963407))
        .wrapping_add(0x9E3779B97F4A7C15);
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51afd7ed558ccd);
    x ^= x >> 33;
    (x % range as u64) as usize
}

/// The `index`-th generated Dockerfile, as bytes (some are not UTF-8).
fn dockerfile(index: usize) -> Vec<u8> {
    match index {
        0 => return Vec::new(),
        1 => return b"   \n\t\n".to_vec(),
        2 => return b"# only a comment\n# and another\n".to_vec(),
        3 => return b"FROM alpine:3.20\nRUN echo \\".to_vec(),
        4 => return b"FROM alpine:3.20\nRUN <<EOF\necho the heredoc never ends\n".to_vec(),
        5 => return b"FROM alpine:3.20\nRUN echo \xff\xfe invalid \xc3 utf-8\n".to_vec(),
        6 => return b"FROM alpine:3.20\0\nRUN echo nul\0bytes\n".to_vec(),
        7 => {
            let mut text = String::from("FROM alpine:3.20 AS s0\n");
            for stage in 1..400 {
                text.push_str(&format!(
                    "FROM s{} AS s{stage}\nENV V{stage}={stage}\nRUN apk add pkg-$V{stage}\n",
                    stage - 1
                ));
            }
            return text.into_bytes();
        }
        8 => {
            let mut text = String::from("FROM alpine:3.20\n");
            for line in 0..20_000 {
                text.push_str(&format!("RUN echo {line} && apt-get install -y p{line}\n"));
            }
            return text.into_bytes();
        }
        9 => {
            let mut text = String::from("FROM alpine:3.20\nRUN true");
            for word in 0..100_000 {
                text.push_str(&format!(" && echo w{word}"));
            }
            text.push('\n');
            return text.into_bytes();
        }
        10 => {
            let mut text = String::from("FROM alpine:3.20\nRUN echo ");
            text.push_str(&"$(".repeat(20_000));
            text.push_str(&"\\\n".repeat(20_000));
            text.push_str(&"<<".repeat(10_000));
            text.push('\n');
            return text.into_bytes();
        }
        11 => return "\u{feff}FROM alpine:3.20\r\nRUN apk add curl\r\nUSER 1000\r\n".into(),
        _ => {}
    }
    let mut text = String::from(DIRECTIVES[pick(index, 0, DIRECTIVES.len())]);
    // Every instruction appears: the index's own first, then others.
    let count = 3 + pick(index, 1, 9);
    for step in 0..count {
        let instruction = if step == 0 {
            INSTRUCTIONS[index % INSTRUCTIONS.len()]
        } else {
            INSTRUCTIONS[pick(index, step + 2, INSTRUCTIONS.len())]
        };
        if step == 0 && !instruction.to_uppercase().starts_with("FROM") {
            text.push_str("FROM alpine:3.20 AS first\n");
        }
        text.push_str(instruction);
    }
    // Transformations: the escape directive's backquote, CRLF, a BOM, lower case, no
    // final newline, a cut in the middle of a line.
    if index % 10 == 3 {
        text = format!("# escape=`\n{}", text.replace("\\\n", "`\n"));
    }
    if index % 9 == 1 {
        text = text.replace('\n', "\r\n");
    }
    if index % 13 == 2 {
        text.insert(0, '\u{feff}');
    }
    if index % 23 == 6 {
        text = text.to_lowercase();
    }
    if index % 17 == 4 {
        text = text.trim_end().to_string();
    }
    let mut bytes = text.into_bytes();
    if index % 29 == 7 && bytes.len() > 10 {
        bytes.truncate(pick(index, 99, bytes.len()));
    }
    bytes
}

/// Pieces of a service: every key the rules read, in its forms.
const SERVICE_KEYS: &[&str] = &[
    "image: alpine",
    "image: alpine:latest",
    "image: nginx:stable",
    "image: registry.example.com:5000/team/app:1.2@sha256:0123456789abcdef",
    "image: ${APP_IMAGE:-alpine:3.20}",
    "build: .",
    "build:\n  context: .\n  dockerfile: Dockerfile\n  target: dev\n  args:\n    VERSION: \"1\"\n    NPM_TOKEN: literal-token\n  cache_from: [type=local,src=/tmp/cache]\n  platforms: [linux/amd64, linux/arm64]\n  labels: [a=b]",
    "build:\n  context: .\n  ssh: [default]\n  secrets: [npm]",
    "build:\n  context: .\n  ssh:\n    - mykey=./key",
    "build:\n  context: .\n  dockerfile_inline: |\n    FROM alpine:3.20\n    RUN apk add curl\n  additional_contexts:\n    other: ./other",
    "build: https://github.com/docker/compose.git#main",
    "build:\n  context: ./missing-directory",
    "build:\n  context: .\n  dockerfile: Dockerfile.missing",
    "ports: ['8080:80']",
    "ports: ['127.0.0.1:8081:80', '[::1]:8082:80', '0.0.0.0:8083:80']",
    "ports: ['8000-8010:8000-8010', '9000-9001:90-91/udp']",
    "ports: ['80', '443/tcp', 53]",
    "ports:\n  - target: 80\n    published: \"8084\"\n    host_ip: 127.0.0.1\n    protocol: tcp\n    mode: host\n  - target: 81",
    "ports: ['${WEB_PORT:-8085}:80', '$UNSET_PORT-9000:80-81']",
    "ports:\n  - 8086:80",
    "ports: 8080",
    "expose: ['3000', 3001]",
    "volumes: [data:/data, './src:/app:ro', '/var/run/docker.sock:/var/run/docker.sock']",
    "volumes:\n  - type: bind\n    source: .\n    target: /src\n    bind: {create_host_path: true}\n  - type: volume\n    source: data\n    target: /data\n    volume: {nocopy: true}\n  - type: tmpfs\n    target: /tmp\n    tmpfs: {size: 1000}",
    "volumes: ['~/.ssh:/root/.ssh:ro', '/:/host', '/etc:/etc-host', '/proc:/p']",
    "healthcheck:\n  test: [CMD, curl, -f, http://localhost/]\n  interval: 10s\n  timeout: 2s\n  retries: 3\n  start_period: 30s\n  start_interval: 1s",
    "healthcheck:\n  test: [CMD-SHELL, 'wget -qO- http://localhost || exit 1']",
    "healthcheck:\n  test: curl -f http://localhost/",
    "healthcheck:\n  test: [NONE]",
    "healthcheck:\n  disable: true",
    "depends_on: [db]",
    "depends_on:\n  db:\n    condition: service_healthy\n    restart: true\n  cache:\n    condition: service_started\n    required: false",
    "depends_on:\n  migrate:\n    condition: service_completed_successfully",
    "depends_on: [ghost-service]",
    "env_file: .env",
    "env_file: [.env, extra.env]",
    "env_file:\n  - path: ./optional.env\n    required: false\n  - path: .env\n    format: raw",
    "env_file: missing.env",
    "environment:\n  DB_PASSWORD: hunter2\n  API_TOKEN: ${API_TOKEN}\n  MODE: ${MODE:-dev}\n  EMPTY:",
    "environment: [SECRET_KEY=literal, 'PASSWORD=${PASSWORD:?set it}', PLAIN]",
    "profiles: [tools, debug]",
    "extends:\n  file: base.yaml\n  service: base",
    "extends: sibling",
    "privileged: true",
    "network_mode: host",
    "network_mode: service:db",
    "pid: host",
    "ipc: host",
    "cap_add: [SYS_ADMIN, NET_ADMIN, ALL]",
    "cap_drop: [ALL]",
    "security_opt: ['seccomp:unconfined', 'apparmor=unconfined', no-new-privileges:true]",
    "user: root",
    "user: '0:0'",
    "user: '1000:1000'",
    "container_name: shared-name",
    "restart: unless-stopped",
    "command: [sh, -c, 'sleep 1']",
    "command: sleep infinity",
    "entrypoint: /entrypoint.sh",
    "entrypoint: [tini, --]",
    "init: true",
    "pull_policy: build",
    "pull_policy: always",
    "platform: linux/amd64",
    "deploy:\n  replicas: 2\n  resources:\n    limits: {cpus: '0.5', memory: 256M}",
    "blkio_config:\n  weight: 300\n  weight_device:\n    - path: /dev/sda\n      weight: 400\n  device_read_bps:\n    - path: /dev/sda\n      rate: 12mb",
    "ulimits:\n  nofile: {soft: 1024, hard: 2048}\n  nproc: 512",
    "sysctls: {net.core.somaxconn: 1024}",
    "tmpfs: [/run, /tmp:size=64m]",
    "logging:\n  driver: json-file\n  options: {max-size: 10m}",
    "labels: {com.example.role: web}",
    "secrets: [npm, source: db_password]",
    "configs: [app_config]",
    "networks: [front, back]",
    "networks:\n  front:\n    aliases: [web]\n    ipv4_address: 172.28.0.10",
    "x-custom: {anything: [1, 2, 3]}",
    "<<: *common",
    "unknown_key: value",
    "stop_grace_period: 1m30s",
    "working_dir: /app",
    "hostname: web.local",
    "extra_hosts: ['host.docker.internal:host-gateway']",
    "dns: [1.1.1.1]",
    "devices: ['/dev/fuse:/dev/fuse']",
    "read_only: true",
];

/// Pieces of a compose file's top level.
const TOP_LEVEL: &[&str] = &[
    "version: '3.8'\n",
    "x-common: &common\n  restart: always\n  init: true\n",
    "volumes:\n  data: {}\n  external-data:\n    external: true\n    name: some-other-volume\n",
    "networks:\n  front: {}\n  back:\n    internal: true\n",
    "secrets:\n  npm:\n    file: ./npm.token\n  db_password:\n    environment: DB_PASSWORD\n",
    "configs:\n  app_config:\n    content: |\n      key=value\n",
    "include:\n  - included.yaml\n",
    "include:\n  - path: included.yaml\n    env_file: extra.env\n    project_directory: .\n",
    "",
];

/// The `index`-th generated compose file, as bytes.
fn compose_file(index: usize) -> Vec<u8> {
    match index {
        0 => return Vec::new(),
        1 => return b"{}\n".to_vec(),
        2 => return b"[]\n".to_vec(),
        3 => return b"services:\n".to_vec(),
        4 => return b"services: {}\n".to_vec(),
        5 => return b"services:\n  app:\n\timage: alpine\n".to_vec(),
        6 => return b"services:\n  app:\n    image: a\n    image: b\n".to_vec(),
        7 => return b"services:\n  app: [unclosed\n".to_vec(),
        8 => {
            let text = "services:\n  app:\n    image: alpine:3.20\n";
            let mut bytes = vec![0xff, 0xfe];
            for unit in text.encode_utf16() {
                bytes.extend(unit.to_le_bytes());
            }
            return bytes;
        }
        9 => return b"services:\n  app:\n    image: alpine\xff\xfe:3\n".to_vec(),
        10 => return b"services:\n  app:\n    image: alpine\0:3\n".to_vec(),
        11 => {
            return "\u{feff}name: bom\r\nservices:\r\n  app:\r\n    image: alpine:3.20\r\n".into();
        }
        12 => {
            let mut text = String::from("name: many\nx-common: &common {init: true}\nservices:\n");
            for service in 0..300 {
                text.push_str(&format!(
                    "  s{service}:\n    <<: *common\n    image: alpine:3.20\n    ports: ['127.0.0.1:{}:80']\n    depends_on: [s{}]\n",
                    20_000 + service,
                    (service + 1) % 300
                ));
            }
            return text.into_bytes();
        }
        13 => {
            let mut text = String::from("name: deep\nx-deep: ");
            text.push_str(&"[".repeat(2_000));
            text.push_str(&"]".repeat(2_000));
            text.push_str("\nservices:\n  app:\n    image: alpine:3.20\n");
            return text.into_bytes();
        }
        14 => {
            let mut text = String::from(
                "name: laughs\nx-a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
            );
            let letters = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
            for pair in letters.windows(2) {
                let (previous, next) = (pair[0], pair[1]);
                text.push_str(&format!(
                    "x-{next}: &{next} [*{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}]\n"
                ));
            }
            text.push_str(
                "services:\n  app:\n    image: alpine:3.20\n    labels:\n      bomb: *i\n",
            );
            return text.into_bytes();
        }
        15 => {
            let mut text = String::from(
                "name: long\nservices:\n  app:\n    image: alpine:3.20\n    command: '",
            );
            text.push_str(&"x".repeat(1_000_000));
            text.push_str("'\n");
            return text.into_bytes();
        }
        16 => {
            return b"name: cycle\nservices:\n  a:\n    extends: b\n  b:\n    extends: a\n"
                .to_vec();
        }
        17 => {
            return b"include: [compose.yaml]\nservices:\n  app:\n    image: alpine:3.20\n"
                .to_vec();
        }
        _ => {}
    }
    let mut text = String::new();
    if !index.is_multiple_of(3) {
        text.push_str(&format!("name: generated-{index}\n"));
    }
    for step in 0..pick(index, 0, 3) {
        text.push_str(TOP_LEVEL[pick(index, step + 1, TOP_LEVEL.len())]);
    }
    // `<<: *common` needs the anchor, `extends: sibling` its sibling.
    if !text.contains("&common") {
        text.push_str(TOP_LEVEL[1]);
    }
    text.push_str("services:\n");
    text.push_str("  sibling:\n    image: alpine:3.20\n");
    let services = 1 + pick(index, 10, 3);
    for service in 0..services {
        text.push_str(&format!("  svc{service}:\n"));
        let mut keys: Vec<&str> = Vec::new();
        let wanted = 2 + pick(index, 20 + service, 6);
        for step in 0..wanted * 2 {
            let key = if service == 0 && step == 0 {
                SERVICE_KEYS[index % SERVICE_KEYS.len()]
            } else {
                SERVICE_KEYS[pick(index, 100 + service * 50 + step, SERVICE_KEYS.len())]
            };
            let name = key.split(':').next().unwrap_or_default();
            if keys.len() < wanted
                && !keys
                    .iter()
                    .any(|taken| taken.split(':').next() == Some(name))
            {
                keys.push(key);
            }
        }
        for key in keys {
            for line in key.lines() {
                text.push_str("    ");
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    if index % 9 == 1 {
        text = text.replace('\n', "\r\n");
    }
    if index % 13 == 2 {
        text.insert(0, '\u{feff}');
    }
    text.into_bytes()
}

/// The files around a generated compose file: what its keys name.
const SIDE_FILES: &[(&str, &str)] = &[
    (
        ".env",
        "MODE=dev\nexport API_TOKEN=from-env\nQUOTED=\"a # not a comment\"\nBROKEN LINE\n=novalue\nUNICODE=héllo\r\n",
    ),
    ("extra.env", "EXTRA=1\n"),
    ("npm.token", "token\n"),
    ("key", "not a real key\n"),
    (".dockerignore", "node_modules\n!.env\n"),
    (
        "base.yaml",
        "services:\n  base:\n    image: alpine:3.20\n    environment: {FROM_BASE: '1'}\n",
    ),
    (
        "included.yaml",
        "services:\n  included:\n    image: alpine:3.20\n    ports: ['8080:80']\n",
    ),
    ("other/Dockerfile", "FROM alpine:3.20\n"),
];

/// One project to run `doctor` on.
struct Job {
    label: String,
    directory: PathBuf,
}

/// Writes `bytes` to `path`, making its directory.
fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// The generated projects under `root`: one per compose file (with a generated Dockerfile
/// for its builds), and the Dockerfiles in batches, each built by a service of one compose
/// file.
fn generated_projects(root: &Path) -> Vec<Job> {
    let mut jobs = Vec::new();
    for index in 0..GENERATED {
        let directory = root.join(format!("compose-{index:03}"));
        write(&directory.join("compose.yaml"), &compose_file(index));
        write(
            &directory.join("Dockerfile"),
            &dockerfile(GENERATED + index),
        );
        for (path, text) in SIDE_FILES {
            write(&directory.join(path), text.as_bytes());
        }
        if index.is_multiple_of(4) {
            write(
                &directory.join("profiles/default.yaml"),
                format!(
                    "description: generated\nguard:\n  protected_volumes: [data]\nfidelity:\n  build_targets:\n    svc0: {}\n",
                    ["prod", "missing", "dev", "build"][index / 4 % 4]
                )
                .as_bytes(),
            );
        }
        jobs.push(Job {
            label: format!("compose file {index}"),
            directory,
        });
    }
    for batch in 0..GENERATED.div_ceil(BATCH) {
        let directory = root.join(format!("dockerfiles-{batch:02}"));
        let mut compose = format!("name: dockerfiles-{batch}\nservices:\n");
        for index in batch * BATCH..((batch + 1) * BATCH).min(GENERATED) {
            let path = format!("d{index:03}/Dockerfile");
            write(&directory.join(&path), &dockerfile(index));
            compose.push_str(&format!(
                "  s{index}:\n    build:\n      context: d{index:03}\n{}",
                if index.is_multiple_of(5) {
                    "      target: dev\n"
                } else {
                    ""
                }
            ));
        }
        write(&directory.join("compose.yaml"), compose.as_bytes());
        jobs.push(Job {
            label: format!(
                "Dockerfiles {} to {}",
                batch * BATCH,
                ((batch + 1) * BATCH).min(GENERATED) - 1
            ),
            directory,
        });
    }
    jobs
}

/// The projects of the awesome-compose corpus.
fn corpus_projects() -> Vec<Job> {
    let corpus = repository().join("tests/fixtures/awesome-compose");
    let mut projects: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .collect();
    projects.sort();
    projects
        .into_iter()
        .map(|directory| Job {
            label: format!("corpus project {}", directory.display()),
            directory,
        })
        .collect()
}

/// Runs `doctor --format json` on `job`: why it failed, if it did.
fn failure(job: &Job, state: &Path) -> Option<String> {
    let started = Instant::now();
    let run = std::panic::catch_unwind(|| {
        Test::new(&job.directory)
            .env("DEVCTL_STATE_DIR", state)
            .env("DEVCTL_COMPOSE_TIMEOUT", COMPOSE_LIMIT)
            .timeout(LIMIT)
            .args(["doctor", "--format", "json"])
            .run()
    });
    let outcome = match run {
        Ok(outcome) => outcome,
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|text| text.to_string()))
                .unwrap_or_default();
            return Some(format!("{}: {message}", job.label));
        }
    };
    let took = started.elapsed();
    let mut problems = Vec::new();
    if !matches!(outcome.code, Some(0 | 1)) {
        problems.push(format!("exit {:?}", outcome.code));
    }
    for text in ["panicked", "hit a bug", "RUST_BACKTRACE", "stack overflow"] {
        if outcome.stderr.contains(text) || outcome.stdout.contains(text) {
            problems.push(format!("`{text}` in the output"));
        }
    }
    match serde_json::from_str::<serde_json::Value>(&outcome.stdout) {
        Ok(report) if report["findings"].is_array() => {}
        Ok(_) => problems.push("the JSON report has no findings".into()),
        Err(error) => problems.push(format!("stdout is not JSON: {error}")),
    }
    (!problems.is_empty()).then(|| {
        format!(
            "{} ({}, {took:.1?}): {}\n--- stderr\n{}",
            job.label,
            job.directory.display(),
            problems.join("; "),
            outcome.stderr.chars().take(2_000).collect::<String>()
        )
    })
}

#[test]
fn doctor_neither_crashes_nor_hangs_on_generated_and_corpus_projects() {
    require_engine();
    let root = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let mut jobs = generated_projects(root.path());
    jobs.extend(corpus_projects());
    assert!(jobs.len() >= GENERATED + 30, "{}", jobs.len());
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let started = Instant::now();
    // `doctor` mostly waits on compose: a few more runs than CPUs keep them busy.
    let workers = std::thread::available_parallelism().map_or(2, usize::from) + 1;
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                while let Some(job) = jobs.get(next.fetch_add(1, Ordering::SeqCst)) {
                    if let Some(failure) = failure(job, state.path()) {
                        failures.lock().unwrap().push(failure);
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    eprintln!(
        "doctor ran on {} projects ({} generated Dockerfiles, {GENERATED} generated compose files, the corpus) in {:.1?}",
        jobs.len(),
        2 * GENERATED,
        started.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{} of {} runs failed:\n\n{}",
        failures.len(),
        jobs.len(),
        failures.join("\n\n")
    );
}
