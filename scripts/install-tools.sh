#!/usr/bin/env bash
# Installs everything the tests and benchmarks need that is not a Go module
# dependency of the project: peers (oras, CNCF Distribution), the OCI conformance
# suite, a real S3 server (versitygw), ONNX Runtime, Chromium and Debian's PyTorch.
# Slow installs are cached under $AXON_TOOLS (default ~/.cache/axon-tools) so a
# second run on the same machine does nothing; a fresh machine still works.
set -euo pipefail

TOOLS="${AXON_TOOLS:-$HOME/.cache/axon-tools}"
BIN="$TOOLS/bin"
mkdir -p "$BIN"
here="$(cd "$(dirname "$0")" && pwd)"

log() { printf '[tools] %s\n' "$*" >&2; }

# go_tool NAME MODULE@VERSION: go install into $BIN once per version.
go_tool() {
  local name="$1" pkg="$2" stamp="$BIN/.$1.version"
  if [ -x "$BIN/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$pkg" ]; then return; fi
  log "go install $pkg"
  GOBIN="$BIN" GOFLAGS=-buildvcs=false go install "$pkg"
  echo "$pkg" >"$stamp"
}

apt_pkgs() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return
  if [ "$(id -u)" != 0 ]; then
    log "missing Debian packages: ${missing[*]} (run as root or: sudo apt-get install ${missing[*]})"
    return 1
  fi
  log "apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

what="${1:-all}"
case "$what" in
  all|apt)
    apt_pkgs chromium python3-torch python3-onnx python3-numpy python3-jinja2 ;;&
  all|go)
    go_tool oras oras.land/oras/cmd/oras@v1.3.6
    go_tool versitygw github.com/versity/versitygw/cmd/versitygw@v1.8.0
    go_tool conformance github.com/opencontainers/distribution-spec/conformance@v0.0.0-20260831232431-97274622c111
    go_tool registry github.com/distribution/distribution/v3/cmd/registry@v3.1.2
    "$here/install-crane.sh"
    ;;&
  all|chat) "$here/install-chat.sh" ;;&
  all|npm-openai) "$here/install-npm-openai.sh" ;;&
  all|cosign) "$here/install-cosign.sh" ;;&
  all|ort)
    "$here/install-ort.sh" ;;
esac
