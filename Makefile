# `make run` and `make test` work on a fresh machine with only Python 3.11.
# `run` installs what serving needs (no TensorFlow); `test` adds training and the test tools.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
SERVE_STAMP := $(VENV)/.installed-serve
TEST_STAMP := $(VENV)/.installed-test
PIP := $(BIN)/python -m pip install --progress-bar on --disable-pip-version-check

.PHONY: install run lint test clean

install: $(SERVE_STAMP)

$(VENV):
	$(PYTHON) -m venv $(VENV)

$(SERVE_STAMP): pyproject.toml | $(VENV)
	@echo "installing whoru for serving into $(VENV) (about 1 minute the first time)"
	$(PIP) -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(VENV)
	@echo "installing whoru with training and test tools into $(VENV) (a few minutes the first time)"
	$(PIP) -e '.[train,test,pandas]'
	touch $@ $(SERVE_STAMP)

# `make run PORT=8080 HOST=0.0.0.0` passes both to `whoru serve` (its defaults, or WHORU_PORT/WHORU_HOST, otherwise).
run: install
	$(BIN)/whoru serve $(if $(HOST),--host $(HOST)) $(if $(PORT),--port $(PORT))

# PostgreSQL cases run against WHORU_TEST_POSTGRES_URL, else against the server that answers on
# 127.0.0.1:5432 (user postgres, trust authentication); with neither, pytest skips them and says so.
LOCAL_POSTGRES := postgresql+psycopg://postgres@127.0.0.1:5432/postgres
FIND_POSTGRES := $(BIN)/python -c 'import socket; socket.create_connection(("127.0.0.1", 5432), 2).close(); print("$(LOCAL_POSTGRES)")' 2>/dev/null

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python scripts/lint_imports.py

# PYTEST_ARGS narrows a run, e.g. make test PYTEST_ARGS='-m "not slow"'.
test: lint
	WHORU_TEST_POSTGRES_URL="$${WHORU_TEST_POSTGRES_URL:-$$($(FIND_POSTGRES))}" $(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
