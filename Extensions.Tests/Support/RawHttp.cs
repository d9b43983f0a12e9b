using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Extensions.Tests.Support;

/// <summary>HTTP/1.1 over a plain socket, for requests HttpClient would tidy up (dot segments, odd headers, slow bodies).</summary>
internal static class RawHttp
{
    public sealed record Response(int Status, IReadOnlyDictionary<string, string> Headers, string Body);

    /// <summary>Sends <paramref name="head"/> (request line and headers, without the blank line) plus
    /// <c>Host</c> and <c>Connection: close</c>, then the body, and reads the whole response.</summary>
    public static async Task<Response> SendAsync(Uri server, string head, byte[]? body = null)
    {
        using var socket = new TcpClient();
        await socket.ConnectAsync(server.Host, server.Port);
        await using var stream = socket.GetStream();
        var text = $"{head}\r\nHost: {server.Authority}\r\nConnection: close\r\n\r\n";
        try
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(text));
            if (body is not null)
            {
                await stream.WriteAsync(body);
            }
        }
        catch (IOException)
        {
            // The server may answer and close before it has read everything we meant to send; its answer is what counts.
        }

        return await ReadAsync(stream);
    }

    public static async Task<Response> ReadAsync(Stream stream)
    {
        using var buffer = new MemoryStream();
        try
        {
            await stream.CopyToAsync(buffer);
        }
        catch (IOException) when (buffer.Length > 0)
        {
            // A reset after the response arrived.
        }

        return Parse(Encoding.UTF8.GetString(buffer.ToArray()));
    }

    public static Response Parse(string response)
    {
        var split = response.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var head = split < 0 ? response : response[..split];
        var lines = head.Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], CultureInfo.InvariantCulture);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                var name = line[..colon].Trim();
                var value = line[(colon + 1)..].Trim();
                headers[name] = headers.TryGetValue(name, out var existing) ? existing + ", " + value : value;
            }
        }

        return new Response(status, headers, split < 0 ? "" : response[(split + 4)..]);
    }
}
