# The two commands of the README: `make run` and `make test`. Both set everything up.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test install browser stop status lint bench clean

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Provision and start a local Neo4j, apply the schema, serve the API (Ctrl-C stops both).
## Authentication is explicitly off: the server binds to 127.0.0.1 only (see README, Security).
## Another port: make run MLLINEAGE_PORT=8001 (MLLINEAGE_HOST too; serve reads them).
run: install
	MLLINEAGE_AUTH=off $(BIN)/mllineage serve --local-neo4j

## A headless Chromium for the offline /docs test and the Neo4j Browser test, from Debian's
## packages when apt-get can install it (tests/api/test_docs.py and test_browser.py skip,
## saying why, when there is none).
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
	  >/dev/null; } || echo "no chromium could be installed: the browser tests will skip"

## The whole test suite against a real Neo4j (provisioned locally when none is given).
test: install browser
	$(BIN)/pytest

stop: install
	$(BIN)/mllineage neo4j stop

status: install
	$(BIN)/mllineage neo4j status

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis

## Ingest and walk benchmarks on a 10k-node graph (bench/README.md has the bigger sizes).
bench: install
	$(BIN)/python -m bench.run --nodes 10000
