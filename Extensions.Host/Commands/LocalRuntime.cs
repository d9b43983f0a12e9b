using Extensions.Modules.Bundles;
using Extensions.Modules.Runner.Contracts;

namespace Extensions.Host.Commands;

/// <summary>
/// An extension loaded for <c>invoke</c>: a throw-away data directory, one real worker process and the host's capability
/// implementations, with no server. Requests take exactly the gateway's path from endpoint matching to the guest.
/// </summary>
internal sealed class LocalRuntime : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly string _scratch;
    private readonly string _modulePath;
    private readonly string _moduleHash;

    private LocalRuntime(IHost host, string scratch, Bundle bundle, string modulePath)
    {
        _host = host;
        _scratch = scratch;
        Bundle = bundle;
        _modulePath = modulePath;
        _moduleHash = Modules.Storage.ContentHash.Of(bundle.MainModule);
    }

    public Bundle Bundle { get; }

    public ExtensionManifest Manifest => Bundle.Manifest;

    /// <summary>Reads <paramref name="source"/> (an extension directory, packed on the fly, or a bundle file) and starts a worker.</summary>
    /// <param name="egress">Where <c>http_fetch</c> requests go instead of the network, after every policy check; <c>null</c>: the network.</param>
    public static async Task<LocalRuntime> StartAsync(string source, bool verboseGuestLog, CancellationToken ct, HttpMessageHandler? egress = null)
    {
        var bundle = Directory.Exists(source)
            ? BundleReader.Read(BundlePacker.Pack(source).Tar)
            : File.Exists(source) ? BundleReader.Read(await File.ReadAllBytesAsync(source, ct)) : throw new CliException($"{source} is neither a directory nor a bundle file");

        // The module is precompiled and run exactly as the server would, from a data directory nobody else sees.
        var scratch = Directory.CreateTempSubdirectory("ext-invoke-").FullName;
        try
        {
            var modulePath = Path.Combine(scratch, "main.wasm");
            await File.WriteAllBytesAsync(modulePath, bundle.MainModule, ct);
            var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
            {
                ContentRootPath = AppContext.BaseDirectory,
                DisableDefaults = false,
            });
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Runner:Workers"] = "1",
                // An author running one request wants every line the guest logs; a fixtures run wants a readable table.
                ["Logging:LogLevel:Extensions.Guest"] = verboseGuestLog ? "Debug" : "Warning",
                ["Storage:DataDirectory"] = scratch,
            });
            builder.Logging.AddFilter("Microsoft", LogLevel.Warning).AddFilter("Extensions.Modules", LogLevel.Warning);
            // stdout carries the response or the results table only, so scripts can read it; every log line goes to stderr.
            builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
            if (egress is not null)
            {
                builder.Services.AddEgressTransport(egress);
            }

            builder.Services.AddStorageModule(builder.Configuration).AddRunnerModule(builder.Configuration).AddHostApiModule(builder.Configuration);
            var host = builder.Build();
            await host.StartAsync(ct);
            return new LocalRuntime(host, scratch, bundle, modulePath);
        }
        catch
        {
            Directory.Delete(scratch, recursive: true);
            throw;
        }
    }

    /// <returns><c>null</c> when the manifest declares no endpoint for the method and path.</returns>
    public Task<InvocationResult?> InvokeAsync(string method, string pathAndQuery, IReadOnlyList<KeyValuePair<string, string>> headers, byte[] body,
        IReadOnlyList<KeyValuePair<string, string>> config, CancellationToken ct) =>
        Microsoft.Extensions.DependencyInjection.GatewayModule.InvokeLocalAsync(_host.Services.GetRequiredService<IExtensionRunner>(), Manifest,
            _moduleHash, _modulePath, method, pathAndQuery, headers, body, config, ct);

    /// <summary>Writes a KV entry of the local install (the one every local request runs as), through the host's own KV store.</summary>
    public async Task SeedKvAsync(string key, byte[] value, CancellationToken ct)
    {
        var calls = _host.Services.GetRequiredService<IHostCalls>();
        var local = new InvocationRequest
        {
            TenantId = "local",
            ExtensionId = Manifest.ExtensionId,
            InstallId = Microsoft.Extensions.DependencyInjection.GatewayModule.LocalInstallId,
            Version = Manifest.Version,
            RequestId = "local-seed",
            ModuleHash = _moduleHash,
            ModulePath = _modulePath,
            Limits = new InvocationLimits(0, 0, 0, 0, 0),
            Request = new GuestHttpRequest("PUT", "/", "", [], [], []),
            Grants = new HashSet<string>(StringComparer.Ordinal) { Capabilities.Kv },
        };
        var reply = await calls.CallAsync(local, new KvPutCall(key, value, -1, 0), ct);
        if (reply.Code < 0)
        {
            throw new CliException($"seeding KV key '{key}' failed with code {reply.Code}");
        }
    }

    /// <summary>Stores secrets of the local install (encrypted, in the scratch directory); only names the manifest declares.</summary>
    /// <remarks>A refused name is named in the error, its value never.</remarks>
    public async Task SetSecretsAsync(IReadOnlyList<KeyValuePair<string, string>> secrets, CancellationToken ct)
    {
        foreach (var (name, _) in secrets)
        {
            if (!Manifest.Secrets.Contains(name, StringComparer.Ordinal))
            {
                throw new CliException($"--secret '{name}': the manifest declares no such secret (declared: {(Manifest.Secrets.Count == 0 ? "none" : string.Join(", ", Manifest.Secrets))})");
            }
        }

        await Microsoft.Extensions.DependencyInjection.HostApiModule.SetSecretsAsync(_host.Services,
            Microsoft.Extensions.DependencyInjection.GatewayModule.LocalInstallId, secrets, ct);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _host.StopAsync(CancellationToken.None);
        }
        finally
        {
            _host.Dispose();
            Directory.Delete(_scratch, recursive: true);
        }
    }
}
