using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Extensions.Host;
using Extensions.Host.Hosting;
using Extensions.Modules.Bundles;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Extensions.Tests.Support;

/// <summary>
/// The real platform in this process: real Kestrel on free loopback ports, a real SQLite file and CAS in a temp
/// directory, real worker child processes. A test publisher key is added to the trust bundle as publisher <c>test</c>.
/// </summary>
internal sealed class TestPlatform : IAsyncDisposable
{
    public const string TestPublisherName = "test";

    private TestPlatform(WebApplication app, string dataDirectory, CapturingLoggerProvider logs)
    {
        App = app;
        DataDirectory = dataDirectory;
        Logs = logs;
        var bound = app.Services.GetRequiredService<Listeners.Bound>();
        BaseUrl = new Uri(bound.ConsoleUrl);
        AssetsUrl = new Uri(bound.AssetsUrl);
        AdminKey = File.ReadAllText(Path.Combine(dataDirectory, "admin.key")).Trim();
        Admin = Client(AdminKey);
        Publisher = PublisherKey.Generate();
        var trustPath = Path.Combine(dataDirectory, "trust.json");
        TrustBundle.Load(trustPath).WithKey(TestPublisherName, Publisher.PublicKeyRaw).Save(trustPath);
    }

    public WebApplication App { get; }
    public string DataDirectory { get; }
    public CapturingLoggerProvider Logs { get; }
    public Uri BaseUrl { get; }
    public Uri AssetsUrl { get; }
    public string AdminKey { get; }
    public HttpClient Admin { get; }
    public PublisherKey Publisher { get; }

    /// <param name="requireAdminKey">False when first-start seeding is off: tenant <c>default</c> and an admin key are then made here.</param>
    public static async Task<TestPlatform> StartAsync(IDictionary<string, string?>? settings = null, bool requireAdminKey = true)
    {
        var data = Directory.CreateTempSubdirectory("ext-platform-").FullName;
        var all = new Dictionary<string, string?>
        {
            ["Storage:DataDirectory"] = data,
            ["Host:Port"] = "0",
            ["Host:AssetPort"] = "0",
            ["Runner:Workers"] = "2",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Extensions.Guest"] = "Information",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        var app = Platform.Build(all);
        var logs = new CapturingLoggerProvider();
        app.Services.GetRequiredService<ILoggerFactory>().AddProvider(logs);
        await app.StartAsync();
        if (!requireAdminKey)
        {
            var store = app.Services.GetRequiredService<Modules.Registry.Data.RegistryStore>();
            await store.CreateTenantAsync("default", "Default tenant", CancellationToken.None);
            var (_, key) = await app.Services.GetRequiredService<Modules.Registry.Auth.ApiKeys>().CreateAsync("default", "admin", "test", CancellationToken.None);
            await File.WriteAllTextAsync(Path.Combine(data, "admin.key"), key);
        }

        return new TestPlatform(app, data, logs);
    }

    public HttpClient Client(string? apiKey)
    {
        var client = new HttpClient { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(30) };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        return client;
    }

    /// <summary>Uploads a bundle with its signature through the admin API; returns the raw response.</summary>
    public Task<HttpResponseMessage> PublishAsync(byte[] bundleFile, string signatureJson)
    {
        var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(bundleFile), "bundle", "bundle.extb" },
            { new StringContent(signatureJson), "signature", "bundle.extb.sig" },
        };
        return Admin.PostAsync("/api/admin/bundles", form);
    }

    /// <summary>Packs, signs with the test publisher key, publishes and installs for tenant <c>default</c>.</summary>
    public async Task<PackedBundle> DeployAsync(string extensionDirectory)
    {
        var packed = BundlePacker.Pack(extensionDirectory);
        using var published = await PublishAsync(packed.ToGzip(), BundleSignature.Create(packed.ContentHash, Publisher).ToJson());
        await EnsureSuccessAsync(published);
        using var installed = await Admin.PostAsJsonAsync("/api/admin/installs", new
        {
            extensionId = packed.Manifest.ExtensionId,
            tenant = "default",
            version = packed.Manifest.Version,
            capabilities = packed.Manifest.Capabilities,
            egressHosts = packed.Manifest.EgressHosts,
        });
        await EnsureSuccessAsync(installed);
        return packed;
    }

    /// <summary>Packs, signs with the test publisher key (or <paramref name="key"/>) and publishes without installing.</summary>
    public async Task<PackedBundle> PublishOnlyAsync(string extensionDirectory, PublisherKey? key = null)
    {
        var packed = BundlePacker.Pack(extensionDirectory);
        using var published = await PublishAsync(packed.ToGzip(), BundleSignature.Create(packed.ContentHash, key ?? Publisher).ToJson());
        await EnsureSuccessAsync(published);
        return packed;
    }

    public static async Task EnsureSuccessAsync(HttpResponseMessage response)
    {
        if (!response.IsSuccessStatusCode)
        {
            Assert.Fail($"{(int)response.StatusCode} {response.RequestMessage?.RequestUri}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A worker may still be releasing a file; the temp directory is cleaned by the OS eventually.
        }
    }
}
