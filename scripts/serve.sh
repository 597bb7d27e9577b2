#!/usr/bin/env bash
# `make run`: gunicorn and the background worker (`flask worker`: text messages, the supervision sweep every minute)
# side by side. Ctrl-C (or TERM to this script) stops both; if the worker stops, gunicorn is stopped too, so a
# broken half never goes on serving alone.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-5000}"
WORKERS="${WORKERS:-2}"

.venv/bin/flask worker &
worker=$!
.venv/bin/gunicorn --config gunicorn.conf.py --bind "127.0.0.1:$PORT" --workers "$WORKERS" --preload \
  --no-control-socket --access-logfile - wsgi:app &
server=$!

stop() { kill -TERM "$server" "$worker" 2>/dev/null || true; }
trap stop INT TERM
wait -n "$server" "$worker" || true  # the first to end (Ctrl-C ends both)
stop
wait "$server" "$worker" 2>/dev/null || true
