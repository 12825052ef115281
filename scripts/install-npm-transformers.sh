#!/usr/bin/env bash
# Installs transformers.js (npm @huggingface/transformers 4.3.x with
# onnxruntime-node's CPU binaries from the npm tarball; its install script's
# GitHub download is skipped with ONNXRUNTIME_NODE_INSTALL=skip) for
# bench:generate's peer, cached under $AXON_TOOLS/npm/transformers-$VERSION.
# Only the benchmark uses it; it runs offline from a local model folder.
set -euo pipefail

TOOLS="${AXON_TOOLS:-$HOME/.cache/axon-tools}"
VERSION=4.3.2
DEST="$TOOLS/npm/transformers-$VERSION"

log() { printf '[npm-transformers] %s\n' "$*" >&2; }

if [ -s "$DEST/node_modules/@huggingface/transformers/package.json" ] && [ "$(cat "$DEST/.version" 2>/dev/null)" = "$VERSION" ]; then
  exit 0
fi
command -v npm >/dev/null || { log "npm (Node.js 20+) is needed"; exit 1; }
log "npm install @huggingface/transformers@$VERSION"
mkdir -p "$DEST"
ONNXRUNTIME_NODE_INSTALL=skip npm install --silent --no-audit --no-fund --no-save --prefix "$DEST" "@huggingface/transformers@$VERSION" >/dev/null
test -s "$DEST/node_modules/@huggingface/transformers/package.json"
echo "$VERSION" >"$DEST/.version"
