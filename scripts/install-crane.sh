#!/usr/bin/env bash
# Installs crane (go-containerregistry), the second OCI client the ModelPack
# interop test reads axon's artifacts with. Cached under $AXON_TOOLS/bin: a
# second run does nothing.
set -euo pipefail
TOOLS="${AXON_TOOLS:-$HOME/.cache/axon-tools}"
BIN="$TOOLS/bin"
PKG="github.com/google/go-containerregistry/cmd/crane@v0.20.6"
stamp="$BIN/.crane.version"
mkdir -p "$BIN"
if [ -x "$BIN/crane" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$PKG" ]; then exit 0; fi
echo "[tools] go install $PKG" >&2
GOBIN="$BIN" GOFLAGS=-buildvcs=false go install "$PKG"
echo "$PKG" >"$stamp"
