// Key-value store of this install (capability `cap:kv`). Keys are strings (at most 512 UTF-8
// bytes by default), values bytes. Every write gets a new revision; pass it back as
// `ifRevision` to write only if nobody else wrote in between (optimistic concurrency).

import { ErrorCode } from "./abi";

@external("ext", "kv_get")
declare function kv_get(key_ptr: usize, key_len: i32, ptr: usize, cap: i32, revision_ptr: usize): i32;

@external("ext", "kv_put")
declare function kv_put(key_ptr: usize, key_len: i32, val_ptr: usize, val_len: i32, if_revision: i64, ttl_ms: i32): i64;

@external("ext", "kv_delete")
declare function kv_delete(key_ptr: usize, key_len: i32, if_revision: i64): i32;

@external("ext", "kv_list")
declare function kv_list(prefix_ptr: usize, prefix_len: i32, cursor_ptr: usize, cursor_len: i32, ptr: usize, cap: i32): i32;

/** Write whatever the current revision is. */
export const ANY_REVISION: i64 = -1;
/** Write only when the key does not exist yet. */
export const MUST_NOT_EXIST: i64 = 0;

/** A value and the revision it was written with. */
export class KvEntry {
  constructor(public value: Uint8Array, public revision: i64) {}

  /** The value decoded as UTF-8. */
  text(): string {
    return String.UTF8.decodeUnsafe(this.value.dataStart, this.value.byteLength);
  }
}

let kvErr: i32 = 0;

/** Error code of the last kv call (0 = ok, -1 absent, -2 denied, -7 conflict, ...). */
export function kvError(): i32 {
  return kvErr;
}

/** Reads a key. Null when absent or on error (see kvError()). */
export function kvGet(key: string): KvEntry | null {
  const k = String.UTF8.encode(key);
  const revision = new ArrayBuffer(8);
  let buf = new ArrayBuffer(256);
  // read(2) idiom; the host answers a retry from the same reply, so the value cannot change in between.
  for (let attempt = 0; attempt < 3; attempt++) {
    const n = kv_get(changetype<usize>(k), k.byteLength, changetype<usize>(buf), buf.byteLength, changetype<usize>(revision));
    if (n < 0) {
      kvErr = n;
      return null;
    }
    if (n <= buf.byteLength) {
      kvErr = ErrorCode.OK;
      return new KvEntry(Uint8Array.wrap(buf, 0, n), load<i64>(changetype<usize>(revision)));
    }
    buf = new ArrayBuffer(n);
  }
  kvErr = ErrorCode.INTERNAL;
  return null;
}

/** Writes a key. Returns the new revision (> 0) or a negative error code
 *  (-7 conflict, -8 value too large, -9 too many keys, -10 storage full, -2 denied).
 *  `ttlMs` > 0 makes the key expire. */
export function kvPut(key: string, value: Uint8Array, ifRevision: i64 = ANY_REVISION, ttlMs: i32 = 0): i64 {
  const k = String.UTF8.encode(key);
  const r = kv_put(changetype<usize>(k), k.byteLength, value.dataStart, value.byteLength, ifRevision, ttlMs);
  kvErr = r < 0 ? <i32>r : ErrorCode.OK;
  return r;
}

/** Writes a string value (UTF-8). */
export function kvPutText(key: string, value: string, ifRevision: i64 = ANY_REVISION, ttlMs: i32 = 0): i64 {
  return kvPut(key, Uint8Array.wrap(String.UTF8.encode(value)), ifRevision, ttlMs);
}

/** Deletes a key. -> 0, -1 absent, -7 conflict, or another negative code. */
export function kvDelete(key: string, ifRevision: i64 = ANY_REVISION): i32 {
  const k = String.UTF8.encode(key);
  const r = kv_delete(changetype<usize>(k), k.byteLength, ifRevision);
  kvErr = r < 0 ? r : ErrorCode.OK;
  return r;
}

/** One page of keys under `prefix`, as the host's JSON text {"keys":[...],"cursor":"..."|null};
 *  pass the cursor back for the next page. Null on error (see kvError()). */
export function kvListPage(prefix: string, cursor: string = ""): string | null {
  const p = String.UTF8.encode(prefix);
  const c = String.UTF8.encode(cursor);
  let buf = new ArrayBuffer(4096);
  for (let attempt = 0; attempt < 3; attempt++) {
    const n = kv_list(changetype<usize>(p), p.byteLength, changetype<usize>(c), c.byteLength, changetype<usize>(buf), buf.byteLength);
    if (n < 0) {
      kvErr = n;
      return null;
    }
    if (n <= buf.byteLength) {
      kvErr = ErrorCode.OK;
      return String.UTF8.decode(buf.slice(0, n));
    }
    buf = new ArrayBuffer(n);
  }
  kvErr = ErrorCode.INTERNAL;
  return null;
}
