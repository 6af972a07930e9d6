#!/bin/sh
# Runs a command (the integration suite, from `make test-containers`) with the
# pytest fixtures on testcontainers: Kafka, PostgreSQL and the SMTP sink in the
# local images (deploy/images/build.sh). A Docker engine that answers is used
# as it is; otherwise podman serves its Docker-compatible API on a private
# socket for the run only (never the system-wide one other runs would pick up),
# and is stopped afterwards, whatever the command's outcome.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
export SEND_TEST_CONTAINERS=1 TESTCONTAINERS_RYUK_DISABLED="${TESTCONTAINERS_RYUK_DISABLED:-true}"

if [ -z "${DOCKER_HOST:-}" ] && command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  echo "test-containers: using the Docker engine that answers"
  exec "$@"
fi
if [ -n "${DOCKER_HOST:-}" ]; then
  echo "test-containers: using DOCKER_HOST=$DOCKER_HOST"
  exec "$@"
fi
command -v podman >/dev/null 2>&1 || { echo "test-containers: neither a Docker engine nor podman" >&2; exit 1; }
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/podman-containers.conf}"
dir=$(mktemp -d /tmp/send-podman-XXXXXX)
sock="$dir/podman.sock"
podman system service --time=0 "unix://$sock" > "$dir/service.log" 2>&1 &
service=$!
stop() {
  kill "$service" 2>/dev/null || true
  wait "$service" 2>/dev/null || true
  rm -rf "$dir"
}
trap stop EXIT
trap 'exit 130' INT TERM
i=0
until curl -fsS --unix-socket "$sock" http://d/_ping >/dev/null 2>&1; do
  i=$((i + 1))
  if [ "$i" -gt 100 ] || ! kill -0 "$service" 2>/dev/null; then
    echo "test-containers: podman system service did not answer on $sock:" >&2; cat "$dir/service.log" >&2; exit 1
  fi
  sleep 0.1
done
export DOCKER_HOST="unix://$sock"
echo "test-containers: podman system service (pid $service) on $DOCKER_HOST"
"$@"
