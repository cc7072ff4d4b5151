#!/usr/bin/env bash
# Builds bootcamp-base:bookworm from Debian's packages with debootstrap, for machines without a registry.
# Where a registry is reachable, any python:3.11-slim-like image can be passed as BASE_IMAGE instead.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib/common.sh"
TAG="${1:-bootcamp-base:bookworm}"
if docker image inspect "$TAG" >/dev/null 2>&1; then exit 0; fi
ensure_debootstrap
ROOTFS="$(mktemp -d /tmp/bootcamp-rootfs.XXXXXX)"
trap 'as_root rm -rf "$ROOTFS"' EXIT
MIRROR="$(debian_mirror)"
say "debootstrap bookworm from $MIRROR (about a minute, once per machine)"
as_root debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates,tini \
    bookworm "$ROOTFS" "$MIRROR" >/tmp/bootcamp-debootstrap.log 2>&1 \
    || die "debootstrap failed, see /tmp/bootcamp-debootstrap.log"
as_root rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
as_root tar -C "$ROOTFS" -c . | docker import -c 'ENV LANG=C.UTF-8' -c 'CMD ["/bin/bash"]' - "$TAG" >/dev/null
say "built $TAG"
