using System.CommandLine;
using System.Globalization;
using System.Text;
using Extensions.Modules.Bundles;
using Extensions.Modules.Runner.Contracts;

namespace Extensions.Host.Commands;

/// <summary><c>invoke</c>: one request against a directory or bundle through a real worker process, with no server.</summary>
internal static class InvokeVerb
{
    public static Command Create()
    {
        var source = new Argument<string>("source") { Description = "Extension directory or bundle file" };
        var method = new Argument<string>("method") { Description = "HTTP method, e.g. GET" };
        var path = new Argument<string>("path") { Description = "Path after /api/ext/{id}, e.g. /hello/Ada" };
        var body = new Option<string?>("--body") { Description = "File whose bytes are the request body" };
        var headers = new Option<string[]>("--header") { Description = "Request header K:V (repeatable)", AllowMultipleArgumentsPerToken = false };
        var config = new Option<string[]>("--config") { Description = "Install configuration K=V, V as JSON or plain text (repeatable)" };
        var secrets = new Option<string[]>("--secret") { Description = "Install secret K=V for a name the manifest declares (repeatable); stored encrypted in the run's scratch directory" };
        var command = new Command("invoke", "Run one request through the real worker path with no server; exit code 0 on 2xx.")
        {
            source, method, path, body, headers, config, secrets,
        };
        command.SetAction((parse, ct) => Verbs.Guard(async () =>
        {
            var src = parse.GetValue(source)!;
            var bundle = Directory.Exists(src)
                ? BundleReader.Read(BundlePacker.Pack(src).Tar)
                : File.Exists(src) ? BundleReader.Read(await File.ReadAllBytesAsync(src, ct)) : throw new CliException($"{src} is neither a directory nor a bundle file");

            // A throw-away data directory: the module is precompiled and run exactly as the server would.
            var scratch = Directory.CreateTempSubdirectory("ext-invoke-").FullName;
            var modulePath = Path.Combine(scratch, "main.wasm");
            await File.WriteAllBytesAsync(modulePath, bundle.MainModule, ct);
            try
            {
                var requestHeaders = (parse.GetValue(headers) ?? []).Select(h => Split(h, ':', "--header")).ToList();
                var configPairs = (parse.GetValue(config) ?? []).Select(c => Split(c, '=', "--config")).Select(p => new KeyValuePair<string, string>(p.Key, AsJson(p.Value))).ToList();
                var requestBody = parse.GetValue(body) is { } bodyFile ? await File.ReadAllBytesAsync(bodyFile, ct) : [];
                var secretPairs = (parse.GetValue(secrets) ?? []).Select(c => Split(c, '=', "--secret")).ToList();
                foreach (var (name, _) in secretPairs)
                {
                    if (!bundle.Manifest.Secrets.Contains(name, StringComparer.Ordinal))
                    {
                        throw new CliException($"--secret '{name}': the manifest declares no such secret (declared: {(bundle.Manifest.Secrets.Count == 0 ? "none" : string.Join(", ", bundle.Manifest.Secrets))})");
                    }
                }

                var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
                {
                    ContentRootPath = AppContext.BaseDirectory,
                    DisableDefaults = false,
                });
                builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
                {
                    ["Runner:Workers"] = "1",
                    // An author running one request wants every line the guest logs.
                    ["Logging:LogLevel:Extensions.Guest"] = "Debug",
                    ["Storage:DataDirectory"] = scratch,
                });
                builder.Logging.AddFilter("Microsoft", LogLevel.Warning).AddFilter("Extensions.Modules", LogLevel.Warning);
                builder.Services.AddStorageModule(builder.Configuration).AddRunnerModule(builder.Configuration).AddHostApiModule(builder.Configuration);
                using var host = builder.Build();
                await host.StartAsync(ct);
                try
                {
                    await Microsoft.Extensions.DependencyInjection.HostApiModule.SetSecretsAsync(host.Services,
                        Microsoft.Extensions.DependencyInjection.GatewayModule.LocalInstallId, secretPairs, ct);
                    var runner = host.Services.GetRequiredService<IExtensionRunner>();
                    var moduleHash = Modules.Storage.ContentHash.Of(bundle.MainModule);
                    var result = await Microsoft.Extensions.DependencyInjection.GatewayModule.InvokeLocalAsync(runner, bundle.Manifest, moduleHash, modulePath,
                        parse.GetValue(method)!, parse.GetValue(path)!, requestHeaders, requestBody, configPairs, ct)
                        ?? throw new CliException($"{bundle.Manifest.ExtensionId} declares no endpoint {parse.GetValue(method)!.ToUpperInvariant()} {parse.GetValue(path)}");
                    return Print(result);
                }
                finally
                {
                    await host.StopAsync(CancellationToken.None);
                }
            }
            finally
            {
                Directory.Delete(scratch, recursive: true);
            }
        }));
        return command;
    }

    private static int Print(InvocationResult result)
    {
        var usage = string.Create(CultureInfo.InvariantCulture,
            $"fuel {result.Usage.Fuel}, {result.Usage.WallMs:0.###} ms, memory {result.Usage.PeakMemoryBytes / 1024} KiB, host calls {result.Usage.HostCalls}");
        if (result.Outcome != InvocationOutcome.Ok)
        {
            Console.Error.WriteLine($"error: {result.Outcome}: {result.Diagnostic} ({usage})");
            return 1;
        }

        Console.WriteLine(result.Status.ToString(CultureInfo.InvariantCulture));
        foreach (var (name, value) in result.Headers)
        {
            Console.WriteLine($"{name}: {value}");
        }

        Console.WriteLine();
        Console.WriteLine(Encoding.UTF8.GetString(result.Body));
        Console.Error.WriteLine(usage);
        return result.Status is >= 200 and < 300 ? 0 : 1;
    }

    private static KeyValuePair<string, string> Split(string value, char separator, string option)
    {
        var i = value.IndexOf(separator, StringComparison.Ordinal);
        // A malformed --secret may be the value itself: never echo it.
        var shown = option == "--secret" ? "" : $" '{value}'";
        return i <= 0 ? throw new CliException($"{option}{shown} must look like KEY{separator}VALUE") : new(value[..i].Trim(), value[(i + 1)..].Trim());
    }

    /// <summary>Config values are JSON; a bare word is taken as a string for convenience.</summary>
    private static string AsJson(string value)
    {
        try
        {
            using var _ = System.Text.Json.JsonDocument.Parse(value);
            return value;
        }
        catch (System.Text.Json.JsonException)
        {
            return System.Text.Json.JsonSerializer.Serialize(value);
        }
    }
}
