// AssemblyScript guest SDK for Extensions, guest ABI `ext-v1`.
//
// The module built from an extension must export `handle(): i32` (0 = response set) and
// `memory`. Build with `--exportStart _initialize` (reactor style; the host calls it once per
// instance) and route `abort` here with
//   --use abort=~lib/@extensions/sdk-assemblyscript/assembly/index/abort
// so that the module imports nothing but `ext.*`.
//
// Avoid standard-library calls that add hidden host imports: trace() (env.trace),
// Math.random() (env.seed), Date.now() (env.Date.now), console.* — the host rejects them.

import * as abi from "./abi";
import { ErrorCode, LogLevel } from "./abi";

export { abi, ErrorCode, LogLevel };

// ---------------------------------------------------------------------------------------
// read(2) helper: try a 256-byte scratch buffer first, then retry with the exact length.
// ---------------------------------------------------------------------------------------

const FIRST_CAP: i32 = 256;
const MAX_ATTEMPTS: i32 = 4; // the value could change between calls; give up after a few tries

const K_METHOD: i32 = 0;
const K_PATH: i32 = 1;
const K_QUERY: i32 = 2;
const K_BODY: i32 = 3;
const K_HEADER: i32 = 4;
const K_PARAM: i32 = 5;
const K_CTX: i32 = 6;
const K_CONFIG: i32 = 7;
const K_SECRET: i32 = 8;
const K_FETCH: i32 = 9; // "name" is the request envelope

let scratch: ArrayBuffer | null = null;
let lastErr: i32 = 0;

/** Error code of the last Request/context/config read (0 = ok, -1 absent, -2 denied, ...). */
export function lastError(): i32 {
  return lastErr;
}

// Keeps `name` and `buf` referenced (and so alive for the GC) for the whole host call.
// Inlined (with read, readBytes, readBytesWith and readString) so that each call site's constant `kind` folds the switch:
// a module then imports only the ext functions it really calls, and its manifest needs only those capabilities.
@inline function hostRead(kind: i32, name: ArrayBuffer | null, buf: ArrayBuffer, cap: i32): i32 {
  const ptr = changetype<usize>(buf);
  let np: usize = 0;
  let nl: i32 = 0;
  if (name !== null) {
    np = changetype<usize>(name);
    nl = name.byteLength;
  }
  switch (kind) {
    case K_METHOD: return abi.req_method(ptr, cap);
    case K_PATH: return abi.req_path(ptr, cap);
    case K_QUERY: return abi.req_query(ptr, cap);
    case K_BODY: return abi.req_body(ptr, cap);
    case K_HEADER: return abi.req_header(np, nl, ptr, cap);
    case K_PARAM: return abi.req_param(np, nl, ptr, cap);
    case K_CTX: return abi.ctx_get(np, nl, ptr, cap);
    case K_CONFIG: return abi.config_get(np, nl, ptr, cap);
    case K_SECRET: return abi.secret_get(np, nl, ptr, cap);
    case K_FETCH: return abi.http_fetch(np, nl, ptr, cap);
  }
  return ErrorCode.INVALID;
}

function scratchBuffer(): ArrayBuffer {
  let s = scratch;
  if (s === null) {
    s = new ArrayBuffer(FIRST_CAP);
    scratch = s;
  }
  return s;
}

let result: ArrayBuffer | null = null; // buffer holding the bytes of the last successful read()

/** Runs the read(2) idiom. Returns the value length, with the bytes at the start of `result`,
 *  or a negative error code. Sets lastErr either way. */
@inline function read(kind: i32, name: string | null): i32 {
  result = null;
  const nameBuf = name !== null ? String.UTF8.encode(name) : null;
  let buf = scratchBuffer();
  let cap = FIRST_CAP;
  let n = hostRead(kind, nameBuf, buf, cap);
  for (let attempt = 1; n > cap && attempt < MAX_ATTEMPTS; attempt++) {
    cap = n; // retry with the exact length
    buf = new ArrayBuffer(cap);
    n = hostRead(kind, nameBuf, buf, cap);
  }
  if (n > cap) n = ErrorCode.INTERNAL; // the value kept growing: give up
  if (n < 0) {
    lastErr = n;
    return n;
  }
  lastErr = ErrorCode.OK;
  result = buf;
  return n;
}

