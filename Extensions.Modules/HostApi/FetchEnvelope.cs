using System.Text.Json;

namespace Extensions.Modules.HostApi;

/// <summary>A guest's <c>http_fetch</c> request, parsed from its envelope.</summary>
internal sealed record FetchRequest(string Method, string Url, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[] Body);

/// <summary>
/// The <c>http_fetch</c> envelopes (<c>docs/abi.md</c>, "http_fetch"): one line of compact JSON, <c>\n</c>, then raw body
/// bytes. Request: <c>{"method":"GET","url":"https://...","headers":[["k","v"],...]}</c>; response:
/// <c>{"status":200,"headers":[["k","v"],...]}</c>. Bodies are never encoded.
/// </summary>
internal static class FetchEnvelope
{
    /// <returns><c>null</c> when the envelope is malformed (the guest gets -3).</returns>
    public static FetchRequest? ParseRequest(byte[] envelope)
    {
        var newline = Array.IndexOf(envelope, (byte)'\n');
        var line = newline < 0 ? envelope : envelope.AsSpan(0, newline).ToArray();
        var body = newline < 0 ? [] : envelope[(newline + 1)..];
        try
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("url", out var url) || url.ValueKind != JsonValueKind.String)
            {
                return null;
            }

            var method = "GET";
            if (root.TryGetProperty("method", out var m))
            {
                if (m.ValueKind != JsonValueKind.String)
                {
                    return null;
                }

                method = m.GetString()!.ToUpperInvariant();
            }

            var headers = new List<KeyValuePair<string, string>>();
            if (root.TryGetProperty("headers", out var list))
            {
                if (list.ValueKind != JsonValueKind.Array)
                {
                    return null;
                }

                foreach (var pair in list.EnumerateArray())
                {
                    if (pair.ValueKind != JsonValueKind.Array || pair.GetArrayLength() != 2
                        || pair[0].ValueKind != JsonValueKind.String || pair[1].ValueKind != JsonValueKind.String)
                    {
                        return null;
                    }

                    headers.Add(new(pair[0].GetString()!, pair[1].GetString()!));
                }
            }

            return new FetchRequest(method, url.GetString()!, headers, body);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static byte[] WriteResponse(int status, IEnumerable<KeyValuePair<string, string>> headers, byte[] body)
    {
        using var buffer = new MemoryStream(body.Length + 256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("status", status);
            json.WriteStartArray("headers");
            foreach (var (name, value) in headers)
            {
                json.WriteStartArray();
                json.WriteStringValue(name);
                json.WriteStringValue(value);
                json.WriteEndArray();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        buffer.Write(body);
        return buffer.ToArray();
    }

    /// <summary>An HTTP token (RFC 9110 §5.6.2): what a header name may be.</summary>
    public static bool IsToken(string value) =>
        value.Length > 0 && value.All(c => c < 128 && (char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c)));

    /// <summary>No line breaks or NULs: a value that cannot split into a second header.</summary>
    public static bool IsHeaderValue(string value) => !value.Any(c => c is '\r' or '\n' or '\0');
}
