using System.Text.Json.Nodes;

namespace Extensions.Tests.Support;

/// <summary>Extension directories for tests: a manifest plus a module written in WAT and compiled here.</summary>
internal static class GuestFixtures
{
    /// <summary>Writes <c>manifest.json</c> and <c>main.wasm</c> (from WAT) into a new temp directory.</summary>
    public static string Create(string name, string wat, string version = "1.0.0", string[]? capabilities = null,
        (string Method, string Path)[]? endpoints = null, JsonObject? limits = null, string publisher = TestPlatform.TestPublisherName)
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

        File.WriteAllText(Path.Combine(dir, "manifest.json"), manifest.ToJsonString());
        File.WriteAllBytes(Path.Combine(dir, "main.wasm"), Wasmtime.Module.ConvertText(wat));
        return dir;
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
}
