#!/bin/sh
# KServe storage initializer for axon packages: KServe runs it as the init container
# of a predictor with the InferenceService's storageUri and the model directory:
#   axon-storage-init.sh axon://registry.example.com/hf/bert-base-uncased@sha256:... /mnt/models
# It pulls the package (by digest when the URI has one, verifying every blob) into a
# scratch store and exports its files, manifest.yaml included, into the directory,
# which mlosd then serves with --model-dir /mnt/models.
# Environment: AXON_PLAIN_HTTP=1 for a registry without TLS (an in-cluster axon-registry),
# AXON_HOME for the scratch store (default a temporary directory), registry
# credentials through DOCKER_CONFIG (a mounted docker config.json) as for docker.
set -eu
if [ "$#" -ne 2 ]; then
	echo "usage: $0 axon://HOST/REPO[:TAG|@sha256:...] DIR" >&2
	exit 2
fi
uri=$1
dir=$2
ref=${uri#axon://}
ref=${ref#oci://}
case $ref in
"" | *://*)
	echo "axon-storage-init: $uri: want axon://HOST/REPO[:TAG|@sha256:...] (or oci://...)" >&2
	exit 2
	;;
esac
AXON_HOME=${AXON_HOME:-$(mktemp -d)}
export AXON_HOME
set --
if [ "${AXON_PLAIN_HTTP:-}" = "1" ] || [ "${AXON_PLAIN_HTTP:-}" = "true" ]; then
	set -- --plain-http
fi
axon pull "$@" "$ref"
axon export "$ref" "$dir"
echo "axon-storage-init: $ref is in $dir"
