#!/usr/bin/env bash
# with-stack.sh CMD... — start the local AWS stack, run CMD with its
# environment, and stop the stack whatever happens (exit, failure, Ctrl-C).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
trap '"$here/stack.sh" down' EXIT
trap 'exit 130' INT TERM
"$here/stack.sh" up
# shellcheck disable=SC1090
. "$("$here/stack.sh" env)"
# Under make the emulators are required: harnesses fail rather than skip.
export LATCH_REQUIRE_EMULATORS=1
"$@"
