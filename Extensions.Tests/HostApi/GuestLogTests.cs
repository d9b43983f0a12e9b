using System.Net;
using Extensions.Modules.Registry.Auth;
using Extensions.Modules.Registry.Data;
using Extensions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Extensions.Tests.HostApi;

/// <summary>Guest log lines are kept per invocation and shown to their own tenant's admins only.</summary>
[TestFixture]
[CancelAfter(60_000)]
public sealed class GuestLogTests
{
    [Test]
    public async Task LogLines_AreQueryableByRequest_ForTheirTenantsAdminsOnly()
    {
        await using var platform = await TestPlatform.StartAsync();
        using var greeted = await platform.Admin.GetAsync("/api/ext/samples.hello/hello/Ada");
        var requestId = greeted.Headers.GetValues("x-request-id").Single();
        var store = platform.App.Services.GetRequiredService<RegistryStore>();
        var keys = platform.App.Services.GetRequiredService<ApiKeys>();
        await store.CreateTenantAsync("other", "Another tenant", CancellationToken.None);
        var (_, otherAdmin) = await keys.CreateAsync("other", "admin", "other admin", CancellationToken.None);
        var (_, defaultUser) = await keys.CreateAsync("default", "tenant", "a user", CancellationToken.None);

        using var own = await platform.Admin.GetAsync($"/api/admin/logs?requestId={requestId}");
        using var foreign = await platform.Client(otherAdmin).GetAsync($"/api/admin/logs?requestId={requestId}");
        using var notAdmin = await platform.Client(defaultUser).GetAsync($"/api/admin/logs?requestId={requestId}");

        await TestPlatform.EnsureSuccessAsync(own);
        var line = (await TestPlatform.JsonAsync(own)).EnumerateArray().Single();
        Assert.That(line.GetProperty("message").GetString(), Is.EqualTo("greeting Ada"));
        Assert.That(line.GetProperty("level").GetString(), Is.EqualTo("info"));
        Assert.That(line.GetProperty("tenantId").GetString(), Is.EqualTo("default"));
        Assert.That(line.GetProperty("extensionId").GetString(), Is.EqualTo("samples.hello"));
        await TestPlatform.EnsureSuccessAsync(foreign);
        Assert.That((await TestPlatform.JsonAsync(foreign)).GetArrayLength(), Is.Zero, "another tenant's admin sees none of these lines");
        Assert.That(notAdmin.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
    }
}
