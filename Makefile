# Two commands for a new machine:  `make demo`  and  `make test`.
PY      ?= python3
VENV    ?= .venv
BIN      = $(VENV)/bin
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEBS     = mosquitto influxdb chromium chromium-driver
# the hot path is C (ingest/_scan.c, ingest/_lines.c): a compiler, and Python's headers if this Python lacks them
HEADERS := $(shell $(PY) -c "import os, sysconfig; print(os.path.exists(os.path.join(sysconfig.get_paths()['include'], 'Python.h')))" 2>/dev/null)
BUILD_DEBS = $(if $(shell command -v cc),,gcc libc6-dev) $(if $(filter True,$(HEADERS)),,python3-dev)

.PHONY: setup deps build-deps system-deps demo run test lint fmt bench clean

$(BIN)/gridwatch: pyproject.toml ingest/_scan.c ingest/_lines.c | build-deps
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

deps: $(BIN)/gridwatch          ## Python environment in .venv

build-deps:                     ## a C compiler and Python headers, only if missing
	@if [ -n "$(strip $(BUILD_DEBS))" ]; then $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(BUILD_DEBS); fi

system-deps:                    ## Debian packages the integration tests need
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; fi

setup: system-deps deps

demo: deps                      ## the whole system on embedded defaults, console in the browser
	$(BIN)/gridwatch demo

run: deps
	$(BIN)/gridwatch run

test: setup                     ## every test, against real servers
	$(BIN)/ruff check .
	$(BIN)/pytest -q

lint: deps
	$(BIN)/ruff check .

fmt: deps
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup                    ## benchmarks; figures go to the README
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) gridwatch-data .pytest_cache .ruff_cache test-artifacts
