#!/usr/bin/env bash
# stack.sh up|down|env|status|install [--backend default|localstack] — the
# Docker-free local AWS stack; a thin wrapper over 'latch emulators', which
# is where everything happens (see 'go run ./cmd/latch emulators --help').
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export LATCH_CACHE=${LATCH_CACHE:-$repo/.cache}
cd "$repo"
exec go run ./cmd/latch emulators "$@"
