#!/usr/bin/env bash
# Installs transformers.js (npm @huggingface/transformers 4.3.x with
# onnxruntime-node's CPU binaries from the npm tarball; its install script's
# GitHub download is skipped with ONNXRUNTIME_NODE_INSTALL=skip) for
# bench:generate's peer, cached under $AXON_TOOLS/npm/transformers-VERSION.
# Only the benchmark uses it; it runs offline from a local model folder.
set -euo pipefail

ONNXRUNTIME_NODE_INSTALL=skip exec "$(dirname "$0")/install-npm.sh" transformers @huggingface/transformers 4.3.2
