# Two commands for a fresh clone: `make demo` and `make test`. Everything else here is what they
# need, each step redone only when its inputs change (stamp files in .stamps/).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMPS := .stamps
export SOLCX_BINARY_PATH := $(CURDIR)/.solcx
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(BIN):$(PATH)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup build demo test test-contracts test-client test-web bench clean

setup: $(STAMPS)/python $(STAMPS)/npm .solcx/solc-v0.8.37 $(STAMPS)/chromium $(STAMPS)/fuzz

$(STAMPS)/python: pyproject.toml
	@mkdir -p $(STAMPS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip wheel
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

$(STAMPS)/npm: package.json package-lock.json
	@mkdir -p $(STAMPS)
	# npm ci refuses this lock (it omits the other platforms' optional Anvil binaries); install keeps it.
	npm install --no-audit --no-fund --loglevel=error
	@touch $@

# The browser tests drive Debian's Chromium through Playwright (never `playwright install`, which downloads).
$(STAMPS)/chromium:
	@mkdir -p $(STAMPS)
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; }
	@touch $@

# Schemathesis needs a newer Hypothesis than Brownie pins: its own virtual environment.
$(STAMPS)/fuzz:
	@mkdir -p $(STAMPS)
	@test -x .venv-fuzz/bin/python || $(PYTHON) -m venv .venv-fuzz
	.venv-fuzz/bin/pip install --quiet 'schemathesis>=4,<5'
	@touch $@

# py-solc-x runs `solc-v<version>`; this one is the npm solc build behind tools/solc-driver.js.
.solcx/solc-v0.8.37: tools/solc-driver.js
	@mkdir -p .solcx
	printf '#!/bin/sh\nexec node "$$(dirname "$$0")/../tools/solc-driver.js" "$$@"\n' > $@
	chmod +x $@

build: $(STAMPS)/build

$(STAMPS)/build: $(STAMPS)/python $(STAMPS)/npm .solcx/solc-v0.8.37 $(wildcard contracts/*.sol contracts/*/*.sol) brownie-config.yaml $(STAMPS)/frontend
	$(BIN)/brownie compile
	@touch $@

.PHONY: frontend
frontend: $(STAMPS)/frontend

# The pages' bundles (frontend/dist) and the library bundle tests/client runs under Node.
$(STAMPS)/frontend: $(STAMPS)/npm frontend/build.mjs $(wildcard frontend/src/*/*.js frontend/src/*/*/*.js)
	node frontend/build.mjs
	@touch $@

demo: build
	$(BIN)/elicense demo $(DEMO_ARGS)

test: build $(STAMPS)/chromium $(STAMPS)/fuzz
	$(MAKE) --no-print-directory test-contracts test-client test-web

test-contracts: build
	$(BIN)/brownie test tests/contracts

test-client: build
	$(BIN)/pytest tests/client

test-web: build
	$(BIN)/pytest -c tests/web/pytest.ini tests/web

bench: build
	$(BIN)/python bench/gas.py
	$(BIN)/python bench/personal.py
	$(BIN)/python bench/batch.py
	$(BIN)/python bench/verify.py

clean:
	rm -rf build reports $(STAMPS) deployments demo-output
