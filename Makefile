# Two commands set up a fresh machine (see README.md):
#   make lab    create the environment, install, open JupyterLab on the quickstart notebook
#   make test   install everything the tests need, then run every test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: lab test install system-deps azurite bench clean

# `imagestudio lab`: JupyterLab with collaboration and the package's server settings (README, "Run JupyterLab").
lab: install azurite
	IMAGESTUDIO_WORKSPACE=$(CURDIR)/workspace $(BIN)/imagestudio lab notebooks/01_quickstart.ipynb --root $(CURDIR)

test: install system-deps
	$(BIN)/python -m pytest

install: $(STAMP)

$(STAMP): pyproject.toml labextension/package-lock.json $(wildcard labextension/src/*) \
		labextension/lab/package-lock.json $(wildcard labextension/lab/src/*)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $@

system-deps:
	scripts/install-system-deps.sh

# What the notebooks need beyond Python (06_cloud_sync starts Azurite), without the test suite's Chromium:
# the version pinned in scripts/install-system-deps.sh, installed into .tools/ only when missing.
AZURITE_VERSION = $(shell sed -n 's/^AZURITE_VERSION=//p' scripts/install-system-deps.sh)
azurite:
	@grep -qs '"version": "$(AZURITE_VERSION)"' .tools/azurite/node_modules/azurite/package.json \
		|| { command -v npm >/dev/null || { echo "npm is missing: install Node.js 20 (apt-get install nodejs npm)"; exit 1; }; \
		     mkdir -p .tools/azurite && npm install --silent --no-audit --no-fund --prefix .tools/azurite "azurite@$(AZURITE_VERSION)"; }

bench: install
	for bench in benchmarks/*/bench_*.py; do echo "== $$bench"; $(BIN)/python $$bench || exit 1; done

clean:
	rm -rf $(VENV) build dist *.egg-info
