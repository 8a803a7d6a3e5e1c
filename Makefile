# Two commands set up a fresh machine (see README.md):
#   make lab    create the environment, install, open JupyterLab on the quickstart notebook
#   make test   install everything the tests need, then run every test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: lab test install system-deps bench clean

lab: install
	IMAGESTUDIO_WORKSPACE=$(CURDIR)/workspace $(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 \
		--ServerApp.root_dir=$(CURDIR) $(ALLOW_ROOT) notebooks/01_quickstart.ipynb

test: install system-deps
	$(BIN)/python -m pytest

install: $(STAMP)

$(STAMP): pyproject.toml labextension/package-lock.json $(wildcard labextension/src/*)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $@

system-deps:
	scripts/install-system-deps.sh

bench: install
	for bench in benchmarks/*/bench_*.py; do echo "== $$bench"; $(BIN)/python $$bench || exit 1; done

clean:
	rm -rf $(VENV) build dist *.egg-info
