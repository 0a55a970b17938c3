#!/usr/bin/env bash
# Install Debian's PostgreSQL server when it is missing, for the tests that run against a
# real database (tests/postgres.py starts a throwaway cluster from these binaries and stops
# it at the end; nothing here starts a system service). Idempotent: does nothing when
# /usr/lib/postgresql/<version>/bin/initdb exists. Needs root (or sudo); CI runs as root.
set -euo pipefail

if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "ensure-postgres: PostgreSQL is missing and this user cannot install it (not root, no sudo)" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# The package also creates the postgres system user, which the tests run the server as
# when they run as root (initdb refuses root).
$SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
compgen -G "/usr/lib/postgresql/*/bin/initdb"
