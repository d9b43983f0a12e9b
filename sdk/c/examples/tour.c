/* A tour of ext.h: every helper once. Built by sdk/c/check.sh in both modes (freestanding and wasi-libc)
 * to prove the header compiles cleanly with -Wall -Wextra -Werror; see README.md for what each call does. */
#include "../ext.h"

EXT_EXPORT(handle) int32_t handle(void) {
    ext_str method, path, query, body, agent, id, user, greeting, secret, value, page, keys, key, cursor;
    int64_t revision = 0;

    if (ext_method(&method) < 0 || ext_path(&path) < 0) return 1;
    if (ext_query(&query) < 0 || ext_body(&body) < 0) return 1;
    if (ext_header("user-agent", &agent) == EXT_ABSENT) agent = EXT_STR("unknown");
    if (ext_param("id", &id) < 0) id = EXT_STR("none");
    if (ext_ctx("user.id", &user) < 0) user = EXT_STR("anonymous");

    /* Config values are JSON: a string value keeps its quotes until decoded. */
    ext_str raw;
    if (ext_config("greeting", &raw) < 0 || ext_json_string(raw, &greeting) < 0) greeting = EXT_STR("Hello");

    int32_t s = ext_secret("API_TOKEN", &secret);
    if (s < 0 && s != EXT_ABSENT && s != EXT_DENIED) ext_log_warn("secret_get failed");

    /* Compare-and-set increment of a counter. */
    int64_t count = 0;
    for (int attempt = 0; attempt < 5; attempt++) {
        int32_t r = ext_kv_get("counter", &value, &revision);
        if (r == EXT_ABSENT) { count = 0; revision = EXT_KV_MUST_NOT_EXIST; }
        else if (r < 0 || ext_json_int(value, &count) < 0) return 1;
        char digits[24];
        int32_t n = 0;
        int64_t next = count + 1, t = next;
        do { digits[n++] = (char)('0' + t % 10); t /= 10; } while (t > 0);
        for (int32_t i = 0; i < n / 2; i++) { char c = digits[i]; digits[i] = digits[n - 1 - i]; digits[n - 1 - i] = c; }
        int64_t written = ext_kv_put("counter", digits, n, revision, 0);
        if (written > 0) { count = next; break; }
        if (written != EXT_CONFLICT) return 1;
    }
    ext_kv_delete("scratch", EXT_KV_ANY_REVISION);

    /* Every key of one page, decoded. */
    if (ext_kv_list("", NULL, &page) >= 0 && ext_json_member(page, "keys", &keys) >= 0) {
        int32_t pos = 0;
        ext_str item;
        while (ext_json_next(keys, &pos, &item) == 1)
            if (ext_json_string(item, &key) >= 0) ext_log_str(EXT_LOG_DEBUG, key);
        ext_str raw_cursor;
        if (ext_json_member(page, "cursor", &raw_cursor) >= 0 && raw_cursor.ptr[0] == '"') ext_json_string(raw_cursor, &cursor);
    }

    ext_http_header headers[] = {{"accept", "application/json"}};
    ext_http_request request = {"GET", "https://api.example.com/v1/status", headers, 1, 0, 0};
    ext_http_response response;
    ext_str content_type;
    if (ext_http_fetch(&request, &response) == EXT_OK && response.status == 200
        && ext_http_response_header(&response, "content-type", &content_type) >= 0)
        ext_log_str(EXT_LOG_INFO, response.body);

    ext_status(200);
    ext_set_header("x-agent", agent.ptr);
    ext_write_json("{\"greeting\":");
    ext_write_json_string(ext_concat(ext_concat(greeting, EXT_STR(", ")), user));
    ext_write_cstr(",\"path\":");
    ext_write_json_string(path);
    ext_write_str(EXT_STR("}"));
    (void)ext_str_eq(method, EXT_STR("GET"));
    (void)ext_cstr("x");
    ext_arena_reset();
    return ext_respond_json(200, "{}") < 0;
}
