using System.Net;
using System.Net.Http.Json;
using Extensions.Modules.Bundles;
using Extensions.Tests.HostApi;
using Extensions.Tests.Support;

namespace Extensions.Tests.EndToEnd;

/// <summary>
/// The committed AssemblyScript samples for secrets and http_fetch, published and installed like any extension (signed
/// with the platform's dev key for publisher <c>samples</c>) and called through the gateway.
/// </summary>
[TestFixture]
[CancelAfter(120_000)]
public sealed class CapabilitySampleTests
{
    private static string Sample(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Extensions.sln")))
            {
                return Path.Combine(dir.FullName, "samples", name);
            }
        }

        throw new DirectoryNotFoundException("repository root (Extensions.sln) not found above the test binaries");
    }

    /// <summary>Publishes a sample signed with the seeded dev publisher key and installs it for <c>default</c>.</summary>
    private static async Task<PackedBundle> PublishSampleAsync(TestPlatform platform, string name, object? config = null)
    {
        var packed = BundlePacker.Pack(Sample(name));
        var devKey = PublisherKey.Load(Path.Combine(platform.DataDirectory, "keys", "dev-publisher.key"));
        using (var published = await platform.PublishAsync(packed.ToGzip(), BundleSignature.Create(packed.ContentHash, devKey).ToJson()))
        {
            await TestPlatform.EnsureSuccessAsync(published);
        }

        using var installed = await platform.Admin.PostAsJsonAsync("/api/admin/installs", new
        {
            extensionId = packed.Manifest.ExtensionId,
            tenant = "default",
            capabilities = packed.Manifest.Capabilities,
            egressHosts = packed.Manifest.EgressHosts,
            config,
        });
        await TestPlatform.EnsureSuccessAsync(installed);
        return packed;
    }

    [Test]
    public async Task SecretsSample_ChecksTheTokenAgainstTheAdminsSecret()
    {
        await using var platform = await TestPlatform.StartAsync();
        await PublishSampleAsync(platform, "secrets");

        using (var status = await platform.Admin.GetAsync("/api/ext/samples.secrets/status"))
        {
            Assert.That(await status.Content.ReadAsStringAsync(), Is.EqualTo("{\"configured\":false}"));
        }

        using (var put = await platform.Admin.PutAsJsonAsync("/api/admin/installs/default/samples.secrets/secrets/webhook_token", new { value = "whsec-0123456789" }))
        {
            await TestPlatform.EnsureSuccessAsync(put);
        }

        using (var status = await platform.Admin.GetAsync("/api/ext/samples.secrets/status"))
        {
            Assert.That(await status.Content.ReadAsStringAsync(), Is.EqualTo("{\"configured\":true}"));
        }

        foreach (var (offered, expected) in new[] { ("whsec-0123456789", HttpStatusCode.OK), ("whsec-0123456780", HttpStatusCode.Unauthorized), ("whsec", HttpStatusCode.Unauthorized) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/ext/samples.secrets/verify");
            request.Headers.Add("x-webhook-token", offered);
            using var verify = await platform.Admin.SendAsync(request);
            Assert.That(verify.StatusCode, Is.EqualTo(expected), offered);
            Assert.That(await verify.Content.ReadAsStringAsync(), Does.Not.Contain("whsec-0123456789"));
        }
    }

    [Test]
    public async Task HttpFetchSample_ReachesTheConfiguredUrl_OnlyWithTheOperatorsRange()
    {
        await using var server = await LocalHttpServer.StartAsync();
        var url = $"http://localhost:{server.Port}/hello";

        await using (var open = await TestPlatform.StartAsync(new Dictionary<string, string?>
        {
            ["HostApi:EgressAllowedRanges:0"] = "127.0.0.0/8",
            ["HostApi:EgressAllowedRanges:1"] = "::1/128",
        }))
        {
            await PublishSampleAsync(open, "http-fetch", new { url });
            using var check = await open.Admin.GetAsync("/api/ext/samples.http-fetch/check");
            Assert.That(check.StatusCode, Is.EqualTo(HttpStatusCode.OK), await check.Content.ReadAsStringAsync());
            var body = await TestPlatform.JsonAsync(check);
            Assert.That(body.GetProperty("status").GetInt32(), Is.EqualTo(200));
            Assert.That(body.GetProperty("contentType").GetString(), Does.StartWith("text/plain"));
            Assert.That(body.GetProperty("bytes").GetInt32(), Is.EqualTo("hello from 127.0.0.1".Length));
        }

        await using var closed = await TestPlatform.StartAsync();
        await PublishSampleAsync(closed, "http-fetch", new { url = url + "?closed" });
        using var refused = await closed.Admin.GetAsync("/api/ext/samples.http-fetch/check");
        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.BadGateway));
        var problem = await TestPlatform.JsonAsync(refused);
        Assert.That(problem.GetProperty("code").GetInt32(), Is.EqualTo(-11), "the guest's own answer, not a platform problem");
        Assert.That(server.Requests, Has.None.EqualTo("/hello?closed"));
    }
}
