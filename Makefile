# The two commands a new machine needs: `make run` and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
export GMG_DATA_DIR ?= $(CURDIR)/data

.PHONY: run test lint openapi install clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test,lint]"
	touch $@

install: $(VENV)/.installed

## Run the platform with the GMG record on SQLite (in ./data) at http://127.0.0.1:$(PORT)/
run: install
	$(BIN)/gmg serve --port $(PORT)

## Install what the tests need, then run the suite on SQLite and on PostgreSQL
test: install
	VENV=$(VENV) bash scripts/test-all

## ruff (format and lint) and mypy
lint: install
	$(BIN)/ruff format --check src tests tools bench
	$(BIN)/ruff check src tests tools bench
	$(BIN)/mypy

## The benchmark (needs wrk and PostgreSQL); writes docs/performance.md. BENCH_SIZES=10000 for a quick run
bench: install
	$(BIN)/python bench/run.py all

## Regenerate the committed OpenAPI document after an API change
openapi: install
	$(BIN)/python -c "import django, json, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'gmg.settings'); django.setup(); from gmg.api.api import api; print(json.dumps(api.get_openapi_schema(), indent=1, sort_keys=True))" > docs/openapi.json

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
