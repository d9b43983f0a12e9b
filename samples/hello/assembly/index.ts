import { ErrorCode, Request, Response, jsonString, lastError, log } from "@extensions/sdk-assemblyscript";

// GET /hello and GET /hello/:name -> {"message":"Hello, <name>"}
export function handle(): i32 {
  let name = Request.param("name");
  if (name === null) {
    if (lastError() != ErrorCode.ABSENT) return 1; // host error other than "absent"
    name = "world";
  }
  log.info("greeting " + name);
  Response.status(200);
  Response.json("{\"message\":" + jsonString("Hello, " + name) + "}");
  return 0;
}
