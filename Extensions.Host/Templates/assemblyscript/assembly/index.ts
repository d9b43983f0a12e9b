import { ErrorCode, Request, Response, config, jsonString, lastError, log } from "@extensions/sdk-assemblyscript";

// GET /hello and GET /hello/:name -> {"message":"<greeting>, <name>"}
// <greeting> is the install setting "greeting" (default "Hello"); <name> defaults to "world".
export function handle(): i32 {
  let name = Request.param("name");
  if (name === null) {
    if (lastError() != ErrorCode.ABSENT) return 1; // a host error other than "absent"
    name = "world";
  }
  // Settings arrive as JSON text; this one is a JSON string such as "Bonjour" (quotes included).
  let greeting = "Hello";
  const raw = config("greeting");
  if (raw !== null && raw.length >= 2 && raw.charAt(0) == "\"" && raw.indexOf("\\") < 0) {
    greeting = raw.substring(1, raw.length - 1);
  }
  log.info("greeting " + name);
  Response.status(200);
  Response.json("{\"message\":" + jsonString(greeting + ", " + name) + "}");
  return 0;
}
