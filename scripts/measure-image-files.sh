#!/usr/bin/env bash
# Measures the ways `devctl doctor --images` could learn an image's files, on the local
# engine (unix socket), and prints the median of RUNS runs of each:
#   export   `docker create` + `docker export | tar -t` + `docker rm` (the whole file system)
#   save     `docker save | tar -x '*/layer.tar' | tar -t -i` (each layer, not unpacked)
#   api      the same from the Engine API's image export (GET /images/NAME/get)
#   lookups  `docker create`, six HEAD requests to the container's archive endpoint (what a
#            path is), a copy of /etc/passwd, `docker rm` (what the compose checks do)
#
# usage: scripts/measure-image-files.sh IMAGE [RUNS]   (RUNS defaults to 7)
set -euo pipefail

image=$1
runs=${2:-7}
socket=/var/run/docker.sock
api=http://engine/v1.41

median() { sort -n | awk '{ value[NR] = $1 } END { print value[int((NR + 1) / 2)] }'; }

seconds() {
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s.%N)
    echo "$end - $start" | bc
}

export_listing() {
    local container
    container=$(docker create --entrypoint /absent "$image")
    docker export "$container" | tar -t | wc -l
    docker rm -f "$container" >/dev/null
}

save_listing() {
    docker save "$image" | tar -xO --wildcards '*/layer.tar' | tar -t -i | wc -l
}

api_listing() {
    curl -sf --unix-socket "$socket" "$api/images/$image/get" |
        tar -xO --wildcards '*/layer.tar' | tar -t -i | wc -l
}

lookups() {
    local container path
    container=$(docker create --entrypoint /absent "$image")
    for path in /bin/sh /usr/bin/curl /usr/local/bin/curl /usr/bin/wget /etc/passwd /etc/group; do
        curl -s -o /dev/null -I --unix-socket "$socket" "$api/containers/$container/archive?path=$path"
    done
    curl -s --unix-socket "$socket" "$api/containers/$container/archive?path=/etc/passwd" | wc -c
    docker rm -f "$container" >/dev/null
}

for method in export_listing save_listing api_listing lookups; do
    median_seconds=$(for _ in $(seq "$runs"); do seconds "$method"; done | median)
    echo "$image $method: median ${median_seconds}s of $runs runs"
done
