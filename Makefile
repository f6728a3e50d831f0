# Two commands for a newcomer: `make serve` and `make test`. Both install what they need.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: serve test lint bench clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "需要 Python 3.11 ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(STAMP)

serve: $(STAMP)
	$(BIN)/shop migrate
	$(BIN)/shop seed-demo --if-empty
	$(BIN)/shop serve

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# Branch coverage per context is printed at the end; the whole suite holds payments, orders,
# after-sales and staff sign-in to 90% of their branches.
test: lint
	mkdir -p var
	COVERAGE_FLOOR=$(if $(PYTEST_ARGS),,90) $(BIN)/pytest -q --cov --cov-report=json:var/coverage.json $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench.catalog

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache

# After changing models: write the migration that brings the schema along (review it, commit it).
migrations: $(DEV_STAMP)
	$(BIN)/tortoise -c commerce.db.TORTOISE_ORM makemigrations
