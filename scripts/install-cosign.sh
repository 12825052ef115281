#!/usr/bin/env bash
# Installs the real cosign CLI (sigstore) into $AXON_TOOLS/bin for the signing
# interoperability tests (internal/signing, cmd/axon, mlos/mlosd). Built from
# the Go module proxy; cached by version, so a second run does nothing.
set -euo pipefail

TOOLS="${AXON_TOOLS:-$HOME/.cache/axon-tools}"
BIN="$TOOLS/bin"
VERSION=v2.6.5
PKG="github.com/sigstore/cosign/v2/cmd/cosign@$VERSION"
stamp="$BIN/.cosign.version"
mkdir -p "$BIN"
if [ -x "$BIN/cosign" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$PKG" ]; then exit 0; fi
printf '[tools] go install %s (first build takes a few minutes)\n' "$PKG" >&2
GOBIN="$BIN" GOFLAGS=-buildvcs=false go install "$PKG"
echo "$PKG" >"$stamp"
