using System.Text;
using System.Text.Json.Nodes;

namespace Extensions.Tests.Bundles;

/// <summary>A known-good manifest that tests mutate one field at a time.</summary>
internal static class TestManifests
{
    public static JsonObject Valid() => new()
    {
        ["$schema"] = "https://example.invalid/manifest.schema.json",
        ["manifestVersion"] = 2,
        ["publisher"] = "samples",
        ["name"] = "hello",
        ["version"] = "1.2.3-beta.1+build.5",
        ["displayName"] = "Hello",
        ["description"] = "Says hello",
        ["runtime"] = "ext-v1",
        ["main"] = "build/hello.wasm",
        ["capabilities"] = new JsonArray("cap:log"),
        ["egress"] = new JsonObject { ["allowedHosts"] = new JsonArray("api.example.com", "*.example.org") },
        ["config"] = new JsonObject { ["type"] = "object" },
        ["secrets"] = new JsonArray("API_TOKEN", "_other"),
        ["api"] = new JsonObject
        {
            ["endpoints"] = new JsonArray(
                new JsonObject { ["method"] = "GET", ["path"] = "/hello" },
                new JsonObject
                {
                    ["method"] = "GET",
                    ["path"] = "/hello/:name",
                    ["limits"] = new JsonObject { ["fuelPerRequest"] = 5000, ["timeoutMs"] = 250 },
                }),
        },
        ["ui"] = new JsonObject { ["iframe"] = new JsonObject { ["entry"] = "ui/index.html" } },
        ["limits"] = new JsonObject { ["fuelPerRequest"] = 10_000_000_000L, ["memoryMb"] = 32, ["timeoutMs"] = 1000 },
        ["precompiled"] = new JsonObject { ["x86_64"] = "whatever.cwasm" },
    };

    public static byte[] Bytes(JsonNode node) => Encoding.UTF8.GetBytes(node.ToJsonString());
}
