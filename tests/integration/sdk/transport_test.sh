#!/usr/bin/env bash
# Runs the POSIX transports (Paho mqtts/wss, libcurl https) against a local
# mosquitto and openssl s_server on free loopback ports.
# Usage: transport_test.sh <test_transport_posix binary>
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
bash "$here/pki.sh" "$work"
for attempt in 1 2 3; do
  read -r p_tls p_wss p_https p_closed p_mtls < <(python3 "$here/free_port.py" 5)
  cat > "$work/mosquitto.conf" <<CONF
user $(id -un)
per_listener_settings true
listener $p_tls 127.0.0.1
cafile $work/ca.pem
certfile $work/server.pem
keyfile $work/server.key
require_certificate false
allow_anonymous true
listener $p_wss 127.0.0.1
protocol websockets
cafile $work/ca.pem
certfile $work/server.pem
keyfile $work/server.key
allow_anonymous true
listener $p_mtls 127.0.0.1
cafile $work/ca.pem
certfile $work/server.pem
keyfile $work/server.key
require_certificate true
allow_anonymous true
CONF
  timeout 120 mosquitto -c "$work/mosquitto.conf" > "$work/mosquitto.log" 2>&1 &
  pids+=($!)
  mkdir -p "$work/www"
  echo '{"hello":"world"}' > "$work/www/hello.json"
  (cd "$work/www" && exec timeout 120 openssl s_server -quiet -accept "127.0.0.1:$p_https" \
     -cert "$work/server.pem" -key "$work/server.key" -WWW) > "$work/s_server.log" 2>&1 &
  pids+=($!)
  ok=0
  for _ in $(seq 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p_tls") 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$p_wss") 2>/dev/null \
       && (exec 3<>"/dev/tcp/127.0.0.1/$p_https") 2>/dev/null \
       && (exec 3<>"/dev/tcp/127.0.0.1/$p_mtls") 2>/dev/null; then ok=1; break; fi
    sleep 0.1
  done
  [ $ok = 1 ] && break
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; pids=()
done
[ $ok = 1 ] || { echo "servers did not start"; cat "$work"/*.log; exit 1; }
CP_TEST_DIR=$work CP_PORT_TLS=$p_tls CP_PORT_WSS=$p_wss CP_PORT_HTTPS=$p_https \
  CP_PORT_CLOSED=$p_closed CP_PORT_MTLS=$p_mtls "$bin"
