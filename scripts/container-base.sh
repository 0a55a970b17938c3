#!/usr/bin/env bash
# Build a Debian bookworm root filesystem with python3 and python3-venv from Debian's own
# packages (debootstrap) and save it as a tarball for `docker import`: a base image for the
# Dockerfile's BASE_IMAGE where no container registry can be reached.
#
#   scripts/container-base.sh [TARBALL]    (default .cache/container/bookworm-python3.tar)
#
# Reuses the tarball when it exists (delete it to rebuild). The Debian mirror is the one
# this machine's apt already uses (its sources list), so the script names no host itself.
# Needs root: debootstrap creates device nodes and owns files as root.
set -euo pipefail

cd "$(dirname "$0")/.."
TARBALL=${1:-.cache/container/bookworm-python3.tar}
if [ -s "$TARBALL" ]; then
    echo "$TARBALL"
    exit 0
fi

mirror() {
    # deb822 (.sources) first, then one-line sources.list entries: the first Debian main URI.
    local uri
    uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
    if [ -z "$uri" ]; then
        uri=$(awk '$1 == "deb" && $0 ~ / main/ {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' \
            /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
    fi
    [ -n "$uri" ] || { echo "container-base: no Debian mirror in the apt sources" >&2; exit 1; }
    echo "$uri"
}

mkdir -p "$(dirname "$TARBALL")"
ROOT=$(mktemp -d "${TMPDIR:-/tmp}/priosync-rootfs.XXXXXX")
trap 'rm -rf "$ROOT"' EXIT
debootstrap --variant=minbase --include=python3,python3-venv bookworm "$ROOT" "$(mirror)" >&2
# What an image does not need: package lists, caches, documentation, locales.
rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/* "$ROOT"/usr/share/doc/* \
    "$ROOT"/usr/share/man/* "$ROOT"/usr/share/info/* "$ROOT"/usr/share/locale/*
tar --numeric-owner -C "$ROOT" -cf "$TARBALL.partial" .
mv "$TARBALL.partial" "$TARBALL"
echo "$TARBALL"
