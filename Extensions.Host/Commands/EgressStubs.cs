using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;

namespace Extensions.Host.Commands;

/// <summary>One canned answer for <c>http_fetch</c>: a method (or any) and an exact URL or a URL prefix.</summary>
internal sealed record EgressStub(
    string Name,
    string? Method,
    string? Url,
    string? UrlPrefix,
    int Status,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    byte[] Body,
    int DelayMs)
{
    public bool Matches(string method, string url) =>
        (Method is null || string.Equals(Method, method, StringComparison.Ordinal))
        && (Url is not null ? string.Equals(Url, url, StringComparison.Ordinal) : url.StartsWith(UrlPrefix!, StringComparison.Ordinal));

    /// <summary>Reads one entry of a fixtures file's <c>stubs</c> array.</summary>
    public static EgressStub Parse(JsonNode? node, string where)
    {
        if (node is not JsonObject stub)
        {
            throw new CliException($"{where} must be an object");
        }

        var url = NormalUrl(stub["url"], $"{where}.url");
        var prefix = NormalUrl(stub["urlPrefix"], $"{where}.urlPrefix");
        if ((url is null) == (prefix is null))
        {
            throw new CliException($"{where} needs exactly one of \"url\" and \"urlPrefix\"");
        }

        var method = stub["method"] is null ? null : FixtureFile.Text(stub["method"], $"{where}.method")!.ToUpperInvariant();
        var response = stub["response"] as JsonObject ?? (stub["response"] is null ? [] : throw new CliException($"{where}.response must be an object"));
        var delay = stub["delayMs"] is null ? 0
            : stub["delayMs"] is JsonValue d && d.TryGetValue<int>(out var ms) && ms is >= 0 and <= 600_000 ? ms
            : throw new CliException($"{where}.delayMs must be a number of milliseconds (0-600000)");
        return new EgressStub(
            FixtureFile.Text(stub["name"], $"{where}.name") ?? $"{method ?? "*"} {url ?? prefix + "*"}",
            method,
            url,
            prefix,
            response["status"] is { } status ? FixtureFile.Status(status, $"{where}.response.status") : 200,
            FixtureFile.Headers(response["headers"], $"{where}.response.headers"),
            FixtureFile.BodyBytes(response["body"]),
            delay);
    }

    /// <summary>URLs compare in the form <see cref="Uri"/> gives them, as the fetcher sends them (<c>https://a.com</c> = <c>https://a.com/</c>).</summary>
    private static string? NormalUrl(JsonNode? node, string where)
    {
        if (FixtureFile.Text(node, where) is not { } text)
        {
            return null;
        }

        return Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri.AbsoluteUri
            : throw new CliException($"{where} must be an absolute http or https URL");
    }
}

/// <summary>A request that reached the stub map, and the stub that answered it (<c>null</c>: none matched).</summary>
internal sealed record StubbedFetch(string Method, string Url, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[] Body, EgressStub? Stub);

/// <summary>
/// What <c>invoke --fixtures</c> puts where the network would be under <c>http_fetch</c>. The host's fetcher runs every
/// check first (consented hosts, address literals, redirects, caps), so only requests production would send get here; a
/// request no stub matches fails as a connection error would, and is reported by the fixture run. Nothing leaves the machine.
/// </summary>
internal sealed class EgressStubHandler : HttpMessageHandler
{
    private readonly Lock _gate = new();
    private readonly List<StubbedFetch> _seen = [];
    private IReadOnlyList<EgressStub> _stubs = [];

    /// <summary>Sets the stubs of the next fixture and forgets what the last one fetched.</summary>
    public void Reset(IReadOnlyList<EgressStub> stubs)
    {
        lock (_gate)
        {
            _stubs = stubs;
            _seen.Clear();
        }
    }

    /// <summary>The requests of the current fixture, in the order they were sent.</summary>
    public IReadOnlyList<StubbedFetch> Seen
    {
        get
        {
            lock (_gate)
            {
                return [.. _seen];
            }
        }
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var method = request.Method.Method;
        var url = request.RequestUri!.AbsoluteUri;
        var body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        var headers = request.Headers.Concat(request.Content?.Headers ?? Enumerable.Empty<KeyValuePair<string, IEnumerable<string>>>())
            .SelectMany(h => h.Value.Select(v => new KeyValuePair<string, string>(h.Key.ToLowerInvariant(), v))).ToList();
        EgressStub? stub;
        lock (_gate)
        {
            stub = _stubs.FirstOrDefault(s => s.Matches(method, url));
            _seen.Add(new StubbedFetch(method, url, headers, body, stub));
        }

        if (stub is null)
        {
            throw new HttpRequestException($"no egress stub matches {method} {url}");
        }

        if (stub.DelayMs > 0)
        {
            await Task.Delay(stub.DelayMs, cancellationToken);
        }

        var response = new HttpResponseMessage((HttpStatusCode)stub.Status) { RequestMessage = request, Content = new ByteArrayContent(stub.Body) };
        foreach (var (name, value) in stub.Headers)
        {
            if (!response.Headers.TryAddWithoutValidation(name, value))
            {
                response.Content.Headers.TryAddWithoutValidation(name, value);
            }
        }

        return response;
    }
}

/// <summary>An outgoing request a fixture expects, in <c>expect.fetches</c>.</summary>
internal sealed record ExpectedFetch(string Method, string Url, JsonNode? Body, string? BodyContains, IReadOnlyList<KeyValuePair<string, string>> Headers)
{
    public static ExpectedFetch Parse(JsonNode? node, string where)
    {
        if (node is not JsonObject fetch)
        {
            throw new CliException($"{where} must be an object");
        }

        var url = FixtureFile.Text(fetch["url"], $"{where}.url") ?? throw new CliException($"{where}.url is required");
        return new ExpectedFetch(
            (FixtureFile.Text(fetch["method"], $"{where}.method") ?? "GET").ToUpperInvariant(),
            Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.AbsoluteUri : throw new CliException($"{where}.url must be an absolute URL"),
            fetch["body"]?.DeepClone(),
            FixtureFile.Text(fetch["bodyContains"], $"{where}.bodyContains"),
            FixtureFile.Headers(fetch["headers"], $"{where}.headers"));
    }

    /// <summary>One line per difference between what was expected and what the guest sent.</summary>
    public IEnumerable<string> Compare(StubbedFetch actual, int index)
    {
        var label = $"fetch {index + 1}";
        if (actual.Method != Method || actual.Url != Url)
        {
            yield return $"{label}: expected {Method} {Url}, got {actual.Method} {actual.Url}";
        }

        foreach (var (name, value) in Headers)
        {
            var sent = actual.Headers.Where(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).ToList();
            if (!sent.Contains(value, StringComparer.Ordinal))
            {
                yield return $"{label}: header {name}: expected '{value}', {(sent.Count == 0 ? "missing" : $"got '{string.Join("', '", sent)}'")}";
            }
        }

        foreach (var mismatch in FixtureFile.BodyMismatches(Body, BodyContains, actual.Body))
        {
            yield return $"{label}: {mismatch}";
        }
    }
}

internal static class StubReport
{
    /// <summary>One line per request that reached the stub map, e.g. <c>GET https://example.com/ -> stub 'home' (200)</c>.</summary>
    public static string Describe(StubbedFetch fetch) => fetch.Stub is { } stub
        ? string.Create(CultureInfo.InvariantCulture, $"fetch {fetch.Method} {fetch.Url} -> stub '{stub.Name}' ({stub.Status})")
        : $"fetch {fetch.Method} {fetch.Url} -> no stub matched (the guest got a failed fetch; invoke never reaches the network)";
}