/** Reads a value as raw bytes, or null on error (see lastError()). */
@inline function readBytes(kind: i32, name: string | null): ArrayBuffer | null {
  const n = read(kind, name);
  if (n < 0) return null;
  const b = changetype<ArrayBuffer>(result);
  result = null;
  return changetype<usize>(b) != changetype<usize>(scratch) && b.byteLength == n ? b : b.slice(0, n);
}

/** Like readBytes, with raw bytes (an http_fetch envelope) in place of a name. */
@inline function readBytesWith(kind: i32, payload: ArrayBuffer): ArrayBuffer | null {
  result = null;
  let buf = scratchBuffer();
  let cap = FIRST_CAP;
  let n = hostRead(kind, payload, buf, cap);
  for (let attempt = 1; n > cap && attempt < MAX_ATTEMPTS; attempt++) {
    cap = n;
    buf = new ArrayBuffer(cap);
    n = hostRead(kind, payload, buf, cap);
  }
  if (n > cap) n = ErrorCode.INTERNAL;
  if (n < 0) {
    lastErr = n;
    return null;
  }
  lastErr = ErrorCode.OK;
  return changetype<usize>(buf) != changetype<usize>(scratch) && buf.byteLength == n ? buf : buf.slice(0, n);
}

/** Reads a value as a UTF-8 string, or null on error (see lastError()). */
@inline function readString(kind: i32, name: string | null): string | null {
  const n = read(kind, name);
  if (n < 0) return null;
  const s = String.UTF8.decodeUnsafe(changetype<usize>(result), <usize>n);
  result = null;
  return s;
}

// ---------------------------------------------------------------------------------------
// Request
// ---------------------------------------------------------------------------------------

export namespace Request {
  /** HTTP method, e.g. "GET". */
  export function method(): string {
    const v = readString(K_METHOD, null);
    return v !== null ? v : "";
  }

  /** Path after /api/ext/{extensionId}, starting with "/". */
  export function path(): string {
    const v = readString(K_PATH, null);
    return v !== null ? v : "";
  }

  /** Raw query string without "?" ("" when there is none). */
  export function query(): string {
    const v = readString(K_QUERY, null);
    return v !== null ? v : "";
  }

  /** Request header value, or null when absent (or on error; see lastError()). */
  export function header(name: string): string | null {
    return readString(K_HEADER, name);
  }

  /** Value of the `:name` segment of the matched endpoint (percent-decoded), or null. */
  export function param(name: string): string | null {
    return readString(K_PARAM, name);
  }

  /** Request body bytes (empty when there is no body). */
  export function body(): Uint8Array {
    const b = readBytes(K_BODY, null);
    return b !== null ? Uint8Array.wrap(b) : new Uint8Array(0);
  }

  /** Request body decoded as UTF-8. */
  export function bodyText(): string {
    const b = readBytes(K_BODY, null);
    return b !== null ? String.UTF8.decode(b) : "";
  }
}

// ---------------------------------------------------------------------------------------
// Response
// ---------------------------------------------------------------------------------------

export namespace Response {
  /** Sets the status code. -> 0 or -3 (invalid). */
  export function status(code: i32): i32 {
    return abi.resp_status(code);
  }

  /** Sets a response header. -> 0 or a negative error code. */
  export function header(name: string, value: string): i32 {
    const n = String.UTF8.encode(name);
    const v = String.UTF8.encode(value);
    return abi.resp_header(changetype<usize>(n), n.byteLength, changetype<usize>(v), v.byteLength);
  }

  /** Appends bytes to the body. -> 0, or -4 when the response size cap is hit. */
  export function write(bytes: Uint8Array): i32 {
    return abi.resp_body(bytes.dataStart, bytes.byteLength);
  }

  /** Appends a string (UTF-8) to the body. Does not set content-type. */
  export function text(s: string): i32 {
    const b = String.UTF8.encode(s);
    return abi.resp_body(changetype<usize>(b), b.byteLength);
  }

  /** Sets content-type application/json; charset=utf-8 and appends `jsonText` to the body. */
  export function json(jsonText: string): i32 {
    const r = header("content-type", "application/json; charset=utf-8");
    if (r < 0) return r;
    return text(jsonText);
  }
}

// ---------------------------------------------------------------------------------------
// Context, configuration, logging
// ---------------------------------------------------------------------------------------

/** Context value: tenant, extension, install, version, request_id, user.id, user.name,
 *  user.email, user.kind. Null when absent (or on error; see lastError()). */
export function context(key: string): string | null {
  return readString(K_CTX, key);
}

/** Install configuration value as JSON text, or null when absent (or on error). */
export function config(key: string): string | null {
  return readString(K_CONFIG, key);
}

