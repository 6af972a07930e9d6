# SEND mediation backend. Two commands set everything up on a fresh machine:
#   make run    Kafka, an SMTP server and the four services on their embedded defaults
#   make test   the whole suite against real Kafka, PostgreSQL and SMTP
#   make bench  benchmarks (numbers only, never pass/fail): rules, intake API, end to end, both paths to SMTP and
#               their backlog drains; see docs/benchmarks.md
#   make images the four service images, and local Kafka, PostgreSQL and SMTP-sink images (deploy/images/)
#   make deploy-check       the images carry a case end to end (signed PDFs, emails): PASSED or FAILED
#   make test-containers    the integration suite with Kafka, PostgreSQL and SMTP through testcontainers
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV_VERSION := 0.13.8
STATE  ?= .run
PACKAGES := -e ./shared[localinfra] -e ./services/intake -e ./services/scheduling \
            -e ./services/certificates -e ./services/notifications
INSTALLED := $(VENV)/.installed

.PHONY: install run demo test bench lint asyncapi images clean deploy-generate deploy-lint deploy-check \
        test-containers

$(INSTALLED): constraints.txt requirements-dev.txt shared/pyproject.toml services/*/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -c constraints.txt -r requirements-dev.txt \
	    $(PACKAGES)
	@touch $@

# Bytecode for the project's own modules too (only the changed ones are compiled again). Without it, a shell
# with PYTHONDONTWRITEBYTECODE set compiles every module from source at every start: a service took twice as
# long to import, which a restart, a spawned signing process and every end-to-end test pay.
install: $(INSTALLED)
	@$(BIN)/python -m compileall -q -j 0 shared/src services/intake/src services/scheduling/src \
	    services/certificates/src services/notifications/src benchmarks tests > /dev/null

run: install
	$(BIN)/python -m shared.localinfra.stack --state-dir $(STATE)

demo: install
	$(BIN)/python deploy/local/demo.py --state-dir $(STATE)

# pytest exits 5 when it collected no test: a failure here.
PYTEST = rc=0; $(2) $(BIN)/python -m pytest $(1) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest ran no test" >&2; exit 1; fi; [ $$rc -eq 0 ] || exit $$rc

# No test reads the day it runs: the whole suite starts at a fixed instant (shared/testing/plugin.py), then
# the unit and integration tests that follow the suite's clock (not pinned by @pytest.mark.clock, which
# run the same at any date) run again at Christmas, when bank holidays and the Tribunal's 25 Dec-1 Jan
# rule move dates. Any instant works: SEND_TEST_NOW=2027-08-16T09:00:00+01:00 make test
SECOND_TEST_NOW ?= 2026-12-24T16:00:00+00:00

# Two pytest-xdist workers, each with its own broker, PostgreSQL cluster and SMTP servers; a module's tests stay
# on one worker and the end-to-end tests run one after another (tests/conftest.py). TEST_WORKERS=0: one process.
TEST_WORKERS ?= 2
XDIST = -n $(TEST_WORKERS) --dist loadgroup

# Lint (ruff, mypy --strict) and the AsyncAPI check first.
test: install lint
	$(BIN)/python -m shared.events.asyncapi --check contracts/asyncapi.yaml
	$(call PYTEST,$(XDIST))
	@echo "== the unit and integration tests that run on the suite's clock, again at $(SECOND_TEST_NOW) =="
	$(call PYTEST,$(XDIST) tests/unit tests/integration -m "not clock",SEND_TEST_NOW=$(SECOND_TEST_NOW))

# Speed is measured here, never asserted in a test; results go to benchmarks/results/ (sizes: docs/benchmarks.md).
bench: install
	$(BIN)/python -m benchmarks.run

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy shared/src services/intake/src services/scheduling/src services/certificates/src services/notifications/src benchmarks

asyncapi: install
	$(BIN)/python -m shared.events.asyncapi --write contracts/asyncapi.yaml

# deploy/k8s: rewrite the copies of the LA directory and alert rules; build and validate every overlay
# (make test runs the same checks in tests/unit/test_deploy_manifests.py).
deploy-generate: install
	$(BIN)/python deploy/k8s/generate.py

deploy-lint: install
	$(BIN)/python deploy/k8s/generate.py --check
	$(BIN)/python deploy/k8s/lint.py

# One Dockerfile, one image per service (SERVICE picks the package, PORT its port), plus local Kafka,
# PostgreSQL 15 and SMTP-sink images, with docker (when its daemon answers) or podman (--format docker keeps
# HEALTHCHECK). Without a registry, SEND_IMAGE_BASE=local (the default for root with debootstrap) builds a
# Debian bookworm base from the host's apt mirror. See deploy/README.md.
IMAGE_PREFIX ?= send-mediation
IMAGE_TAG    ?= dev

images: install
	IMAGE_PREFIX=$(IMAGE_PREFIX) IMAGE_TAG=$(IMAGE_TAG) PYTHON=$(BIN)/python deploy/images/build.sh all

# The four images on the host network against the local Kafka, PostgreSQL and SMTP-sink images; drives the
# demo through them. Removes every container it started.
deploy-check: install
	SEND_IMAGE_PREFIX=$(IMAGE_PREFIX) IMAGE_TAG=$(IMAGE_TAG) $(BIN)/python deploy/images/deploy_check.py

# The integration suite with its servers in containers (testcontainers): a Docker engine, or podman's API on
# a private socket for the run (stopped afterwards). Needs `make images` first.
test-containers: install
	deploy/images/test-containers.sh $(BIN)/python -m pytest tests/integration -q -p no:cacheprovider

clean:
	rm -rf $(VENV) $(STATE)
