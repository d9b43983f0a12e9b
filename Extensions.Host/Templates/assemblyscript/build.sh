#!/usr/bin/env bash
# Builds build/{{name}}.wasm with AssemblyScript (npm). The module imports only ext.*.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -d node_modules ]; then
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
fi
mkdir -p build
# The compiler options live in asconfig.json (target release); `dev` compiles with the same file.
# exportStart _initialize: reactor style (the host calls _initialize once per instance).
# use abort=...: aborts log through ext.log and trap, instead of importing env.abort.
npx --no-install asc --config asconfig.json --target release
echo "built build/{{name}}.wasm ($(wc -c < build/{{name}}.wasm) bytes)"
