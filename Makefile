# Two commands for a newcomer: `make run` starts the product, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Test workers; CI machines have two cores.
JOBS ?= 2

.PHONY: run test check bench-smoke install install-dev clean

# EMBEDDED=1: the demo mode (generated secret key, plain http on 127.0.0.1, the demo login).
run: $(VENV)/.installed
	EMBEDDED=1 $(PY) manage.py run_product

test: $(VENV)/.installed-dev
	$(PY) -m pytest -n $(JOBS) $(PYTEST_ARGS)

# Every benchmark script (benchmarks/*.py that runs as a script) once at its smallest sizes, on a
# throw-away SQLite file whatever DATABASE_URL says: a script that crashes fails the target.
bench-smoke: $(VENV)/.installed-dev
	@for script in $$(grep -l '^if __name__ == "__main__":' benchmarks/*.py); do \
		echo "== $$script --smoke"; \
		env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL $(PY) $$script --smoke || exit 1; \
	done

check: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	EMBEDDED=1 $(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/lint-imports --no-cache

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
