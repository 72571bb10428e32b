# judgeanything — `make demo` runs the main job on the embedded probe suite; `make test` runs the tests.
# Both create their own virtualenv (.venv) on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The artifact modality plugin (its own distribution), installed after the main package and again when
# one of its files changes.
PLUGIN := plugins/judgeanything-artifact
PLUGIN_STAMP := $(VENV)/.installed-artifact-plugin
PLUGIN_FILES := $(shell find $(PLUGIN) -name '*.py' -o -name '*.yaml' -o -name 'pyproject.toml' 2>/dev/null)
# torch is installed first and explicitly: a bare `torch` requirement resolved later may pull other
# multi-GB builds; transformers' Qwen VL/Omni processors need torchvision, which needs this pair.
TORCH  := torch==2.14.1 torchvision==0.29.1

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q $(TORCH) -e ".[dev]"
	touch $(STAMP)

$(PLUGIN_STAMP): $(STAMP) $(PLUGIN_FILES)
	$(BIN)/pip install -q --no-deps --force-reinstall ./$(PLUGIN)
	rm -rf $(PLUGIN)/build $(PLUGIN)/*.egg-info
	touch $(PLUGIN_STAMP)

demo: $(PLUGIN_STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/judgeanything experiment=demo
	$(BIN)/judgeanything-compare multirun/demo --out multirun/demo

# The suite on up to 4 worker processes (pytest-xdist; 2 on a 2-core machine), a test file per worker at a time so
# that a module's fixture (a sweep, a server) runs once.
test: $(PLUGIN_STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/pytest -q -n auto --maxprocesses=4 --dist loadfile
	$(BIN)/ruff check .
	$(BIN)/mypy

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python benchmarks/run_all.py

clean:
	rm -rf outputs multirun
