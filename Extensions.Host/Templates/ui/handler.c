/* GET /hello and GET /hello/:name -> {"message":"<greeting>, <name>"}; the page in ui/ calls it through the bridge.
 * <greeting> is the install setting "greeting" (default "Hello"); <name> defaults to "world".
 * ext.h is the C SDK (a copy; see its header comment and README.md). */
#include "ext.h"

EXT_EXPORT(handle) int32_t handle(void) {
    ext_str name, greeting, raw;
    int32_t r = ext_param("name", &name);
    if (r == EXT_ABSENT) name = EXT_STR("world");
    else if (r < 0) return 1; /* a host error other than "absent": the caller gets an extension error */

    /* Settings arrive as JSON text: a string setting keeps its quotes until decoded. */
    if (ext_config("greeting", &raw) < 0 || ext_json_string(raw, &greeting) < 0) greeting = EXT_STR("Hello");

    ext_log_str(EXT_LOG_INFO, ext_concat(EXT_STR("greeting "), name));
    ext_status(200);
    ext_set_header("content-type", "application/json; charset=utf-8");
    ext_write_cstr("{\"message\":");
    ext_write_json_string(ext_concat(ext_concat(greeting, EXT_STR(", ")), name));
    ext_write_cstr("}");
    return 0;
}
