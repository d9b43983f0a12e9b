/*
 * ext.h: C guest SDK for Extensions handlers, guest ABI `ext-v1`. Single header, no .c file.
 *
 * A handler module exports `memory` and `int32_t handle(void)` (0 = response set; anything else is an
 * extension error) and imports only functions of wasm module `ext`, declared below with their exact
 * signatures. Build freestanding (no libc, smallest module):
 *
 *   clang-14 --target=wasm32 -nostdlib -ffreestanding -Oz -mbulk-memory \
 *            -Wl,--no-entry -Wl,--strip-all -o handler.wasm handler.c
 *
 * or with wasi-libc as a reactor (then the module may need WASI imports the host does not define,
 * so keep to functions that do not touch files, clocks or stdio):
 *
 *   clang-14 --target=wasm32-wasi -Oz -mexec-model=reactor -Wl,--strip-all -o handler.wasm handler.c
 *
 * Memory: every helper that returns a value (ext_str) allocates it from a per-request arena, so the
 * handler never frees anything. Freestanding, the arena is a bump allocator from __heap_base that grows
 * linear memory; with libc it takes chunks from malloc. ext_arena_reset() releases everything.
 *
 * Errors: functions return a negative EXT_* code on failure (see the table below; it matches the host's
 * AbiCodes and never changes meaning). Values are UTF-8 and are NUL-terminated for convenience.
 */
#ifndef EXT_H
#define EXT_H

#include <stddef.h>
#include <stdint.h>

#if defined(EXT_FREESTANDING) || !defined(__wasi__) || (defined(__STDC_HOSTED__) && __STDC_HOSTED__ == 0)
#define EXT__FREESTANDING 1
#else
#define EXT__FREESTANDING 0
#include <stdlib.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- error codes (negative returns of every import) ------------------------------------------ */
#define EXT_OK 0
#define EXT_ABSENT (-1)          /* no such header/param/key/secret/config value */
#define EXT_DENIED (-2)          /* the capability is not granted to this install */
#define EXT_INVALID (-3)         /* bad arguments (pointer out of memory, bad status code, ...) */
#define EXT_LIMIT (-4)           /* a size or count cap was hit (response size, log budget, host calls) */
#define EXT_INTERNAL (-5)        /* the host failed; retrying later may work */
#define EXT_TIMEOUT (-6)         /* the host call did not finish before the deadline */
#define EXT_CONFLICT (-7)        /* kv_put/kv_delete: the key's revision is not the expected one */
#define EXT_VALUE_TOO_LARGE (-8) /* kv_put: value larger than the per-value quota */
#define EXT_TOO_MANY_KEYS (-9)   /* kv_put: the install holds the maximum number of keys */
#define EXT_STORAGE_FULL (-10)   /* kv_put: the install's stored bytes would exceed its quota */
#define EXT_EGRESS_DENIED (-11)  /* http_fetch: host not allowed, or a refused address */

/* Log levels for ext_log. */
#define EXT_LOG_DEBUG 0
#define EXT_LOG_INFO 1
#define EXT_LOG_WARN 2
#define EXT_LOG_ERROR 3

/* if_revision values for ext_kv_put/ext_kv_delete (any other value: exactly that revision). */
#define EXT_KV_ANY_REVISION ((int64_t)-1)   /* write whatever the current revision is */
#define EXT_KV_MUST_NOT_EXIST ((int64_t)0)  /* write only if the key does not exist yet */

/* Marks the handler: EXT_EXPORT(handle) int32_t handle(void) { ... } */
#define EXT_EXPORT(name) __attribute__((export_name(#name)))

/* ---- raw imports: module "ext", exact ext-v1 signatures ------------------------------------- */
/* Buffers follow the read(2) idiom: the guest passes (ptr, cap), the host returns the full length of the
 * value and copies it only when it fits; otherwise call again with a buffer of that length. */
#define EXT__IMPORT(n) __attribute__((import_module("ext"), import_name(#n)))

