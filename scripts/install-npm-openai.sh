#!/usr/bin/env bash
# Installs the official OpenAI Node client (npm `openai`, v6) that the
# end-to-end test of mlosd's /v1 API drives, cached under
# $AXON_TOOLS/npm/openai-$VERSION. Idempotent: a second run does nothing.
set -euo pipefail

TOOLS="${AXON_TOOLS:-$HOME/.cache/axon-tools}"
VERSION=6.30.1
DEST="$TOOLS/npm/openai-$VERSION"

log() { printf '[npm-openai] %s\n' "$*" >&2; }

if [ -s "$DEST/node_modules/openai/package.json" ] && [ "$(cat "$DEST/.version" 2>/dev/null)" = "$VERSION" ]; then
  exit 0
fi
command -v npm >/dev/null || { log "npm (Node.js 20+) is needed"; exit 1; }
log "npm install openai@$VERSION"
mkdir -p "$DEST"
npm install --silent --no-audit --no-fund --no-save --prefix "$DEST" "openai@$VERSION" >/dev/null
test -s "$DEST/node_modules/openai/package.json"
echo "$VERSION" >"$DEST/.version"
