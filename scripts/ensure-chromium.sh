#!/usr/bin/env bash
# Install Debian's headless-capable Chromium when it is missing, for the HTML report's
# browser test (tests/deploy). Idempotent: does nothing when /usr/bin/chromium exists.
# Needs root (or sudo) and Debian's package registry; CI runs as root.
set -euo pipefail

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

if [ -x "$CHROMIUM" ]; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "ensure-chromium: $CHROMIUM is missing and this user cannot install it (not root, no sudo)" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# fonts-dejavu-core: the screenshot needs at least one font with the report's glyphs.
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
"$CHROMIUM" --version
