# Hong Kong AI news tracker. `make demo` and `make test` work on a fresh clone (needs only package registries).
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export AIRFLOW_HOME := $(CURDIR)/.airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER := $(CURDIR)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION := True
export HKAI_CRAWL_MODE ?= replay
PGDATA := $(CURDIR)/.pg/data
PGPORT ?= 55432

.PHONY: install demo ui train test lint bench bench-extract bench-tag bench-warehouse up airflow-home postgres-start postgres-stop clean snapshot

$(BIN)/hkai: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q uv
	$(BIN)/uv pip install --python $(BIN)/python -q -e ".[test]"
	@touch $(BIN)/hkai

install: $(BIN)/hkai

airflow-home: install
	@mkdir -p $(AIRFLOW_HOME)
	@$(BIN)/airflow db migrate >/dev/null 2>&1 || $(BIN)/airflow db migrate

## The whole pipeline on the bundled snapshot: ingest DAG, then digest DAG, then trend tables.
demo: airflow-home
	@# The digest screenshot needs a CJK font, or Chinese shows as empty boxes.
	@fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk" || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-zenhei >/dev/null 2>&1 || true; \
		else echo "note: no CJK font installed (apt-get install fonts-wqy-zenhei): the digest screenshot will show Chinese as boxes"; fi; }
	$(BIN)/airflow dags test hk_ai_news_ingest 2025-11-30 > .airflow/demo-ingest.log 2>&1 || { tail -50 .airflow/demo-ingest.log; exit 1; }
	@grep -q "state=success" .airflow/demo-ingest.log || { echo "ingest DAG run did not succeed: see .airflow/demo-ingest.log"; grep -E "flagged|ERROR" .airflow/demo-ingest.log | tail -20; exit 1; }
	$(BIN)/airflow dags test hk_ai_weekly_digest 2025-11-10 > .airflow/demo-digest.log 2>&1 || { tail -50 .airflow/demo-digest.log; exit 1; }
	@grep -q "state=success" .airflow/demo-digest.log || { echo "digest DAG run did not succeed: see .airflow/demo-digest.log"; exit 1; }
	@# A week with English AI-in-HK stories (2026-W04: two LegCo replies on AI, GIA press releases).
	$(BIN)/hkai digest --week 2026-01-19 > .airflow/demo-digest-en.log 2>&1 || { tail -20 .airflow/demo-digest-en.log; exit 1; }
	$(BIN)/hkai trends
	@echo; echo "Digest written to:"; ls -1 out/digests/*/*

## The Airflow UI with the HK AI Trends pages (trends, entities, search, export, digests, data dictionary)
## on the demo warehouse: http://127.0.0.1:8080/hkai/ (port: HKAI_UI_PORT). Api-server, scheduler, dag-processor
## and triggerer, sized for 2 cores; the login is Airflow's (password file printed). Ctrl-C stops them all.
ui: airflow-home
	PATH="$(CURDIR)/$(BIN):$$PATH" PYTHONPATH="$(CURDIR)$${PYTHONPATH:+:$$PYTHONPATH}" $(BIN)/python -m web.launch

## Unit, integration and DAG tests on SQLite and a real PostgreSQL server (started here if needed).
test: install
	@$(MAKE) --no-print-directory postgres-start
	HKAI_TEST_POSTGRES_URL=$${HKAI_TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:$(PGPORT)/postgres} \
		$(BIN)/python -m pytest -q tests; status=$$?; $(MAKE) --no-print-directory postgres-stop; exit $$status

## Ruff (lint and format) and mypy over every package.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## Start a throwaway PostgreSQL from Debian's packages (skipped when HKAI_TEST_POSTGRES_URL is set).
postgres-start:
	@if [ -n "$$HKAI_TEST_POSTGRES_URL" ]; then exit 0; fi; \
	PGBIN=$$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1); \
	if [ -z "$$PGBIN" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing PostgreSQL from Debian's packages"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null 2>&1 || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }; \
		PGBIN=$$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1); fi; \
	if [ -z "$$PGBIN" ]; then echo "PostgreSQL is not installed: apt-get install postgresql (or set HKAI_TEST_POSTGRES_URL)"; exit 1; fi; \
	RUNAS=""; if [ "$$(id -u)" = 0 ]; then RUNAS="runuser -u postgres --"; mkdir -p $(CURDIR)/.pg; chown -R postgres $(CURDIR)/.pg; fi; \
	if [ ! -d $(PGDATA) ]; then $$RUNAS $$PGBIN/initdb -D $(PGDATA) -U postgres --auth=trust --locale=C.UTF-8 >/dev/null; fi; \
	$$RUNAS $$PGBIN/pg_ctl -D $(PGDATA) -o "-p $(PGPORT) -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off" -l $(CURDIR)/.pg/log -w start >/dev/null && echo "PostgreSQL on 127.0.0.1:$(PGPORT)"

postgres-stop:
	@if [ -n "$$HKAI_TEST_POSTGRES_URL" ] || [ ! -d $(PGDATA) ]; then exit 0; fi; \
	PGBIN=$$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1); \
	RUNAS=""; if [ "$$(id -u)" = 0 ]; then RUNAS="runuser -u postgres --"; fi; \
	$$RUNAS $$PGBIN/pg_ctl -D $(PGDATA) -m fast stop >/dev/null 2>&1 || true

## Rebuild snapshots/demo from ../shared/fixtures (maintainers only; the result is committed).
snapshot: install
	$(BIN)/python snapshots/build_demo.py

up:
	docker compose up -d

clean:
	rm -rf .airflow data out .pg

## Benchmarks: every figure is a ratio against a baseline measured in the same run.
BENCH_DIR ?= $(CURDIR)/../shared/benchmarks/article-extraction
bench: bench-extract bench-tag bench-warehouse

bench-extract: install
	$(BIN)/python -m spiders.eval_extract $(BENCH_DIR)

bench-tag: install
	$(BIN)/python -m transforms.bench_tag --articles 2000

## Retrain the tagger's learned models from tests/data/tagging/dev*.jsonl into transforms/kb/model/tagger.json.gz
## and the mention model into transforms/kb/model/mentions.json.gz (fixed seeds: the same data gives the same
## bytes; both files are committed).
.PHONY: train
train: install
	$(BIN)/python -m transforms.train
	$(BIN)/python -m transforms.train_mentions

bench-warehouse: install
	@$(MAKE) --no-print-directory postgres-start
	HKAI_TEST_POSTGRES_URL=$${HKAI_TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:$(PGPORT)/postgres} \
		$(BIN)/python -m warehouse.bench --articles $${BENCH_ARTICLES:-1000000}; status=$$?; \
		$(MAKE) --no-print-directory postgres-stop; exit $$status

## Scale-out check: the ingest DAG on Airflow's CeleryExecutor with two workers (each its own working
## directory, HOME and hostname, standing in for two machines), Redis and PostgreSQL started here; its
## marts must equal a single-machine run's. Every process started is stopped afterwards, also on failure.
.PHONY: test-distributed
test-distributed: install
	bash tests/distributed/run_cluster.sh

## End to end at scale: 1,000, 5,000 and 20,000 article pages generated (in a temporary directory) from the
## real saved pages of six sources, through the real spiders, tagging, load, clusters and marts.
.PHONY: bench-pipeline
bench-pipeline: install
	$(BIN)/python -m hkai.bench_pipeline --sizes $${BENCH_PAGES:-1000,5000,20000}
