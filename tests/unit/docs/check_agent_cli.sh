#!/usr/bin/env bash
# docs/agent.md's command lines against the built binaries.
#   check_agent_cli.sh CERTPILOT CERTPILOTD AGENT_MD
# - every line of the "The `certpilot` command" block runs, with -r and -c and
#   with and without each [--option], and is not a usage error (exit 2);
#   `certpilot --help` lists each command and option the block names;
# - every certpilotd option the page names is in `certpilotd --help` and is
#   accepted; the Quick start configuration passes --check-config.
set -euo pipefail
cli=$1 daemon=$2 md=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# The lines of the first ``` block after the heading $1.
block_after() {
  awk -v h="$1" 'index($0, h) == 1 { f = 1; next }
                 f && /^```/ { if (in_b) exit; in_b = 1; next }
                 f && in_b { print }' "$md"
}

# The Quick start configuration, with its paths as given: --check-config only parses.
awk '/^## Quick start/ { f = 1 } f && /^```ini/ { b = 1; next } b && /^```/ { exit } b { print }' \
  "$md" >"$tmp/certpilotd.conf"
[ -s "$tmp/certpilotd.conf" ] || fail "no \`\`\`ini block in Quick start"
mkdir -p "$tmp/run"
printf '[paths]\nrun_dir = %s/run\n' "$tmp" >>"$tmp/certpilotd.conf"

help=$("$cli" --help)
lines=$(block_after '## The `certpilot` command')
[ -n "$lines" ] || fail "no command block under '## The \`certpilot\` command'"
ncmd=0
while IFS= read -r line; do
  [ -n "$line" ] || continue
  syntax=$(printf '%s\n' "$line" | sed -E 's/ {2,}.*//') # drop the description column
  case $syntax in certpilot\ *) ;; *) fail "not a certpilot command line: $line"; continue ;; esac
  words=${syntax#certpilot }
  runs=("")
  if [[ $words == "[-c CONFIG | -r RUN_DIR] "* ]]; then
    words=${words#"[-c CONFIG | -r RUN_DIR] "}
    runs=("-r $tmp/run" "-c $tmp/certpilotd.conf")
    for o in -c -r; do grep -qE -- "^ +$o " <<<"$help" || fail "certpilot --help does not list $o"; done
  fi
  cmd=${words%% *}
  args=${words#"$cmd"}
  grep -qE -- "^ +$cmd( |$)|^usage: certpilot .*$cmd|, $cmd( |$)" <<<"$help" ||
    fail "certpilot --help does not list '$cmd'"
  # [--opt] → without and with it; FILE → a file that is not there
  optional=$(grep -oE '\[[^]]+\]' <<<"$args" | tr -d '[]' || true)
  args=$(sed -E 's/\[[^]]+\]//g; s/FILE/'"${tmp//\//\\/}"'\/missing.pem/g' <<<"$args")
  for o in $optional; do grep -qF -- "$o" <<<"$help" || fail "certpilot --help does not list $o"; done
  for pre in "${runs[@]}"; do
    for extra in "" $optional; do
      # shellcheck disable=SC2086 # word splitting wanted
      set +e; out=$("$cli" $pre $cmd $args $extra 2>&1); rc=$?; set -e
      ncmd=$((ncmd + 1))
      echo "certpilot $pre $cmd$args $extra -> $rc"
      if [ "$rc" -eq 2 ]; then fail "usage error for: certpilot $pre $cmd$args $extra: $out"; fi
      if [ "$cmd" = --help ] && ! grep -q '^usage: certpilot' <<<"$out"; then fail "--help: $out"; fi
    done
  done
done <<<"$lines"
[ "$ncmd" -ge 4 ] || fail "only $ncmd certpilot commands found in docs/agent.md"
set +e; "$cli" -r "$tmp/run" no-such-command >/dev/null 2>&1; rc=$?; set -e
[ "$rc" -eq 2 ] || fail "an unknown command exits $rc, not 2 (the check above could not fail)"
set +e; "$cli" --no-such-option >/dev/null 2>&1; rc=$?; set -e
[ "$rc" -eq 2 ] || fail "an unknown option exits $rc, not 2"
# "(also -h, help)": the other spellings of --help print the same usage on stdout
for a in $(sed -n 's/^certpilot --help .*(also \(.*\))$/\1/p' <<<"$lines" | tr -d ','); do
  [ "$("$cli" "$a" 2>/dev/null)" = "$help" ] || fail "certpilot $a does not print the usage"
  ncmd=$((ncmd + 1))
done

# certpilotd: every option the page names is in the usage and is accepted.
dhelp=$("$daemon" --help)
opts=$(grep -oE 'certpilotd( -[-a-z]+( [A-Z./a-z]+)?)+' "$md" | grep -oE ' -[-a-z]+' || true)
opts="$opts $(awk '/^## Running without systemd/ { f = 1 } f && /^\| `-/' "$md" | grep -oE '`-[-a-z]+' | tr -d '`' || true)"
nopt=0
for o in $(tr ' ' '\n' <<<"$opts" | sort -u); do
  nopt=$((nopt + 1))
  grep -qE -- "(^| )$o( |,|$)" <<<"$dhelp" || fail "certpilotd --help does not list $o"
done
[ "$nopt" -ge 6 ] || fail "only $nopt certpilotd options found in docs/agent.md"
check() { # expected-status command…
  local want=$1 rc
  shift
  set +e; out=$("$@" 2>&1); rc=$?; set -e
  echo "${*#"$daemon"} -> $rc"
  [ "$rc" -eq "$want" ] || fail "certpilotd${*#"$daemon"}: exit $rc, want $want: $out"
}
check 0 "$daemon" --config "$tmp/certpilotd.conf" --check-config
check 0 "$daemon" -c "$tmp/certpilotd.conf" -t --exit-after-renewals 3
check 0 "$daemon" -h
check 1 "$daemon" --config "$tmp/missing.conf" --check-config
check 2 "$daemon" --config "$tmp/certpilotd.conf" --check-config --exit-after-renewals 0
check 2 "$daemon" --no-such-option

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "docs/agent.md: $ncmd certpilot command lines and $nopt certpilotd options match the binaries"
