#!/usr/bin/env bash
# The whole suite, as `make test` runs it: lint, then the tests on SQLite, again on a throwaway
# PostgreSQL cluster, then the browser journeys in Chromium. Any failure fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
started=$(date +%s)

bash scripts/system-deps.sh

echo "== lint"
$BIN/ruff check .

echo "== tests on SQLite"
$BIN/python -m pytest -m "not browser" -q

echo "== tests on PostgreSQL"
source scripts/pg.sh
trap pg_stop EXIT
pg_start
PORTAL_TEST_DATABASE_URL="$PG_URL" $BIN/python -m pytest -m "not browser" -q
pg_stop

echo "== browser tests (Chromium at 360x640; screenshots in artifacts/screenshots/)"
$BIN/python -m pytest -m browser -q

echo "== all passed in $(( $(date +%s) - started )) s"
