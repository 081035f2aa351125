# `make demo` and `make test` work on a fresh clone: they create .venv and install everything.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_INDEX := .citebot/demo-index
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: setup demo test test-fast lint format clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# CPU torch first: otherwise pip resolves a multi-GB CUDA build.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: setup
	CITEBOT_INDEX_DIR=$(DEMO_INDEX) $(VENV)/bin/citebot ingest examples/docs --rebuild
	CITEBOT_INDEX_DIR=$(DEMO_INDEX) $(VENV)/bin/citebot ask "why did BlackBerry leave Pakistan?"

test: setup
	$(PY) -m pytest -q

# The inner loop: no real model, no server (tests marked e2e or server are left out), two workers
# (whole files per worker: module fixtures such as the kill tests' are built once).
test-fast: setup
	$(PY) -m pytest -q -m "not e2e and not server and not drill" -n 2 --dist loadfile

lint: setup
	$(VENV)/bin/ruff check bot ingest tests bench
	$(VENV)/bin/ruff format --check bot ingest tests bench
	$(VENV)/bin/mypy bot ingest

format: setup
	$(VENV)/bin/ruff format bot ingest tests bench
	$(VENV)/bin/ruff check --fix bot ingest tests bench

clean:
	rm -rf $(VENV) .citebot .pytest_cache .mypy_cache .ruff_cache
