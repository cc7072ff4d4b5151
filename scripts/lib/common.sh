# Shared shell helpers for scripts/quickstart, scripts/test and scripts/build_images.
# Every function is idempotent: it checks first and only does work that is missing.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv"
CACHE="$ROOT/.cache"
export PIP_DISABLE_PIP_VERSION_CHECK=1

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
warn() { printf '\033[1;33m!!!\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31mxxx\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi
}

# The project's virtual environment, with the package and its extras installed (editable).
VENV_RECIPE=2  # raise when ensure_venv changes what it does, so existing venvs are redone
ensure_venv() {
    local extras="${1:-hub,ml,dev}"
    local stamp="$VENV/.installed-$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)-${extras//,/_}-r$VENV_RECIPE"
    if [ -f "$stamp" ]; then return 0; fi
    say "Creating the virtual environment in .venv (extras: $extras)"
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV" || die "python3 -m venv failed: install python3-venv (Python 3.11+)"
    # torch==2.13.0 is pinned in the 'ml' extra: on the build machines it is a CPU wheel already on disk.
    "$VENV/bin/pip" install -q --upgrade pip >/dev/null 2>&1 || true
    local log status=0
    log="$(mktemp)"
    "$VENV/bin/pip" install -q -e "$ROOT[$extras]" >"$log" 2>&1 || status=$?
    # this machine's pip configuration names local indexes that may be absent: not worth a screenful
    grep -v -e '^WARNING: Location' "$log" || true
    rm -f "$log"
    [ "$status" = 0 ] || die "pip install failed (see the messages above)"
    # jsonschema's optional "iri" checker compiles a grammar on every import (1.8 s of each hub, formgrader
    # and nbformat-validating start); jsonschema runs without it (see images/trainee/Dockerfile)
    "$VENV/bin/pip" uninstall --yes --quiet rfc3987-syntax >/dev/null 2>&1 || true
    touch "$stamp"
}

docker_ok() { docker info >/dev/null 2>&1; }

# A Docker engine that answers. Starts Debian's dockerd where none runs (no systemd on these machines).
ensure_docker() {
    if docker_ok; then return 0; fi
    if ! command -v dockerd >/dev/null 2>&1; then
        say "No Docker engine found: installing Debian's docker.io"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null \
            && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io >/dev/null \
            || { warn "could not install docker.io"; return 1; }
    fi
    if command -v systemctl >/dev/null 2>&1 && systemctl is-system-running >/dev/null 2>&1; then
        as_root systemctl start docker || true
    fi
    if ! docker_ok; then
        say "Starting dockerd in the background (log: /tmp/bootcamp-dockerd.log)"
        as_root mkdir -p /var/lib/docker
        (as_root nohup dockerd >/tmp/bootcamp-dockerd.log 2>&1 &)
    fi
    for _ in $(seq 1 60); do docker_ok && return 0; sleep 1; done
    warn "dockerd did not answer within 60 s (see /tmp/bootcamp-dockerd.log)"
    return 1
}

ensure_debootstrap() {
    command -v debootstrap >/dev/null 2>&1 && return 0
    say "Installing debootstrap (to build the base image without a registry)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null
}

# The Debian mirror this machine already uses; never a hard-coded host.
debian_mirror() {
    local uri
    uri=$(grep -hE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
        | grep -v security | head -n1 | awk '{ if ($1 == "URIs:") print $2; else for (i=2;i<=NF;i++) if ($i ~ /^https?:/) { print $i; exit } }')
    echo "${uri:-http://deb.debian.org/debian}"
}

# Debian's Chromium for the browser tests, screenshots and PDF transcripts (never a downloaded browser).
ensure_chromium() {
    command -v chromium >/dev/null 2>&1 && return 0
    say "Installing Debian's chromium (browser tests, report screenshots, PDF transcripts)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >/dev/null \
        || warn "could not install chromium"
}

# JupyterHub's Node.js proxy (the Python port breaks some usernames and routing).
ensure_proxy() {
    command -v configurable-http-proxy >/dev/null 2>&1 && return 0
    command -v npm >/dev/null 2>&1 || { warn "npm is missing: install Node.js 20 to run the hub"; return 1; }
    say "Installing configurable-http-proxy with npm"
    as_root npm install -g --silent configurable-http-proxy >/dev/null 2>&1 || { warn "npm install failed"; return 1; }
}

# Image builds print pip's notices about this machine's local indexes; keep the logs readable.
quiet_build() {
    local log status=0
    log="$(mktemp)"
    "$@" >"$log" 2>&1 || status=$?
    grep -v -e '^WARNING: Location' -e 'DEPRECATED: The legacy builder' -e 'Install the buildx' \
        -e 'docs.docker.com/go/buildx' -e '^ *$' "$log" || true
    rm -f "$log"
    return "$status"
}

# PostgreSQL's server binaries from Debian (the grading queue's tests and benchmark start throwaway
# clusters with them; nothing is started here, and no system cluster is used).
ensure_postgres() {
    ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 && return 0
    say "Installing Debian's postgresql (the scale-out tests start throwaway clusters)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null \
        || { warn "could not install postgresql"; return 1; }
}

# gVisor's runsc from Debian: the `gvisor` sandbox backend, tested on the second Docker daemon the
# scale-out tests start (tests/second_host.py registers the runtime there; the main daemon is untouched).
ensure_runsc() {
    command -v runsc >/dev/null 2>&1 && return 0
    say "Installing Debian's runsc (gVisor, for the gvisor sandbox backend)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q runsc >/dev/null \
        || { warn "could not install runsc"; return 1; }
}
