#!/usr/bin/env bash
# Installs the official OpenAI Node client (npm `openai`, v6) that the
# end-to-end test of mlosd's /v1 API drives, cached under
# $AXON_TOOLS/npm/openai-VERSION by install-npm.sh (a second run does nothing).
set -euo pipefail

exec "$(dirname "$0")/install-npm.sh" openai openai 6.30.1
