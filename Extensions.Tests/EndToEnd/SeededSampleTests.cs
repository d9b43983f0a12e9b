using System.Net;
using Extensions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Extensions.Tests.EndToEnd;

/// <summary>First start on an empty data directory: the hello sample answers through the gateway with the admin key.</summary>
[TestFixture]
[CancelAfter(60_000)]
public sealed class SeededSampleTests
{
    private TestPlatform _platform = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => _platform = await TestPlatform.StartAsync();

    [OneTimeTearDown]
    public async Task StopAsync() => await _platform.DisposeAsync();

    [Test]
    public async Task Hello_WithName_GreetsByName()
    {
        using var response = await _platform.Admin.GetAsync("/api/ext/samples.hello/hello/Ada");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo("""{"message":"Hello, Ada"}"""));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"));
        Assert.That(response.Headers.GetValues("x-ext-fuel").Single(), Is.Not.EqualTo("0"));
        Assert.That(response.Headers.Contains("x-request-id"), Is.True);
    }

    [Test]
    public async Task Hello_WithoutName_GreetsTheWorld()
    {
        using var response = await _platform.Admin.GetAsync("/api/ext/samples.hello/hello");

        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo("""{"message":"Hello, world"}"""));
    }

    [Test]
    public async Task Hello_PercentEncodedName_ReachesTheGuestDecoded()
    {
        using var response = await _platform.Admin.GetAsync("/api/ext/samples.hello/hello/J%C3%BCrgen%20%22Q%22");

        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo("""{"message":"Hello, Jürgen \"Q\""}"""));
    }

    [Test]
    public async Task Hello_GuestLog_ReachesTheHostLogTaggedWithTenant()
    {
        using var response = await _platform.Admin.GetAsync("/api/ext/samples.hello/hello/LogProbe");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));

        // The log frame travels worker → host on its own; give the host's reader a moment.
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (DateTime.UtcNow < deadline && !_platform.Logs.Entries.Any(e => e.Message.Contains("greeting LogProbe", StringComparison.Ordinal)))
        {
            await Task.Delay(20);
        }

        var entry = _platform.Logs.Entries.Single(e => e.Message.Contains("greeting LogProbe", StringComparison.Ordinal));
        Assert.That(entry.Category, Is.EqualTo("Extensions.Guest"));
        Assert.That(entry.Message, Does.Contain("[default/samples.hello]"));
    }

    [Test]
    public async Task Healthz_ReportsLiveWorkers()
    {
        using var response = await _platform.Client(null).GetAsync("/healthz");
        var body = await TestPlatform.JsonAsync(response);

        Assert.That(body.GetProperty("status").GetString(), Is.EqualTo("ok"));
        Assert.That(body.GetProperty("workers").GetInt32(), Is.EqualTo(2));
    }

    [Test]
    public void RootAppSettings_IsTheConfigurationTheHostReads()
    {
        var configuration = _platform.App.Services.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>();
        var file = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "appsettings.json")));

        // A value that only appsettings.json sets (no code default mentions it).
        Assert.That(configuration["Logging:Console:FormatterName"],
            Is.EqualTo(file.RootElement.GetProperty("Logging").GetProperty("Console").GetProperty("FormatterName").GetString()).And.Not.Null);
    }

    [Test]
    public void AdminKeyFile_IsReadableByOwnerOnly()
    {
        var mode = File.GetUnixFileMode(Path.Combine(_platform.DataDirectory, "admin.key"));

        Assert.That(mode, Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
    }

    [Test]
    public async Task AssetOrigin_DoesNotServeTheApi()
    {
        using var client = new HttpClient { BaseAddress = _platform.AssetsUrl };
        client.DefaultRequestHeaders.Authorization = new("Bearer", _platform.AdminKey);

        using var response = await client.GetAsync("/api/ext/samples.hello/hello/Ada");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }
}