EXT__IMPORT(req_method) int32_t ext_abi_req_method(char *ptr, int32_t cap);
EXT__IMPORT(req_path) int32_t ext_abi_req_path(char *ptr, int32_t cap);
EXT__IMPORT(req_query) int32_t ext_abi_req_query(char *ptr, int32_t cap);
EXT__IMPORT(req_body) int32_t ext_abi_req_body(char *ptr, int32_t cap);
EXT__IMPORT(req_header) int32_t ext_abi_req_header(const char *name, int32_t name_len, char *ptr, int32_t cap);
EXT__IMPORT(req_param) int32_t ext_abi_req_param(const char *name, int32_t name_len, char *ptr, int32_t cap);
EXT__IMPORT(ctx_get) int32_t ext_abi_ctx_get(const char *key, int32_t key_len, char *ptr, int32_t cap);
EXT__IMPORT(config_get) int32_t ext_abi_config_get(const char *key, int32_t key_len, char *ptr, int32_t cap);
EXT__IMPORT(resp_status) int32_t ext_abi_resp_status(int32_t code);
EXT__IMPORT(resp_header) int32_t ext_abi_resp_header(const char *name, int32_t name_len, const char *value, int32_t value_len);
EXT__IMPORT(resp_body) int32_t ext_abi_resp_body(const void *ptr, int32_t len);
EXT__IMPORT(log) int32_t ext_abi_log(int32_t level, const char *ptr, int32_t len);
EXT__IMPORT(secret_get) int32_t ext_abi_secret_get(const char *name, int32_t name_len, char *ptr, int32_t cap);
/* The value's length; its revision (little-endian i64) is written at revision_ptr unless 0. */
EXT__IMPORT(kv_get) int32_t ext_abi_kv_get(const char *key, int32_t key_len, char *ptr, int32_t cap, int64_t *revision_ptr);
/* -> the new revision (> 0) or a negative code. ttl_ms 0 = no expiry. */
EXT__IMPORT(kv_put) int64_t ext_abi_kv_put(const char *key, int32_t key_len, const void *value, int32_t value_len, int64_t if_revision, int32_t ttl_ms);
EXT__IMPORT(kv_delete) int32_t ext_abi_kv_delete(const char *key, int32_t key_len, int64_t if_revision);
/* A JSON page {"keys":[...],"cursor":"..."|null}; pass the cursor back ("" for the first page). */
EXT__IMPORT(kv_list) int32_t ext_abi_kv_list(const char *prefix, int32_t prefix_len, const char *cursor, int32_t cursor_len, char *ptr, int32_t cap);
/* Request and response envelopes: one line of compact JSON, '\n', raw body bytes (see ext_http_fetch). */
EXT__IMPORT(http_fetch) int32_t ext_abi_http_fetch(const void *request, int32_t request_len, char *ptr, int32_t cap);

#undef EXT__IMPORT

/* ---- strings ------------------------------------------------------------------------------- */
/* A byte string. Values returned by the helpers are NUL-terminated (ptr[len] == 0) and live until
 * ext_arena_reset(). */
typedef struct ext_str {
    const char *ptr;
    int32_t len;
} ext_str;

/* An ext_str of a string literal (no strlen at run time). */
#define EXT_STR(literal) ((ext_str){(literal), (int32_t)(sizeof(literal) - 1)})

static inline int32_t ext_strlen(const char *s) {
    int32_t n = 0;
    while (s[n]) n++;
    return n;
}

static inline ext_str ext_cstr(const char *s) {
    ext_str r = {s, ext_strlen(s)};
    return r;
}

static inline int ext_str_eq(ext_str a, ext_str b) {
    if (a.len != b.len) return 0;
    for (int32_t i = 0; i < a.len; i++)
        if (a.ptr[i] != b.ptr[i]) return 0;
    return 1;
}

static inline void ext__copy(char *dst, const char *src, int32_t n) {
    for (int32_t i = 0; i < n; i++) dst[i] = src[i];
}

/* ---- arena --------------------------------------------------------------------------------- */
typedef struct ext__arena {
    char *next;   /* first free byte */
    char *end;    /* end of the current region */
#if !EXT__FREESTANDING
    void *chunks; /* malloc'd chunks, linked through their first word */
#endif
} ext__arena;

/* Weak, so that several translation units including this header share one arena. */
__attribute__((weak)) ext__arena ext__the_arena;

#if EXT__FREESTANDING
extern unsigned char __heap_base;
#endif

