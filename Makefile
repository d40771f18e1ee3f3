# Shequ — the two commands: `make demo` and `make test`. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
SHEQU_TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
CHROMIUM ?= /usr/bin/chromium
export PORT

# Reinstall only when pyproject.toml changes, so later runs start in seconds.
STAMP := $(VENV)/.installed

.PHONY: demo test test-browser-sqlite lint bench serve clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/shequ demo --port $(PORT)

serve: $(STAMP)
	$(BIN)/shequ serve --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

# The suite runs on SQLite, then on PostgreSQL when it answers (required with CI=true). Browser tests
# (journeys and the crawler, tests/browser/) run when chromium is installed (required with CI=true), in one
# round: on PostgreSQL, the production database, when it answers, else on SQLite. Both rounds together
# would take CI past its 45 minutes on two cores; `make test-browser-sqlite` runs them on SQLite alone.
test: $(STAMP)
	$(BIN)/ruff check src tests bench
	@set -e; \
	export SHEQU_SECRET_KEY=test-only-secret SHEQU_HUEY_IMMEDIATE=true SHEQU_DATA_DIR=$$(mktemp -d); \
	browser=yes; \
	if [ -x "$(CHROMIUM)" ]; then echo "浏览器测试：使用 $(CHROMIUM)"; \
	elif [ "$$CI" = "true" ]; then echo "CI=true 需要 chromium（apt-get install chromium fonts-noto-cjk）" >&2; exit 1; \
	else echo "未找到 chromium：跳过浏览器测试（skipped browser tests）"; browser=no; fi; \
	postgres=no; \
	if $(BIN)/python -c "import psycopg,sys; psycopg.connect(sys.argv[1], connect_timeout=3).close()" "$(SHEQU_TEST_DATABASE_URL)" 2>/dev/null; then postgres=yes; \
	elif [ "$$CI" = "true" ]; then echo "CI=true 需要 PostgreSQL：$(SHEQU_TEST_DATABASE_URL) 无法连接" >&2; exit 1; \
	else echo "PostgreSQL 无法连接（$(SHEQU_TEST_DATABASE_URL)）：跳过 PostgreSQL 轮次（skipped）"; fi; \
	echo "== SQLite =="; \
	if [ $$browser = yes ] && [ $$postgres = no ]; then $(BIN)/pytest -q; else $(BIN)/pytest -m "not browser" -q; fi; \
	if [ $$postgres = yes ]; then \
	  echo "== PostgreSQL =="; \
	  if [ $$browser = yes ]; then SHEQU_DATABASE_URL="$(SHEQU_TEST_DATABASE_URL)" $(BIN)/pytest -q; \
	  else SHEQU_DATABASE_URL="$(SHEQU_TEST_DATABASE_URL)" $(BIN)/pytest -m "not browser" -q; fi; \
	fi

test-browser-sqlite: $(STAMP)
	SHEQU_SECRET_KEY=test-only-secret SHEQU_HUEY_IMMEDIATE=true SHEQU_DATA_DIR=$$(mktemp -d) $(BIN)/pytest -m browser -q

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var
