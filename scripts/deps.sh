#!/usr/bin/env bash
# Install every Debian 12 package certpilot needs to build, test and demo.
# Run as root (or with sudo). Safe to re-run.
set -euo pipefail
PKGS=(
  build-essential cmake pkg-config clang git ca-certificates openssl curl
  libwolfssl-dev libpaho-mqtt-dev libcurl4-openssl-dev libcjson-dev libcmocka-dev
  libssl-dev libsqlite3-dev sqlite3 libevent-dev
  mosquitto mosquitto-dev libmosquitto-dev
  libtss2-dev swtpm swtpm-tools tpm2-tools
  libinih-dev libsystemd-dev systemd
  jq python3
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PKGS[@]} packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "deps: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
