#!/usr/bin/env bash
# The names README.md and docs/ give users exist in the tree.
#   check_doc_names.sh SOURCE_DIR
# README.md: every link and every path it names exists; the folder map lists
# every top-level folder and only those; the documentation index links every
# docs/*.md; the CMake options it names are the option()s of CMakeLists.txt.
# The user docs listed in $pages below: every source path, every cp_/cps_/CP_/
# CERTPILOT_ name and every cp_*.c/.h file they name exists in the sources.
set -euo pipefail
cd "$1"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# Source paths a page names: link targets, and `a/b` words in backticks or
# code blocks that start with a top-level folder of the tree or end like a
# source file. Not: absolute paths, build outputs, URLs, runtime files
# (`current/key.pem`, `<data-dir>/tls/`).
top_dirs=$(find . -mindepth 1 -maxdepth 1 -type d ! -name .git ! -name 'build*' -printf '%f\n' | paste -sd'|')
# Pages named that are not in this repository (none: protocol.md is docs/protocol.md).
external_pages=""
paths_in() {
  {
    grep -oE '\]\([^)#]+' "$1" | sed 's/^](//' | grep -vE '^[a-z]+:' || true
    awk '/^```/ { code = !code; next } code { print; next }
         { while (match($0, /`[^`]+`/)) { print substr($0, RSTART + 1, RLENGTH - 2); $0 = substr($0, RSTART + RLENGTH) } }' "$1" |
      tr ' ,;()"' '\n' | grep -E '^[A-Za-z0-9_.][A-Za-z0-9_.*-]*/[A-Za-z0-9_./*-]*$' |
      grep -E "^($top_dirs)/|\.(c|h|sh|md|cmake|in|py)\$" | grep -vE '^(build|build-asan)/' || true
    # any page named in the text, code blocks included
    grep -oE '(^|[^A-Za-z0-9_./>-])[A-Za-z0-9_][A-Za-z0-9_./-]*\.md\b' "$1" | sed -E 's/^[^A-Za-z0-9_]//' |
      grep -vxF "$external_pages" || true
  } | sort -u
}

# A named path exists as given, as a glob, or (a test or program name) as a source file.
path_exists() {
  local p=${1%/}
  [ -e "$p" ] && return 0
  compgen -G "$p" >/dev/null && return 0
  compgen -G "$p.*" >/dev/null && return 0
  return 1
}

check_paths() { # page [relative-to…]
  local page=$1 p n=0
  shift
  while IFS= read -r p; do
    [ -n "$p" ] || continue
    n=$((n + 1))
    local ok=1
    path_exists "$p" || ok=0
    for base in "$@" docs; do [ $ok -eq 1 ] || ! path_exists "$base/$p" || ok=1; done
    [ $ok -eq 1 ] || fail "$page names $p, which does not exist"
  done < <(paths_in "$page")
  echo "$page: $n paths"
}

# --- README.md
check_paths README.md
for cmd in "bash scripts/demo.sh" "bash scripts/test.sh"; do
  grep -q "^$cmd " README.md || fail "README.md: '$cmd' is not among the commands at the top"
done
grep -q 'scripts/test.sh' .ci/run || fail ".ci/run does not run scripts/test.sh (README: CI runs exactly that)"

map=$(awk '/^## What is here/ { f = 1; next } f && /^## / { exit } f && /^\| `/' README.md |
  sed -E 's/^\| `([^`]+)`.*/\1/' | sed 's:/$::' | sort)
[ -n "$map" ] || fail "README.md: no folder map under '## What is here'"
for d in $map; do [ -d "$d" ] || fail "README.md folder map: $d/ does not exist"; done
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  top=$(git ls-files | grep / | cut -d/ -f1 | grep -v '^\.' | sort -u)
  for d in $top; do grep -qx "$d" <<<"$map" || fail "README.md folder map does not list $d/"; done
else
  echo "not a git checkout: the folder map is not checked for completeness"
fi

for f in docs/*.md; do
  grep -qF "]($f)" README.md || fail "README.md's documentation index does not link $f"
done

readme_opts=$(grep -oE 'CERTPILOT_[A-Z0-9_]+' README.md | sort -u)
cmake_opts=$(grep -oE '^option\(CERTPILOT_[A-Z0-9_]+' CMakeLists.txt | sed 's/option(//' | sort -u)
[ "$readme_opts" = "$cmake_opts" ] ||
  fail "README.md's CMake options differ from CMakeLists.txt's: $(diff <(echo "$readme_opts") <(echo "$cmake_opts") | grep '^[<>]' | tr '\n' ' ')"

# --- docs/
pages="docs/agent.md docs/porting.md docs/sdk-crypto.md docs/sdk-x509.md docs/tpm.md docs/server-mqtt.md"
srcdirs="sdk platform server agent samples tests benchmarks cmake scripts CMakeLists.txt"
for page in $pages; do
  # `certpilot/x.h` is an installed header name
  check_paths "$page" sdk/include platform/posix/include server/hub
  words=$(grep -oE '\b(cps?_[a-z0-9_]*[a-z0-9]|(CP|CPS|CERTPILOT)_[A-Z0-9_]*[A-Z0-9])\b(\.[ch]\b)?' "$page" | sort -u)
  n=0
  for w in $words; do
    n=$((n + 1))
    case $w in
    *.c | *.h) [ -n "$(find $srcdirs -name "$w" -print -quit)" ] || fail "$page names $w, which is not a file in the tree" ;;
    *) # shellcheck disable=SC2086 # word splitting wanted
      grep -rqw --include='*.[ch]' --include='*.sh' --include='*.cmake' --include='CMakeLists.txt' \
        --include='*.in' -- "$w" $srcdirs || fail "$page names $w, which is not in the sources" ;;
    esac
  done
  echo "$page: $n names"
done

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "README.md and docs/: every named path and name exists"
