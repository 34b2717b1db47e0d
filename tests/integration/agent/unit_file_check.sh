#!/bin/sh
# Checks certpilotd.service (made from agent/systemd/certpilotd.service.in) with systemd-analyze.
#   unit_file_check.sh verify   UNIT CERTPILOTD   -> systemd-analyze verify passes
#   unit_file_check.sh security UNIT MAX          -> offline exposure <= MAX
#   unit_file_check.sh sysusers FILE USER         -> the sysusers.d file creates USER (dry run)
set -eu
mode=$1 unit=$2 arg=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
case $mode in
verify)
  # point ExecStart at the binary just built so the "is executable" check is real
  sed "s|^ExecStart=[^ ]*/certpilotd |ExecStart=$arg |" "$unit" > "$tmp/certpilotd.service"
  out=$(systemd-analyze verify "$tmp/certpilotd.service" 2>&1) || { echo "$out"; exit 1; }
  # verify returns 0 on some warnings; treat any message about our unit as failure
  if echo "$out" | grep -q 'certpilotd.service'; then echo "$out"; exit 1; fi
  echo "systemd-analyze verify: clean"
  ;;
security)
  cp "$unit" "$tmp/certpilotd.service"
  out=$(systemd-analyze security --offline=true "$tmp/certpilotd.service" 2>&1)
  level=$(echo "$out" | sed -n 's/.*Overall exposure level for certpilotd.service: \([0-9.]*\).*/\1/p')
  [ -n "$level" ] || { echo "$out"; echo "no exposure level found"; exit 1; }
  echo "exposure $level (max $arg)"
  awk -v l="$level" -v m="$arg" 'BEGIN { exit !(l + 0 <= m + 0) }'
  ;;
sysusers)
  # $unit is the sysusers.d file; $arg the user it must create
  out=$(systemd-sysusers --dry-run "$unit" 2>&1) || { echo "$out"; exit 1; }
  echo "$out" | grep -q "Creating user '$arg'" || { echo "$out"; exit 1; }
  echo "sysusers: creates $arg"
  ;;
*) echo "unknown mode $mode"; exit 2 ;;
esac
