#!/usr/bin/env bash
# A second Docker engine on this machine that behaves like a remote one, for the
# remote-engine tests (tests/remote): reached over TLS (tcp://127.0.0.1:TLS_PORT,
# --tlsverify, certificates made here with openssl) and over ssh
# (ssh://root@127.0.0.1:SSH_PORT, where `docker system dial-stdio` reaches it).
#
#   remote-engine.sh start   start it (idempotent; also after a crash), then print `env`
#   remote-engine.sh stop    stop sshd, the engine and its containerd; nothing stays running
#   remote-engine.sh env     print where it listens and where its keys live, as shell
#                            assignments (also written to $CONFIG_DIR/env)
#
# The engine runs beside the first one (never touched here) with its own data root,
# exec root (so its own managed containerd), pidfile and socket, in a mount namespace
# of its own where a tmpfs hides /tmp (and $TMPDIR, root's home, DEVCTL_REMOTE_HIDE), and where
# /etc/docker is its own (its own engine ID, not the first one's daemon.json): like a
# remote host, it cannot see the folders the tests create there, so a bind mount of
# one fails on it. Its user networks come from an address pool of their own, apart
# from the first engine's. sshd (Debian's openssh-server, from prepare-engine.sh)
# runs in that namespace too, on 127.0.0.1 only, with its own host key, key login
# only, and a login environment whose DOCKER_HOST is the second engine's socket.
#
# Messages go to stderr; only `env` (and the end of `start`) print to stdout.
#
# Environment:
#   DEVCTL_REMOTE_TLS_PORT   the engine's TLS port (default: 12376)
#   DEVCTL_REMOTE_SSH_PORT   sshd's port (default: 12222)
#   DEVCTL_REMOTE_CONFIG     certificates, keys, configs, logs
#                            (default: /var/lib/devctl-remote)
#   DEVCTL_REMOTE_DATA_ROOT  the engine's --data-root (default: /var/lib/devctl-remote-engine)
#   DEVCTL_REMOTE_RUN        sockets, pidfiles, exec root (default: /run/devctl-remote)
#   DEVCTL_REMOTE_HIDE       more folders to hide from the engine, separated by spaces
#   DEVCTL_REMOTE_TIMEOUT    seconds to wait for the engine to answer (default: 60)
#   DEVCTL_REMOTE_IMAGES     images copied from the first engine when missing
#                            (default: "devctl-test/busybox:1 devctl-test/postgres:15")
set -euo pipefail

TLS_PORT="${DEVCTL_REMOTE_TLS_PORT:-12376}"
SSH_PORT="${DEVCTL_REMOTE_SSH_PORT:-12222}"
CONFIG_DIR="${DEVCTL_REMOTE_CONFIG:-/var/lib/devctl-remote}"
DATA_ROOT="${DEVCTL_REMOTE_DATA_ROOT:-/var/lib/devctl-remote-engine}"
RUN_DIR="${DEVCTL_REMOTE_RUN:-/run/devctl-remote}"
TIMEOUT="${DEVCTL_REMOTE_TIMEOUT:-60}"
IMAGES="${DEVCTL_REMOTE_IMAGES:-devctl-test/busybox:1 devctl-test/postgres:15}"

TLS_DIR="$CONFIG_DIR/tls"
SSH_DIR="$CONFIG_DIR/ssh"
# What a client needs (the CA, the client certificate and key, the ssh key, the host's
# public key), owned by the user who ran this script through sudo: tls/ and ssh/ hold the
# CA's and the servers' keys and stay root's.
CLIENT_DIR="$CONFIG_DIR/client"
EXEC_ROOT="$RUN_DIR/exec"
SOCKET="$RUN_DIR/docker.sock"
DOCKERD_PID="$RUN_DIR/dockerd.pid"
SSHD_PID="$RUN_DIR/sshd.pid"
SSHD_PORT="$RUN_DIR/sshd.port"
# The managed containerd dockerd starts under its exec root.
CONTAINERD_PID="$EXEC_ROOT/containerd/containerd.pid"
CONTAINERD_SOCKET="$EXEC_ROOT/containerd/containerd.sock"
DOCKERD_LOG="$CONFIG_DIR/dockerd.log"
SSHD_LOG="$CONFIG_DIR/sshd.log"
SSHD_CONFIG="$CONFIG_DIR/sshd_config"
# Its /etc/docker (where dockerd keeps the key.json its engine ID comes from).
ETC_DIR="$CONFIG_DIR/etc-docker"
LOCK="$CONFIG_DIR/lock"

