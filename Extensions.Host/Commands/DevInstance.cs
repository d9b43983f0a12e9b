using System.Diagnostics;
using System.Text.Json;
using Extensions.Modules.Bundles;

namespace Extensions.Host.Commands;

/// <summary>
/// The local instance <c>dev</c> publishes to: one already running on the dev data directory (a previous or parallel
/// <c>dev</c> started it), or a <c>serve</c> child started here and stopped when <c>dev</c> ends. The dev key is trusted in
/// that data directory's trust bundle only, so no other instance accepts what <c>dev</c> signs.
/// </summary>
internal sealed class DevInstance : IAsyncDisposable
{
    private const string StateFile = "dev-instance.json";
    private readonly Process? _process;
    private readonly string _dataDirectory;

    private DevInstance(Uri console, Uri assets, string dataDirectory, Process? process)
    {
        Console = console;
        Assets = assets;
        _dataDirectory = dataDirectory;
        _process = process;
    }

    public Uri Console { get; }

    public Uri Assets { get; }

    /// <summary>True when this <c>dev</c> started the instance (and so stops it).</summary>
    public bool Owned => _process is not null;

    public string AdminKeyFile => Path.Combine(_dataDirectory, "admin.key");

    /// <summary>Exits with the instance's exit code when a started instance dies under us.</summary>
    public Task Exited => _process?.WaitForExitAsync() ?? Task.Delay(Timeout.Infinite);

    public static async Task<DevInstance> ConnectOrStartAsync(string dataDirectory, int port, int assetPort, Action<string> say, CancellationToken ct)
    {
        Directory.CreateDirectory(dataDirectory);
        var state = Path.Combine(dataDirectory, StateFile);
        if (File.Exists(state) && await ReadStateAsync(state, ct) is { } known && await IsHealthyAsync(known.Console, ct))
        {
            say($"using the dev instance already running at {known.Console} (data {dataDirectory})");
            return new DevInstance(known.Console, known.Assets, dataDirectory, null);
        }

        say($"starting a dev instance (data {dataDirectory}, log {Path.Combine(dataDirectory, "dev-serve.log")})");
        var info = Self(["serve", "--data", dataDirectory, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--asset-port", assetPort.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        var process = Process.Start(info) ?? throw new CliException("could not start the dev instance");
        var log = new StreamWriter(Path.Combine(dataDirectory, "dev-serve.log"), append: false) { AutoFlush = true };
        var logLock = new Lock();
        void Log(string line)
        {
            lock (logLock)
            {
                log.WriteLine(line);
            }
        }

        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Log(e.Data); };
        process.BeginErrorReadLine();
        Uri? console = null, assets = null;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(90));
        try
        {
            while ((console is null || assets is null) && await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                Log(line);
                if (line.StartsWith("console: ", StringComparison.Ordinal)) console = new Uri(line["console: ".Length..]);
                if (line.StartsWith("assets: ", StringComparison.Ordinal)) assets = new Uri(line["assets: ".Length..]);
            }
        }
        catch (OperationCanceledException)
        {
            // Falls through to the check below, which stops the child.
        }

        if (console is null || assets is null)
        {
            await StopAsync(process);
            log.Dispose();
            ct.ThrowIfCancellationRequested();
            throw new CliException($"the dev instance did not start; see {Path.Combine(dataDirectory, "dev-serve.log")}");
        }

        // Keep draining stdout into the log so the child never blocks on a full pipe.
        _ = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync(CancellationToken.None) is { } line)
            {
                Log(line);
            }
        }, CancellationToken.None);
        await File.WriteAllTextAsync(state, JsonSerializer.Serialize(new { console = console.ToString(), assets = assets.ToString(), pid = process.Id }), ct);
        return new DevInstance(console, assets, dataDirectory, process);
    }

    /// <summary>Trusts the dev key for <paramref name="publisher"/> in this instance's trust bundle (read again on change).</summary>
    public void Trust(string publisher, PublisherKey key)
    {
        var path = Path.Combine(_dataDirectory, "trust.json");
        var bundle = TrustBundle.Load(path);
        var updated = bundle.WithKey(publisher, key.PublicKeyRaw);
        if (!ReferenceEquals(updated, bundle))
        {
            updated.Save(path);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is null)
        {
            return;
        }

        File.Delete(Path.Combine(_dataDirectory, StateFile));
        await StopAsync(_process);
        _process.Dispose();
    }

    /// <summary>SIGTERM first, so the instance stops its workers and closes the database cleanly; a kill if it hangs.</summary>
    private static async Task StopAsync(Process process)
    {
        if (process.HasExited)
        {
            return;
        }

        try
        {
            if (OperatingSystem.IsWindows())
            {
                process.Kill(entireProcessTree: true);
            }
            else
            {
                using var term = Process.Start(new ProcessStartInfo("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false });
                await term!.WaitForExitAsync();
            }

            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await process.WaitForExitAsync(grace.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            process.Kill(entireProcessTree: true);
        }
    }

    /// <summary>This same program with other arguments, whether it runs as the apphost or as <c>dotnet Extensions.Host.dll</c>.</summary>
    private static ProcessStartInfo Self(IEnumerable<string> args)
    {
        var processPath = Environment.ProcessPath ?? throw new CliException("cannot tell which program is running");
        var info = new ProcessStartInfo(processPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(processPath).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Extensions.Host.dll"));
        }

        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return info;
    }

    private static async Task<(Uri Console, Uri Assets)?> ReadStateAsync(string path, CancellationToken ct)
    {
        try
        {
            using var doc = JsonDocument.Parse(await File.ReadAllTextAsync(path, ct));
            return (new Uri(doc.RootElement.GetProperty("console").GetString()!), new Uri(doc.RootElement.GetProperty("assets").GetString()!));
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or UriFormatException or InvalidOperationException or ArgumentNullException)
        {
            return null;
        }
    }

    private static async Task<bool> IsHealthyAsync(Uri console, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            using var response = await http.GetAsync(new Uri(console, "/healthz"), ct);
            return response.IsSuccessStatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }
}
