#!/bin/sh
# Builds every image the project runs in containers, with docker or podman,
# without a registry when needed:
#   send-mediation/{intake,scheduling,certificates,notifications}:$IMAGE_TAG  (the root Dockerfile)
#   send-mediation/kafka:4.1.1      Apache Kafka from the Maven Central jars, Debian's OpenJDK 17
#   send-mediation/postgres:15      PostgreSQL 15 from Debian packages
#   send-mediation/smtp-sink:dev    an aiosmtpd sink writing .eml files
#
# SEND_IMAGE_BASE=local (the default when debootstrap is installed and we are
# root): the base is a Debian bookworm minbase made by debootstrap from the
# host's apt mirror and imported as send-mediation/base:bookworm; Python is
# Debian's python3 (3.11). SEND_IMAGE_BASE=upstream: debian:bookworm-slim and
# python:3.11-slim from the registry (a laptop with Docker).
#
# Usage: deploy/images/build.sh [services|infra|all]   (default all)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
what="${1:-all}"
prefix="${IMAGE_PREFIX:-send-mediation}"
tag="${IMAGE_TAG:-dev}"
kafka_version="${SEND_KAFKA_VERSION:-4.1.1}"
cache="${SEND_CACHE_DIR:-$HOME/.cache/send-mediation}"
python="${PYTHON:-$root/.venv/bin/python}"

. "$here/engine.sh"
engine=$(container_engine) || { echo "build.sh: no container engine (docker with a running daemon, or podman)" >&2; exit 1; }
case "$engine" in
  podman) build="podman build --format docker --network host" ;;  # --format docker keeps HEALTHCHECK
  *)      build="docker build --network host" ;;
esac

if [ -z "${SEND_IMAGE_BASE:-}" ]; then
  if command -v debootstrap >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then SEND_IMAGE_BASE=local; else SEND_IMAGE_BASE=upstream; fi
fi

apt_mirror() {
  # The first Debian URI the host's apt uses, so debootstrap goes where apt already goes.
  uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 's/^URIs: *\([^ ]*debian\)$/\1/p' | head -n 1)
  [ -n "$uri" ] || uri=$(sed -n 's/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*debian\) .*/\2/p' /etc/apt/sources.list 2>/dev/null | head -n 1)
  echo "${uri:-http://deb.debian.org/debian}"
}

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT INT TERM

if [ "$SEND_IMAGE_BASE" = local ]; then
  base_image="localhost/$prefix/base:bookworm"
  python_image="localhost/$prefix/python:3.11"
  if ! $engine image inspect "$base_image" >/dev/null 2>&1; then
    rootfs="$cache/bookworm-rootfs"
    if [ ! -x "$rootfs/usr/bin/apt-get" ] || [ ! -f "$rootfs/.complete" ]; then
      rm -rf "$rootfs"; mkdir -p "$cache"
      echo "== debootstrap --variant=minbase bookworm from $(apt_mirror)"
      debootstrap --variant=minbase bookworm "$rootfs" "$(apt_mirror)"
      rm -rf "$rootfs/var/cache/apt/archives/"*.deb
      touch "$rootfs/.complete"
    fi
    echo "== import $base_image"
    tar -C "$rootfs" --exclude=./.complete --exclude=./proc/* --exclude=./sys/* --exclude=./dev/* -c . \
      | $engine import --change 'CMD ["/bin/bash"]' - "$base_image"
  fi
  mkdir -p "$ctx/python"
  cp "$here/Containerfile.python" "$ctx/python/"
  # Behind a TLS-inspecting proxy the host's CA bundle is the one that works.
  if [ -s /etc/ssl/certs/ca-certificates.crt ]; then cp /etc/ssl/certs/ca-certificates.crt "$ctx/python/host-ca-bundle.crt"
  else : > "$ctx/python/host-ca-bundle.crt"; fi
  echo "== $build $python_image"
  $build --build-arg BASE_IMAGE="$base_image" -t "$python_image" -f "$ctx/python/Containerfile.python" "$ctx/python"
else
  base_image="docker.io/library/debian:bookworm-slim"
  python_image="docker.io/library/python:3.11-slim"
fi

build_services() {
  for pair in intake:8001 scheduling:8002 certificates:8003 notifications:8004; do
    service=${pair%%:*}; port=${pair##*:}
    echo "== $build $prefix/$service:$tag"
    $build --build-arg PYTHON_IMAGE="$python_image" --build-arg SERVICE="$service" --build-arg PORT="$port" \
      -t "$prefix/$service:$tag" -f "$root/Dockerfile" "$root"
  done
}

build_infra() {
  # Kafka: the jars shared/localinfra/kafka.py resolves (Maven, once) into the cache.
  libs=$("$python" -c 'from shared.localinfra.kafka import resolve_jars; print(resolve_jars())')
  mkdir -p "$ctx/kafka"
  cp -r "$libs" "$ctx/kafka/libs"
  rm -f "$ctx/kafka/libs/.complete"
  cp "$here/Containerfile.kafka" "$here/kafka-entrypoint.sh" "$here/kafka-log4j2.xml" "$ctx/kafka/"
  echo "== $build $prefix/kafka:$kafka_version"
  $build --build-arg BASE_IMAGE="$base_image" -t "$prefix/kafka:$kafka_version" -f "$ctx/kafka/Containerfile.kafka" "$ctx/kafka"

  mkdir -p "$ctx/postgres"
  cp "$here/Containerfile.postgres" "$here/postgres-entrypoint.sh" "$ctx/postgres/"
  echo "== $build $prefix/postgres:15"
  $build --build-arg BASE_IMAGE="$base_image" -t "$prefix/postgres:15" -f "$ctx/postgres/Containerfile.postgres" "$ctx/postgres"

  mkdir -p "$ctx/smtp"
  cp "$here/Containerfile.smtp" "$here/smtp-sink.py" "$root/constraints.txt" "$ctx/smtp/"
  echo "== $build $prefix/smtp-sink:dev"
  $build --build-arg PYTHON_IMAGE="$python_image" -t "$prefix/smtp-sink:dev" -f "$ctx/smtp/Containerfile.smtp" "$ctx/smtp"
}

case "$what" in
  services) build_services ;;
  infra) build_infra ;;
  all) build_infra; build_services ;;
  *) echo "usage: $0 [services|infra|all]" >&2; exit 2 ;;
esac
echo "== images built with $engine (base: $SEND_IMAGE_BASE)"
$engine images --format '{{.Repository}}:{{.Tag}}  {{.Size}}' | grep "$prefix/" | sort
