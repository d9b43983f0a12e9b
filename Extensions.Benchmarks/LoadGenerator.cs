using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Extensions.Benchmarks;

/// <summary>
/// A small closed-loop HTTP/1.1 load generator over raw keep-alive sockets: each connection sends one request, reads the
/// whole response, records the latency, and repeats. Cheap enough to share the machine with the server it measures.
/// </summary>
internal static class LoadGenerator
{
    public sealed record Result(int Connections, long Requests, long Errors, double Seconds, double P50Ms, double P99Ms)
    {
        public double Rps => Requests / Seconds;
    }

    public static async Task<Result> RunAsync(Uri server, string path, string? bearer, int connections, TimeSpan duration)
    {
        var request = Encoding.ASCII.GetBytes(
            $"GET {path} HTTP/1.1\r\nHost: {server.Authority}\r\n" + (bearer is null ? "" : $"Authorization: Bearer {bearer}\r\n") + "\r\n");
        var stop = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var started = Stopwatch.GetTimestamp();
        var runs = await Task.WhenAll(Enumerable.Range(0, connections).Select(_ => Task.Run(() => ConnectionAsync(server, request, stop))));
        var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var latencies = runs.SelectMany(r => r.Latencies).Order().ToArray();
        return new Result(connections, latencies.Length, runs.Sum(r => r.Errors), elapsed, Percentile(latencies, 0.50), Percentile(latencies, 0.99));
    }

    private static double Percentile(long[] sortedTicks, double q) =>
        sortedTicks.Length == 0 ? double.NaN : sortedTicks[Math.Min(sortedTicks.Length - 1, (int)(q * sortedTicks.Length))] * 1000.0 / Stopwatch.Frequency;

    private static async Task<(List<long> Latencies, long Errors)> ConnectionAsync(Uri server, byte[] request, long stop)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(server.Host, server.Port);
        var latencies = new List<long>(100_000);
        long errors = 0;
        var buffer = new byte[64 * 1024];
        while (Stopwatch.GetTimestamp() < stop)
        {
            var sent = Stopwatch.GetTimestamp();
            await socket.SendAsync(request, SocketFlags.None);
            var status = await ReadResponseAsync(socket, buffer);
            latencies.Add(Stopwatch.GetTimestamp() - sent);
            if (status != 200)
            {
                errors++;
            }
        }

        return (latencies, errors);
    }

    /// <summary>Reads one response (headers + Content-Length body) and returns its status code.</summary>
    private static async Task<int> ReadResponseAsync(Socket socket, byte[] buffer)
    {
        var filled = 0;
        while (true)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None);
            if (n == 0)
            {
                throw new IOException("server closed the connection");
            }

            filled += n;
            var headerEnd = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8);
            if (headerEnd < 0)
            {
                continue;
            }

            var headers = Encoding.ASCII.GetString(buffer, 0, headerEnd);
            var length = 0;
            foreach (var line in headers.Split("\r\n"))
            {
                if (line.StartsWith("content-length:", StringComparison.OrdinalIgnoreCase))
                {
                    length = int.Parse(line.AsSpan(15).Trim(), System.Globalization.CultureInfo.InvariantCulture);
                }
            }

            while (filled < headerEnd + 4 + length)
            {
                var more = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None);
                if (more == 0)
                {
                    throw new IOException("server closed the connection mid-body");
                }

                filled += more;
            }

            return int.Parse(headers.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
