using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Extensions.Tests.Support;

namespace Extensions.Tests.Runner;

/// <summary>One tenant's flood of hostile requests fills its own queue; other tenants keep being served.</summary>
[TestFixture]
[CancelAfter(120_000)]
public sealed class FairnessTests
{
    [Test]
    public async Task HostileFloodFromTenantA_DoesNotStarveTenantB()
    {
        await using var platform = await TestPlatform.StartAsync();
        await platform.DeployAsync(GuestFixtures.Create("slowspin", GuestFixtures.InfiniteLoop,
            limits: new JsonObject { ["fuelPerRequest"] = 1_000_000_000, ["timeoutMs"] = 200 }));
        var tenantB = await CreateTenantWithHelloAsync(platform, "beta");

        var flood = Enumerable.Range(0, 64).Select(async _ =>
        {
            using var response = await platform.Admin.GetAsync("/api/ext/test.slowspin/run");
            return (await TestPlatform.JsonAsync(response)).GetProperty("code").GetString();
        }).ToArray();

        var latencies = new List<TimeSpan>();
        var statuses = new List<HttpStatusCode>();
        while (!flood.All(t => t.IsCompleted))
        {
            var clock = Stopwatch.StartNew();
            using var response = await tenantB.GetAsync("/api/ext/samples.hello/hello/Bea");
            latencies.Add(clock.Elapsed);
            statuses.Add(response.StatusCode);
        }

        var floodCodes = await Task.WhenAll(flood);
        Assert.That(statuses, Has.Count.GreaterThanOrEqualTo(3), "tenant B should have been served repeatedly during the flood");
        Assert.That(statuses, Is.All.EqualTo(HttpStatusCode.OK));
        // First come, first served would put B behind ~56 queued floods of 200 ms on 8 slots (~1.4 s); round robin, behind one.
        Assert.That(latencies.Max(), Is.LessThan(TimeSpan.FromMilliseconds(700)), "tenant B waited behind the flood");
        Assert.That(floodCodes, Is.All.AnyOf("timeout", "overloaded"));
    }

    [Test]
    public async Task FullQueue_AnswersOverloadedWithRetryAfter()
    {
        await using var platform = await TestPlatform.StartAsync(new Dictionary<string, string?>
        {
            ["Runner:Workers"] = "1",
            ["Runner:ConcurrencyPerWorker"] = "1",
            ["Runner:MaxQueuedPerTenant"] = "2",
        });
        await platform.DeployAsync(GuestFixtures.Create("slowspin", GuestFixtures.InfiniteLoop,
            limits: new JsonObject { ["fuelPerRequest"] = 1_000_000_000, ["timeoutMs"] = 1000 }));

        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => platform.Admin.GetAsync("/api/ext/test.slowspin/run")));
        try
        {
            var overloaded = responses.Where(r => r.StatusCode == HttpStatusCode.ServiceUnavailable).ToList();
            Assert.That(overloaded, Has.Count.GreaterThanOrEqualTo(5), "1 running + 2 queued; the rest must be refused at once");
            foreach (var response in overloaded)
            {
                Assert.That((await TestPlatform.JsonAsync(response)).GetProperty("code").GetString(), Is.EqualTo("overloaded"));
                Assert.That(response.Headers.RetryAfter, Is.Not.Null);
            }
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }

        using var after = await platform.Admin.GetAsync("/api/ext/samples.hello/hello/Ada");
        Assert.That(after.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    private static async Task<HttpClient> CreateTenantWithHelloAsync(TestPlatform platform, string tenant)
    {
        await TestPlatform.EnsureSuccessAsync(await platform.Admin.PostAsJsonAsync("/api/admin/tenants", new { id = tenant }));
        await TestPlatform.EnsureSuccessAsync(await platform.Admin.PostAsJsonAsync("/api/admin/installs",
            new { extensionId = "samples.hello", tenant, capabilities = new[] { "cap:log" } }));
        using var key = await platform.Admin.PostAsJsonAsync($"/api/admin/tenants/{tenant}/keys", new { name = "app" });
        return platform.Client((await TestPlatform.JsonAsync(key)).GetProperty("key").GetString());
    }
}
