#!/usr/bin/env bash
# The whole suite, as `make test` runs it: lint, then the tests on SQLite, again with the clock moved to a
# Monday 00:00:30 in Beijing, on a throwaway PostgreSQL cluster, then the browser journeys in Chromium. Any
# failure fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
started=$(date +%s)

bash scripts/system-deps.sh

echo "== lint"
$BIN/ruff check .

echo "== tests on SQLite"
$BIN/python -m pytest -m "not browser" -q

# Monday 00:00:30 in Beijing is still Sunday in UTC: one run catches a test that reads the real clock, a
# Beijing date taken from UTC, and the weekend-to-workday turn. scripts/faketime-suite.sh runs all four moments.
bash scripts/faketime-suite.sh monday

echo "== tests on PostgreSQL"
source scripts/pg.sh
trap pg_stop EXIT
pg_start
PORTAL_TEST_DATABASE_URL="$PG_URL" $BIN/python -m pytest -m "not browser" -q
pg_stop

echo "== browser tests (Chromium at 360x640; screenshots in artifacts/screenshots/)"
$BIN/python -m pytest -m browser -q

echo "== all passed in $(( $(date +%s) - started )) s"
