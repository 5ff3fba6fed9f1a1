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

.PHONY: setup build demo test test-contracts test-client bench clean

setup: $(STAMPS)/python $(STAMPS)/npm .solcx/solc-v0.8.37

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

# py-solc-x runs `solc-v<version>`; this one is the npm solc build behind tools/solc-driver.js.
.solcx/solc-v0.8.37: tools/solc-driver.js
	@mkdir -p .solcx
	printf '#!/bin/sh\nexec node "$$(dirname "$$0")/../tools/solc-driver.js" "$$@"\n' > $@
	chmod +x $@

build: $(STAMPS)/build

$(STAMPS)/build: $(STAMPS)/python $(STAMPS)/npm .solcx/solc-v0.8.37 $(wildcard contracts/*.sol contracts/*/*.sol) brownie-config.yaml
	$(BIN)/brownie compile
	@touch $@

demo: build
	$(BIN)/elicense demo $(DEMO_ARGS)

test: build
	$(MAKE) --no-print-directory test-contracts test-client

test-contracts: build
	$(BIN)/brownie test tests/contracts

test-client: build
	$(BIN)/pytest tests/client

bench: build
	$(BIN)/python bench/gas.py
	$(BIN)/python bench/batch.py

clean:
	rm -rf build reports $(STAMPS) deployments demo-output
