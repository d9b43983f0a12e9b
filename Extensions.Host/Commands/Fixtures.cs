using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Extensions.Host.Commands;

/// <summary>One request of a fixtures file and what its response must be.</summary>
internal sealed record Fixture(
    string Name,
    string Method,
    string Path,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    byte[] Body,
    IReadOnlyList<KeyValuePair<string, string>> Config,
    IReadOnlyList<KeyValuePair<string, byte[]>> Kv,
    int? ExpectStatus,
    JsonNode? ExpectBody,
    string? ExpectBodyContains,
    IReadOnlyList<KeyValuePair<string, string>> ExpectHeaders,
    IReadOnlyList<EgressStub> Stubs,
    IReadOnlyList<ExpectedFetch>? ExpectFetches);

/// <summary>
/// The fixtures file of <c>invoke --fixtures</c> (documented in docs/getting-started.md):
/// <code>
/// { "config": {...}, "kv": {...}, "stubs": [...],
///   "tests": [ { "name": "...",
///                "request": { "method": "GET", "path": "/hello/Ada", "headers": {...}, "body": "text" or JSON, "config": {...}, "kv": {...} },
///                "stubs": [ { "name": "...", "method": "GET", "url": "https://..." or "urlPrefix": "https://...",
///                             "response": { "status": 200, "headers": {...}, "body": "text" or JSON }, "delayMs": 0 } ],
///                "expect": { "status": 200, "body": "exact text" or JSON, "bodyContains": "...", "headers": {...},
///                            "fetches": [ { "method": "POST", "url": "https://...", "body": ..., "bodyContains": "...", "headers": {...} } ] } } ] }
/// </code>
/// Top-level <c>config</c> applies to every test (a test's own keys win); <c>kv</c> entries are written before the test runs.
/// Stubs answer <c>http_fetch</c> in place of the network (a test's own stubs are tried before the shared ones, first match
/// wins); <c>expect.fetches</c> lists every request that got past the egress policy, in order.
/// Tests run in order against one install, so KV written by one test is seen by the next.
/// </summary>
internal static class FixtureFile
{
    public static IReadOnlyList<Fixture> Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new CliException($"fixtures file {path} does not exist");
        }

        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            throw new CliException($"{path} is not valid JSON: {ex.Message}");
        }

        if (root is not JsonObject file || file["tests"] is not JsonArray tests)
        {
            throw new CliException($"{path} must be an object with a \"tests\" array");
        }

        var sharedConfig = Pairs(file["config"], $"{path}: config", AsJsonText);
        var sharedKv = Pairs(file["kv"], $"{path}: kv", AsBytes);
        var sharedStubs = Stubs(file["stubs"], $"{path}: stubs");
        var fixtures = new List<Fixture>();
        for (var i = 0; i < tests.Count; i++)
        {
            var where = $"{path}: tests[{i}]";
            if (tests[i] is not JsonObject test || test["request"] is not JsonObject request)
            {
                throw new CliException($"{where} must be an object with a \"request\" object");
            }

            var method = Text(request["method"], $"{where}.request.method") ?? "GET";
            var requestPath = Text(request["path"], $"{where}.request.path") ?? throw new CliException($"{where}.request.path is required");
            if (!requestPath.StartsWith('/'))
            {
                throw new CliException($"{where}.request.path must start with '/' (the path after /api/ext/{{id}})");
            }

            var expect = test["expect"] as JsonObject ?? (test["expect"] is null ? [] : throw new CliException($"{where}.expect must be an object"));
            var config = sharedConfig.Where(c => request["config"] is not JsonObject own || !own.ContainsKey(c.Key))
                .Concat(Pairs(request["config"], $"{where}.request.config", AsJsonText)).ToList();
            fixtures.Add(new Fixture(
                Text(test["name"], $"{where}.name") ?? $"{method.ToUpperInvariant()} {requestPath}",
                method.ToUpperInvariant(),
                requestPath,
                Headers(request["headers"], $"{where}.request.headers"),
                BodyBytes(request["body"]),
                config,
                (i == 0 ? sharedKv : []).Concat(Pairs(request["kv"], $"{where}.request.kv", AsBytes)).ToList(),
                expect["status"] is { } status ? Status(status, $"{where}.expect.status") : null,
                expect["body"]?.DeepClone(),
                Text(expect["bodyContains"], $"{where}.expect.bodyContains"),
                Headers(expect["headers"], $"{where}.expect.headers"),
                [.. Stubs(test["stubs"], $"{where}.stubs"), .. sharedStubs],
                expect["fetches"] switch
                {
                    null => null,
                    JsonArray list => [.. list.Select((f, n) => ExpectedFetch.Parse(f, $"{where}.expect.fetches[{n}]"))],
                    _ => throw new CliException($"{where}.expect.fetches must be an array"),
                }));
        }

        return fixtures;
    }

    /// <summary>Checks a response against a fixture; returns one line per mismatch (none = pass).</summary>
    public static List<string> Check(Fixture fixture, int status, IReadOnlyList<KeyValuePair<string, string>> headers, byte[] body)
    {
        var problems = new List<string>();
        if (fixture.ExpectStatus is { } expected && expected != status)
        {
            problems.Add($"status: expected {expected}, got {status}");
        }

        foreach (var (name, value) in fixture.ExpectHeaders)
        {
            var actual = headers.Where(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).ToList();
            if (!actual.Contains(value, StringComparer.Ordinal))
            {
                problems.Add(actual.Count == 0 ? $"header {name}: expected '{value}', missing" : $"header {name}: expected '{value}', got '{string.Join("', '", actual)}'");
            }
        }

        problems.AddRange(BodyMismatches(fixture.ExpectBody, fixture.ExpectBodyContains, body));
        return problems;
    }

    /// <summary>Checks what the guest's fetches were against <c>expect.fetches</c> and flags requests no stub answered.</summary>
    public static IEnumerable<string> CheckFetches(Fixture fixture, IReadOnlyList<StubbedFetch> fetches)
    {
        foreach (var missed in fetches.Where(f => f.Stub is null))
        {
            yield return $"http_fetch {missed.Method} {missed.Url} matched no stub; add one to the fixtures file (invoke never reaches the network)";
        }

        if (fixture.ExpectFetches is not { } expected)
        {
            yield break;
        }

        for (var i = 0; i < Math.Min(expected.Count, fetches.Count); i++)
        {
            foreach (var problem in expected[i].Compare(fetches[i], i))
            {
                yield return problem;
            }
        }

        if (expected.Count != fetches.Count)
        {
            yield return $"fetches: expected {expected.Count} request(s) past the egress policy, got {fetches.Count}";
        }
    }

    /// <summary>A body against an expected exact text or JSON value and/or a part it must contain.</summary>
    public static IEnumerable<string> BodyMismatches(JsonNode? expected, string? contains, byte[] body)
    {
        var text = Encoding.UTF8.GetString(body);
        if (contains is { } part && !text.Contains(part, StringComparison.Ordinal))
        {
            yield return $"body: expected to contain '{part}', got '{Clip(text)}'";
        }

        switch (expected)
        {
            case null:
                break;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                if (!string.Equals(v.GetValue<string>(), text, StringComparison.Ordinal))
                {
                    yield return $"body: expected '{Clip(v.GetValue<string>())}', got '{Clip(text)}'";
                }

                break;
            case var json:
                JsonNode? actualJson = null;
                try
                {
                    actualJson = JsonNode.Parse(body);
                }
                catch (JsonException)
                {
                }

                if (!JsonNode.DeepEquals(json, actualJson))
                {
                    yield return $"body: expected JSON {Clip(json.ToJsonString())}, got '{Clip(text)}'";
                }

                break;
        }
    }

    /// <summary>A body in a fixtures file: a string is its UTF-8 bytes, anything else its JSON text.</summary>
    public static byte[] BodyBytes(JsonNode? node) => node switch
    {
        null => [],
        JsonValue v when v.GetValueKind() == JsonValueKind.String => Encoding.UTF8.GetBytes(v.GetValue<string>()),
        var json => Encoding.UTF8.GetBytes(json.ToJsonString()),
    };

    public static List<KeyValuePair<string, string>> Headers(JsonNode? node, string where) => Pairs(node, where, v => Text(v, where) ?? "");

    private static List<EgressStub> Stubs(JsonNode? node, string where) => node switch
    {
        null => [],
        JsonArray list => [.. list.Select((s, i) => EgressStub.Parse(s, $"{where}[{i}]"))],
        _ => throw new CliException($"{where} must be an array"),
    };

    private static string Clip(string value) => value.Length <= 200 ? value : value[..200] + "…";

    public static int Status(JsonNode node, string where) =>
        node is JsonValue v && v.TryGetValue<int>(out var status) && status is >= 100 and <= 599 ? status : throw new CliException($"{where} must be an HTTP status (100-599)");

    public static string? Text(JsonNode? node, string where) => node switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => throw new CliException($"{where} must be a string"),
    };

    private static List<KeyValuePair<string, T>> Pairs<T>(JsonNode? node, string where, Func<JsonNode?, T> value) => node switch
    {
        null => [],
        JsonObject o => o.Select(p => new KeyValuePair<string, T>(p.Key, value(p.Value))).ToList(),
        _ => throw new CliException($"{where} must be an object"),
    };

    /// <summary>Config values are JSON text, exactly what <c>config_get</c> returns.</summary>
    private static string AsJsonText(JsonNode? value) => value?.ToJsonString() ?? "null";

    /// <summary>A KV value: a string is stored as its UTF-8 bytes, anything else as its JSON text.</summary>
    private static byte[] AsBytes(JsonNode? value) => value is JsonValue v && v.GetValueKind() == JsonValueKind.String
        ? Encoding.UTF8.GetBytes(v.GetValue<string>())
        : Encoding.UTF8.GetBytes(value?.ToJsonString() ?? "null");
}
