using System.Text.Json.Nodes;

namespace Extensions.Tests.Support;

/// <summary>Extension directories for tests: a manifest plus a module written in WAT and compiled here.</summary>
internal static class GuestFixtures
{
    /// <summary>Writes <c>manifest.json</c> and <c>main.wasm</c> (from WAT) into a new temp directory.</summary>
    public static string Create(string name, string wat, string version = "1.0.0", string[]? capabilities = null,
        (string Method, string Path)[]? endpoints = null, JsonObject? limits = null, string publisher = TestPlatform.TestPublisherName,
        JsonObject? config = null, string[]? secrets = null, string[]? egressHosts = null,
        IReadOnlyDictionary<string, byte[]>? files = null, JsonObject? ui = null, string[]? assets = null)
    {
        var dir = Tests.TestRun.NewDirectory($"guest-{name}");
        var manifest = new JsonObject
        {
            ["manifestVersion"] = 2,
            ["publisher"] = publisher,
            ["name"] = name,
            ["version"] = version,
            ["runtime"] = "ext-v1",
            ["main"] = "main.wasm",
            ["capabilities"] = new JsonArray([.. (capabilities ?? []).Select(c => (JsonNode)c!)]),
            ["api"] = new JsonObject
            {
                ["endpoints"] = new JsonArray([.. (endpoints ?? [("GET", "/run")]).Select(e => (JsonNode)new JsonObject { ["method"] = e.Method, ["path"] = e.Path })]),
            },
        };
        if (limits is not null)
        {
            manifest["limits"] = limits;
        }

        if (config is not null)
        {
            manifest["config"] = config.DeepClone();
        }

        if (secrets is not null)
        {
            manifest["secrets"] = new JsonArray([.. secrets.Select(n => (JsonNode)n!)]);
        }

        if (egressHosts is not null)
        {
            manifest["egress"] = new JsonObject { ["allowedHosts"] = new JsonArray([.. egressHosts.Select(h => (JsonNode)h!)]) };
        }

        if (ui is not null)
        {
            manifest["ui"] = ui;
        }

        if (assets is not null)
        {
            manifest["assets"] = new JsonArray([.. assets.Select(a => (JsonNode)a!)]);
        }

        foreach (var (path, content) in files ?? new Dictionary<string, byte[]>())
        {
            var full = Path.Combine(dir, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllBytes(full, content);
        }

        File.WriteAllText(Path.Combine(dir, "manifest.json"), manifest.ToJsonString());
        File.WriteAllBytes(Path.Combine(dir, "main.wasm"), Wasmtime.Module.ConvertText(wat));
        return dir;
    }

    /// <summary>A guest with a UI: <c>ui/index.html</c> as the iframe entry, a script, a stylesheet, an image, a file outside
    /// <c>ui/</c> picked up by an <c>assets</c> glob, and a file of unknown type. The module answers 200 "ok".</summary>
    public static string CreateWithUi(string name, string version = "1.0.0", IReadOnlyDictionary<string, byte[]>? extraFiles = null)
    {
        var files = new Dictionary<string, byte[]>
        {
            ["ui/index.html"] = System.Text.Encoding.UTF8.GetBytes($"<!doctype html><title>{name} {version}</title><script type=module src=app.js></script>"),
            ["ui/app.js"] = "document.title += ' ready';"u8.ToArray(),
            ["ui/css/site.css"] = "body { color: #123; }"u8.ToArray(),
            ["ui/logo.svg"] = "<svg xmlns='http://www.w3.org/2000/svg'/>"u8.ToArray(),
            ["ui/pixel.png"] = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
            ["ui/data.bin"] = [1, 2, 3],
            ["static/strings.json"] = "{\"hello\":\"world\"}"u8.ToArray(),
            ["notes/private.txt"] = "not packed"u8.ToArray(),
        };
        foreach (var (path, content) in extraFiles ?? new Dictionary<string, byte[]>())
        {
            files[path] = content;
        }

        return Create(name, Ok, version, files: files, assets: ["static/*.json"],
            ui: new JsonObject { ["iframe"] = new JsonObject { ["entry"] = "ui/index.html" }, ["hooks"] = new JsonObject { ["nav"] = new JsonObject { ["label"] = name } } });
    }

    /// <summary>A guest that answers 200 with a fixed body.</summary>
    public const string Ok = """
        (module
          (import "ext" "resp_status" (func $status (param i32) (result i32)))
          (import "ext" "resp_body" (func $body (param i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 16) "ok")
          (func (export "handle") (result i32)
            (drop (call $status (i32.const 200)))
            (drop (call $body (i32.const 16) (i32.const 2)))
            (i32.const 0)))
        """;

    /// <summary>A guest that answers 200 with <paramref name="text"/> (ASCII, up to 256 bytes).</summary>
    public static string Says(string text) => $$"""
        (module
          (import "ext" "resp_status" (func $status (param i32) (result i32)))
          (import "ext" "resp_body" (func $body (param i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 16) "{{text}}")
          (func (export "handle") (result i32)
            (drop (call $status (i32.const 200)))
            (drop (call $body (i32.const 16) (i32.const {{text.Length}})))
            (i32.const 0)))
        """;

    /// <summary>Answers 200 with the JSON text of config key <c>greeting</c> (via <c>config_get</c>), or <c>absent</c>.</summary>
    public const string EchoGreeting = """
        (module
          (import "ext" "config_get" (func $config (param i32 i32 i32 i32) (result i32)))
          (import "ext" "resp_status" (func $status (param i32) (result i32)))
          (import "ext" "resp_body" (func $body (param i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 0) "greeting")
          (data (i32.const 32) "absent")
          (func (export "handle") (result i32)
            (local $n i32)
            (local.set $n (call $config (i32.const 0) (i32.const 8) (i32.const 1024) (i32.const 4096)))
            (drop (call $status (i32.const 200)))
            (if (i32.lt_s (local.get $n) (i32.const 0))
              (then (drop (call $body (i32.const 32) (i32.const 6))))
              (else (drop (call $body (i32.const 1024) (local.get $n)))))
            (i32.const 0)))
        """;

    /// <summary>Loops forever: only fuel or the epoch deadline stops it.</summary>
    public const string InfiniteLoop = """
        (module
          (memory (export "memory") 1)
          (func (export "handle") (result i32)
            (loop $l (br $l))
            (i32.const 0)))
        """;

    /// <summary>Grows memory a page at a time until refused, then traps, as a real allocator would.</summary>
    public const string MemoryBomb = """
        (module
          (memory (export "memory") 1)
          (func (export "handle") (result i32)
            (block $done
              (loop $grow
                (br_if $done (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
                (br $grow)))
            unreachable))
        """;

    /// <summary>Traps immediately.</summary>
    public const string Trap = """
        (module
          (memory (export "memory") 1)
          (func (export "handle") (result i32) unreachable))
        """;

    /// <summary>Recurses without end: the engine's stack limit stops it.</summary>
    public const string DeepRecursion = """
        (module
          (memory (export "memory") 1)
          (func $down (param i32) (result i32) (call $down (i32.add (local.get 0) (i32.const 1))))
          (func (export "handle") (result i32) (call $down (i32.const 0))))
        """;

    /// <summary>Appends 64 KiB chunks to its response until refused, and ignores the refusal.</summary>
    public const string GiantResponse = """
        (module
          (import "ext" "resp_body" (func $body (param i32 i32) (result i32)))
          (memory (export "memory") 2)
          (func (export "handle") (result i32)
            (local $i i32)
            (loop $more
              (drop (call $body (i32.const 0) (i32.const 65536)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $more (i32.lt_u (local.get $i) (i32.const 1000))))
            (i32.const 0)))
        """;

    /// <summary>Logs a 1 KiB line 10,000 times, then answers 200 "logged" with the count of refused lines in x-refused.</summary>
    public const string LogFlood = """
        (module
          (import "ext" "log" (func $log (param i32 i32 i32) (result i32)))
          (import "ext" "resp_status" (func $status (param i32) (result i32)))
          (import "ext" "resp_body" (func $body (param i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 2048) "logged")
          (func (export "handle") (result i32)
            (local $i i32) (local $refused i32)
            (loop $more
              (if (i32.eq (call $log (i32.const 1) (i32.const 0) (i32.const 1024)) (i32.const -4))
                (then (local.set $refused (i32.add (local.get $refused) (i32.const 1)))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $more (i32.lt_u (local.get $i) (i32.const 10000))))
            (drop (call $status (select (i32.const 200) (i32.const 500) (i32.gt_u (local.get $refused) (i32.const 9000)))))
            (drop (call $body (i32.const 2048) (i32.const 6)))
            (i32.const 0)))
        """;

    /// <summary>Calls the host in an endless loop: fuel or the deadline must stop it, and the log budget caps what reaches the host.</summary>
    public const string HostCallStorm = """
        (module
          (import "ext" "log" (func $log (param i32 i32 i32) (result i32)))
          (import "ext" "req_method" (func $method (param i32 i32) (result i32)))
          (memory (export "memory") 1)
          (func (export "handle") (result i32)
            (loop $forever
              (drop (call $log (i32.const 1) (i32.const 0) (i32.const 16)))
              (drop (call $method (i32.const 0) (i32.const 16)))
              (br $forever))
            (i32.const 0)))
        """;
}
