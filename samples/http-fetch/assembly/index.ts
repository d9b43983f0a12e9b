import { ErrorCode, Response, config, http, jsonString, jsonStringValue, lastError } from "@extensions/sdk-assemblyscript";

// GET /check -> fetches the install's configured "url" and answers
// {"url":...,"status":200,"contentType":"...","bytes":N}, or 502 {"url":...,"error":"...","code":-11}.
// The host decides where this may go: only the hosts the admin consented to (manifest egress.allowedHosts),
// and only at public addresses unless the operator opened a range.
export function handle(): i32 {
  const raw = config("url");
  const url = raw !== null ? jsonStringValue(raw) : null;
  if (url === null) {
    Response.status(500);
    Response.json("{\"error\":\"configure a string 'url' for this install\"}");
    return 0;
  }

  const response = http.get(url, [["accept", "*/*"], ["user-agent", "extensions-sample-uptime/1.0"]]);
  if (response === null) {
    const code = lastError();
    Response.status(502);
    Response.json("{\"url\":" + jsonString(url) + ",\"error\":" + jsonString(describe(code)) + ",\"code\":" + code.toString() + "}");
    return 0;
  }

  const contentType = response.header("content-type");
  Response.status(200);
  Response.json("{\"url\":" + jsonString(url) + ",\"status\":" + response.status.toString() +
    ",\"contentType\":" + (contentType !== null ? jsonString(contentType) : "null") +
    ",\"bytes\":" + response.body.byteLength.toString() + "}");
  return 0;
}

function describe(code: i32): string {
  if (code == ErrorCode.EGRESS_DENIED) return "egress denied: host not consented or address not public";
  if (code == ErrorCode.TIMEOUT) return "timed out";
  if (code == ErrorCode.LIMIT) return "a size, redirect or call limit was hit";
  if (code == ErrorCode.DENIED) return "this install was not granted cap:http.fetch";
  if (code == ErrorCode.INVALID) return "the URL or request is not valid";
  return "the request failed";
}
