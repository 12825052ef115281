#!/usr/bin/env bash
# install-npm.sh NAME PACKAGE VERSION installs the npm package PACKAGE@VERSION,
# cached under $AXON_TOOLS/npm/NAME-VERSION: the one way install-npm-openai.sh
# and install-npm-transformers.sh install theirs. The caller's environment
# reaches npm. Idempotent: a second run does nothing.
set -euo pipefail

[ $# -eq 3 ] || { printf 'usage: %s NAME PACKAGE VERSION\n' "$0" >&2; exit 2; }
NAME="$1" PACKAGE="$2" VERSION="$3"
TOOLS="${AXON_TOOLS:-$HOME/.cache/axon-tools}"
DEST="$TOOLS/npm/$NAME-$VERSION"

log() { printf '[npm-%s] %s\n' "$NAME" "$*" >&2; }

if [ -s "$DEST/node_modules/$PACKAGE/package.json" ] && [ "$(cat "$DEST/.version" 2>/dev/null)" = "$VERSION" ]; then
  exit 0
fi
command -v npm >/dev/null || { log "npm (Node.js 20+) is needed"; exit 1; }
log "npm install $PACKAGE@$VERSION"
mkdir -p "$DEST"
npm install --silent --no-audit --no-fund --no-save --prefix "$DEST" "$PACKAGE@$VERSION" >/dev/null
test -s "$DEST/node_modules/$PACKAGE/package.json"
echo "$VERSION" >"$DEST/.version"
