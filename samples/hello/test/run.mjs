// Runs build/hello.wasm against a JS simulation of the ext-v1 host and checks the responses.
// Usage: node test/run.mjs   (after ./build.sh). Exits non-zero on failure.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";

const wasmPath = fileURLToPath(new URL("../build/hello.wasm", import.meta.url));
const module = new WebAssembly.Module(readFileSync(wasmPath));

const ABSENT = -1, INVALID = -3, LIMIT = -4;
const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });

// One simulated host per instance; `request` is swapped for every call of handle().
function createHost() {
  const host = { memory: null, request: null, response: null, logs: [], reads: [] };
  const mem = () => new Uint8Array(host.memory.buffer);
  const str = (ptr, len) => dec.decode(mem().slice(ptr, ptr + len));
  // read(2) idiom: return the full length; copy only when it fits.
  const give = (fn, value, ptr, cap) => {
    host.reads.push({ fn, cap });
    if (typeof value === "number") return value; // forced error code
    if (value === undefined || value === null) return ABSENT;
    const bytes = typeof value === "string" ? enc.encode(value) : value;
    if (cap < 0) return INVALID;
    if (bytes.length <= cap) mem().set(bytes, ptr);
    return bytes.length;
  };
  const lookup = (map, name) => (typeof map === "function" ? map(name) : map[name]);
  const ext = {
    req_method: (p, c) => give("req_method", host.request.method, p, c),
    req_path: (p, c) => give("req_path", host.request.path, p, c),
    req_query: (p, c) => give("req_query", host.request.query, p, c),
    req_body: (p, c) => give("req_body", host.request.body ?? new Uint8Array(0), p, c),
    req_header: (np, nl, p, c) => give("req_header", lookup(host.request.headers ?? {}, str(np, nl).toLowerCase()), p, c),
    req_param: (np, nl, p, c) => give("req_param", lookup(host.request.params ?? {}, str(np, nl)), p, c),
    ctx_get: (np, nl, p, c) => give("ctx_get", (host.request.ctx ?? {})[str(np, nl)], p, c),
    config_get: (np, nl, p, c) => give("config_get", (host.request.config ?? {})[str(np, nl)], p, c),
    resp_status: (code) => {
      if (code < 100 || code > 599) return INVALID;
      host.response.status = code;
      return 0;
    },
    resp_header: (np, nl, vp, vl) => {
      host.response.headers[str(np, nl).toLowerCase()] = str(vp, vl);
      return 0;
    },
    resp_body: (p, len) => {
      if (host.response.body.length + len > 1 << 20) return LIMIT;
      const next = new Uint8Array(host.response.body.length + len);
      next.set(host.response.body);
      next.set(mem().subarray(p, p + len), host.response.body.length);
      host.response.body = next;
      return 0;
    },
    log: (level, p, len) => {
      host.logs.push({ level, msg: str(p, len) });
      return 0;
    },
  };
  const instance = new WebAssembly.Instance(module, { ext });
  host.memory = instance.exports.memory;
  if (typeof instance.exports._initialize === "function") instance.exports._initialize();
  host.call = (request) => {
    host.request = { method: "GET", path: "/hello", query: "", ...request };
    host.response = { status: 0, headers: {}, body: new Uint8Array(0) };
    host.logs = [];
    host.reads = [];
    const rc = instance.exports.handle();
    return { rc, ...host.response, text: dec.decode(host.response.body), logs: host.logs, reads: host.reads };
  };
  return host;
}

let failures = 0;
function test(name, fn) {
  try {
    fn();
    console.log(`ok   ${name}`);
  } catch (e) {
    failures++;
    console.log(`FAIL ${name}\n     ${String(e && e.message ? e.message : e).split("\n").join("\n     ")}`);
  }
}

function expectGreeting(r, name) {
  assert.equal(r.rc, 0, "handle() return code");
  assert.equal(r.status, 200);
  assert.equal(r.headers["content-type"], "application/json; charset=utf-8");
  assert.deepEqual(JSON.parse(r.text), { message: `Hello, ${name}` });
  assert.ok(r.logs.some((l) => l.level === 1 && l.msg === `greeting ${name}`), `info log "greeting ${name}": ${JSON.stringify(r.logs)}`);
}

test("module imports only ext.*, exports memory/handle[/_initialize], no _start", () => {
  const imports = WebAssembly.Module.imports(module);
  for (const i of imports) assert.equal(i.module, "ext", `unexpected import ${i.module}.${i.name}`);
  const exports = WebAssembly.Module.exports(module).map((e) => `${e.name}:${e.kind}`).sort();
  assert.ok(exports.includes("memory:memory") && exports.includes("handle:function"), exports.join(","));
  for (const e of exports) assert.ok(["memory:memory", "handle:function", "_initialize:function"].includes(e), `unexpected export ${e}`);
});

const host = createHost();

test("name=Ada -> exact body, 200, content-type, info log", () => {
  const r = host.call({ path: "/hello/Ada", params: { name: "Ada" } });
  assert.equal(r.text, '{"message":"Hello, Ada"}');
  expectGreeting(r, "Ada");
});

test("no param -> Hello, world", () => {
  const r = host.call({ path: "/hello", params: {} });
  assert.equal(r.text, '{"message":"Hello, world"}');
  expectGreeting(r, "world");
});

test('name A"b\\ -> valid JSON, escaped', () => {
  const name = 'A"b\\';
  const r = host.call({ params: { name } });
  assert.equal(r.text, '{"message":"Hello, A\\"b\\\\"}');
  expectGreeting(r, name);
});

test("control characters and non-ASCII are escaped/encoded correctly", () => {
  const name = "Zoë\n\t\u0001\u001f🚀/</script>";
  const r = host.call({ params: { name } });
  assert.ok(r.text.includes("\\u000a\\u0009\\u0001\\u001f"), r.text);
  expectGreeting(r, name);
});

test("long param (> 256 bytes) uses the read(2) retry with the exact length", () => {
  const name = "é".repeat(300) + "x"; // 601 bytes of UTF-8
  const r = host.call({ params: { name } });
  expectGreeting(r, name);
  const caps = r.reads.filter((x) => x.fn === "req_param").map((x) => x.cap);
  assert.deepEqual(caps, [256, 601]);
});

test("exactly 256 bytes fits the first buffer (no retry)", () => {
  const name = "n".repeat(256);
  const r = host.call({ params: { name } });
  expectGreeting(r, name);
  assert.deepEqual(r.reads.filter((x) => x.fn === "req_param").map((x) => x.cap), [256]);
});

test("host error other than absent (-5) -> handle returns non-zero", () => {
  const r = host.call({ params: () => -5 });
  assert.notEqual(r.rc, 0);
});

test("value that keeps growing -> gives up, handle returns non-zero", () => {
  let n = 300;
  const r = host.call({ params: () => "g".repeat((n += 100)) });
  assert.notEqual(r.rc, 0);
});

test("instance reuse: 3000 requests on one instance (GC keeps memory bounded)", () => {
  for (let i = 0; i < 3000; i++) {
    const name = `user-${i}-` + "x".repeat(i % 700);
    const r = host.call({ params: { name } });
    if (r.rc !== 0 || r.text !== `{"message":"Hello, ${name}"}`) throw new Error(`request ${i}: ${r.text}`);
  }
  const mb = host.memory.buffer.byteLength / (1 << 20);
  assert.ok(mb <= 2, `memory grew to ${mb} MiB`);
});

if (failures) {
  console.log(`\n${failures} test(s) failed`);
  process.exit(1);
}
console.log("\nall tests passed");
