using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Extensions.Tests.Support;

namespace Extensions.Tests.Gateway;

/// <summary>Token buckets per tenant and per install, and a per-tenant cap on calls in flight: one tenant's flood is its own problem.</summary>
[TestFixture]
[CancelAfter(90_000)]
public sealed class RateLimitTests
{
    private static async Task<string> AddTenantWithHelloAsync(TestPlatform platform, string tenant)
    {
        using var created = await platform.Admin.PostAsJsonAsync("/api/admin/tenants", new { id = tenant, name = tenant });
        await TestPlatform.EnsureSuccessAsync(created);
        using var installed = await platform.Admin.PostAsJsonAsync("/api/admin/installs",
            new { extensionId = "samples.hello", tenant, version = "1.0.0", capabilities = new[] { "cap:log" } });
        await TestPlatform.EnsureSuccessAsync(installed);
        using var key = await platform.Admin.PostAsJsonAsync($"/api/admin/tenants/{tenant}/keys", new { name = "k" });
        return (await TestPlatform.JsonAsync(key)).GetProperty("key").GetString()!;
    }

    private static async Task<List<(HttpStatusCode Status, string? Code, string? RetryAfter)>> FloodAsync(HttpClient client, string path, int count)
    {
        var results = new List<(HttpStatusCode, string?, string?)>();
        foreach (var _ in Enumerable.Range(0, count))
        {
            using var response = await client.GetAsync(path);
            var code = response.StatusCode == HttpStatusCode.OK ? null : (await TestPlatform.JsonAsync(response)).GetProperty("code").GetString();
            results.Add((response.StatusCode, code, response.Headers.RetryAfter?.Delta?.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        return results;
    }

    [Test]
    public async Task TenantFlooding_Gets429WithRetryAfter_WhileAnotherTenantIsUnaffected()
    {
        await using var platform = await TestPlatform.StartAsync(new Dictionary<string, string?>
        {
            ["Gateway:TenantRequestsPerSecond"] = "1",
            ["Gateway:TenantBurst"] = "5",
        });
        using var a = platform.Client(await AddTenantWithHelloAsync(platform, "flooder"));
        using var b = platform.Client(await AddTenantWithHelloAsync(platform, "neighbour"));

        var flood = await FloodAsync(a, "/api/ext/samples.hello/hello/A", 15);
        var neighbour = await FloodAsync(b, "/api/ext/samples.hello/hello/B", 4);

        Assert.That(flood.Count(r => r.Status == HttpStatusCode.OK), Is.InRange(5, 7), "the burst, plus at most what refilled meanwhile");
        var refused = flood.Where(r => r.Status != HttpStatusCode.OK).ToList();
        Assert.That(refused.Select(r => r.Status), Is.All.EqualTo(HttpStatusCode.TooManyRequests));
        Assert.That(refused.Select(r => r.Code), Is.All.EqualTo("rate_limited"));
        Assert.That(refused.Select(r => r.RetryAfter), Is.All.Not.Null.And.Not.EqualTo("0"));
        Assert.That(neighbour.Select(r => r.Status), Is.All.EqualTo(HttpStatusCode.OK));

        // The bucket refills: after a wait the flooder is served again.
        await Task.Delay(TimeSpan.FromSeconds(2.2));
        using var later = await a.GetAsync("/api/ext/samples.hello/hello/A");
        Assert.That(later.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task InstallFlooding_IsLimitedPerExtension_OtherExtensionsOfTheTenantAreServed()
    {
        await using var platform = await TestPlatform.StartAsync(new Dictionary<string, string?>
        {
            ["Gateway:InstallRequestsPerSecond"] = "1",
            ["Gateway:InstallBurst"] = "3",
        });
        await platform.DeployAsync(GuestFixtures.Create("other", GuestFixtures.Ok));

        var flood = await FloodAsync(platform.Admin, "/api/ext/samples.hello/hello/A", 10);
        var other = await FloodAsync(platform.Admin, "/api/ext/test.other/run", 3);

        Assert.That(flood.Count(r => r.Status == HttpStatusCode.OK), Is.InRange(3, 5));
        Assert.That(flood.Where(r => r.Status != HttpStatusCode.OK).Select(r => r.Code), Is.All.EqualTo("rate_limited"));
        Assert.That(other.Select(r => r.Status), Is.All.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task TenantOverItsConcurrencyCap_GetsConcurrencyLimited_WhileAnotherTenantIsServed()
    {
        // The slow guest must run into its deadline, not the operator's fuel cap (which a fast machine burns in under 1.5 s).
        await using var platform = await TestPlatform.StartAsync(new Dictionary<string, string?> { ["Gateway:MaxConcurrentPerTenant"] = "1", ["Runner:MaxFuel"] = "1000000000000" });
        await platform.DeployAsync(GuestFixtures.Create("slow", GuestFixtures.InfiniteLoop,
            limits: new JsonObject { ["fuelPerRequest"] = 1_000_000_000_000, ["timeoutMs"] = 1500 }));
        using var b = platform.Client(await AddTenantWithHelloAsync(platform, "calm"));

        var slow = platform.Admin.GetAsync("/api/ext/test.slow/run");
        await GatewayGuests.WaitForInFlightAsync(platform);
        using var second = await platform.Admin.GetAsync("/api/ext/samples.hello/hello/A");
        using var neighbour = await b.GetAsync("/api/ext/samples.hello/hello/B");
        using var slowResponse = await slow;
        using var after = await platform.Admin.GetAsync("/api/ext/samples.hello/hello/A");

        Assert.That(second.StatusCode, Is.EqualTo(HttpStatusCode.TooManyRequests));
        Assert.That((await TestPlatform.JsonAsync(second)).GetProperty("code").GetString(), Is.EqualTo("concurrency_limited"));
        Assert.That(second.Headers.RetryAfter, Is.Not.Null);
        Assert.That(neighbour.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(slowResponse.StatusCode, Is.EqualTo(HttpStatusCode.GatewayTimeout));
        Assert.That(after.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the slot is given back when the call ends, failed or not");
    }

    [Test]
    public async Task RefusedCalls_AreNotDispatched()
    {
        await using var platform = await TestPlatform.StartAsync(new Dictionary<string, string?>
        {
            ["Gateway:TenantRequestsPerSecond"] = "1",
            ["Gateway:TenantBurst"] = "2",
        });
        var flood = await FloodAsync(platform.Admin, "/api/ext/samples.hello/hello/A", 6);
        await Task.Delay(TimeSpan.FromSeconds(1.1));

        using var records = await platform.Admin.GetAsync("/api/admin/invocations?extension=samples.hello");
        var rows = (await TestPlatform.JsonAsync(records)).EnumerateArray().Count();
        Assert.That(rows, Is.EqualTo(flood.Count(r => r.Status == HttpStatusCode.OK)), "only calls that passed the limits reached a worker");
    }

    [Test]
    public async Task EndpointWithItsOwnRate_IsLimitedAlone_AndTheOperatorsInstallRateCapsIt()
    {
        await using var platform = await TestPlatform.StartAsync(new Dictionary<string, string?>
        {
            ["Gateway:InstallRequestsPerSecond"] = "3",
            ["Gateway:InstallBurst"] = "1000",
        });
        var dir = GuestFixtures.Create("perendpoint", GuestFixtures.Ok, endpoints: [("GET", "/tight"), ("GET", "/loose"), ("GET", "/free")]);
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(dir, "manifest.json")))!;
        manifest["api"]!["endpoints"]![0]!["limits"] = new JsonObject { ["requestsPerSecond"] = 2 };
        // Asks for more than the operator allows an install: held to 3.
        manifest["api"]!["endpoints"]![1]!["limits"] = new JsonObject { ["requestsPerSecond"] = 1000 };
        await File.WriteAllTextAsync(Path.Combine(dir, "manifest.json"), manifest.ToJsonString());
        await platform.DeployAsync(dir);

        var tight = await FloodAsync(platform.Admin, "/api/ext/test.perendpoint/tight", 6);
        var free = await FloodAsync(platform.Admin, "/api/ext/test.perendpoint/free", 6);
        var loose = await FloodAsync(platform.Admin, "/api/ext/test.perendpoint/loose", 8);

        Assert.That(tight.Count(r => r.Status == HttpStatusCode.OK), Is.InRange(2, 3), "two per second, plus at most one refill while flooding");
        Assert.That(tight.Where(r => r.Status != HttpStatusCode.OK).Select(r => (r.Status, r.Code)).Distinct(),
            Is.EqualTo(new[] { (HttpStatusCode.TooManyRequests, (string?)"rate_limited") }));
        Assert.That(tight.Where(r => r.Status != HttpStatusCode.OK).All(r => r.RetryAfter is not null), Is.True);
        Assert.That(free.All(r => r.Status == HttpStatusCode.OK), Is.True, "an endpoint without its own rate is not held by another's");
        Assert.That(loose.Count(r => r.Status == HttpStatusCode.OK), Is.InRange(3, 4), "the operator's install rate caps what the manifest asks");
    }

    [Test]
    public void RequestsPerSecond_IsAnEndpointLimitOnly_AndMustBePositive()
    {
        var manifest = new JsonObject
        {
            ["manifestVersion"] = 2, ["publisher"] = "test", ["name"] = "rates", ["version"] = "1.0.0", ["runtime"] = "ext-v1", ["main"] = "main.wasm",
            ["limits"] = new JsonObject { ["requestsPerSecond"] = 5 },
            ["api"] = new JsonObject { ["endpoints"] = new JsonArray(new JsonObject { ["method"] = "GET", ["path"] = "/a", ["limits"] = new JsonObject { ["requestsPerSecond"] = 0 } }) },
        };

        var errors = Modules.Bundles.ManifestReader.Parse(System.Text.Encoding.UTF8.GetBytes(manifest.ToJsonString())).Errors.Select(e => e.ToString()).ToList();

        Assert.That(errors, Has.Some.StartsWith("limits.requestsPerSecond"));
        Assert.That(errors, Has.Some.StartsWith("api.endpoints[0].limits.requestsPerSecond"));
    }
}
