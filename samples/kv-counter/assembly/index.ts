import { ErrorCode, Request, Response, jsonString, kv, lastError } from "@extensions/sdk-assemblyscript";

// GET    /counters              -> one page of counter names: {"keys":[...],"cursor":...}; ?cursor=... for the next
// GET    /counters/:name        -> {"name":...,"count":n,"revision":r}   (404 when never counted)
// POST   /counters/:name        -> increments; safe under concurrent requests (compare-and-set on the revision)
// DELETE /counters/:name        -> 204, or 404
const PREFIX = "counter:";
const MAX_ATTEMPTS = 50;

export function handle(): i32 {
  const method = Request.method();
  const name = Request.param("name");
  if (name === null) {
    return list();
  }
  const key = PREFIX + name;
  if (method == "GET") return show(name, key);
  if (method == "POST") return increment(name, key);
  if (method == "DELETE") return remove(key);
  return fail(405, "method not allowed", 0);
}

function list(): i32 {
  const query = Request.query();
  let cursor = "";
  if (query.startsWith("cursor=")) cursor = decodeQueryValue(query.substring(7));
  const page = kv.list(PREFIX, cursor);
  if (page === null) return kvFailure(lastError());
  Response.status(200);
  Response.json(page);
  return 0;
}

function show(name: string, key: string): i32 {
  const entry = kv.get(key);
  if (entry === null) {
    return lastError() == ErrorCode.ABSENT ? fail(404, "no such counter", 0) : kvFailure(lastError());
  }
  Response.status(200);
  Response.json(body(name, parseCount(entry.text()), entry.revision, 0));
  return 0;
}

function increment(name: string, key: string): i32 {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const entry = kv.get(key);
    let count: i64 = 0;
    let expected = kv.ABSENT;
    if (entry !== null) {
      count = parseCount(entry.text());
      expected = entry.revision;
    } else if (lastError() != ErrorCode.ABSENT) {
      return kvFailure(lastError());
    }
    const revision = kv.putText(key, (count + 1).toString(), expected);
    if (revision > 0) {
      Response.status(200);
      Response.json(body(name, count + 1, revision, attempt));
      return 0;
    }
    if (revision != ErrorCode.CONFLICT) return kvFailure(<i32>revision);
    // Someone else incremented in between: read again and retry.
  }
  return fail(409, "too much contention", ErrorCode.CONFLICT);
}

function remove(key: string): i32 {
  const r = kv.remove(key);
  if (r == ErrorCode.ABSENT) return fail(404, "no such counter", 0);
  if (r < 0) return kvFailure(r);
  Response.status(204);
  return 0;
}

function body(name: string, count: i64, revision: i64, attempts: i32): string {
  let s = "{\"name\":" + jsonString(name) + ",\"count\":" + count.toString() + ",\"revision\":" + revision.toString();
  if (attempts > 0) s += ",\"attempts\":" + attempts.toString();
  return s + "}";
}

// The guest decides what a refused or failed call means for its caller.
function kvFailure(code: i32): i32 {
  if (code == ErrorCode.DENIED) return fail(403, "this install was not granted cap:kv", code);
  if (code == ErrorCode.TOO_MANY_KEYS || code == ErrorCode.STORAGE_FULL) return fail(507, "counter storage is full", code);
  return fail(500, "key-value store error", code);
}

function fail(status: i32, message: string, code: i32): i32 {
  Response.status(status);
  Response.json("{\"error\":" + jsonString(message) + ",\"abiCode\":" + code.toString() + "}");
  return 0;
}

function parseCount(s: string): i64 {
  let n: i64 = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return 0;
    n = n * 10 + c;
  }
  return n;
}

// Cursors are base64: only '+', '/' and '=' arrive percent-encoded.
function decodeQueryValue(s: string): string {
  return s.replaceAll("%2B", "+").replaceAll("%2b", "+").replaceAll("%2F", "/").replaceAll("%2f", "/")
    .replaceAll("%3D", "=").replaceAll("%3d", "=");
}