/* Returns `size` bytes (8-byte aligned), or NULL when memory cannot grow (the memory limit). */
static inline void *ext_alloc(int32_t size) {
    ext__arena *a = &ext__the_arena;
    if (size < 0) return NULL;
    uintptr_t need = ((uintptr_t)size + 7u) & ~(uintptr_t)7u;
#if EXT__FREESTANDING
    if (a->next == 0) {
        a->next = (char *)(((uintptr_t)&__heap_base + 7u) & ~(uintptr_t)7u);
        a->end = (char *)(__builtin_wasm_memory_size(0) * 65536u);
    }
    if ((uintptr_t)(a->end - a->next) < need) {
        uintptr_t missing = need - (uintptr_t)(a->end - a->next);
        uintptr_t pages = (missing + 65535u) / 65536u;
        if (__builtin_wasm_memory_grow(0, pages) == (size_t)-1) return NULL;
        a->end += pages * 65536u;
    }
#else
    if (a->next == 0 || (uintptr_t)(a->end - a->next) < need) {
        uintptr_t chunk = need + 16u < 16384u ? 16384u : need + 16u;
        char *c = (char *)malloc(chunk);
        if (c == NULL) return NULL;
        *(void **)c = a->chunks;
        a->chunks = c;
        a->next = c + 16;
        a->end = c + chunk;
    }
#endif
    void *p = a->next;
    a->next += need;
    return p;
}

/* Bytes that can be handed out without growing: the read(2) helpers offer this space first. */
static inline int32_t ext__arena_room(void) {
    ext__arena *a = &ext__the_arena;
    if (a->next == 0 && ext_alloc(0) == NULL) return 0;
    uintptr_t room = (uintptr_t)(a->end - a->next);
    return room > 0x7fffffffu ? 0x7fffffff : (int32_t)room;
}

/* Releases everything the helpers allocated. */
static inline void ext_arena_reset(void) {
    ext__arena *a = &ext__the_arena;
#if EXT__FREESTANDING
    a->next = 0;
#else
    while (a->chunks) {
        void *next = *(void **)a->chunks;
        free(a->chunks);
        a->chunks = next;
    }
    a->next = a->end = 0;
#endif
}

/* a followed by b, NUL-terminated, in the arena ({NULL, 0} when memory cannot grow). */
static inline ext_str ext_concat(ext_str a, ext_str b) {
    ext_str r = {0, 0};
    char *buf = (char *)ext_alloc(a.len + b.len + 1);
    if (!buf) return r;
    ext__copy(buf, a.ptr, a.len);
    ext__copy(buf + a.len, b.ptr, b.len);
    buf[a.len + b.len] = 0;
    r.ptr = buf;
    r.len = a.len + b.len;
    return r;
}

/* ---- the read(2) idiom ---------------------------------------------------------------------- */
enum { EXT__METHOD, EXT__PATH, EXT__QUERY, EXT__BODY, EXT__HEADER, EXT__PARAM, EXT__CTX, EXT__CONFIG, EXT__SECRET };

/* Always inlined (with ext__read), so that each call site's constant kind folds the switch: a module imports only the
 * ext functions it really calls, and its manifest needs only those capabilities (build and pack check this). */
__attribute__((always_inline)) static inline int32_t ext__read_once(int kind, const char *name, int32_t name_len, char *ptr, int32_t cap) {
    switch (kind) {
    case EXT__METHOD: return ext_abi_req_method(ptr, cap);
    case EXT__PATH: return ext_abi_req_path(ptr, cap);
    case EXT__QUERY: return ext_abi_req_query(ptr, cap);
    case EXT__BODY: return ext_abi_req_body(ptr, cap);
    case EXT__HEADER: return ext_abi_req_header(name, name_len, ptr, cap);
    case EXT__PARAM: return ext_abi_req_param(name, name_len, ptr, cap);
    case EXT__CTX: return ext_abi_ctx_get(name, name_len, ptr, cap);
    case EXT__CONFIG: return ext_abi_config_get(name, name_len, ptr, cap);
    default: return ext_abi_secret_get(name, name_len, ptr, cap);
    }
}

/* Offers the arena's free space (one host call in the common case); when the value is longer, allocates
 * exactly its length and asks again. Returns the length or a negative code; *out is set on success. */
