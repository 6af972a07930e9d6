# Sourced by build.sh and deploy-check.sh: which container engine answers.
# docker counts only when its daemon answers (a docker CLI without an engine
# is common on CI runners); podman needs no daemon. Under podman the project's
# containers.conf applies unless CONTAINERS_CONF is already set: runc, and
# resource limits a sandbox allows.
container_engine() {
  if [ -n "${CONTAINER_ENGINE:-}" ]; then echo "$CONTAINER_ENGINE"; return 0; fi
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then echo docker; return 0; fi
  if command -v podman >/dev/null 2>&1; then echo podman; return 0; fi
  return 1
}
if [ -z "${CONTAINERS_CONF:-}" ]; then
  CONTAINERS_CONF="$(cd "$(dirname "$0")" && pwd)/podman-containers.conf"
  export CONTAINERS_CONF
fi