log() { printf 'remote-engine: %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "needs root (or sudo) to start a docker engine"
    exec sudo -n --preserve-env=DEVCTL_REMOTE_TLS_PORT,DEVCTL_REMOTE_SSH_PORT,DEVCTL_REMOTE_CONFIG,DEVCTL_REMOTE_DATA_ROOT,DEVCTL_REMOTE_RUN,DEVCTL_REMOTE_HIDE,DEVCTL_REMOTE_TIMEOUT,DEVCTL_REMOTE_IMAGES,TMPDIR -- "$0" "$@"
fi

# The pid in FILE when that process is alive (not a zombie) and runs COMMAND.
live_pid() {
    local file=$1 command=$2 pid state
    [ -s "$file" ] || return 1
    pid="$(cat "$file" 2>/dev/null)" || return 1
    case "$pid" in '' | *[!0-9]*) return 1 ;; esac
    [ -r "/proc/$pid/stat" ] || return 1
    state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" || return 1
    [ "$state" != Z ] || return 1
    grep -q "^$command" "/proc/$pid/comm" 2>/dev/null || return 1
    printf '%s\n' "$pid"
}

engine_answers() {
    docker -H "unix://$SOCKET" version >/dev/null 2>&1
}

# True when something listens on 127.0.0.1:PORT.
port_taken() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# ------------------------------------------------------------ certificates
# A CA, a server certificate for 127.0.0.1 and localhost, and a client certificate,
# in the file names the docker CLI expects (ca.pem, cert.pem, key.pem).
make_certificates() {
    if [ -s "$TLS_DIR/ca.pem" ] && [ -s "$TLS_DIR/server-cert.pem" ] &&
        [ -s "$TLS_DIR/cert.pem" ] && [ -s "$TLS_DIR/key.pem" ] &&
        [ -s "$TLS_DIR/server-key.pem" ]; then
        return 0
    fi
    command -v openssl >/dev/null 2>&1 || die "openssl is missing: run scripts/prepare-engine.sh"
    log "making the TLS certificates in $TLS_DIR"
    rm -rf "$TLS_DIR"
    mkdir -p "$TLS_DIR"
    chmod 700 "$TLS_DIR"
    local work
    work="$(mktemp -d)"
    (
        set -e
        cd "$TLS_DIR"
        openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out ca-key.pem
        openssl req -x509 -new -key ca-key.pem -sha256 -days 825 \
            -subj "/CN=devctl remote test CA" -out ca.pem
        openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out server-key.pem
        openssl req -new -key server-key.pem -subj "/CN=localhost" -out "$work/server.csr"
        printf '%s\n' 'subjectAltName = IP:127.0.0.1,DNS:localhost' \
            'extendedKeyUsage = serverAuth' >"$work/server.ext"
        openssl x509 -req -in "$work/server.csr" -CA ca.pem -CAkey ca-key.pem \
            -CAcreateserial -sha256 -days 825 -extfile "$work/server.ext" \
            -out server-cert.pem 2>/dev/null
        openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out key.pem
        openssl req -new -key key.pem -subj "/CN=devctl remote test client" -out "$work/client.csr"
        printf '%s\n' 'extendedKeyUsage = clientAuth' >"$work/client.ext"
        openssl x509 -req -in "$work/client.csr" -CA ca.pem -CAkey ca-key.pem \
            -CAcreateserial -sha256 -days 825 -extfile "$work/client.ext" \
            -out cert.pem 2>/dev/null
        chmod 600 ./*key.pem
    ) || {
        rm -rf "$work" "$TLS_DIR"
        die "making the certificates with openssl failed"
    }
    rm -rf "$work"
}

# -------------------------------------------------------------------- keys
make_ssh_keys() {
    mkdir -p "$SSH_DIR"
    chmod 700 "$SSH_DIR"
    if [ ! -s "$SSH_DIR/host_ed25519_key" ] || [ ! -s "$SSH_DIR/host_ed25519_key.pub" ]; then
        rm -f "$SSH_DIR/host_ed25519_key" "$SSH_DIR/host_ed25519_key.pub"
        ssh-keygen -q -t ed25519 -N '' -C "devctl remote test host" -f "$SSH_DIR/host_ed25519_key"
    fi
    if [ ! -s "$SSH_DIR/id_ed25519" ] || [ ! -s "$SSH_DIR/id_ed25519.pub" ]; then
        rm -f "$SSH_DIR/id_ed25519" "$SSH_DIR/id_ed25519.pub"
        ssh-keygen -q -t ed25519 -N '' -C "devctl remote test client" -f "$SSH_DIR/id_ed25519"
    fi
    cp "$SSH_DIR/id_ed25519.pub" "$SSH_DIR/authorized_keys"
    chmod 600 "$SSH_DIR/authorized_keys"
}

write_sshd_config() {
    cat >"$SSHD_CONFIG.new" <<EOF
# sshd of the devctl remote test engine (scripts/remote-engine.sh)
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $SSH_DIR/host_ed25519_key
PidFile $SSHD_PID
AuthorizedKeysFile $SSH_DIR/authorized_keys
PermitRootLogin prohibit-password
AllowUsers root
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
X11Forwarding no
PrintMotd no
# A login's docker talks to the second engine.
SetEnv DOCKER_HOST=unix://$SOCKET
EOF
    mv "$SSHD_CONFIG.new" "$SSHD_CONFIG"
}

# Copies the client's material into $CLIENT_DIR, owned by the user sudo ran this for.
# Unchanged material is left as it is (another test run may be reading it).
copy_client_material() {
    local owner=${SUDO_UID:-0}:${SUDO_GID:-0} file current=1
    for file in "$TLS_DIR/ca.pem" "$TLS_DIR/cert.pem" "$TLS_DIR/key.pem" \
        "$SSH_DIR/id_ed25519" "$SSH_DIR/host_ed25519_key.pub"; do
        cmp -s "$file" "$CLIENT_DIR/${file##*/}" || current=0
    done
    if [ "$current" -eq 1 ] && [ "$(stat -c %u:%g "$CLIENT_DIR")" = "$owner" ]; then
        return 0
    fi
    rm -rf "$CLIENT_DIR.new"
    mkdir -p "$CLIENT_DIR.new"
    cp "$TLS_DIR/ca.pem" "$TLS_DIR/cert.pem" "$TLS_DIR/key.pem" \
        "$SSH_DIR/id_ed25519" "$SSH_DIR/host_ed25519_key.pub" "$CLIENT_DIR.new/"
    chmod 644 "$CLIENT_DIR.new/ca.pem" "$CLIENT_DIR.new/cert.pem" \
        "$CLIENT_DIR.new/host_ed25519_key.pub"
    chmod 600 "$CLIENT_DIR.new/key.pem" "$CLIENT_DIR.new/id_ed25519"
    chmod 700 "$CLIENT_DIR.new"
    chown -R "$owner" "$CLIENT_DIR.new"
    rm -rf "$CLIENT_DIR"
    mv "$CLIENT_DIR.new" "$CLIENT_DIR"
}

