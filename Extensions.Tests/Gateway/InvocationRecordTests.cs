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
}