__attribute__((always_inline)) static inline int32_t ext__read(int kind, const char *name, ext_str *out) {
    int32_t name_len = name ? ext_strlen(name) : 0;
    for (int attempt = 0; attempt < 3; attempt++) {
        int32_t room = ext__arena_room();
        char *buf = (char *)ext__the_arena.next;
        int32_t cap = room > 0 ? room - 1 : 0; /* keep one byte for the NUL */
        int32_t n = ext__read_once(kind, name, name_len, buf, cap);
        if (n < 0) return n;
        if (n <= cap) {
            buf = (char *)ext_alloc(n + 1); /* commits the bytes the host just wrote */
            buf[n] = 0;
            if (out) { out->ptr = buf; out->len = n; }
            return n;
        }
        /* Make room for n + 1 bytes at the arena's front, then retry. */
        char *big = (char *)ext_alloc(n + 1);
        if (big == NULL) return EXT_LIMIT;
        ext__the_arena.next = big; /* un-commit: the next attempt writes there */
    }
    return EXT_INTERNAL; /* the value kept changing size */
}

/* ---- request -------------------------------------------------------------------------------- */
static inline int32_t ext_method(ext_str *out) { return ext__read(EXT__METHOD, 0, out); }
/* Path after /api/ext/{extensionId}, starting with "/". */
static inline int32_t ext_path(ext_str *out) { return ext__read(EXT__PATH, 0, out); }
/* Raw query string without "?". */
static inline int32_t ext_query(ext_str *out) { return ext__read(EXT__QUERY, 0, out); }
static inline int32_t ext_body(ext_str *out) { return ext__read(EXT__BODY, 0, out); }
/* Header by name (case-insensitive); EXT_ABSENT when missing. */
static inline int32_t ext_header(const char *name, ext_str *out) { return ext__read(EXT__HEADER, name, out); }
/* The `:name` segment of the matched endpoint, percent-decoded; EXT_ABSENT when the endpoint has none. */
static inline int32_t ext_param(const char *name, ext_str *out) { return ext__read(EXT__PARAM, name, out); }

/* ---- context, configuration, secrets, log -------------------------------------------------- */
/* Keys: tenant, extension, install, version, request_id, user.id, user.name, user.email, user.kind. */
static inline int32_t ext_ctx(const char *key, ext_str *out) { return ext__read(EXT__CTX, key, out); }
/* An install configuration value, as JSON text (a string value keeps its quotes; see ext_json_string). */
static inline int32_t ext_config(const char *key, ext_str *out) { return ext__read(EXT__CONFIG, key, out); }
/* A secret the manifest declares (capability cap:secrets); EXT_DENIED without the grant. */
static inline int32_t ext_secret(const char *name, ext_str *out) { return ext__read(EXT__SECRET, name, out); }

/* Needs cap:log. -> 0, EXT_DENIED, or EXT_LIMIT when the log budget is spent. */
static inline int32_t ext_log(int32_t level, const char *message) { return ext_abi_log(level, message, ext_strlen(message)); }
static inline int32_t ext_log_str(int32_t level, ext_str message) { return ext_abi_log(level, message.ptr, message.len); }
#define ext_log_debug(m) ext_log(EXT_LOG_DEBUG, (m))
#define ext_log_info(m) ext_log(EXT_LOG_INFO, (m))
#define ext_log_warn(m) ext_log(EXT_LOG_WARN, (m))
#define ext_log_error(m) ext_log(EXT_LOG_ERROR, (m))

/* ---- response ------------------------------------------------------------------------------- */
/* -> 0, or EXT_INVALID outside 100..599. The default status is 200. */
static inline int32_t ext_status(int32_t code) { return ext_abi_resp_status(code); }
static inline int32_t ext_set_header(const char *name, const char *value) {
    return ext_abi_resp_header(name, ext_strlen(name), value, ext_strlen(value));
}
/* Appends bytes to the body. -> 0, or EXT_LIMIT when the response size cap is hit. */
static inline int32_t ext_write(const void *ptr, int32_t len) { return ext_abi_resp_body(ptr, len); }
static inline int32_t ext_write_cstr(const char *s) { return ext_abi_resp_body(s, ext_strlen(s)); }
static inline int32_t ext_write_str(ext_str s) { return ext_abi_resp_body(s.ptr, s.len); }

/* Writes `s` as a JSON string literal (quotes included): escapes '"', '\\' and control characters
 * (as \u00xx); other bytes pass through, so valid UTF-8 stays valid. Returns 0 or a negative code. */
