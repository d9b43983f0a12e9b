using Extensions.Modules.Bundles;
using Extensions.Modules.Runner.Contracts;

namespace Extensions.Modules.Gateway;

/// <summary>Matches a request to a manifest endpoint: method (HEAD as GET) and literal or <c>:param</c> segments, exact length.</summary>
internal static class EndpointMatcher
{
    public static (EndpointSpec Endpoint, List<KeyValuePair<string, string>> Params)? Match(
        IReadOnlyList<EndpointSpec> endpoints, string method, IReadOnlyList<string> segments)
    {
        var effective = method == "HEAD" ? "GET" : method;
        foreach (var endpoint in endpoints)
        {
            if (string.Equals(endpoint.Method, effective, StringComparison.OrdinalIgnoreCase) && MatchPath(endpoint, segments) is { } parameters)
            {
                return (endpoint, parameters);
            }
        }

        return null;
    }

    /// <summary>The methods declared for a path (HEAD wherever GET is), for <c>Allow</c>; empty when the path is not declared.</summary>
    public static List<string> MethodsFor(IReadOnlyList<EndpointSpec> endpoints, IReadOnlyList<string> segments)
    {
        var methods = new List<string>();
        foreach (var endpoint in endpoints)
        {
            if (MatchPath(endpoint, segments) is not null)
            {
                var method = endpoint.Method.ToUpperInvariant();
                methods.Add(method);
                if (method == "GET")
                {
                    methods.Add("HEAD");
                }
            }
        }

        return [.. methods.Distinct(StringComparer.Ordinal)];
    }

    private static List<KeyValuePair<string, string>>? MatchPath(EndpointSpec endpoint, IReadOnlyList<string> segments)
    {
        // Walked in place: this runs for every declared endpoint on every call, and splitting allocated each time.
        var pattern = endpoint.Path.AsSpan();
        var parameters = new List<KeyValuePair<string, string>>();
        var i = 0;
        foreach (var range in pattern.Split('/'))
        {
            var part = pattern[range];
            if (part.IsEmpty)
            {
                continue;
            }

            if (i >= segments.Count)
            {
                return null;
            }

            if (part[0] == ':')
            {
                parameters.Add(new(part[1..].ToString(), segments[i]));
            }
            else if (!part.SequenceEqual(segments[i]))
            {
                return null;
            }

            i++;
        }

        return i == segments.Count ? parameters : null;
    }

    /// <summary>The endpoint's own limits, else the manifest's, clamped to the operator's caps by the runner.</summary>
    public static InvocationLimits LimitsFor(IExtensionRunner runner, ExtensionManifest manifest, EndpointSpec endpoint) =>
        runner.LimitsFor(
            endpoint.Limits?.FuelPerRequest ?? manifest.Limits.FuelPerRequest,
            endpoint.Limits?.MemoryMb ?? manifest.Limits.MemoryMb,
            endpoint.Limits?.TimeoutMs ?? manifest.Limits.TimeoutMs);

    /// <summary>Splits and percent-decodes the raw path. Segments that decode to <c>.</c>, <c>..</c> or contain a slash
    /// or NUL are refused rather than reinterpreted.</summary>
    public static List<string>? Segments(string rawPath)
    {
        var segments = new List<string>();
        foreach (var raw in rawPath.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            string decoded;
            try
            {
                decoded = Uri.UnescapeDataString(raw);
            }
            catch (UriFormatException)
            {
                return null;
            }

            if (decoded is "." or ".." || decoded.Contains('/') || decoded.Contains('\\') || decoded.Contains('\0'))
            {
                return null;
            }

            segments.Add(decoded);
        }

        return segments;
    }
}
