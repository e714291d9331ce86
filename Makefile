# One entry point per task. `make run` and `make test` work on a fresh machine.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint bench assets clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/migration-lab serve

test: $(STAMP) assets
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy app sandbox

bench: $(STAMP)
	$(VENV)/bin/migration-lab bench

assets: $(STAMP)
	$(PY) -m app.assets fetch

clean:
	rm -rf $(VENV) static/vendor .pytest_cache