static inline int32_t ext_write_json_string(ext_str s) {
    static const char hex[] = "0123456789abcdef";
    char esc[6] = {'\\', 'u', '0', '0', 0, 0};
    int32_t start = 0, r;
    if ((r = ext_abi_resp_body("\"", 1)) < 0) return r;
    for (int32_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c != '"' && c != '\\' && c >= 0x20) continue;
        if (i > start && (r = ext_abi_resp_body(s.ptr + start, i - start)) < 0) return r;
        if (c == '"' || c == '\\') {
            esc[1] = (char)c;
            r = ext_abi_resp_body(esc, 2);
            esc[1] = 'u';
        } else {
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            r = ext_abi_resp_body(esc, 6);
        }
        if (r < 0) return r;
        start = i + 1;
    }
    if (s.len > start && (r = ext_abi_resp_body(s.ptr + start, s.len - start)) < 0) return r;
    return ext_abi_resp_body("\"", 1);
}

/* Sets content-type application/json and appends `json`. */
static inline int32_t ext_write_json(const char *json) {
    int32_t r = ext_set_header("content-type", "application/json; charset=utf-8");
    return r < 0 ? r : ext_write_cstr(json);
}

/* Status, JSON content-type and a whole JSON body in one call. */
static inline int32_t ext_respond_json(int32_t status, const char *json) {
    int32_t r = ext_status(status);
    return r < 0 ? r : ext_write_json(json);
}

/* ---- JSON reading (enough for config values, KV pages and fetch envelopes) ------------------- */
static inline const char *ext__json_ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

/* Skips one JSON value starting at p; returns the first byte after it, or NULL when malformed. */
static inline const char *ext_json_skip(const char *p, const char *end) {
    int depth = 0;
    p = ext__json_ws(p, end);
    do {
        if (p >= end) return NULL;
        char c = *p;
        if (c == '"') {
            for (p++; p < end && *p != '"'; p++)
                if (*p == '\\') p++;
            if (p >= end) return NULL;
            p++;
        } else if (c == '{' || c == '[') {
            depth++;
            p++;
        } else if (c == '}' || c == ']') {
            if (--depth < 0) return NULL;
            p++;
        } else if (c == ',' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            if (depth == 0) return NULL;
            p++;
        } else {
            const char *s = p;
            while (p < end && ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || *p == '-' || *p == '+' || *p == '.' || (*p >= 'A' && *p <= 'Z'))) p++;
            if (p == s) return NULL;
        }
    } while (depth > 0);
    return p;
}

/* The raw text of member `name` of the JSON object `obj` (not nested). EXT_ABSENT when missing,
 * EXT_INVALID when `obj` is not an object. */
static inline int32_t ext_json_member(ext_str obj, const char *name, ext_str *value) {
    const char *p = obj.ptr, *end = obj.ptr + obj.len;
    int32_t name_len = ext_strlen(name);
    p = ext__json_ws(p, end);
    if (p >= end || *p != '{') return EXT_INVALID;
    p = ext__json_ws(p + 1, end);
    if (p < end && *p == '}') return EXT_ABSENT;
    while (p < end && *p == '"') {
        const char *key = p + 1, *key_end = ext_json_skip(p, end);
        if (!key_end) return EXT_INVALID;
        int match = (key_end - 1 - key) == name_len;
        for (int32_t i = 0; match && i < name_len; i++) match = key[i] == name[i];
        p = ext__json_ws(key_end, end);
        if (p >= end || *p != ':') return EXT_INVALID;
        const char *v = ext__json_ws(p + 1, end), *v_end = ext_json_skip(v, end);
        if (!v_end) return EXT_INVALID;
        if (match) {
            if (value) { value->ptr = v; value->len = (int32_t)(v_end - v); }
            return (int32_t)(v_end - v);
        }
        p = ext__json_ws(v_end, end);
        if (p < end && *p == ',') p = ext__json_ws(p + 1, end);
        else break;
    }
    return p < end && *p == '}' ? EXT_ABSENT : EXT_INVALID;
}

/* Iterates a JSON array: start with *pos = 0; each call sets *item to the next element's raw text and
 * returns 1, or returns 0 at the end (EXT_INVALID when malformed). */
static inline int32_t ext_json_next(ext_str array, int32_t *pos, ext_str *item) {
    const char *end = array.ptr + array.len;
    const char *p = array.ptr + *pos;
    if (*pos == 0) {
        p = ext__json_ws(p, end);
        if (p >= end || *p != '[') return EXT_INVALID;
        p++;
    } else {
        p = ext__json_ws(p, end);
        if (p < end && *p == ',') p++;
    }
    p = ext__json_ws(p, end);
    if (p >= end) return EXT_INVALID;
    if (*p == ']') { *pos = (int32_t)(p - array.ptr); return 0; }
    const char *v_end = ext_json_skip(p, end);
    if (!v_end) return EXT_INVALID;
    if (item) { item->ptr = p; item->len = (int32_t)(v_end - p); }
    *pos = (int32_t)(v_end - array.ptr);
    return 1;
}