# ------------------------------------------------------------------ engine
# Removes the pidfiles and sockets a killed engine, containerd or sshd left behind
# (dockerd and containerd refuse to start over a live-looking pidfile).
clear_stale() {
    if ! live_pid "$DOCKERD_PID" dockerd >/dev/null; then
        rm -f "$DOCKERD_PID" "$SOCKET"
    fi
    if ! live_pid "$CONTAINERD_PID" containerd >/dev/null; then
        rm -f "$CONTAINERD_PID" "$CONTAINERD_SOCKET" "$CONTAINERD_SOCKET.ttrpc"
    fi
    if ! live_pid "$SSHD_PID" sshd >/dev/null; then
        rm -f "$SSHD_PID" "$SSHD_PORT"
    fi
}

# The folders the engine must not see: /tmp, $TMPDIR, DEVCTL_REMOTE_HIDE, and root's home
# (a login over ssh starts there without this machine's shell start-up files, as on
# another host, and quickly).
hidden_folders() {
    local folder home
    home="$(getent passwd 0 | cut -d: -f6)"
    for folder in /tmp ${TMPDIR:+"$TMPDIR"} ${home:+"$home"} ${DEVCTL_REMOTE_HIDE:-}; do
        [ -d "$folder" ] && printf '%s\n' "$folder"
    done | sort -u
}