function writeLog(level: i32, msg: string): i32 {
  const b = String.UTF8.encode(msg);
  return abi.log(level, changetype<usize>(b), b.byteLength);
}

/** Logging (needs capability `cap:log`). Each call -> 0, -2 (denied) or -4 (budget spent). */
export namespace log {
  export function debug(msg: string): i32 { return writeLog(LogLevel.DEBUG, msg); }
  export function info(msg: string): i32 { return writeLog(LogLevel.INFO, msg); }
  export function warn(msg: string): i32 { return writeLog(LogLevel.WARN, msg); }
  export function error(msg: string): i32 { return writeLog(LogLevel.ERROR, msg); }
}

// ---------------------------------------------------------------------------------------
// Secrets (cap:secrets)
// ---------------------------------------------------------------------------------------

/** A secret the install's admin set, as UTF-8 text. Null when unset (lastError() -1), not granted (-2),
 *  not declared in the manifest (-3) or unreadable (-5). Never log it or put it in a response. */
export function secret(name: string): string | null {
  return readString(K_SECRET, name);
}

/** A secret as raw bytes (see secret()). */
export function secretBytes(name: string): Uint8Array | null {
  const b = readBytes(K_SECRET, name);
  return b !== null ? Uint8Array.wrap(b) : null;
}

// ---------------------------------------------------------------------------------------
// HTTP (cap:http.fetch); envelope format in docs/abi.md, "http_fetch"
// ---------------------------------------------------------------------------------------

/** A response from http.fetch(). Header names are lower case; a repeated header appears once per value. */
export class FetchResponse {
  constructor(public status: i32, public headerNames: string[], public headerValues: string[], public body: Uint8Array) {}

  /** The first value of header `name` (lower case), or null. */
  header(name: string): string | null {
    for (let i = 0; i < this.headerNames.length; i++) {
      if (this.headerNames[i] == name) return this.headerValues[i];
    }
    return null;
  }

  /** The body decoded as UTF-8. */
  text(): string {
    return String.UTF8.decode(this.body.buffer.slice(this.body.byteOffset, this.body.byteOffset + this.body.byteLength));
  }
}

/** Reads the response head line: {"status":N,"headers":[["k","v"],...]} as the host writes it. */
class HeadReader {
  i: i32 = 0;
  ok: bool = true;
  constructor(public s: string) {}

  private ws(): void {
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) break;
      this.i++;
    }
  }

  /** Consumes `c` (after whitespace) if it is next. */
  take(c: i32): bool {
    this.ws();
    if (this.i < this.s.length && this.s.charCodeAt(this.i) == c) {
      this.i++;
      return true;
    }
    return false;
  }

  expect(c: i32): void {
    if (!this.take(c)) this.ok = false;
  }

  int(): i32 {
    this.ws();
    let v = 0;
    const start = this.i;
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if (c < 0x30 || c > 0x39) break;
      v = v * 10 + (c - 0x30);
      this.i++;
    }
    if (this.i == start) this.ok = false;
    return v;
  }

  str(): string {
    this.expect(0x22);
    let out = "";
    while (this.ok && this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i++);
      if (c == 0x22) return out;
      if (c != 0x5c) {
        out += String.fromCharCode(c);
        continue;
      }
      if (this.i >= this.s.length) break;
      const e = this.s.charCodeAt(this.i++);
      if (e == 0x75) { // \uXXXX (surrogate pairs arrive as two escapes and join up in the UTF-16 string)
        if (this.i + 4 > this.s.length) break;
        const code = I32.parseInt(this.s.substring(this.i, this.i + 4), 16);
        this.i += 4;
        out += String.fromCharCode(code);
      } else if (e == 0x6e) out += "\n";
      else if (e == 0x74) out += "\t";
      else if (e == 0x72) out += "\r";
      else if (e == 0x62) out += "\b";
      else if (e == 0x66) out += "\f";
      else out += String.fromCharCode(e); // \" \\ \/
    }
    this.ok = false;
    return out;
  }
}

