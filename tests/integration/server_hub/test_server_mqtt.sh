#!/usr/bin/env bash
# Integration: certpilot-server runs and supervises its mosquitto child (server/hub):
# MQTT ports in the ready file, twin routes on the management API, restart of a
# killed broker, clean stop, and exit with a clear error when the broker keeps dying.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$CP_SOURCE_DIR/tests/integration/server/harness.sh"

fail() { echo "FAIL: $*" >&2; [ -n "${CP_HARNESS_DIR:-}" ] && tail -20 "$CP_HARNESS_DIR/server.err" >&2; exit 1; }
pass() { echo "ok: $*"; }
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
broker_pid() { pgrep -P "$CERTPILOT_SERVER_PID" -x mosquitto | head -1; }
wait_for() { # SECONDS CMD… : poll until CMD succeeds
  local n=$(($1 * 10)); shift
  for _ in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
  return 1
}

cp_server_start || exit 1
for v in CERTPILOT_MQTT_PORT CERTPILOT_MQTT_SAS_PORT CERTPILOT_MQTT_WSS_PORT CERTPILOT_MQTT_PID; do
  [ -n "${!v:-}" ] || fail "$v missing from the ready file"
done
for p in "$CERTPILOT_MQTT_PORT" "$CERTPILOT_MQTT_SAS_PORT" "$CERTPILOT_MQTT_WSS_PORT"; do
  listening "$p" || fail "nothing listens on MQTT port $p"
done
[ "$(broker_pid)" = "$CERTPILOT_MQTT_PID" ] || fail "mosquitto $CERTPILOT_MQTT_PID is not the server's child"
pass "broker started by certpilot-server on free ports"

# Twin routes live beside the core's management API.
cp_mgmt GET /devices/nobody/twin >/dev/null
[ "$(cp_status)" = 404 ] || fail "GET twin of unknown device: $(cp_status)"
cp_mgmt POST /devices/nobody/twin/desired '{"a":1}' >/dev/null
[ "$(cp_status)" = 404 ] || fail "patch twin of unknown device: $(cp_status)"
CP_MGMT_TOKEN=wrong cp_mgmt GET /devices/nobody/twin >/dev/null
[ "$(cp_status)" = 401 ] || fail "twin route without a valid token: $(cp_status)"
pass "twin routes on the management API (404 unknown device, 401 bad token)"

# Kill the broker: the supervisor starts a new one on the same ports.
old=$CERTPILOT_MQTT_PID
kill -KILL "$old"
wait_for 10 bash -c "p=\$(pgrep -P $CERTPILOT_SERVER_PID -x mosquitto); [ -n \"\$p\" ] && [ \"\$p\" != $old ]" \
  || fail "broker not restarted after SIGKILL"
wait_for 10 listening "$CERTPILOT_MQTT_PORT" || fail "restarted broker does not listen"
grep -q "restarting" "$CP_HARNESS_DIR/server.err" || fail "restart not logged"
kill -0 "$CERTPILOT_SERVER_PID" || fail "server died with its broker"
pass "killed broker restarted ($old -> $(broker_pid))"

# Clean stop takes the broker down too.
child=$(broker_pid)
cp_server_stop
kill -0 "$child" 2>/dev/null && fail "mosquitto $child survived the server"
pass "server stop stops the broker"
rm -rf "$CP_HARNESS_DIR"

# A broker that keeps dying: the server gives up and exits 1, naming the cause.
cp_server_start || exit 1
for i in $(seq 8); do
  p=$(broker_pid)
  [ -n "$p" ] && kill -KILL "$p" 2>/dev/null
  kill -0 "$CERTPILOT_SERVER_PID" 2>/dev/null || break
  wait_for 10 bash -c "q=\$(pgrep -P $CERTPILOT_SERVER_PID -x mosquitto); [ -n \"\$q\" ] && [ \"\$q\" != \"$p\" ]" \
    || ! kill -0 "$CERTPILOT_SERVER_PID" 2>/dev/null || true
done
wait_for 10 bash -c "! kill -0 $CERTPILOT_SERVER_PID 2>/dev/null" || fail "server still running after a crash loop"
wait "$CERTPILOT_SERVER_PID"; rc=$?
CERTPILOT_SERVER_PID=
[ "$rc" = 1 ] || fail "server exit status $rc after the broker crash loop (want 1)"
grep -q "MQTT broker failed: mosquitto was killed by signal 9; it died more than 5 times" \
  "$CP_HARNESS_DIR/server.err" || fail "no clear error for the crash loop"
pass "crash loop: server exits 1 with a clear error"
