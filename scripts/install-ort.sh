#!/usr/bin/env bash
# Installs the ONNX Runtime 1.24.1 shared library that yalue/onnxruntime_go v1.27.0 needs.
# Order: an existing $ONNXRUNTIME_LIB; the cache; the official release archive
# (github.com/microsoft/onnxruntime, where reachable); the same library as shipped in the
# npm package onnxruntime-node@1.24.1 (sha256-pinned). Prints the library's path.
set -euo pipefail

VERSION=1.24.1
NPM_SO_SHA256=53ef1ac028dd1b05554b8da28d9159eb3876f99868193d2aaa6e67f0243c23d4
TOOLS="${AXON_TOOLS:-$HOME/.cache/axon-tools}"
DIR="$TOOLS/onnxruntime-$VERSION"
LIB="$DIR/libonnxruntime.so"

log() { printf '[ort] %s\n' "$*" >&2; }

if [ -n "${ONNXRUNTIME_LIB:-}" ] && [ -f "$ONNXRUNTIME_LIB" ]; then echo "$ONNXRUNTIME_LIB"; exit 0; fi
if [ -f "$LIB" ]; then echo "$LIB"; exit 0; fi
case "$(uname -s)/$(uname -m)" in
  Linux/x86_64) arch=x64 ;;
  Linux/aarch64) arch=aarch64 ;;
  *) log "unsupported platform $(uname -s)/$(uname -m): download ONNX Runtime $VERSION yourself and set ONNXRUNTIME_LIB"; exit 1 ;;
esac
mkdir -p "$DIR"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT

url="https://github.com/microsoft/onnxruntime/releases/download/v$VERSION/onnxruntime-linux-$arch-$VERSION.tgz"
if [ -z "${ORT_SKIP_RELEASE:-}" ] && curl -fsSL --connect-timeout 5 --max-time 300 -o "$tmp/ort.tgz" "$url" 2>/dev/null; then
  log "from the official release archive $url"
  tar xzf "$tmp/ort.tgz" -C "$tmp"
  cp "$tmp/onnxruntime-linux-$arch-$VERSION/lib/libonnxruntime.so.$VERSION" "$LIB.tmp"
else
  [ "$arch" = x64 ] || { log "release archive unreachable and the npm fallback is x64 only"; exit 1; }
  log "release archive unreachable; using npm onnxruntime-node@$VERSION"
  (cd "$tmp" && npm pack --silent "onnxruntime-node@$VERSION" >/dev/null)
  tar xzf "$tmp/onnxruntime-node-$VERSION.tgz" -C "$tmp" package/bin/napi-v6/linux/x64/libonnxruntime.so.1
  got="$(sha256sum "$tmp/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" | cut -d' ' -f1)"
  if [ "$got" != "$NPM_SO_SHA256" ]; then
    log "sha256 mismatch for libonnxruntime.so.1 from npm: got $got, want $NPM_SO_SHA256"; exit 1
  fi
  cp "$tmp/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$LIB.tmp"
fi
mv "$LIB.tmp" "$LIB"
ln -sf libonnxruntime.so "$DIR/libonnxruntime.so.1"
log "installed $LIB"
echo "$LIB"