function parseResponse(envelope: ArrayBuffer): FetchResponse | null {
  const bytes = Uint8Array.wrap(envelope);
  const newline = bytes.indexOf(0x0a);
  if (newline < 0) return null;
  const r = new HeadReader(String.UTF8.decodeUnsafe(changetype<usize>(envelope), <usize>newline));
  let status = 0;
  const names = new Array<string>();
  const values = new Array<string>();
  r.expect(0x7b); // {
  do {
    const key = r.str();
    r.expect(0x3a); // :
    if (key == "status") {
      status = r.int();
    } else if (key == "headers") {
      r.expect(0x5b); // [
      if (!r.take(0x5d)) {
        do {
          r.expect(0x5b);
          names.push(r.str());
          r.expect(0x2c);
          values.push(r.str());
          r.expect(0x5d);
        } while (r.ok && r.take(0x2c));
        r.expect(0x5d);
      }
    } else {
      return null;
    }
  } while (r.ok && r.take(0x2c));
  r.expect(0x7d); // }
  if (!r.ok) {
    lastErr = ErrorCode.INTERNAL;
    return null;
  }
  return new FetchResponse(status, names, values, bytes.subarray(newline + 1));
}

/** The string a JSON string literal spells (e.g. a config() value such as "\"https://...\""), or null when
 *  `json` is not exactly one string literal. */
export function jsonStringValue(json: string): string | null {
  const r = new HeadReader(json);
  const v = r.str();
  r.take(0x20); // trailing whitespace
  return r.ok && r.i == json.length ? v : null;
}

export namespace http {
  /** One HTTP request through the host, to a host the admin consented to. Null on error: lastError() is -2 (not
   *  granted), -3 (bad request), -4 (size, redirect or call limit), -5 (network failure), -6 (timeout) or
   *  -11 (egress denied). Any HTTP status, 4xx and 5xx included, is a response. */
  export function fetch(method: string, url: string, headers: string[][] = [], body: Uint8Array | null = null): FetchResponse | null {
    let head = "{\"method\":" + jsonString(method) + ",\"url\":" + jsonString(url) + ",\"headers\":[";
    for (let i = 0; i < headers.length; i++) {
      if (i > 0) head += ",";
      head += "[" + jsonString(headers[i][0]) + "," + jsonString(headers[i][1]) + "]";
    }
    head += "]}\n";
    const headBytes = Uint8Array.wrap(String.UTF8.encode(head));
    const bodyLength = body !== null ? body.byteLength : 0;
    const envelope = new Uint8Array(headBytes.byteLength + bodyLength);
    envelope.set(headBytes, 0);
    if (body !== null) {
      const b: Uint8Array = body;
      envelope.set(b, headBytes.byteLength);
    }

    const raw = readBytesWith(K_FETCH, envelope.buffer);
    return raw !== null ? parseResponse(raw) : null;
  }

  export function get(url: string, headers: string[][] = []): FetchResponse | null {
    return fetch("GET", url, headers, null);
  }

  /** POSTs `text` (UTF-8) with the given content type. */
  export function post(url: string, contentType: string, text: string, headers: string[][] = []): FetchResponse | null {
    const all = headers.slice(0);
    all.push(["content-type", contentType]);
    return fetch("POST", url, all, Uint8Array.wrap(String.UTF8.encode(text)));
  }
}

// ---------------------------------------------------------------------------------------
// Key-value store (cap:kv), scoped to the install
// ---------------------------------------------------------------------------------------

/** A stored value and its revision (pass it to kv.put/kv.delete to write only if nobody else did meanwhile). */
export class KvEntry {
  constructor(public value: Uint8Array, public revision: i64) {}

  text(): string {
    return String.UTF8.decode(this.value.buffer.slice(this.value.byteOffset, this.value.byteOffset + this.value.byteLength));
  }
}

export namespace kv {
  /** Any revision (unconditional write). */
  export const ANY: i64 = -1;
  /** Only if the key does not exist yet. */
  export const ABSENT: i64 = 0;

  /** The value and revision, or null: lastError() -1 when absent, -2 not granted, -3 invalid key. */
  export function get(key: string): KvEntry | null {
    const k = String.UTF8.encode(key);
    const revision = new ArrayBuffer(8);
    let cap = FIRST_CAP;
    let buf = new ArrayBuffer(cap);
    let n = abi.kv_get(changetype<usize>(k), k.byteLength, changetype<usize>(buf), cap, changetype<usize>(revision));
    for (let attempt = 1; n > cap && attempt < MAX_ATTEMPTS; attempt++) {
      cap = n;
      buf = new ArrayBuffer(cap);
      n = abi.kv_get(changetype<usize>(k), k.byteLength, changetype<usize>(buf), cap, changetype<usize>(revision));
    }
    if (n > cap) n = ErrorCode.INTERNAL;
    if (n < 0) {
      lastErr = n;
      return null;
    }
    lastErr = ErrorCode.OK;
    return new KvEntry(Uint8Array.wrap(buf, 0, n), load<i64>(changetype<usize>(revision)));
  }

