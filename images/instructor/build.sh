#!/usr/bin/env bash
# Builds bootcamp-instructor:latest on top of the trainee image (built first when missing).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/../../scripts/lib/common.sh"
TAG="${1:-bootcamp-instructor:latest}"
TRAINEE_IMAGE="${TRAINEE_IMAGE:-bootcamp-trainee:latest}"
docker image inspect "$TRAINEE_IMAGE" >/dev/null 2>&1 || bash "$ROOT/images/trainee/build.sh" "$TRAINEE_IMAGE"
say "building $TAG (from $TRAINEE_IMAGE)"
docker build -q --build-arg TRAINEE_IMAGE="$TRAINEE_IMAGE" -t "$TAG" "$HERE" >/dev/null \
    || die "docker build of $TAG failed"
say "built $TAG"
