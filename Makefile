# The two commands (see README.md):
#   make run   — set up and start the service (SQLite, migrations, bootstrap owner) on 127.0.0.1:8000
#   make test  — set up and run the whole test suite (SQLite + PostgreSQL + real Kamailio/sipp/baresip)
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
# Where the end-to-end tests find Asterisk 22 (installed there from ../shared/tools/asterisk/ when present).
ASTERISK_PREFIX ?= /opt/asterisk22
export ASTERISK_PREFIX

.PHONY: run test bench bench-api openapi system-packages clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/centralino serve --host 127.0.0.1 --port 8000

system-packages:
	bash scripts/install-system-packages.sh

test: $(STAMP) system-packages
	$(VENV)/bin/python -m pytest

bench: $(STAMP)
	$(VENV)/bin/python -m bench.apply_bench
	$(VENV)/bin/python -m bench.users_bench
	$(VENV)/bin/python -m bench.webhooks_bench

# The API throughput benchmark needs wrk (Debian package), installed here when run as root.
bench-api: $(STAMP)
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" -eq 0 ] && apt-get install -y -qq wrk >/dev/null; } || true
	$(VENV)/bin/python -m bench.api_bench

openapi: $(STAMP)
	$(VENV)/bin/centralino openapi --output openapi/openapi.json

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