static inline int ext__hex(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static inline int32_t ext__u4(const char *p, uint32_t *out) {
    uint32_t u = 0;
    for (int j = 0; j < 4; j++) {
        int h = ext__hex(p[j]);
        if (h < 0) return EXT_INVALID;
        u = u * 16 + (uint32_t)h;
    }
    *out = u;
    return EXT_OK;
}

/* Decodes a JSON string literal (raw text with quotes) into UTF-8 in the arena. */
static inline int32_t ext_json_string(ext_str raw, ext_str *out) {
    if (raw.len < 2 || raw.ptr[0] != '"' || raw.ptr[raw.len - 1] != '"') return EXT_INVALID;
    char *buf = (char *)ext_alloc(raw.len);
    if (!buf) return EXT_LIMIT;
    int32_t n = 0;
    for (int32_t i = 1; i < raw.len - 1; i++) {
        char c = raw.ptr[i];
        if (c != '\\') { buf[n++] = c; continue; }
        if (++i >= raw.len - 1) return EXT_INVALID;
        switch (raw.ptr[i]) {
        case '"': buf[n++] = '"'; break;
        case '\\': buf[n++] = '\\'; break;
        case '/': buf[n++] = '/'; break;
        case 'b': buf[n++] = '\b'; break;
        case 'f': buf[n++] = '\f'; break;
        case 'n': buf[n++] = '\n'; break;
        case 'r': buf[n++] = '\r'; break;
        case 't': buf[n++] = '\t'; break;
        case 'u': {
            uint32_t cp, lo;
            if (i + 4 >= raw.len - 1 || ext__u4(raw.ptr + i + 1, &cp) < 0) return EXT_INVALID;
            i += 4;
            /* a high surrogate followed by \uDC00..\uDFFF is one code point; a lone one is kept as is */
            if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < raw.len - 1 && raw.ptr[i + 1] == '\\' && raw.ptr[i + 2] == 'u'
                && ext__u4(raw.ptr + i + 3, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 6;
            }
            if (cp < 0x80) buf[n++] = (char)cp;
            else if (cp < 0x800) { buf[n++] = (char)(0xC0 | (cp >> 6)); buf[n++] = (char)(0x80 | (cp & 0x3F)); }
            else if (cp < 0x10000) { buf[n++] = (char)(0xE0 | (cp >> 12)); buf[n++] = (char)(0x80 | ((cp >> 6) & 0x3F)); buf[n++] = (char)(0x80 | (cp & 0x3F)); }
            else { buf[n++] = (char)(0xF0 | (cp >> 18)); buf[n++] = (char)(0x80 | ((cp >> 12) & 0x3F)); buf[n++] = (char)(0x80 | ((cp >> 6) & 0x3F)); buf[n++] = (char)(0x80 | (cp & 0x3F)); }
            break;
        }
        default: return EXT_INVALID;
        }
    }
    buf[n] = 0;
    out->ptr = buf;
    out->len = n;
    return n;
}

/* Parses a JSON integer (raw text). */
static inline int32_t ext_json_int(ext_str raw, int64_t *out) {
    int32_t i = 0;
    int neg = 0;
    int64_t v = 0;
    if (i < raw.len && raw.ptr[i] == '-') { neg = 1; i++; }
    if (i >= raw.len) return EXT_INVALID;
    for (; i < raw.len; i++) {
        if (raw.ptr[i] < '0' || raw.ptr[i] > '9' || v > 922337203685477579LL) return EXT_INVALID;
        v = v * 10 + (raw.ptr[i] - '0');
    }
    *out = neg ? -v : v;
    return EXT_OK;
}

/* ---- key-value store (capability cap:kv) ------------------------------------------------------ */
/* Reads a key: its value and (unless revision is NULL) the revision it was written with. */
static inline int32_t ext_kv_get(const char *key, ext_str *value, int64_t *revision) {
    int32_t key_len = ext_strlen(key);
    int64_t rev = 0;
    for (int attempt = 0; attempt < 3; attempt++) {
        int32_t room = ext__arena_room();
        char *buf = (char *)ext__the_arena.next;
        int32_t cap = room > 0 ? room - 1 : 0;
        int32_t n = ext_abi_kv_get(key, key_len, buf, cap, &rev);
        if (n < 0) return n;
        if (n <= cap) {
            buf = (char *)ext_alloc(n + 1);
            buf[n] = 0;
            if (value) { value->ptr = buf; value->len = n; }
            if (revision) *revision = rev;
            return n;
        }
        char *big = (char *)ext_alloc(n + 1);
        if (big == NULL) return EXT_LIMIT;
        ext__the_arena.next = big;
    }
    return EXT_INTERNAL;
}

/* Writes a key. if_revision: EXT_KV_ANY_REVISION, EXT_KV_MUST_NOT_EXIST, or the revision last read
 * (compare-and-set). ttl_ms > 0 makes the key expire. -> the new revision (> 0) or a negative code
 * (EXT_CONFLICT, EXT_VALUE_TOO_LARGE, EXT_TOO_MANY_KEYS, EXT_STORAGE_FULL, EXT_DENIED). */
static inline int64_t ext_kv_put(const char *key, const void *value, int32_t value_len, int64_t if_revision, int32_t ttl_ms) {
    return ext_abi_kv_put(key, ext_strlen(key), value, value_len, if_revision, ttl_ms);
}

/* -> 0, EXT_ABSENT, EXT_CONFLICT, or another negative code. */
static inline int32_t ext_kv_delete(const char *key, int64_t if_revision) {
    return ext_abi_kv_delete(key, ext_strlen(key), if_revision);
}

/* One page of keys under `prefix`: the host's JSON {"keys":[...],"cursor":"..."|null}. Walk the keys with
 * ext_json_member(page, "keys", &keys) + ext_json_next + ext_json_string; pass the cursor (decoded) back as
 * `cursor` for the next page ("" or NULL for the first). */
static inline int32_t ext_kv_list(const char *prefix, const char *cursor, ext_str *page) {
    int32_t prefix_len = ext_strlen(prefix), cursor_len = cursor ? ext_strlen(cursor) : 0;
    for (int attempt = 0; attempt < 3; attempt++) {
        int32_t room = ext__arena_room();
        char *buf = (char *)ext__the_arena.next;
        int32_t cap = room > 0 ? room - 1 : 0;
        int32_t n = ext_abi_kv_list(prefix, prefix_len, cursor ? cursor : "", cursor_len, buf, cap);
        if (n < 0) return n;
        if (n <= cap) {
            buf = (char *)ext_alloc(n + 1);
            buf[n] = 0;
            if (page) { page->ptr = buf; page->len = n; }
            return n;
        }
        char *big = (char *)ext_alloc(n + 1);
        if (big == NULL) return EXT_LIMIT;
        ext__the_arena.next = big;
    }
    return EXT_INTERNAL;
}

/* ---- outbound HTTP (capability cap:http.fetch) ------------------------------------------------ */
typedef struct ext_http_header {
    const char *name;
    const char *value;
} ext_http_header;

typedef struct ext_http_request {
    const char *method;             /* NULL = GET */
    const char *url;                /* absolute https:// or http:// URL; its host must be in egress.allowedHosts */
    const ext_http_header *headers; /* may be NULL */
    int32_t header_count;
    const void *body;               /* may be NULL */
    int32_t body_len;
} ext_http_request;

typedef struct ext_http_response {
    int32_t status;
    ext_str headers; /* raw JSON array of [name, value] pairs; see ext_http_response_header */
    ext_str body;
} ext_http_response;

/* Appends s as a JSON string literal to buf (which has room: at most 6 bytes per input byte + 2). */
static inline int32_t ext__json_quote(char *buf, const char *s) {
    static const char hex[] = "0123456789abcdef";
    int32_t n = 0;
    buf[n++] = '"';
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') { buf[n++] = '\\'; buf[n++] = (char)c; }
        else if (c < 0x20) { buf[n++] = '\\'; buf[n++] = 'u'; buf[n++] = '0'; buf[n++] = '0'; buf[n++] = hex[c >> 4]; buf[n++] = hex[c & 15]; }
        else buf[n++] = (char)c;
    }
    buf[n++] = '"';
    return n;
}

