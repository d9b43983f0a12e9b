#!/usr/bin/env bash
# Compiles examples/tour.c (every helper of ext.h) freestanding and with wasi-libc, warnings as errors,
# and checks that both modules import nothing but ext.*.
set -euo pipefail
cd "$(dirname "$0")"
CC="${CC:-clang-14}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
W="-Wall -Wextra -Werror -std=c11"
"$CC" --target=wasm32 -nostdlib -ffreestanding -Oz -mbulk-memory $W -Wl,--no-entry -Wl,--strip-all -o "$out/free.wasm" examples/tour.c
"$CC" --target=wasm32-wasi -Oz -mexec-model=reactor $W -Wl,--strip-all -o "$out/libc.wasm" examples/tour.c
for m in free libc; do
  imports="$(wasm-objdump -x -j Import "$out/$m.wasm" | grep -E '^ - func' || true)"
  if echo "$imports" | grep -v ' <- ext\.' | grep -q .; then
    echo "error: $m build imports outside ext.*:" >&2; echo "$imports" | grep -v ' <- ext\.' >&2; exit 1
  fi
  echo "sdk/c: tour.c $m build ok ($(wc -c < "$out/$m.wasm") bytes, $(echo "$imports" | grep -c . ) imports)"
done
