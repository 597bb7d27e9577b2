#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on 127.0.0.1 for the test suite: `pg_start` sets PG_URL, `pg_stop`
# stops it and deletes its files. PostgreSQL refuses to run as root, so as root it runs as `postgres`.
PG_PORT="${PORTAL_TEST_PG_PORT:-25432}"
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
PG_DIR=""

_as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_start() {
  PG_DIR="$(mktemp -d /tmp/portal-pg.XXXXXX)"
  chmod 755 "$PG_DIR"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$PG_DIR"
  _as_pg "$PG_BIN/initdb" --pgdata "$PG_DIR/data" --username portal --auth trust --encoding UTF8 \
    --locale C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; return 1; }
  # A test cluster: durability off for speed; it is deleted afterwards.
  _as_pg "$PG_BIN/pg_ctl" --pgdata "$PG_DIR/data" --log "$PG_DIR/server.log" --wait --silent \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start || { cat "$PG_DIR/server.log" >&2; return 1; }
  _as_pg "$PG_BIN/createdb" --host 127.0.0.1 --port "$PG_PORT" --username portal portal_test
  PG_URL="postgresql://portal@127.0.0.1:$PG_PORT/portal_test"
}

pg_stop() {
  [ -n "$PG_DIR" ] || return 0
  _as_pg "$PG_BIN/pg_ctl" --pgdata "$PG_DIR/data" --mode fast --wait --silent stop || true
  rm -rf "$PG_DIR"
  PG_DIR=""
}
