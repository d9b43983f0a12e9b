using System.Net.Sockets;
using System.Text;

namespace Extensions.Tests.Support;

/// <summary>A response read off the wire.</summary>
internal sealed record RawResponse(int Status, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string Text => Encoding.UTF8.GetString(Body);

    public string? Header(string name) => Headers.TryGetValue(name, out var v) ? v : null;
}

/// <summary>
/// HTTP/1.1 over a plain socket, so that a test sends exactly the request target it means (HttpClient normalises dot segments and
/// escapes) and any Host header: clients connect to 127.0.0.1 and name the per-extension origin in Host.
/// </summary>
internal static class RawTargetHttp
{
    public static async Task<RawResponse> SendAsync(Uri server, string method, string target, string host, IEnumerable<(string Name, string Value)>? headers = null)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", server.Port);
        await using var stream = client.GetStream();
        var request = new StringBuilder($"{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
        foreach (var (name, value) in headers ?? [])
        {
            request.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        await stream.WriteAsync(Encoding.Latin1.GetBytes(request.Append("\r\n").ToString()));
        using var buffer = new MemoryStream();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await stream.CopyToAsync(buffer, timeout.Token);
        return Parse(buffer.ToArray(), method == "HEAD");
    }

    private static RawResponse Parse(byte[] bytes, bool head)
    {
        var end = bytes.AsSpan().IndexOf("\r\n\r\n"u8);
        var headText = Encoding.Latin1.GetString(bytes, 0, end);
        var lines = headText.Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var name = line[..colon];
            var value = line[(colon + 1)..].Trim();
            headers[name] = headers.TryGetValue(name, out var existing) ? existing + ", " + value : value;
        }

        var body = bytes[(end + 4)..];
        if (!head && headers.TryGetValue("Transfer-Encoding", out var te) && te.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            body = Dechunk(body);
        }

        return new RawResponse(status, headers, body);
    }

    private static byte[] Dechunk(byte[] body)
    {
        using var output = new MemoryStream();
        var i = 0;
        while (true)
        {
            var lineEnd = body.AsSpan(i).IndexOf("\r\n"u8) + i;
            var size = Convert.ToInt32(Encoding.ASCII.GetString(body, i, lineEnd - i).Split(';')[0], 16);
            if (size == 0) break;
            output.Write(body, lineEnd + 2, size);
            i = lineEnd + 2 + size + 2;
        }

        return output.ToArray();
    }
}