  /** Stores `value`; returns the new revision (> 0) or an error code: -7 conflict, -8 value too large,
   *  -9 too many keys, -10 storage full, -2 not granted, -3 invalid. */
  export function put(key: string, value: Uint8Array, ifRevision: i64 = -1, ttlMs: i32 = 0): i64 {
    const k = String.UTF8.encode(key);
    return abi.kv_put(changetype<usize>(k), k.byteLength, value.dataStart, value.byteLength, ifRevision, ttlMs);
  }

  export function putText(key: string, value: string, ifRevision: i64 = -1, ttlMs: i32 = 0): i64 {
    return put(key, Uint8Array.wrap(String.UTF8.encode(value)), ifRevision, ttlMs);
  }

  /** -> 0, -1 absent, -7 conflict. */
  export function remove(key: string, ifRevision: i64 = -1): i32 {
    const k = String.UTF8.encode(key);
    return abi.kv_delete(changetype<usize>(k), k.byteLength, ifRevision);
  }

  /** One page of keys under `prefix` as JSON {"keys":[...],"cursor":"..."|null}; null on error (see lastError()). */
  export function list(prefix: string, cursor: string = ""): string | null {
    const p = String.UTF8.encode(prefix);
    const c = String.UTF8.encode(cursor);
    let cap = FIRST_CAP;
    let buf = new ArrayBuffer(cap);
    let n = abi.kv_list(changetype<usize>(p), p.byteLength, changetype<usize>(c), c.byteLength, changetype<usize>(buf), cap);
    for (let attempt = 1; n > cap && attempt < MAX_ATTEMPTS; attempt++) {
      cap = n;
      buf = new ArrayBuffer(cap);
      n = abi.kv_list(changetype<usize>(p), p.byteLength, changetype<usize>(c), c.byteLength, changetype<usize>(buf), cap);
    }
    if (n > cap) n = ErrorCode.INTERNAL;
    if (n < 0) {
      lastErr = n;
      return null;
    }
    lastErr = ErrorCode.OK;
    return String.UTF8.decodeUnsafe(changetype<usize>(buf), <usize>n);
  }
}

// ---------------------------------------------------------------------------------------
// JSON helper
// ---------------------------------------------------------------------------------------

const HEX = "0123456789abcdef";

function unicodeEscape(c: i32): string {
  return "\\u" + HEX.charAt((c >> 12) & 15) + HEX.charAt((c >> 8) & 15) +
    HEX.charAt((c >> 4) & 15) + HEX.charAt(c & 15);
}

/** Returns `s` as a JSON string literal, quotes included. Escapes `"`, `\`, control
 *  characters (as \u00XX) and lone surrogates (as \uDXXX). */
export function jsonString(s: string): string {
  let out = "\"";
  let start = 0;
  const len = s.length;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    let esc: string | null = null;
    if (c == 0x22) {
      esc = "\\\"";
    } else if (c == 0x5c) {
      esc = "\\\\";
    } else if (c < 0x20) {
      esc = unicodeEscape(c);
    } else if (c >= 0xd800 && c <= 0xdfff) {
      if (c <= 0xdbff && i + 1 < len) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          i++; // valid surrogate pair: keep as is
          continue;
        }
      }
      esc = unicodeEscape(c);
    }
    if (esc !== null) {
      if (i > start) out += s.substring(start, i);
      out += esc;
      start = i + 1;
    }
  }
  if (start == 0) return out + s + "\"";
  if (start < len) out += s.substring(start);
  return out + "\"";
}

// ---------------------------------------------------------------------------------------
// abort handler: route with --use abort=~lib/@extensions/sdk-assemblyscript/assembly/index/abort
// ---------------------------------------------------------------------------------------

let aborting = false;

/** Logs the abort message at error level through ext.log, then traps. */
export function abort(message: string | null, fileName: string | null, lineNumber: u32, columnNumber: u32): void {
  if (!aborting) {
    aborting = true; // an abort while formatting the message (e.g. out of memory) just traps
    const msg = "abort: " + (message !== null ? message : "(no message)") + " at " +
      (fileName !== null ? fileName : "?") + ":" + lineNumber.toString() + ":" + columnNumber.toString();
    writeLog(LogLevel.ERROR, msg);
  }
  unreachable();
}
