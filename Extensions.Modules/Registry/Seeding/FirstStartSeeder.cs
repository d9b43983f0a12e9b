using Extensions.Modules.Bundles;
using Extensions.Modules.Registry.Auth;
using Extensions.Modules.Registry.Data;
using Extensions.Modules.Registry.Installs;
using Extensions.Modules.Registry.Publishing;
using Extensions.Modules.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Extensions.Modules.Registry.Seeding;

/// <summary>
/// First start on an empty data directory: tenant <c>default</c>, an admin key in <c>{data}/admin.key</c>, a dev publisher key
/// trusted as publisher <c>samples</c>, and the hello sample packed, signed, published and installed through the same code
/// paths as any other extension. Every step is idempotent and a marker file is written last, so a crash mid-way is repaired
/// by the next start.
/// </summary>
internal sealed partial class FirstStartSeeder(
    RegistryStore store, ApiKeys keys, TrustStore trust, PublishService publisher, InstallService installer,
    IOptions<RegistryOptions> options, IOptions<StorageOptions> storage, ILogger<FirstStartSeeder> logger) : IHostedService
{
    public const string DefaultTenant = "default";
    public const string SamplePublisher = "samples";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var data = storage.Value.FullDataDirectory;
        var marker = Path.Combine(data, ".seeded");
        if (!options.Value.SeedOnFirstStart || File.Exists(marker))
        {
            return;
        }

        if (!await store.TenantExistsAsync(DefaultTenant, cancellationToken))
        {
            await store.CreateTenantAsync(DefaultTenant, "Default tenant", cancellationToken);
        }

        var adminKeyPath = Path.Combine(data, "admin.key");
        if (!File.Exists(adminKeyPath))
        {
            var (_, key) = await keys.CreateAsync(DefaultTenant, "admin", "first-start admin key", cancellationToken);
            WritePrivate(adminKeyPath, key + "\n");
        }

        Log.AdminKey(logger, adminKeyPath);

        var keyDir = Path.Combine(data, "keys");
        var devKeyPath = Path.Combine(keyDir, "dev-publisher.key");
        Directory.CreateDirectory(keyDir);
        var devKey = File.Exists(devKeyPath) ? PublisherKey.Load(devKeyPath) : Generate(devKeyPath);
        trust.Save(trust.Current.WithKey(SamplePublisher, devKey.PublicKeyRaw));

        var sampleDir = string.IsNullOrEmpty(options.Value.SampleDirectory)
            ? Path.Combine(AppContext.BaseDirectory, "samples", "hello")
            : options.Value.SampleDirectory;
        if (File.Exists(Path.Combine(sampleDir, "manifest.json")))
        {
            var packed = BundlePacker.Pack(sampleDir);
            var signature = BundleSignature.Create(packed.ContentHash, devKey);
            var published = await publisher.PublishAsync(packed.ToGzip(), signature.ToJson(), "seed", cancellationToken);
            if (await store.FindInstallAsync(DefaultTenant, published.ExtensionId, cancellationToken) is null)
            {
                await installer.InstallAsync(DefaultTenant, published.ExtensionId, published.Version,
                    new Consent(packed.Manifest.Capabilities, packed.Manifest.EgressHosts), null, "seed", cancellationToken);
            }

            Log.SampleInstalled(logger, published.ExtensionId, published.Version, published.ContentHash);
        }
        else
        {
            Log.SampleMissing(logger, sampleDir);
        }

        File.WriteAllText(marker, DateTimeOffset.UtcNow.ToString("O") + "\n");
    }

    private static PublisherKey Generate(string path)
    {
        var key = PublisherKey.Generate();
        key.Save(path, Path.ChangeExtension(path, ".pub"));
        return key;
    }

    private static void WritePrivate(string path, string content)
    {
        var temp = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var file = new FileStream(temp, options))
        using (var writer = new StreamWriter(file))
        {
            writer.Write(content);
        }

        File.Move(temp, path, overwrite: true);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(EventId = 2100, Level = LogLevel.Information, Message = "Admin API key: {Path}")]
        public static partial void AdminKey(ILogger logger, string path);

        [LoggerMessage(EventId = 2101, Level = LogLevel.Information, Message = "Sample {ExtensionId}@{Version} installed for tenant 'default' ({ContentHash})")]
        public static partial void SampleInstalled(ILogger logger, string extensionId, string version, string contentHash);

        [LoggerMessage(EventId = 2102, Level = LogLevel.Warning, Message = "Sample extension not found at {Path}; skipping it")]
        public static partial void SampleMissing(ILogger logger, string path);
    }
}
