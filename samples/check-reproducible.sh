#!/usr/bin/env bash
# Rebuilds every sample from source (each samples/*/build.sh) and fails when a rebuilt module differs from the
# committed one: the committed .wasm files must be exactly what their sources produce (reproducible builds).
# Also compiles the C SDK's tour (sdk/c/check.sh). Needs clang-14 + lld-14 (+ wasi-libc for the SDK check), node/npm.
set -euo pipefail
cd "$(dirname "$0")/.."

failed=0
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

sdk/c/check.sh

for build in samples/*/build.sh; do
  dir="$(dirname "$build")"
  name="$(basename "$dir")"
  main="$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).main)' "$dir/manifest.json")"
  module="$dir/$main"
  if [ ! -f "$module" ]; then
    echo "error: $name: committed module $module is missing" >&2; failed=1; continue
  fi
  cp "$module" "$scratch/$name.wasm"
  if ! (bash "$build" > "$scratch/$name.log" 2>&1); then
    cat "$scratch/$name.log" >&2; echo "error: $name: build failed" >&2; failed=1; continue
  fi
  before="$(sha256sum < "$scratch/$name.wasm" | cut -d' ' -f1)"
  after="$(sha256sum < "$module" | cut -d' ' -f1)"
  if [ "$before" != "$after" ]; then
    echo "error: $name: rebuilt $module (sha256:$after) differs from the committed one (sha256:$before); rebuild it and commit the result" >&2
    failed=1
  else
    echo "samples: $name reproducible (sha256:$after, $(wc -c < "$module") bytes)"
  fi
done
exit $failed
