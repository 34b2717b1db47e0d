#!/usr/bin/env bash
# Integration: the real certpilot-server (several DPS threads, each with its own
# SQLite connection, plus the supervisor's) and its broker's plugin share one
# WAL database. Planned broker restarts (trust changes with the WebSockets
# client-certificate listener: the plugin closes its connections cleanly) and
# SIGKILLs of the broker must leave the server's connections on the same -wal
# file as everyone else: management reads and writes keep working and agree
# with a separate reader, and the file passes PRAGMA integrity_check.
# Regression: the -wal/-shm were deleted under the running server at the first
# clean broker exit ("database disk image is malformed", lost writes).
set -u
. "$CP_SOURCE_DIR/tests/integration/server/harness.sh"

fail() { echo "FAIL: $*" >&2; [ -n "${CP_HARNESS_DIR:-}" ] && tail -20 "$CP_HARNESS_DIR/server.err" >&2; exit 1; }
pass() { echo "ok: $*"; }
broker_pid() { pgrep -P "$CERTPILOT_SERVER_PID" -x mosquitto | head -1; }
wait_for() { # SECONDS CMD… : poll until CMD succeeds
  local n=$(($1 * 10)); shift
  for _ in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
  return 1
}
new_broker() { local p; p=$(broker_pid); [ -n "$p" ] && [ "$p" != "$1" ]; }
count() { # JSON array on stdin → number of elements
  python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}
db_check() { # WHEN: server and a separate reader agree; file intact; WAL still there
  [ -e "$CERTPILOT_DB-wal" ] && [ -e "$CERTPILOT_DB-shm" ] \
    || fail "$1: $CERTPILOT_DB-wal/-shm deleted while the server has the database open"
  local api file integrity
  api=$(cp_mgmt GET /policies | count) || fail "$1: GET /policies: $(cp_status)"
  [ "$(cp_status)" = 200 ] || fail "$1: GET /policies: $(cp_status)"
  file=$(sqlite3 -cmd ".timeout 5000" "$CERTPILOT_DB" "SELECT count(*) FROM policy WHERE deleted = 0;") \
    || fail "$1: sqlite3 cannot read the database"
  [ "$api" = "$file" ] || fail "$1: server sees $api policies, the file has $file"
  [ "$api" = "$2" ] || fail "$1: $api policies, want $2"
  integrity=$(sqlite3 -cmd ".timeout 5000" "$CERTPILOT_DB" "PRAGMA integrity_check;")
  [ "$integrity" = ok ] || fail "$1: integrity_check: $integrity"
}

cp_server_start --mqtt-wss-cert-port 0 --threads 3 || exit 1
cp_mgmt POST /credential '{}' >/dev/null
[ "$(cp_status)" = 201 ] || fail "POST /credential: $(cp_status)"

n=0
for round in 1 2 3; do
  # A new policy changes the hub trust: the supervisor restarts the broker
  # (SIGTERM: the plugin closes its SQLite connections).
  old=$(broker_pid)
  cp_mgmt POST /policies "{\"name\":\"p$round\",\"validityDays\":30}" >/dev/null
  [ "$(cp_status)" = 201 ] || fail "round $round: POST /policies: $(cp_status)"
  n=$((n + 1))
  wait_for 15 new_broker "$old" || fail "round $round: broker not restarted after the trust change"
  db_check "round $round, after a planned broker restart" "$n"

  # Crash: SIGKILL, the supervisor restarts it.
  old=$(broker_pid)
  kill -KILL "$old"
  wait_for 15 new_broker "$old" || fail "round $round: broker not restarted after SIGKILL"
  cp_mgmt POST /enrollments "{\"id\":\"e$round\",\"kind\":\"group\",\"attestation\":\"symmetricKey\",\"policy\":\"p$round\",\"hub\":\"localhost\"}" >/dev/null
  [ "$(cp_status)" = 201 ] || fail "round $round: POST /enrollments: $(cp_status)"
  db_check "round $round, after a broker SIGKILL" "$n"
done
pass "3 planned restarts + 3 SIGKILLs of the broker: server and file agree, integrity ok, WAL kept"

cp_server_stop
integrity=$(sqlite3 "$CERTPILOT_DB" "PRAGMA integrity_check;")
[ "$integrity" = ok ] || fail "after stop: integrity_check: $integrity"
pass "database intact after the server stopped"
