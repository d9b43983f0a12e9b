/* hello-c: GET /hello and GET /hello/:name -> {"message":"Hello, <name>"} (the hello sample, in C). */
#include "../../sdk/c/ext.h"

EXT_EXPORT(handle) int32_t handle(void) {
    ext_str name;
    int32_t r = ext_param("name", &name);
    if (r == EXT_ABSENT) name = EXT_STR("world");
    else if (r < 0) return 1; /* a host error other than "absent" */

    ext_log_str(EXT_LOG_INFO, ext_concat(EXT_STR("greeting "), name));
    ext_status(200);
    ext_set_header("content-type", "application/json; charset=utf-8");
    ext_write_cstr("{\"message\":");
    ext_write_json_string(ext_concat(EXT_STR("Hello, "), name));
    ext_write_cstr("}");
    return 0;
}
