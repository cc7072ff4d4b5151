#!/usr/bin/env bash
# Builds bootcamp-base:bookworm from Debian's packages with debootstrap, for machines without a registry.
# Where a registry is reachable, any python:3.11-slim-like image can be passed as BASE_IMAGE instead.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib/common.sh"
TAG="${1:-bootcamp-base:bookworm}"
# git: the git-and-shell module's lessons and assignments drive real repositories, in both images.
PACKAGES="python3,python3-venv,python3-pip,ca-certificates,tini,git"
# The package list is stored as a label, so a changed list rebuilds the base once per machine.
built="$(docker image inspect -f '{{ index .Config.Labels "bootcamp.base.packages" }}' "$TAG" 2>/dev/null || true)"
if [ "$built" = "$PACKAGES" ]; then exit 0; fi
ensure_debootstrap
ROOTFS="$(mktemp -d /tmp/bootcamp-rootfs.XXXXXX)"
trap 'as_root rm -rf "$ROOTFS"' EXIT
MIRROR="$(debian_mirror)"
say "debootstrap bookworm from $MIRROR (about a minute, once per machine)"
as_root debootstrap --variant=minbase --include="$PACKAGES" \
    bookworm "$ROOTFS" "$MIRROR" >/tmp/bootcamp-debootstrap.log 2>&1 \
    || die "debootstrap failed, see /tmp/bootcamp-debootstrap.log"
as_root rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
as_root tar -C "$ROOTFS" -c . | docker import -c 'ENV LANG=C.UTF-8' -c 'CMD ["/bin/bash"]' \
    -c "LABEL bootcamp.base.packages=$PACKAGES" - "$TAG" >/dev/null
say "built $TAG"