start_engine() {
    if live_pid "$DOCKERD_PID" dockerd >/dev/null; then
        return 0
    fi
    command -v dockerd >/dev/null 2>&1 || die "dockerd is missing: run scripts/prepare-engine.sh"
    if port_taken "$TLS_PORT"; then
        die "127.0.0.1:$TLS_PORT is taken by another program (set DEVCTL_REMOTE_TLS_PORT)"
    fi
    mkdir -p "$DATA_ROOT" "$EXEC_ROOT" "$ETC_DIR"
    local hide=()
    mapfile -t hide < <(hidden_folders)
    log "starting the second dockerd (data root $DATA_ROOT, log $DOCKERD_LOG; hiding ${hide[*]})"
    # In a mount namespace of its own: tmpfs over each hidden folder, and none of the
    # first engine's mounts (container root filesystems, network namespaces) held here;
    # /etc/docker of its own, for its own engine ID (key.json) and no daemon.json.
    # shellcheck disable=SC2016 # expanded by that bash
    setsid nohup unshare --mount --propagation private -- bash -c '
        set -e
        awk '\''$2 ~ "^(/var/lib/docker|/run/docker|/var/run/docker)/" { print $2 }'\'' /proc/self/mounts |
            sort -r | while read -r mount; do umount -l "$mount" 2>/dev/null || true; done
        mkdir -p /etc/docker
        mount --bind "$1" /etc/docker
        shift
        while [ "$1" != -- ]; do
            mount -t tmpfs -o mode=1777 devctl-remote-hidden "$1"
            shift
        done
        shift
        exec "$@"
    ' bash "$ETC_DIR" "${hide[@]}" -- dockerd \
        --data-root "$DATA_ROOT" \
        --exec-root "$EXEC_ROOT" \
        --pidfile "$DOCKERD_PID" \
        -H "unix://$SOCKET" \
        -H "tcp://127.0.0.1:$TLS_PORT" \
        --tlsverify \
        --tlscacert "$TLS_DIR/ca.pem" \
        --tlscert "$TLS_DIR/server-cert.pem" \
        --tlskey "$TLS_DIR/server-key.pem" \
        --iptables=false --bridge=none \
        --default-address-pool base=10.213.0.0/16,size=24 \
        >>"$DOCKERD_LOG" 2>&1 </dev/null 9>&- &
    local starter=$! waited=0
    disown 2>/dev/null || true
    until engine_answers; do
        if ! kill -0 "$starter" 2>/dev/null; then
            tail -n 30 "$DOCKERD_LOG" >&2 || true
            die "the second dockerd exited (log above: $DOCKERD_LOG)"
        fi
        if [ "$waited" -ge "$((TIMEOUT * 5))" ]; then
            tail -n 30 "$DOCKERD_LOG" >&2 || true
            die "the second dockerd did not answer within ${TIMEOUT}s"
        fi
        sleep 0.2
        waited=$((waited + 1))
    done
    log "the second dockerd answers (pid $(cat "$DOCKERD_PID"))"
}

start_sshd() {
    if live_pid "$SSHD_PID" sshd >/dev/null; then
        return 0
    fi
    [ -x /usr/sbin/sshd ] || die "/usr/sbin/sshd is missing: run scripts/prepare-engine.sh"
    if port_taken "$SSH_PORT"; then
        die "127.0.0.1:$SSH_PORT is taken by another program (set DEVCTL_REMOTE_SSH_PORT)"
    fi
    # The privilege separation directory sshd requires.
    mkdir -p /run/sshd
    chmod 755 /run/sshd
    write_sshd_config
    /usr/sbin/sshd -t -f "$SSHD_CONFIG" || die "sshd rejects $SSHD_CONFIG"
    local engine
    engine="$(live_pid "$DOCKERD_PID" dockerd)" || die "the second dockerd is not running"
    # In the engine's mount namespace: a login there does not see /tmp either.
    nsenter --mount --target "$engine" -- /usr/sbin/sshd -f "$SSHD_CONFIG" -E "$SSHD_LOG" 9>&- ||
        die "sshd did not start (log: $SSHD_LOG)"
    local waited=0
    until live_pid "$SSHD_PID" sshd >/dev/null && port_taken "$SSH_PORT"; do
        if [ "$waited" -ge 50 ]; then
            tail -n 20 "$SSHD_LOG" >&2 || true
            die "sshd does not listen on 127.0.0.1:$SSH_PORT"
        fi
        sleep 0.2
        waited=$((waited + 1))
    done
    printf '%s\n' "$SSH_PORT" >"$SSHD_PORT"
    log "sshd listens on 127.0.0.1:$SSH_PORT (pid $(cat "$SSHD_PID"))"
}

# Copies each test image the second engine lacks from the first one.
load_images() {
    local image
    for image in $IMAGES; do
        docker -H "unix://$SOCKET" image inspect "$image" >/dev/null 2>&1 && continue
        docker image inspect "$image" >/dev/null 2>&1 ||
            die "the first engine has no $image: run scripts/prepare-engine.sh"
        log "loading $image into the second engine"
        docker save "$image" | docker -H "unix://$SOCKET" load >/dev/null ||
            die "loading $image into the second engine failed"
    done
}

