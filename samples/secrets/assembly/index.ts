import { ErrorCode, Request, Response, lastError, secretBytes } from "@extensions/sdk-assemblyscript";

// GET  /status -> {"configured":true|false}: whether the admin has set webhook_token.
// POST /verify with header x-webhook-token -> {"valid":true|false}, compared in constant time.
// The secret never leaves the extension: not in a response, not in a log line.
export function handle(): i32 {
  const token = secretBytes("webhook_token");
  if (token === null && lastError() != ErrorCode.ABSENT) {
    Response.status(503);
    Response.json("{\"error\":\"the secret could not be read (code " + lastError().toString() + ")\"}");
    return 0;
  }

  if (Request.method() == "GET") {
    Response.status(200);
    Response.json(token !== null ? "{\"configured\":true}" : "{\"configured\":false}");
    return 0;
  }

  const offered = Request.header("x-webhook-token");
  let valid = false;
  if (token !== null && offered !== null) {
    valid = constantTimeEquals(token, Uint8Array.wrap(String.UTF8.encode(offered)));
  }
  Response.status(valid ? 200 : 401);
  Response.json(valid ? "{\"valid\":true}" : "{\"valid\":false}");
  return 0;
}

/** Compares every byte whatever the first difference, so timing does not reveal how much of a guess was right. */
function constantTimeEquals(a: Uint8Array, b: Uint8Array): bool {
  let diff: i32 = a.length ^ b.length;
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    diff |= a[i] ^ b[i];
  }
  return diff == 0;
}
