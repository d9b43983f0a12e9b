#!/usr/bin/env bash
# Builds build/hello-c.wasm (guest ABI ext-v1) with Debian's clang-14 + lld-14, freestanding: no libc,
# no WASI, so the module imports only ext.*. Reproducible: same sources and compiler -> same bytes.
set -euo pipefail
cd "$(dirname "$0")"
CC="${CC:-clang-14}"
mkdir -p build
"$CC" --target=wasm32 -nostdlib -ffreestanding -Oz -mbulk-memory \
  -Wl,--no-entry -Wl,--strip-all \
  -o build/hello-c.wasm hello.c

# The host refuses modules with imports outside `ext`: fail the build early instead.
if command -v wasm-objdump >/dev/null; then
  if wasm-objdump -x -j Import build/hello-c.wasm | grep -E '^ - func' | grep -v ' <- ext\.'; then
    echo "error: build/hello-c.wasm imports something outside ext.*" >&2; exit 1
  fi
fi
echo "built build/hello-c.wasm ($(wc -c < build/hello-c.wasm) bytes)"
