#!/usr/bin/env bash
# Test harness: start certpilot-server in a temp dir on free 127.0.0.1 ports (dev mode).
#
# Two ways to use it:
#
# 1) As a wrapper (any language):
#      [CP_SERVER_FLAGS="--rate-limit 5"] harness.sh run [--] COMMAND [ARGS…]
#    starts the server (extra flags from $CP_SERVER_FLAGS), runs COMMAND with the variables
#    below in its environment, stops the server, removes the temp dir and exits with
#    COMMAND's status.
#
# 2) Sourced from a bash test:
#      . "$CP_SOURCE_DIR/tests/integration/server/harness.sh"
#      cp_server_start [server flags…]   # e.g. --retry-after 0 --rate-limit 5
#      …                                  # use the variables / helpers below
#      cp_server_stop                     # optional: also done by the EXIT trap
#
# Locating the binary: $CERTPILOT_SERVER_BIN, else $CP_BINARY_DIR/server/certpilot-server.
# Defaults: --dev --retry-after 0 --max-lifetime $CP_SERVER_MAX_LIFETIME (600 s): the server
# exits by itself even if the test is killed. Bound to 127.0.0.1, ports chosen by the kernel
# (port 0), so parallel tests never collide.
#
# Exported after cp_server_start (also written to $CERTPILOT_ENV_FILE as KEY=value lines):
#   CERTPILOT_DPS_URL       https://127.0.0.1:PORT  (DPS HTTPS endpoint)
#   CERTPILOT_DPS_PORT
#   CERTPILOT_MGMT_URL      https://127.0.0.1:PORT  (management API)
#   CERTPILOT_MGMT_PORT
#   CERTPILOT_ID_SCOPE      id scope of the namespace
#   CERTPILOT_TRUST_BUNDLE  PEM file clients must trust for both endpoints (server TLS CA)
#   CERTPILOT_ADMIN_TOKEN   bearer token of role credentials-contributor
#   CERTPILOT_DB            SQLite file (the hub plugin may open it)
#   CERTPILOT_DATA_DIR      server data dir
#   CERTPILOT_SERVER_PID
#   CERTPILOT_MQTT_PORT     MQTT over TLS with client certificate (X.509 DPS + hub)  [server/hub]
#   CERTPILOT_MQTT_SAS_PORT MQTT over TLS, SAS onboarding
#   CERTPILOT_MQTT_WSS_PORT MQTT over WebSockets over TLS (wss://127.0.0.1:PORT/$iothub/websocket)
#   CERTPILOT_HUB_NAME      hub host name to use as enrollments' "hub" (default localhost)
#   CERTPILOT_MQTT_PID      pid of the supervised mosquitto
#   CP_HARNESS_DIR          temp dir (removed at exit); put your own files here
#   CERTPILOT_ENV_FILE      the file above
#
# Helpers (sourced mode):
#   cp_mgmt METHOD PATH [BODY]        management call with the admin token; prints the body.
#                                     CP_MGMT_TOKEN overrides the token.
#   cp_status                         HTTP status of the last cp_mgmt (works after $(cp_mgmt …))
#   cp_admin ARGS…                    certpilot-server admin … with URL/token/CA set
#   cp_server_stop                    SIGTERM, wait up to 5 s, then SIGKILL

CP_SERVER_MAX_LIFETIME=${CP_SERVER_MAX_LIFETIME:-600}

cp__bin() {
  if [ -n "${CERTPILOT_SERVER_BIN:-}" ]; then echo "$CERTPILOT_SERVER_BIN";
  else echo "${CP_BINARY_DIR:?set CP_BINARY_DIR or CERTPILOT_SERVER_BIN}/server/certpilot-server"; fi
}

cp_server_stop() {
  if [ -n "${CERTPILOT_SERVER_PID:-}" ] && kill -0 "$CERTPILOT_SERVER_PID" 2>/dev/null; then
    kill -TERM "$CERTPILOT_SERVER_PID" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$CERTPILOT_SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$CERTPILOT_SERVER_PID" 2>/dev/null
    wait "$CERTPILOT_SERVER_PID" 2>/dev/null
  fi
  CERTPILOT_SERVER_PID=
}

