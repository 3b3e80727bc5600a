# `make run` and `make test` work on a fresh machine: they create .venv and install first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1:8000

.PHONY: setup run test lint bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

# Local, no services: SQLite file, Celery eager, console e-mail, demo data. The `.env` it writes
# (DJANGO_DEBUG=true) lets `python manage.py ...` work in a plain shell afterwards.
run: export DJANGO_DEBUG ?= true
run: setup .env
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_questionnaire questionnaire/definitions/miller-2022.yaml
	$(PY) manage.py load_scoring_grid scoring/grids/miller-2022-v1.yaml
	$(PY) manage.py load_recommendations improvement/recommendations/miller-2022-v1.yaml
	$(PY) manage.py load_demo_data
	@echo "Portail : http://$(HOST)/"
	$(PY) manage.py runserver $(HOST)

# Written once from the template, never overwritten.
.env:
	cp .env.example .env
	@echo "Wrote .env from .env.example (DJANGO_DEBUG=true, for local use only)."

test: setup
	$(PY) -m pytest
	$(PY) manage.py makemigrations --check --dry-run --settings=cpts_portal.settings_test

# Benchmarks on a synthetic cohort in a PostgreSQL database of their own, created then dropped
# (README, "Performance"). BENCH_SIZE=small|large; BENCH_DATABASE_URL picks the server.
BENCH_SIZE ?= small
bench: $(VENV)/.bench-installed
	$(PY) manage.py bench --size $(BENCH_SIZE) --settings=cpts_portal.settings_bench

$(VENV)/.bench-installed: $(VENV)/.installed pyproject.toml
	$(VENV)/bin/pip install --quiet -e '.[dev,bench]'
	touch $@

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles test-artifacts
