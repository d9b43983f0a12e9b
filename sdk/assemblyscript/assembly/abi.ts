// Raw imports of the guest ABI `ext-v1`. Every import lives in wasm module `ext`;
// all parameters and results are i32 (usize is i32 on wasm32).
//
// Buffers follow the read(2) idiom: the guest passes (ptr, cap); the host returns the
// full length of the value. If cap is smaller than that length nothing is copied and the
// guest calls again with a bigger buffer. Negative results are error codes (see ErrorCode).

// ---- request -------------------------------------------------------------------------
@external("ext", "req_method")
export declare function req_method(ptr: usize, cap: i32): i32;

/** Path after /api/ext/{extensionId}, starting with "/". */
@external("ext", "req_path")
export declare function req_path(ptr: usize, cap: i32): i32;

/** Raw query string without "?". */
@external("ext", "req_query")
export declare function req_query(ptr: usize, cap: i32): i32;

@external("ext", "req_header")
export declare function req_header(name_ptr: usize, name_len: i32, ptr: usize, cap: i32): i32;

@external("ext", "req_body")
export declare function req_body(ptr: usize, cap: i32): i32;

/** Value of the `:name` segment of the matched endpoint, percent-decoded, UTF-8. */
@external("ext", "req_param")
export declare function req_param(name_ptr: usize, name_len: i32, ptr: usize, cap: i32): i32;

// ---- response ------------------------------------------------------------------------
/** -> 0 or -3 (invalid). */
@external("ext", "resp_status")
export declare function resp_status(code: i32): i32;

/** -> 0 or negative. */
@external("ext", "resp_header")
export declare function resp_header(name_ptr: usize, name_len: i32, val_ptr: usize, val_len: i32): i32;

/** Appends bytes. -> 0, or -4 when the response size cap is hit. */
@external("ext", "resp_body")
export declare function resp_body(ptr: usize, len: i32): i32;

// ---- context / configuration / logging ------------------------------------------------
/** Keys: tenant, extension, install, version, request_id, user.id, user.name, user.email, user.kind. */
@external("ext", "ctx_get")
export declare function ctx_get(key_ptr: usize, key_len: i32, ptr: usize, cap: i32): i32;

/** Install configuration value, as JSON text. */
@external("ext", "config_get")
export declare function config_get(key_ptr: usize, key_len: i32, ptr: usize, cap: i32): i32;

/** level 0 debug, 1 info, 2 warn, 3 error. -> 0, -2 (denied: needs cap:log) or -4 (log budget spent). */
@external("ext", "log")
export declare function log(level: i32, ptr: usize, len: i32): i32;

// ---- capabilities answered by the host (the call crosses to it and waits) -----------------
/** cap:secrets. -> value length, -1 unset, -2 denied, -3 name not declared in the manifest, -5 does not decrypt. */
@external("ext", "secret_get")
export declare function secret_get(name_ptr: usize, name_len: i32, ptr: usize, cap: i32): i32;

/** cap:http.fetch. Request and response envelopes: docs/abi.md, "http_fetch".
 *  -> response envelope length, or -2, -3, -4, -5, -6, -11 (egress denied). */
@external("ext", "http_fetch")
export declare function http_fetch(req_ptr: usize, req_len: i32, ptr: usize, cap: i32): i32;

/** cap:kv. -> value length (its revision, an i64, is written at revision_ptr unless 0), -1 absent. */
@external("ext", "kv_get")
export declare function kv_get(key_ptr: usize, key_len: i32, ptr: usize, cap: i32, revision_ptr: usize): i32;

/** cap:kv. if_revision: -1 any, 0 must not exist, n must be n. ttl_ms 0 = no expiry.
 *  -> the new revision, or -3, -7 (conflict), -8, -9, -10. */
@external("ext", "kv_put")
export declare function kv_put(key_ptr: usize, key_len: i32, value_ptr: usize, value_len: i32, if_revision: i64, ttl_ms: i32): i64;

/** cap:kv. -> 0, -1 absent, -7 conflict. */
@external("ext", "kv_delete")
export declare function kv_delete(key_ptr: usize, key_len: i32, if_revision: i64): i32;

/** cap:kv. One page as JSON {"keys":[...],"cursor":"..."|null}; pass the cursor back for the next page. */
@external("ext", "kv_list")
export declare function kv_list(prefix_ptr: usize, prefix_len: i32, cursor_ptr: usize, cursor_len: i32, ptr: usize, cap: i32): i32;

// ---- error codes -------------------------------------------------------------------------
export namespace ErrorCode {
  export const OK: i32 = 0;
  export const ABSENT: i32 = -1;
  export const DENIED: i32 = -2;
  export const INVALID: i32 = -3;
  export const LIMIT: i32 = -4;
  export const INTERNAL: i32 = -5;
  export const TIMEOUT: i32 = -6;
  /** kv_put / kv_delete: the key's revision is not the expected one. */
  export const CONFLICT: i32 = -7;
  /** kv_put: the value is larger than the per-value quota. */
  export const VALUE_TOO_LARGE: i32 = -8;
  /** kv_put: the install holds the maximum number of keys. */
  export const TOO_MANY_KEYS: i32 = -9;
  /** kv_put: the install's stored bytes would exceed its quota. */
  export const STORAGE_FULL: i32 = -10;
  /** http_fetch: the destination is not allowed. */
  export const EGRESS_DENIED: i32 = -11;
}

export namespace LogLevel {
  export const DEBUG: i32 = 0;
  export const INFO: i32 = 1;
  export const WARN: i32 = 2;
  export const ERROR: i32 = 3;
}
