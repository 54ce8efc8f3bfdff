#!/usr/bin/env bash
# with-localstack.sh CMD... — run CMD against LocalStack in Docker (see
# docker-compose.yml), and stop it whatever happens.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
command -v docker >/dev/null 2>&1 || { echo "with-localstack: Docker is required for LocalStack; use 'make test' for the Docker-free stack" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "with-localstack: no Docker engine answers; use 'make test' for the Docker-free stack" >&2; exit 1; }
compose=(docker compose -f "$here/docker-compose.yml" -p latch-localstack)
trap '"${compose[@]}" down -v >/dev/null 2>&1 || true' EXIT
trap 'exit 130' INT TERM
"${compose[@]}" up -d --wait
endpoint=http://127.0.0.1:4566
export AWS_ENDPOINT_URL=$endpoint AWS_ENDPOINT_URL_DYNAMODB=$endpoint AWS_ENDPOINT_URL_SQS=$endpoint AWS_ENDPOINT_URL_EVENTBRIDGE=$endpoint
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
export LATCH_REQUIRE_EMULATORS=1
"$@"
