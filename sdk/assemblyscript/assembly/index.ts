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
export { KvEntry, kvGet, kvPut, kvPutText, kvDelete, kvListPage, kvError, ANY_REVISION, MUST_NOT_EXIST } from "./kv";

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

let scratch: ArrayBuffer | null = null;
let lastErr: i32 = 0;

/** Error code of the last Request/context/config read (0 = ok, -1 absent, -2 denied, ...). */
export function lastError(): i32 {
  return lastErr;
}

// Keeps `name` and `buf` referenced (and so alive for the GC) for the whole host call.
function hostRead(kind: i32, name: ArrayBuffer | null, buf: ArrayBuffer, cap: i32): i32 {
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
function read(kind: i32, name: string | null): i32 {
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
function readBytes(kind: i32, name: string | null): ArrayBuffer | null {
  const n = read(kind, name);
  if (n < 0) return null;
  const b = changetype<ArrayBuffer>(result);
  result = null;
  return changetype<usize>(b) != changetype<usize>(scratch) && b.byteLength == n ? b : b.slice(0, n);
}

/** Reads a value as a UTF-8 string, or null on error (see lastError()). */
function readString(kind: i32, name: string | null): string | null {
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
