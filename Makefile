# VirtFlow: `make run` serves the API and its workers; `make test` runs every check and test.
# Both do all their own set-up, idempotently, installing only what is missing.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STATE := .virtflow
PG_ADMIN_DSN ?= postgresql://postgres@127.0.0.1:5432/postgres
DB_NAME ?= virtflow
# The app connects as virtflow_app, which owns nothing; migrations run as the owner (postgres),
# and `virtflow db upgrade` creates virtflow_app and grants it what it uses.
export VIRTFLOW_DATABASE_URL ?= postgresql+psycopg://virtflow_app@127.0.0.1:5432/$(DB_NAME)
export VIRTFLOW_MIGRATE_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/$(DB_NAME)
# Debian packages the controller needs to build the virtualenv (libvirt-python for the tests).
CONTROLLER_DEBS := libvirt-dev pkg-config libvirt-clients gcc python3-dev python3-venv redis-tools
# What the simulated fleet needs on this machine: an sshd per host, ssh/ssh-keygen for the
# controller, ip for the namespaces, and what a prepared host has (libvirt_host's package list).
FLEET_DEBS := openssh-server openssh-client iproute2 libvirt-daemon libvirt-daemon-driver-qemu \
    qemu-system-x86 qemu-utils libvirt-clients python3-libvirt python3-lxml procps genisoimage
FLEET ?= 3
# What builds the default image (api/images/disk.py TOOLS) and boots it in its test: qemu, and
# genisoimage for the NoCloud seed.
IMAGE_DEBS := mmdebstrap fdisk e2fsprogs qemu-utils qemu-system-x86 genisoimage openssh-client

.PHONY: help setup system-deps services venv host db run test lint docs bench bench-api bench-provision clean \
    fleet-deps fleet-up fleet-down image-deps default-image

help:
	@echo "make run    - set up everything (the default image registered), then serve the API on :8000 and run the workers (VIRTFLOW_WORKERS)"
	@echo "make test   - set up everything, then run lint, type checks and the whole test suite"
	@echo "make docs   - regenerate docs/api/openapi.json, docs/api/errors.md and api/client/"
	@echo "make bench  - run the benchmarks in bench/"
	@echo "make bench-api - the API at scale: 10,000 VMs, 1M audit rows, 5M job events (docs/performance.md)"
	@echo "make bench-provision - 50 VMs over the API on local KVM vs libvirt alone and one playbook run per VM"
	@echo "make fleet-up   - start FLEET (default 3) simulated baremetal hosts, in inventory/fleet.yml"
	@echo "make fleet-down - remove the simulated hosts and everything they created"
	@echo "make default-image - build the default Debian image into VIRTFLOW_IMAGE_CACHE unless cached"

system-deps:
	@missing=$$(for p in $(CONTROLLER_DEBS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	command -v psql >/dev/null || missing="$$missing postgresql-client"; \
	if [ -n "$$missing" ]; then \
	    echo "installing Debian packages: $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

services: system-deps
	@pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL is not answering on 127.0.0.1:5432; starting it"; \
	    pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start; }
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || { echo "Redis is not answering on 127.0.0.1:6379; starting it"; \
	    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no; }

$(VENV)/.installed: pyproject.toml | system-deps
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

# The local machine is the first baremetal host: prepared by the same host.prepare job the
# API runs (host_prepare.yml, recorded with its events), after which it is placeable.
host: db
	$(BIN)/virtflow inventory sync
	$(BIN)/virtflow host prepare localhost

db: venv services
	@psql "$(PG_ADMIN_DSN)" -tAc "SELECT 1 FROM pg_database WHERE datname = '$(DB_NAME)'" | grep -q 1 \
	    || psql "$(PG_ADMIN_DSN)" -qc 'CREATE DATABASE "$(DB_NAME)"'
	$(BIN)/virtflow db upgrade

setup: venv db host
	$(BIN)/virtflow init
	$(BIN)/virtflow admin ensure

# A newcomer can create a VM from an image at once: the default image, public (built if not cached).
run: setup image-deps
	$(BIN)/virtflow image ensure-default
	$(BIN)/virtflow run

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy api jobs
	$(BIN)/lint-imports
	$(BIN)/ansible-lint --offline -q playbooks roles
	$(BIN)/virtflow docs openapi --check
	$(BIN)/virtflow docs errors --check
	$(BIN)/virtflow docs client --check
	$(BIN)/mypy --strict tests/api/test_client.py tests/api/test_user_cli.py

test: setup lint fleet-deps default-image
	$(BIN)/virtflow db check
	$(BIN)/pytest

docs: venv
	$(BIN)/virtflow docs openapi
	$(BIN)/virtflow docs errors
	$(BIN)/virtflow docs client

bench: setup
	$(BIN)/python bench/run.py

# Starts what it needs itself (a throwaway database, gunicorn, a generated inventory): only the
# virtualenv and the services. Smaller sizes for development: bench/api.py --help.
bench-api: venv services
	$(BIN)/python bench/api.py

# Real VMs on the local KVM: the host prepared as `make test` has it (`setup`: libvirt installed
# and started by host_prepare.yml), then its own database, gunicorn and RQ workers, as the e2e
# tests start them. Smaller runs and the simulated fleet: bench/provision.py --help.
bench-provision: setup fleet-deps
	$(BIN)/python bench/provision.py

fleet-deps:
	@missing=$$(for p in $(FLEET_DEBS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "installing Debian packages: $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

image-deps:
	@missing=$$(for p in $(IMAGE_DEBS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "installing Debian packages: $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# Built once per recipe into the machine-wide cache (runbook: The default image), then reused.
default-image: venv image-deps
	$(BIN)/virtflow image build-default

# Simulated baremetal hosts on this machine (docs/adr/0008-simulated-fleet.md); both idempotent.
fleet-up: venv fleet-deps
	$(BIN)/python -m tests.helpers.fleet up --hosts $(FLEET)

fleet-down: venv
	$(BIN)/python -m tests.helpers.fleet down

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache
