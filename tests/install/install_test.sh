#!/usr/bin/env bash
# usage: install_test.sh BUILD_DIR CONSUMER_SRC CC
set -euo pipefail
build=$1 consumer=$2 cc=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(dirname "$(find "$prefix" -name 'libcertpilot.so' | head -n1)")
test -f "$prefix/include/certpilot/certpilot.h" || { echo "FAIL: header not installed"; exit 1; }
test -f "$libdir/pkgconfig/certpilot.pc" || { echo "FAIL: certpilot.pc not installed"; exit 1; }
test -f "$prefix/include/certpilot/cp_provision.h" || { echo "FAIL: POSIX port headers not installed"; exit 1; }
test -f "$libdir/cmake/certpilot/certpilotConfig.cmake" || { echo "FAIL: CMake config not installed"; exit 1; }

echo "== pkg-config"
export PKG_CONFIG_PATH=$libdir/pkgconfig
# shellcheck disable=SC2046
"$cc" -Wall -Werror -o "$tmp/app-pc" "$consumer/app.c" $(pkg-config --cflags --libs certpilot) -Wl,-rpath,"$libdir"
"$tmp/app-pc"
# shellcheck disable=SC2046
"$cc" -Wall -Werror -o "$tmp/app-posix-pc" "$consumer/app_posix.c" $(pkg-config --cflags --libs certpilot-posix) -Wl,-rpath,"$libdir"
"$tmp/app-posix-pc"

echo "== find_package"
cmake -S "$consumer" -B "$tmp/cb" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" >/dev/null
cmake --build "$tmp/cb" >/dev/null
"$tmp/cb/app"
"$tmp/cb/app_posix"
n=4
if [ -x "$build/agent/certpilotd" ]; then
  echo "== certpilotd's unit names the installed binary and docs"
  unit=$prefix/lib/systemd/system/certpilotd.service
  exec_start=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
  doc=$(sed -n 's|^Documentation=file:||p' "$unit")
  [ "$exec_start" = "$prefix/bin/certpilotd" ] && [ -x "$exec_start" ] ||
    { echo "FAIL: $unit: ExecStart=$exec_start is not the installed certpilotd"; exit 1; }
  [ -f "$doc" ] || { echo "FAIL: $unit: Documentation $doc not installed"; exit 1; }
  test -f "$prefix/lib/sysusers.d/certpilot.conf" || { echo "FAIL: sysusers file not installed"; exit 1; }
  n=5
fi
echo "install test: $n passed, 0 failed"