print_env() {
    cat <<EOF
DEVCTL_REMOTE_SOCKET=$SOCKET
DEVCTL_REMOTE_TLS_HOST=tcp://127.0.0.1:$TLS_PORT
DEVCTL_REMOTE_TLS_PORT=$TLS_PORT
DEVCTL_REMOTE_CERT_DIR=$CLIENT_DIR
DEVCTL_REMOTE_SSH_HOST=ssh://root@127.0.0.1:$SSH_PORT
DEVCTL_REMOTE_SSH_PORT=$SSH_PORT
DEVCTL_REMOTE_SSH_USER=root
DEVCTL_REMOTE_SSH_KEY=$CLIENT_DIR/id_ed25519
DEVCTL_REMOTE_SSH_HOST_KEY=$CLIENT_DIR/host_ed25519_key.pub
DEVCTL_REMOTE_DOCKERD_LOG=$DOCKERD_LOG
DEVCTL_REMOTE_SSHD_LOG=$SSHD_LOG
EOF
}

# Dies when the engine or sshd runs already on other ports than those asked for now:
# what `start` and `env` print must be where they listen.
check_running_ports() {
    local pid running
    if pid="$(live_pid "$DOCKERD_PID" dockerd)"; then
        running="$(tr '\0' '\n' <"/proc/$pid/cmdline" | sed -n 's|^tcp://127\.0\.0\.1:||p' | head -n 1)"
        if [ -n "$running" ] && [ "$running" != "$TLS_PORT" ]; then
            die "the second engine runs already on TLS port $running, not $TLS_PORT: stop it first ($0 stop) or ask for that port"
        fi
    fi
    if live_pid "$SSHD_PID" sshd >/dev/null && [ -s "$SSHD_PORT" ]; then
        running="$(cat "$SSHD_PORT")"
        if [ "$running" != "$SSH_PORT" ]; then
            die "its sshd runs already on port $running, not $SSH_PORT: stop it first ($0 stop) or ask for that port"
        fi
    fi
}

start() {
    check_running_ports
    clear_stale
    make_certificates
    make_ssh_keys
    copy_client_material
    start_engine
    start_sshd
    load_images
    print_env >"$CONFIG_DIR/env.new"
    mv "$CONFIG_DIR/env.new" "$CONFIG_DIR/env"
    print_env
}

# Sends SIGTERM to the process in FILE (running COMMAND), then waits up to SECONDS for
# it to go, then SIGKILL.
stop_process() {
    local file=$1 command=$2 seconds=$3 pid waited=0
    pid="$(live_pid "$file" "$command")" || return 0
    log "stopping $command (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    while live_pid "$file" "$command" >/dev/null && [ -d "/proc/$pid" ]; do
        if [ "$waited" -ge "$((seconds * 5))" ]; then
            log "$command (pid $pid) did not stop within ${seconds}s: killing it"
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.2
        waited=$((waited + 1))
    done
}

# The container shims of this engine's containerd (their -address is its socket), left
# when containerd was killed.
stop_shims() {
    local pid
    for pid in $(pgrep -f -- "-address $CONTAINERD_SOCKET( |\$)" || true); do
        log "stopping a container shim of the second engine (pid $pid)"
        kill -KILL "$pid" 2>/dev/null || true
    done
}

stop() {
    stop_process "$SSHD_PID" sshd 10
    if engine_answers; then
        # Containers go first, at once: the engine would wait for each one's stop timeout.
        local running
        running="$(docker -H "unix://$SOCKET" ps -q 2>/dev/null || true)"
        if [ -n "$running" ]; then
            # shellcheck disable=SC2086 # one id a word
            docker -H "unix://$SOCKET" kill $running >/dev/null 2>&1 || true
        fi
    fi
    stop_process "$DOCKERD_PID" dockerd 30
    stop_process "$CONTAINERD_PID" containerd 10
    stop_shims
    clear_stale
    log "stopped"
}

main() {
    mkdir -p "$CONFIG_DIR" "$RUN_DIR"
    chmod 755 "$CONFIG_DIR"
    case "${1:-}" in
    start | stop)
        # One start or stop at a time.
        exec 9>"$LOCK"
        flock 9
        "$1"
        ;;
    env)
        check_running_ports
        print_env
        ;;
    *)
        printf 'usage: %s start|stop|env\n' "$0" >&2
        exit 2
        ;;
    esac
}

main "$@"
