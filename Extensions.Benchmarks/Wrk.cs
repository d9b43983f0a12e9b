using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Extensions.Benchmarks;

/// <summary>
/// Load from a second process: `wrk` (Debian package `wrk`) run against one path, its summary parsed into the same
/// result as the in-process generator's. With it, the host's CPU per request is the server's alone.
/// </summary>
internal static partial class Wrk
{
    public static bool Available => Find() is not null;

    public static async Task<LoadGenerator.Result> RunAsync(Uri server, string path, string? bearer, int connections, TimeSpan duration)
    {
        var wrk = Find() ?? throw new InvalidOperationException("wrk is not installed (apt-get install wrk)");
        var start = new ProcessStartInfo(wrk) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[]
                 {
                     "-t", Math.Min(connections, Environment.ProcessorCount).ToString(CultureInfo.InvariantCulture),
                     "-c", connections.ToString(CultureInfo.InvariantCulture),
                     "-d", $"{Math.Max(1, (int)duration.TotalSeconds)}s",
                     "--latency",
                 })
        {
            start.ArgumentList.Add(arg);
        }

        if (bearer is not null)
        {
            start.ArgumentList.Add("-H");
            start.ArgumentList.Add($"Authorization: Bearer {bearer}");
        }

        start.ArgumentList.Add(new Uri(server, path).ToString());
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"wrk exited with {process.ExitCode}: {errors}{output}");
        }

        return Parse(output, connections);
    }

    /// <summary>Reads wrk's `--latency` summary: the 50% and 99% lines, "N requests in Ts", and any non-2xx or socket errors.</summary>
    internal static LoadGenerator.Result Parse(string output, int connections)
    {
        var total = RequestsLine().Match(output);
        if (!total.Success)
        {
            throw new FormatException($"wrk printed no request count:\n{output}");
        }

        var requests = long.Parse(total.Groups[1].Value, CultureInfo.InvariantCulture);
        var seconds = Duration(total.Groups[2].Value, total.Groups[3].Value) / 1000;
        long errors = 0;
        if (NonSuccessLine().Match(output) is { Success: true } bad)
        {
            errors += long.Parse(bad.Groups[1].Value, CultureInfo.InvariantCulture);
        }

        if (SocketErrorsLine().Match(output) is { Success: true } socket)
        {
            errors += Enumerable.Range(1, 4).Sum(g => long.Parse(socket.Groups[g].Value, CultureInfo.InvariantCulture));
        }

        return new LoadGenerator.Result(connections, requests, errors, seconds, Percentile(output, "50"), Percentile(output, "99"));
    }

    private static double Percentile(string output, string q)
    {
        var line = Regex.Match(output, $@"^\s+{q}(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline);
        return line.Success ? Duration(line.Groups[1].Value, line.Groups[2].Value) : double.NaN;
    }

    /// <summary>A wrk duration in milliseconds.</summary>
    private static double Duration(string value, string unit) =>
        double.Parse(value, CultureInfo.InvariantCulture) * unit switch { "us" => 0.001, "ms" => 1, "s" => 1000, "m" => 60_000, _ => double.NaN };

    private static string? Find() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(dir => Path.Combine(dir, "wrk")).FirstOrDefault(File.Exists);

    [GeneratedRegex(@"(\d+) requests in ([\d.]+)(us|ms|s|m),")]
    private static partial Regex RequestsLine();

    [GeneratedRegex(@"Non-2xx or 3xx responses: (\d+)")]
    private static partial Regex NonSuccessLine();

    [GeneratedRegex(@"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")]
    private static partial Regex SocketErrorsLine();
}
