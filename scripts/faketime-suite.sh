#!/usr/bin/env bash
# The non-browser suite on SQLite with the system clock moved (Debian's faketime) to the moments where a test
# that reads the real clock, or a rule that mixes up days, would break: a weekend, just past midnight in
# Beijing on a Monday (UTC still says Sunday), 30 s before midnight in Beijing (the run crosses into the next
# day), and the last workday before the Spring Festival (a Saturday made a workday by the State Council).
#
#   bash scripts/faketime-suite.sh                  all four, one after the other (about 2 minutes each)
#   bash scripts/faketime-suite.sh monday -x tests/services     one moment, extra pytest arguments after it
#
# The clock starts at the moment and runs on ("@"). It moves in the pytest process, where the application and
# nearly every test run; the processes the tests start (gunicorn, the CLI, a child killed mid-write) keep the
# real clock, and the tests read a live server's time from its Date header (tests/live.py: server_time). Why:
# under Debian's libfaketime 0.9.10, Python's timed waits (a lock, an Event, a Timer) aim at the moved monotonic
# clock and never end, and with FAKETIME_DONT_FAKE_MONOTONIC its time.sleep fails with EINVAL instead. pytest
# itself gets by (its sleeps work, and no wait of a passing test times out), but the rate limiter's 10 ms Timer
# thread never ends, so the process leaves through os._exit once pytest has reported; a gunicorn would never
# stop. Hence PYTEST below, instead of `python -m pytest`.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

# name → the moment in Beijing time (UTC+8; converted below to this machine's time zone, which faketime reads)
declare -A MOMENTS=(
  [saturday]="2026-12-12 10:00:00"      # a Saturday morning
  [monday]="2026-12-14 00:00:30"        # Monday 00:00:30 in Beijing, Sunday 16:00:30 in UTC
  [midnight]="2026-12-16 23:59:30"      # a Wednesday, 30 s before Thursday in Beijing
  [festival]="2026-02-14 17:30:00"      # Saturday 14 February 2026: the last workday before the Spring Festival
)
declare -A LABELS=(
  [saturday]="Saturday 10:00 Beijing (2026-12-12)"
  [monday]="Monday 00:00:30 Beijing (2026-12-14)"
  [midnight]="23:59:30 Beijing on a Wednesday (2026-12-16)"
  [festival]="the last workday before the Spring Festival, 17:30 Beijing (Saturday 2026-02-14)"
)
ORDER=(saturday monday midnight festival)
PYTEST='import os, sys, pytest
os.environ.pop("LD_PRELOAD", None)  # the processes the tests start keep the real clock
code = pytest.main(sys.argv[1:])
sys.stdout.flush(), sys.stderr.flush()
os._exit(int(code))  # without waiting for the Timer threads that a moved clock stops'

if ! command -v faketime >/dev/null; then
  echo "faketime-suite: Debian's faketime is missing. Install it with:" >&2
  echo "  sudo apt-get install -y faketime    (or, as root: bash scripts/system-deps.sh)" >&2
  exit 1
fi

run() {  # run <name> [pytest arguments…]
  local name=$1 local_start
  shift
  local_start=$(date -d "${MOMENTS[$name]} +0800" "+%Y-%m-%d %H:%M:%S")
  echo "== tests on SQLite with the clock at ${LABELS[$name]}"
  faketime -f "@$local_start" $BIN/python -c "$PYTEST" -m "not browser" -q -p no:cacheprovider "$@"
}

if [ $# -gt 0 ] && [ -n "${MOMENTS[$1]+set}" ]; then
  run "$@"
  exit
fi
failed=()
for name in "${ORDER[@]}"; do
  run "$name" "$@" || failed+=("$name")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "faketime-suite: failed at ${failed[*]}" >&2
  exit 1
fi
echo "faketime-suite: the suite passed at all four moments"
