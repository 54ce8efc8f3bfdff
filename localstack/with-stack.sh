#!/usr/bin/env bash
# with-stack.sh CMD... — run CMD against a local AWS stack of its own and stop
# the stack whatever happens; a thin wrapper over 'latch emulators exec'.
# The backend is $LATCH_BACKEND (default or localstack), else default.
#
# Each run has emulators and run state of its own: a second run in the same
# checkout, or a stack started with 'make emulators-up', is neither reused nor
# stopped by this one. On failure the emulators' logs are kept and named.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Build latch once per checkout state into the cache rather than 'go run'
# (which would hold the build in a temporary directory for the whole run).
cache=${LATCH_CACHE:-$repo/.cache}
export LATCH_CACHE=$cache
bin=$cache/bin/latch-$(printf %s "$repo" | sha256sum | cut -c1-12)
mkdir -p "$cache/bin"
# Built aside and renamed: runs in parallel never see half a binary.
tmp=$(mktemp "$bin.XXXXXX")
(cd "$repo" && go build -o "$tmp" ./cmd/latch) || { rm -f "$tmp"; exit 1; }
mv -f "$tmp" "$bin"
exec "$bin" emulators exec -- "$@"
