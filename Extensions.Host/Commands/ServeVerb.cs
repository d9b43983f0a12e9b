using System.CommandLine;
using Microsoft.Extensions.Options;

namespace Extensions.Host.Commands;

internal static class ServeVerb
{
    public static Command Create()
    {
        var data = new Option<string?>("--data") { Description = "Data directory (database, content store, keys). Default: ./data" };
        var port = new Option<int?>("--port") { Description = "Console/API port; 0 picks a free one. Default: 5080" };
        var assetPort = new Option<int?>("--asset-port") { Description = "Asset origin port; 0 picks a free one. Default: 5081" };
        var bind = new Option<string?>("--bind") { Description = "Address to listen on. Default: 127.0.0.1" };
        var command = new Command("serve", "Run the platform: gateway, registry, worker pool (the default verb).") { data, port, assetPort, bind };
        command.SetAction((parse, ct) => Verbs.Guard(async () =>
        {
            var settings = new Dictionary<string, string?>();
            if (parse.GetValue(data) is { } d) settings["Storage:DataDirectory"] = d;
            if (parse.GetValue(port) is { } p) settings["Host:Port"] = p.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (parse.GetValue(assetPort) is { } a) settings["Host:AssetPort"] = a.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (parse.GetValue(bind) is { } b) settings["Host:Bind"] = b;

            var app = Platform.Build(settings);
            EnsurePortsFree(app.Configuration);
            try
            {
                // Every module's options, bound strictly and validated, before anything starts.
                app.Services.GetService<IStartupValidator>()?.Validate();
                await app.StartAsync(ct);
            }
            catch (OptionsValidationException ex)
            {
                throw new CliException("invalid configuration: " + string.Join("; ", ex.Failures));
            }
            catch (InvalidOperationException ex) when (UnknownSetting(ex.Message) is { } unknown)
            {
                throw new CliException($"invalid configuration: unknown setting {unknown} (check appsettings.json and environment variables)");
            }
            catch (IOException ex) when (ex.InnerException is System.Net.Sockets.SocketException || ex.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                throw new CliException($"cannot listen: {ex.Message} (is another instance running? use --port/--asset-port)");
            }

            var bound = app.Services.GetRequiredService<Hosting.Listeners.Bound>();
            var storage = app.Services.GetRequiredService<IOptions<Modules.Storage.StorageOptions>>().Value;
            Console.WriteLine($"console: {bound.ConsoleUrl}");
            Console.WriteLine($"assets: {bound.AssetsUrl}");
            Console.WriteLine($"data: {storage.FullDataDirectory} (admin key: {Path.Combine(storage.FullDataDirectory, "admin.key")})");
            await app.WaitForShutdownAsync(ct);
            return 0;
        }));
        return command;
    }

    /// <summary>Fails fast, before workers start, when a fixed port is taken (port 0 always succeeds).</summary>
    private static void EnsurePortsFree(IConfiguration configuration)
    {
        var bind = System.Net.IPAddress.Parse(configuration["Host:Bind"] ?? "127.0.0.1");
        foreach (var key in new[] { "Host:Port", "Host:AssetPort" })
        {
            var port = configuration.GetValue(key, 0);
            if (port == 0)
            {
                continue;
            }

            var probe = new System.Net.Sockets.TcpListener(bind, port);
            try
            {
                probe.Start();
            }
            catch (System.Net.Sockets.SocketException)
            {
                throw new CliException($"cannot listen on {bind}:{port}: the address is in use (is another instance running? use --port/--asset-port)");
            }
            finally
            {
                probe.Stop();
            }
        }
    }

    /// <summary>Turns the binder's message about unknown keys into <c>Section:Key</c> names.</summary>
    private static string? UnknownSetting(string message)
    {
        var match = System.Text.RegularExpressions.Regex.Match(message,
            @"ErrorOnUnknownConfiguration.*instance of [\w.]*\.(?<type>\w+)Options: (?<keys>.*)$");
        return match.Success
            ? string.Join(", ", match.Groups["keys"].Value.Split(',').Select(k => $"{match.Groups["type"].Value}:{k.Trim().Trim('\'')}"))
            : null;
    }
}
