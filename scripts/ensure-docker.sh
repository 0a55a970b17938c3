#!/usr/bin/env bash
# Install what the container test needs when it is missing: Debian's Docker engine (docker.io,
# which brings dockerd, containerd and runc) and debootstrap, for a base image built from
# Debian packages where no container registry is reachable. Idempotent; needs root or sudo.
# The test starts its own dockerd (tests/container/conftest.py); nothing is started here.
set -euo pipefail

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "ensure-docker: ${missing[*]} missing and this user cannot install them (not root, no sudo)" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The package would start the system's daemon on a machine with systemd; the test uses its own.
dockerd --version
