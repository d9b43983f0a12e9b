#!/usr/bin/env bash
# Builds build/http-fetch.wasm (guest ABI ext-v1). Output is reproducible: same sources -> same bytes.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -d node_modules ]; then
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
fi

mkdir -p build
# The compiler options live in asconfig.json (target release), which `dev` also compiles with:
#   optimizeLevel 3 / shrinkLevel 0 : -O3
#   runtime incremental             : the incremental GC
#   exportStart _initialize         : reactor style, no wasm start section; the host calls _initialize once.
#   use abort=...                   : route aborts to the SDK handler (logs via ext.log, then traps),
#                                     so the module imports nothing but ext.*.
npx --no-install asc --config asconfig.json --target release

# The host rejects modules with imports outside `ext`: fail the build early instead.
node -e '
const m = new WebAssembly.Module(require("fs").readFileSync("build/http-fetch.wasm"));
const bad = WebAssembly.Module.imports(m).filter((i) => i.module !== "ext");
if (bad.length) { console.error("non-ext imports: " + bad.map((i) => i.module + "." + i.name).join(", ")); process.exit(1); }'

echo "built build/http-fetch.wasm ($(wc -c < build/http-fetch.wasm) bytes)"