cp__cleanup() {
  cp_server_stop
  [ -n "${CP_HARNESS_DIR:-}" ] && rm -rf "$CP_HARNESS_DIR"
}

cp_server_start() {
  local bin; bin=$(cp__bin)
  [ -x "$bin" ] || { echo "harness: $bin not found" >&2; return 1; }
  CP_HARNESS_DIR=$(mktemp -d /tmp/certpilot-harness.XXXXXX)
  trap cp__cleanup EXIT
  trap 'exit 130' INT TERM
  local ready="$CP_HARNESS_DIR/ready.env"
  "$bin" --data-dir "$CP_HARNESS_DIR/data" --dps-listen 127.0.0.1 --dps-port 0 \
    --mgmt-listen 127.0.0.1 --mgmt-port 0 --dev --retry-after 0 \
    --mqtt-port 0 --mqtt-sas-port 0 --mqtt-wss-port 0 \
    --max-lifetime "$CP_SERVER_MAX_LIFETIME" --ready-file "$ready" \
    --admin-token-file "$CP_HARNESS_DIR/admin.token" "$@" \
    >"$CP_HARNESS_DIR/server.out" 2>"$CP_HARNESS_DIR/server.err" &
  CERTPILOT_SERVER_PID=$!
  for _ in $(seq 300); do
    [ -s "$ready" ] && break
    kill -0 "$CERTPILOT_SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  if [ ! -s "$ready" ]; then
    echo "harness: certpilot-server did not become ready" >&2
    cat "$CP_HARNESS_DIR/server.err" >&2
    return 1
  fi
  set -a
  # shellcheck disable=SC1090
  . "$ready"
  CERTPILOT_ADMIN_TOKEN=$(cat "$CP_HARNESS_DIR/admin.token")
  set +a
  export CP_HARNESS_DIR
  CERTPILOT_ENV_FILE="$CP_HARNESS_DIR/harness.env"
  { cat "$ready"; echo "CERTPILOT_ADMIN_TOKEN=$CERTPILOT_ADMIN_TOKEN"; echo "CP_HARNESS_DIR=$CP_HARNESS_DIR"; } \
    > "$CERTPILOT_ENV_FILE"
  export CERTPILOT_ENV_FILE
}

cp_mgmt() {
  local method=$1 path=$2 body=${3:-} out="$CP_HARNESS_DIR/mgmt.out"
  local args=(-s -o "$out" -w '%{http_code}' --cacert "$CERTPILOT_TRUST_BUNDLE"
              -H "Authorization: Bearer ${CP_MGMT_TOKEN:-$CERTPILOT_ADMIN_TOKEN}" -X "$method")
  if [ -n "$body" ]; then args+=(-H 'Content-Type: application/json' --data-binary "$body"); fi
  curl "${args[@]}" "$CERTPILOT_MGMT_URL$path" > "$CP_HARNESS_DIR/mgmt.status"
  cat "$out"
}

cp_status() { cat "$CP_HARNESS_DIR/mgmt.status"; }

cp_admin() {
  "$(cp__bin)" admin --url "$CERTPILOT_MGMT_URL" --token "$CERTPILOT_ADMIN_TOKEN" \
    --cacert "$CERTPILOT_TRUST_BUNDLE" "$@"
}

# Wrapper mode.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  if [ "${1:-}" != run ]; then
    sed -n '2,40p' "$0"; exit 2
  fi
  shift
  [ "${1:-}" = -- ] && shift
  [ $# -gt 0 ] || { echo "harness: no command" >&2; exit 2; }
  # shellcheck disable=SC2086
  set -- ${CP_SERVER_FLAGS:-} -- "$@"
  flags=()
  while [ "$1" != -- ]; do flags+=("$1"); shift; done
  shift
  cp_server_start "${flags[@]}" || exit 1
  "$@"
  rc=$?
  cp__cleanup
  trap - EXIT
  exit $rc
fi
