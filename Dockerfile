# syntax=docker/dockerfile:1
# The image of one service, chosen by the build arguments SERVICE (intake,
# scheduling, certificates or notifications) and PORT (8001, 8002, 8003, 8004
# respectively). Build from the repository root, which is the build context
# (the image needs shared/ and constraints.txt):
#   docker build --build-arg SERVICE=intake --build-arg PORT=8001 -t send-mediation/intake .
# `make images` builds all four. Settings come from <SERVICE>_* environment
# variables (see services/<service>/src/<service>/settings.py and deploy/README.md).
# PYTHON_IMAGE is the base of both stages: any image with Python 3.11 as
# `python` and the venv module. deploy/images/build.sh passes a Debian bookworm
# image it builds locally (debootstrap) when no registry is reachable.

ARG PYTHON_IMAGE=python:3.11-slim
FROM ${PYTHON_IMAGE} AS build
ARG SERVICE
ARG PORT
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# A wrong or missing pair fails the build instead of producing an image that
# listens on another service's port.
RUN case "${SERVICE}:${PORT}" in \
      intake:8001|scheduling:8002|certificates:8003|notifications:8004) ;; \
      *) echo "build args SERVICE and PORT must be one of intake:8001, scheduling:8002," \
              "certificates:8003, notifications:8004 (got '${SERVICE}:${PORT}')" >&2; exit 1 ;; \
    esac
RUN python -m venv /opt/venv
WORKDIR /src
COPY constraints.txt ./
COPY shared ./shared
COPY services/${SERVICE} ./services/${SERVICE}
# Non-editable install of the pinned versions: the runtime image needs no source tree.
RUN /opt/venv/bin/pip install -c constraints.txt ./shared ./services/${SERVICE}

FROM ${PYTHON_IMAGE}
ARG SERVICE
ARG PORT
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    SERVICE=${SERVICE} \
    PORT=${PORT}
LABEL org.opencontainers.image.title="send-mediation/${SERVICE}"
# /app is the working directory and belongs to the service user: outside
# production a service may keep generated state under ./.run (for example
# certificates' development signing key). Production mounts what it needs and
# can run with a read-only root file system.
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin app \
 && install -d -o app -g app /app /app/.run
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# Numeric uid so Kubernetes' runAsNonRoot can verify it.
USER 10001:10001
EXPOSE ${PORT}
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ['PORT']}/healthz\", timeout=4)"]
# exec: the server becomes PID 1 and receives SIGTERM directly. shared.serve is
# uvicorn with its command line and a once-a-second housekeeping tick (idle CPU).
CMD ["sh", "-c", "exec python -m shared.serve \"${SERVICE}.main:create_app\" --factory --host 0.0.0.0 --port \"${PORT}\""]
