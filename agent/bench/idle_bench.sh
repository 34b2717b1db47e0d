#!/bin/sh
# Idle cost of certpilotd vs certmonger, measured in the same run.
#   agent/bench/idle_bench.sh BUILD_DIR [SECONDS]
# Both daemons watch one certificate that is valid for 30 days (so neither has
# anything to do) and are sampled from /proc after a 3 s settle:
#   RSS      VmRSS at the end of the window (kB); anon = RssAnon (private heap/stack)
#   wakeups  voluntary + involuntary context switches during the window
# certpilotd runs outside systemd (no watchdog); under the shipped unit it adds
# one wake-up per WatchdogSec/2 (150 s). certmonger runs on a private session
# bus (dbus-run-session) and tracks the same key and certificate files.
set -eu
build=$(cd "$1" && pwd)
secs=${2:-60}
tmp=$(mktemp -d /tmp/cpa-bench-XXXXXX)
cleanup() {
  [ -n "${cpd:-}" ] && kill "$cpd" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -days 60 -subj /CN=root \
  -keyout root.key -out root.pem 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n' > ca.ext
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -subj /CN=ica -keyout ica.key \
  -out ica.csr 2>/dev/null
openssl x509 -req -in ica.csr -CA root.pem -CAkey root.key -CAcreateserial -days 60 -extfile ca.ext \
  -out ica.pem 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -subj /CN=bench-dev -keyout leaf.key \
  -out leaf.csr 2>/dev/null
openssl x509 -req -in leaf.csr -CA ica.pem -CAkey ica.key -CAcreateserial -days 30 -out leaf.pem 2>/dev/null
mkdir -p state/gen-00000001
cat leaf.pem ica.pem root.pem > state/gen-00000001/chain.pem
cp leaf.key state/gen-00000001/key.pem
echo '{"deviceId":"bench-dev","assignedHub":"localhost","renewalCount":1}' > state/gen-00000001/meta.json
ln -s gen-00000001 state/current
echo c2VjcmV0 > sk
cat > c.conf <<CONF
[provisioning]
endpoint = 127.0.0.1
id_scope = scope
registration_id = bench-dev
trust_bundle = $tmp/root.pem
[onboarding]
symmetric_key_file = $tmp/sk
[paths]
state_dir = $tmp/state
run_dir = $tmp/run
metrics_file = $tmp/run/certpilot.prom
[twin]
report = false
CONF

sample() { # pid -> "rss_kb switches anon_kb"
  awk '/^VmRSS/{r=$2} /^RssAnon/{a=$2} /^voluntary_ctxt_switches/{v=$2} /^nonvoluntary_ctxt_switches/{n=$2} END{print r, v+n, a}' \
    "/proc/$1/status"
}
measure() { # name pid
  sleep 3
  set -- "$1" "$2" $(sample "$2")
  sleep "$secs"
  set -- "$1" "$2" "$3" "$4" "$5" $(sample "$2")
  echo "$1 rss_kb=$6 anon_kb=$8 wakeups=$(( $7 - $4 )) seconds=$secs"
}

"$build/agent/certpilotd" --config "$tmp/c.conf" 2>"$tmp/certpilotd.log" &
cpd=$!
measure certpilotd "$cpd"
kill "$cpd"; wait "$cpd" 2>/dev/null || true; cpd=

mkdir -p home cm-requests cm-cas cm-tmp
# keep certmonger's state inside the temporary folder (as its own test suite does)
CERTMONGER_REQUESTS_DIR=$tmp/cm-requests CERTMONGER_CAS_DIR=$tmp/cm-cas CERTMONGER_TMPDIR=$tmp/cm-tmp \
HOME=$tmp/home XDG_CONFIG_HOME=$tmp/home/.config XDG_DATA_HOME=$tmp/home/.local/share \
dbus-run-session -- sh -c '
  certmonger -s -n -p "$1/cm.pid" 2>"$1/certmonger.log" &
  cm=$!
  sleep 2
  getcert start-tracking -s -f "$1/leaf.pem" -k "$1/leaf.key" >/dev/null
  sleep 1
  getcert list -s | grep -E "status:|expires:" > "$1/cm.list"
  touch "$1/cm.ready"
  sleep "$2"
  kill $cm' sh "$tmp" "$((secs + 8))" &
bus=$!
for i in $(seq 1 40); do [ -f "$tmp/cm.ready" ] && break; sleep 0.5; done
[ -f "$tmp/cm.ready" ] || { echo "certmonger did not start"; cat "$tmp/certmonger.log"; exit 1; }
sed 's/^/  certmonger tracking: /' "$tmp/cm.list"
measure certmonger "$(cat "$tmp/cm.pid")"
wait "$bus" 2>/dev/null || true
