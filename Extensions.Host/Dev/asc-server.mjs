// Resident AssemblyScript compiler for `Extensions.Host dev`, written by dev into the project's
// node_modules/.extensions-dev/ so that "assemblyscript/asc" resolves to the project's own copy.
// It loads asc (and Binaryen) once; each compile then costs only the compile.
//
// Protocol, one JSON object per line:
//   out: {"ready":true,"version":"0.28.20"}            once asc is loaded (or {"ready":false,"error":"..."}, then exit 1)
//   in:  {"id":1,"args":["--config","asconfig.json","--target","release"]}   ("warmUp":true: skipped once a real one came)
//   out: {"id":1,"ok":true|false,"output":"<asc's stdout and stderr>"}
// It runs in the project directory (asc resolves asconfig.json and outFile from there) and exits when stdin closes,
// so it never outlives dev.
import { createInterface } from "node:readline";

const send = (message) => process.stdout.write(JSON.stringify(message) + "\n");
const plain = (text) => String(text ?? "").replace(/\u001b\[[0-9;]*m/g, "");

let asc;
try {
  asc = await import("assemblyscript/asc");
} catch (error) {
  send({ ready: false, error: plain(error?.message ?? error) });
  process.exit(1);
}

send({ ready: true, version: asc.version ?? "" });

// One compile at a time, in arrival order: asc is not meant to run two compiles at once. Warm-up compiles (which only
// make V8 optimise asc and Binaryen before the author's next save) are dropped once a real one has come: the author is
// saving, and the CPU is better spent on publishing that save.
let queue = Promise.resolve();
let realRequests = 0;
const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on("line", (line) => {
  if (line.trim() === "") return;
  let request;
  try {
    request = JSON.parse(line);
  } catch {
    send({ id: null, ok: false, output: "asc-server: request is not JSON" });
    return;
  }
  if (!request.warmUp) realRequests++;
  const seen = realRequests;
  queue = queue.then(() => compile(request, seen));
});
lines.on("close", () => queue.then(() => process.exit(0)));

async function compile(request, seen) {
  if (request.warmUp && realRequests > seen) {
    send({ id: request.id, ok: true, output: "", skipped: true });
    return;
  }
  try {
    const result = await asc.main(request.args, {});
    const output = [plain(result.stdout?.toString()), plain(result.stderr?.toString())].filter((s) => s.trim() !== "").join("\n");
    const error = result.error ? plain(result.error.message) : "";
    send({ id: request.id, ok: !result.error, output: error && !output.includes(error) ? (output ? output + "\n" : "") + error : output });
  } catch (error) {
    send({ id: request.id, ok: false, output: plain(error?.stack ?? error) });
  }
}
