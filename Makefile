# Two commands for a new user: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

# A folder of development sets (each scored, then the mean over sets) or one set.
DATASET ?= ../shared/datasets

.PHONY: demo demo-cluster test lint bench bench-extraction compare soak bench-database clean

$(BIN)/crawler: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,ui,parquet,cluster,notify]'
	touch $(BIN)/crawler

demo: $(BIN)/crawler
	$(BIN)/crawler demo

# The same demo on several processes: a throwaway PostgreSQL (Debian's postgresql package), one scheduler, two workers.
demo-cluster: $(BIN)/crawler
	$(BIN)/crawler demo --workers 2

test: $(BIN)/crawler
	$(BIN)/ruff check crawler tests bench
	$(BIN)/ruff format --check crawler tests bench
	$(BIN)/mypy crawler
	$(BIN)/pytest -q

bench: $(BIN)/crawler
	$(BIN)/python bench/crawl.py --articles 3000

# Extraction quality and speed on every development set beside trafilatura and readability-lxml (installed here, not for tests).
bench-extraction: $(BIN)/crawler
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python bench/extraction.py $(DATASET) --check-floor bench/extraction_floor.json

# Our crawl beside Scrapy and httpx + trafilatura on a static nginx site (installs the peers here, not for tests).
compare: $(BIN)/crawler
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python bench/compare.py --pages 3000 --rounds 2

# The daemon for MINUTES against a changing local site with faults; exits 1 if memory, fds or tasks grow.
MINUTES ?= 10
soak: $(BIN)/crawler
	$(BIN)/python bench/soak.py --minutes $(MINUTES)

# ARTICLES stored as a crawl stores them, then dedup checks, search, stats and size (1,000,000: ~35 min, 16 GB).
ARTICLES ?= 1000000
bench-database: $(BIN)/crawler
	$(BIN)/python bench/database.py --articles $(ARTICLES) --database data/bench-database.db

clean:
	rm -rf $(VENV) data build *.egg-info
