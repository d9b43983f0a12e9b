#!/usr/bin/env bash
# Builds build/{{name}}.wasm with clang-14 + lld-14, freestanding (no libc, no WASI): the module imports only ext.*.
# Debian/Ubuntu: apt-get install -y --no-install-recommends clang-14 lld-14
set -euo pipefail
cd "$(dirname "$0")"
CC="${CC:-clang-14}"
mkdir -p build
"$CC" --target=wasm32 -nostdlib -ffreestanding -Oz -mbulk-memory -Wall -Wextra \
  -Wl,--no-entry -Wl,--strip-all \
  -o build/{{name}}.wasm handler.c
echo "built build/{{name}}.wasm ($(wc -c < build/{{name}}.wasm) bytes)"
