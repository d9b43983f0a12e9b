using System.Net.Http.Json;
using Extensions.Tests.Support;

namespace Extensions.Tests.Gateway;

/// <summary>Every dispatched request leaves one record with its outcome and usage, queryable by the operator.</summary>
[TestFixture]
[CancelAfter(60_000)]
public sealed class InvocationRecordTests
{
    [Test]
    public async Task Invocations_AreRecordedWithOutcomeAndUsage()
    {
        await using var platform = await TestPlatform.StartAsync();
        await platform.DeployAsync(GuestFixtures.Create("crash", GuestFixtures.Trap));
        using var ok = await platform.Admin.GetAsync("/api/ext/samples.hello/hello/Ada");
        using var trapped = await platform.Admin.GetAsync("/api/ext/test.crash/run");
        var okRequestId = ok.Headers.GetValues("x-request-id").Single();

        using var response = await platform.Admin.GetAsync("/api/admin/invocations?limit=10");
        await TestPlatform.EnsureSuccessAsync(response);
        var rows = (await TestPlatform.JsonAsync(response)).EnumerateArray().ToList();

        var hello = rows.Single(r => r.GetProperty("requestId").GetString() == okRequestId);
        Assert.That(hello.GetProperty("tenantId").GetString(), Is.EqualTo("default"));
        Assert.That(hello.GetProperty("extensionId").GetString(), Is.EqualTo("samples.hello"));
        Assert.That(hello.GetProperty("endpoint").GetString(), Is.EqualTo("/hello/:name"));
        Assert.That(hello.GetProperty("status").GetInt32(), Is.EqualTo(200));
        Assert.That(hello.GetProperty("code").GetString(), Is.EqualTo("ok"));
        Assert.That(hello.GetProperty("fuel").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture),
            Is.EqualTo(ok.Headers.GetValues("x-ext-fuel").Single()));
        Assert.That(hello.GetProperty("memoryBytes").GetInt64(), Is.GreaterThan(0));
        Assert.That(hello.GetProperty("hostCalls").GetInt32(), Is.GreaterThan(0));

        var crash = rows.Single(r => r.GetProperty("extensionId").GetString() == "test.crash");
        Assert.That(crash.GetProperty("status").GetInt32(), Is.EqualTo(502));
        Assert.That(crash.GetProperty("code").GetString(), Is.EqualTo("extension_trap"));
    }

    [Test]
    public async Task TenantKey_SeesOnlyItsOwnTenantsRecords()
    {
        await using var platform = await TestPlatform.StartAsync();
        using var created = await platform.Admin.PostAsJsonAsync("/api/admin/tenants", new { id = "acme", name = "Acme" });
        using var installed = await platform.Admin.PostAsJsonAsync("/api/admin/installs",
            new { extensionId = "samples.hello", tenant = "acme", version = "1.0.0", capabilities = new[] { "cap:log" } });
        await TestPlatform.EnsureSuccessAsync(installed);
        using var keyResponse = await platform.Admin.PostAsJsonAsync("/api/admin/tenants/acme/keys", new { name = "acme app" });
        using var acme = platform.Client((await TestPlatform.JsonAsync(keyResponse)).GetProperty("key").GetString());

        using var own = await acme.GetAsync("/api/ext/samples.hello/hello/Acme");
        using var other = await platform.Admin.GetAsync("/api/ext/samples.hello/hello/Default");
        var ownId = own.Headers.GetValues("x-request-id").Single();
        var otherId = other.Headers.GetValues("x-request-id").Single();

        using var mine = await acme.GetAsync("/api/admin/invocations");
        await TestPlatform.EnsureSuccessAsync(mine);
        var rows = (await TestPlatform.JsonAsync(mine)).EnumerateArray().ToList();
        Assert.That(rows.Select(r => r.GetProperty("requestId").GetString()), Is.EquivalentTo(new[] { ownId }));
        Assert.That(rows.Select(r => r.GetProperty("tenantId").GetString()), Is.All.EqualTo("acme"));

        using var asked = await acme.GetAsync("/api/admin/invocations?tenant=default");
        Assert.That(asked.StatusCode, Is.EqualTo(System.Net.HttpStatusCode.Forbidden));
        Assert.That((await TestPlatform.JsonAsync(asked)).GetProperty("code").GetString(), Is.EqualTo("forbidden"));

        using var all = await platform.Admin.GetAsync("/api/admin/invocations");
        var everyone = (await TestPlatform.JsonAsync(all)).EnumerateArray().Select(r => r.GetProperty("requestId").GetString()).ToList();
        Assert.That(everyone, Does.Contain(ownId).And.Contain(otherId), "the operator's admin key sees every tenant");

        using var anonymous = await platform.Client(null).GetAsync("/api/admin/invocations");
        Assert.That(anonymous.StatusCode, Is.EqualTo(System.Net.HttpStatusCode.Unauthorized));
    }
}
