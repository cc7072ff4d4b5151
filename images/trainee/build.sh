#!/usr/bin/env bash
# Builds bootcamp-trainee:latest: collects wheels on the host (containers cannot verify PyPI's TLS here),
# then installs them offline in the image. Idempotent: Docker's layer cache makes a rerun quick.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/../../scripts/lib/common.sh"
TAG="${1:-bootcamp-trainee:latest}"
BASE_IMAGE="${BASE_IMAGE:-bootcamp-base:bookworm}"
WHEELS="$CACHE/wheelhouse/trainee"
PIP="$VENV/bin/pip"; [ -x "$PIP" ] || PIP="python3 -m pip"

docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 || bash "$ROOT/images/base/build.sh" "$BASE_IMAGE"

CONTEXT="$(mktemp -d /tmp/bootcamp-trainee-ctx.XXXXXX)"
trap 'rm -rf "$CONTEXT"' EXIT
# One list of course libraries for every image: the course's (with torch), then the server's own.
{ grep -hv '^-r' "$ROOT/images/course/requirements.txt" "$ROOT/images/course/requirements-dl.txt"; cat "$HERE/requirements.txt"; } \
    > "$CONTEXT/requirements.txt"

say "collecting trainee wheels for Python 3.11.2 into ${WHEELS#$ROOT/}"
mkdir -p "$WHEELS"
$PIP download -q --python-version 3.11.2 --only-binary=:all: -d "$WHEELS" -r "$CONTEXT/requirements.txt" 2> >(grep -v "is ignored: it is neither" >&2) \
    || die "pip download failed (is PyPI reachable?)"

# Only graders.harness (what test cells import) and the exchange client (nbgrader's plugin for the exchange
# service, standard library + nbgrader + requests) go in: never the hub, grading or course code.
mkdir -p "$CONTEXT/graders/hub"
cp "$ROOT/graders/__init__.py" "$ROOT/graders/harness.py" "$CONTEXT/graders/"
cp "$ROOT/graders/hub/__init__.py" "$ROOT/graders/hub/exchange_client.py" "$CONTEXT/graders/hub/"
cp "$HERE/Dockerfile" "$HERE/nbgrader_config.py" "$HERE/overrides.json" "$CONTEXT/"
cp -al "$WHEELS" "$CONTEXT/wheels" 2>/dev/null || cp -r "$WHEELS" "$CONTEXT/wheels"

say "building $TAG (base $BASE_IMAGE)"
# Nothing in the build reaches a network (wheels come from the context); host networking lets it run on an
# engine without its default bridge, too.
docker build -q --network host --build-arg BASE_IMAGE="$BASE_IMAGE" -t "$TAG" "$CONTEXT" >/dev/null \
    || die "docker build of $TAG failed"
say "built $TAG"
