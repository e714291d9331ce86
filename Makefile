# One entry point per task. `make run` and `make test` work on a fresh machine.
VENV ?= .venv
PY := $(VENV)/bin/python
RUNTIME := $(VENV)/.runtime
# Runtime plus the test extras (pytest, Playwright, ruff, mypy) and the docker provider's testcontainers.
STAMP := $(VENV)/.installed

.PHONY: run test lint bench assets offline-assets clean

$(VENV)/bin/python:
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# Only what running the course needs: no test tools, so the first page comes quickly.
$(RUNTIME): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e .
	touch $(RUNTIME)

$(STAMP): pyproject.toml $(RUNTIME)
	$(PY) -m pip install -q -e '.[test,docker]'
	touch $(STAMP)

# The pinned browser libraries in static/vendor/, so the course works with no internet. Without npm or a
# registry the pages fall back to the CDN, so a failed fetch only warns.
offline-assets: $(RUNTIME)
	@$(PY) -m app.assets fetch || echo "warning: browser assets not fetched; pages will load them from the CDN"

run: $(RUNTIME) offline-assets
	$(VENV)/bin/migration-lab serve

test: $(STAMP) assets
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy app sandbox

bench: $(RUNTIME)
	$(VENV)/bin/migration-lab bench

# Strict: the tests need the local copies (axe-core included).
assets: $(RUNTIME)
	$(PY) -m app.assets fetch

clean:
	rm -rf $(VENV) static/vendor .pytest_cache
