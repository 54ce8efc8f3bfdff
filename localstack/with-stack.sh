#!/usr/bin/env bash
# with-stack.sh CMD... — start the local AWS stack, run CMD with its
# environment, and stop the stack whatever happens (exit, failure, Ctrl-C).
#
# Each run has emulators and run state of its own (LATCH_RUN_DIR, under
# <repo>/.run): a second run in the same checkout, or emulators started with
# "make emulators-up", are neither reused nor stopped by this one.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$here/../.run"
LATCH_RUN_DIR=$(mktemp -d "$(cd "$here/.." && pwd)/.run/stack.XXXXXX")
export LATCH_RUN_DIR
# On failure the run's emulator logs stay for a look; make emulators-down
# clears them.
trap 'rc=$?; "$here/stack.sh" down; if [ $rc -eq 0 ]; then rm -rf "$LATCH_RUN_DIR"; else echo "with-stack: emulator logs kept in $LATCH_RUN_DIR" >&2; fi' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
"$here/stack.sh" up
# shellcheck disable=SC1090
. "$("$here/stack.sh" env)"
# Under make the emulators are required: harnesses fail rather than skip.
export LATCH_REQUIRE_EMULATORS=1
"$@"
