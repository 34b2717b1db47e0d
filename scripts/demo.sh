#!/usr/bin/env bash
# The main job, end to end on one machine: installs packages, builds, then
# makes a P-384 key and CSR with the SDK and prints them and the SDK's check.
# Everything it creates lives in a temporary folder that is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== 1. key and CSR for registration id demo-device-001"
build/samples/keygen_csr/keygen_csr --registration-id demo-device-001 --out-dir "$work"
echo "== demo finished; temporary files removed"