/* Performs one outbound request. Returns 0 with *resp filled (any HTTP status, including 4xx/5xx), or a
 * negative code: EXT_DENIED (no grant), EXT_EGRESS_DENIED (host not allowed or refused address),
 * EXT_TIMEOUT, EXT_LIMIT (response too large), EXT_INVALID (bad envelope). */
static inline int32_t ext_http_fetch(const ext_http_request *req, ext_http_response *resp) {
    const char *method = req->method ? req->method : "GET";
    int32_t size = 64 + 6 * (ext_strlen(method) + ext_strlen(req->url)) + (req->body ? req->body_len : 0);
    for (int32_t i = 0; i < req->header_count; i++)
        size += 8 + 6 * (ext_strlen(req->headers[i].name) + ext_strlen(req->headers[i].value));
    char *env = (char *)ext_alloc(size);
    if (!env) return EXT_LIMIT;
    int32_t n = 0;
    ext__copy(env + n, "{\"method\":", 10); n += 10;
    n += ext__json_quote(env + n, method);
    ext__copy(env + n, ",\"url\":", 7); n += 7;
    n += ext__json_quote(env + n, req->url);
    ext__copy(env + n, ",\"headers\":[", 12); n += 12;
    for (int32_t i = 0; i < req->header_count; i++) {
        if (i) env[n++] = ',';
        env[n++] = '[';
        n += ext__json_quote(env + n, req->headers[i].name);
        env[n++] = ',';
        n += ext__json_quote(env + n, req->headers[i].value);
        env[n++] = ']';
    }
    ext__copy(env + n, "]}\n", 3); n += 3;
    if (req->body && req->body_len > 0) { ext__copy(env + n, (const char *)req->body, req->body_len); n += req->body_len; }

    ext_str raw = {0, 0};
    for (int attempt = 0; attempt < 3 && raw.ptr == 0; attempt++) {
        int32_t room = ext__arena_room();
        char *buf = (char *)ext__the_arena.next;
        int32_t cap = room > 0 ? room - 1 : 0;
        int32_t got = ext_abi_http_fetch(env, n, buf, cap);
        if (got < 0) return got;
        if (got <= cap) {
            buf = (char *)ext_alloc(got + 1);
            buf[got] = 0;
            raw.ptr = buf;
            raw.len = got;
            break;
        }
        char *big = (char *)ext_alloc(got + 1);
        if (big == NULL) return EXT_LIMIT;
        ext__the_arena.next = big;
    }
    if (raw.ptr == 0) return EXT_INTERNAL;

    int32_t nl = 0;
    while (nl < raw.len && raw.ptr[nl] != '\n') nl++;
    ext_str head = {raw.ptr, nl}, status;
    int64_t code = 0;
    if (ext_json_member(head, "status", &status) < 0 || ext_json_int(status, &code) < 0) return EXT_INVALID;
    resp->status = (int32_t)code;
    if (ext_json_member(head, "headers", &resp->headers) < 0) { resp->headers.ptr = "[]"; resp->headers.len = 2; }
    resp->body.ptr = raw.ptr + (nl < raw.len ? nl + 1 : nl);
    resp->body.len = raw.len - (nl < raw.len ? nl + 1 : nl);
    return EXT_OK;
}

static inline int ext__ieq(ext_str a, const char *b) {
    int32_t i = 0;
    for (; i < a.len && b[i]; i++) {
        char x = a.ptr[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = (char)(x + 32);
        if (y >= 'A' && y <= 'Z') y = (char)(y + 32);
        if (x != y) return 0;
    }
    return i == a.len && b[i] == 0;
}

/* The first response header called `name` (case-insensitive), decoded; EXT_ABSENT when missing. */
static inline int32_t ext_http_response_header(const ext_http_response *resp, const char *name, ext_str *value) {
    int32_t pos = 0, r;
    ext_str pair;
    while ((r = ext_json_next(resp->headers, &pos, &pair)) == 1) {
        int32_t inner = 0;
        ext_str raw_name, raw_value, decoded;
        if (ext_json_next(pair, &inner, &raw_name) != 1 || ext_json_next(pair, &inner, &raw_value) != 1) return EXT_INVALID;
        if (ext_json_string(raw_name, &decoded) < 0) return EXT_INVALID;
        if (ext__ieq(decoded, name)) return ext_json_string(raw_value, value);
    }
    return r < 0 ? r : EXT_ABSENT;
}

#ifdef __cplusplus
}
#endif
#endif /* EXT_H */
