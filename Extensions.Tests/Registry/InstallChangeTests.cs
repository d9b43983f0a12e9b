using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Extensions.Modules.Bundles;
using Extensions.Modules.Registry.Contracts;
using Extensions.Modules.Registry.Data;
using Extensions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Extensions.Tests.Registry;

/// <summary>Config, upgrade with a consent diff, rollback, uninstall and the audit trail, all seen through the real gateway.</summary>
[TestFixture]
[CancelAfter(120_000)]
public sealed class InstallChangeTests
{
    private TestPlatform _platform = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => _platform = await TestPlatform.StartAsync();

    [OneTimeTearDown]
    public async Task StopAsync() => await _platform.DisposeAsync();

    private static JsonObject GreetingSchema(bool required = true) => new()
    {
        ["type"] = "object",
        ["required"] = required ? new JsonArray("greeting") : new JsonArray(),
        ["additionalProperties"] = false,
        ["properties"] = new JsonObject { ["greeting"] = new JsonObject { ["type"] = "string", ["maxLength"] = 20 } },
    };

    private async Task<(HttpStatusCode Status, string Body)> CallAsync(string extension)
    {
        using var response = await _platform.Admin.GetAsync($"/api/ext/{extension}/run");
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private Task<HttpResponseMessage> InstallAsync(string extension, string version, object? config = null, string[]? capabilities = null, string[]? egress = null) =>
        _platform.Admin.PostAsJsonAsync("/api/admin/installs", new
        {
            extensionId = extension, tenant = "default", version, capabilities = capabilities ?? [], egressHosts = egress ?? [], config,
        });

    private async Task<JsonElement> InstallInfoAsync(string extension)
    {
        using var response = await _platform.Admin.GetAsync($"/api/admin/installs/default/{extension}");
        await TestPlatform.EnsureSuccessAsync(response);
        return await TestPlatform.JsonAsync(response);
    }

    private async Task<JsonElement[]> AuditAsync(string query)
    {
        using var response = await _platform.Admin.GetAsync($"/api/admin/audit?{query}");
        await TestPlatform.EnsureSuccessAsync(response);
        return [.. (await TestPlatform.JsonAsync(response)).EnumerateArray()];
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> ProblemAsync(HttpResponseMessage response) =>
        (response.StatusCode, await TestPlatform.JsonAsync(response));

    private async Task<int> InstallCountAsync(string extension)
    {
        using var response = await _platform.Admin.GetAsync("/api/admin/installs");
        return (await TestPlatform.JsonAsync(response)).EnumerateArray().Count(i => i.GetProperty("extensionId").GetString() == extension);
    }

    [Test]
    public async Task Install_WithConfigViolatingTheSchema_IsRefusedNamingTheField_AndInstallsNothing()
    {
        await _platform.PublishOnlyAsync(GuestFixtures.Create("cfgbad", GuestFixtures.EchoGreeting, config: GreetingSchema()));

        using var response = await InstallAsync("test.cfgbad", "1.0.0", config: new { greeting = 5 });
        var (status, body) = await ProblemAsync(response);

        Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(body.GetProperty("code").GetString(), Is.EqualTo("invalid_config"));
        Assert.That(body.GetProperty("detail").GetString(), Does.Contain("config.greeting").And.Contain("type"));
        Assert.That(await InstallCountAsync("test.cfgbad"), Is.Zero);
        Assert.That(await AuditAsync("extension=test.cfgbad&tenant=default"), Is.Empty);
        Assert.That((await CallAsync("test.cfgbad")).Status, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task Config_ReachesTheGuest_AndChangesOnlyWhenValid_WithBeforeAndAfterAudited()
    {
        await _platform.PublishOnlyAsync(GuestFixtures.Create("cfg", GuestFixtures.EchoGreeting, config: GreetingSchema()));
        using (var installed = await InstallAsync("test.cfg", "1.0.0", config: new { greeting = "hello there" }))
        {
            await TestPlatform.EnsureSuccessAsync(installed);
        }

        Assert.That(await CallAsync("test.cfg"), Is.EqualTo((HttpStatusCode.OK, "\"hello there\"")));

        using (var bad = await _platform.Admin.PutAsJsonAsync("/api/admin/installs/default/test.cfg/config", new { greeting = new string('x', 21) }))
        {
            var (status, body) = await ProblemAsync(bad);
            Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(body.GetProperty("code").GetString(), Is.EqualTo("invalid_config"));
            Assert.That(body.GetProperty("detail").GetString(), Does.Contain("config.greeting").And.Contain("maxLength"));
        }

        using (var missing = await _platform.Admin.PutAsJsonAsync("/api/admin/installs/default/test.cfg/config", new { }))
        {
            Assert.That((await ProblemAsync(missing)).Body.GetProperty("detail").GetString(), Does.Contain("config.greeting: is required"));
        }

        Assert.That(await CallAsync("test.cfg"), Is.EqualTo((HttpStatusCode.OK, "\"hello there\"")), "a refused config must change nothing");

        using (var good = await _platform.Admin.PutAsJsonAsync("/api/admin/installs/default/test.cfg/config", new { greeting = "howdy" }))
        {
            await TestPlatform.EnsureSuccessAsync(good);
        }

        Assert.That(await CallAsync("test.cfg"), Is.EqualTo((HttpStatusCode.OK, "\"howdy\"")));
        var change = (await AuditAsync("tenant=default&extension=test.cfg")).First(a => a.GetProperty("action").GetString() == "install.config");
        Assert.That(change.GetProperty("before").GetProperty("config").GetProperty("greeting").GetString(), Is.EqualTo("hello there"));
        Assert.That(change.GetProperty("after").GetProperty("config").GetProperty("greeting").GetString(), Is.EqualTo("howdy"));
        Assert.That(change.GetProperty("who").GetString(), Is.Not.Empty);

        using (var reinstalled = await InstallAsync("test.cfg", "1.0.0"))
        {
            await TestPlatform.EnsureSuccessAsync(reinstalled);
        }

        Assert.That(await CallAsync("test.cfg"), Is.EqualTo((HttpStatusCode.OK, "\"howdy\"")), "installing again without settings keeps them");
    }

    [Test]
    public async Task Install_OfAVersionNeverPublished_IsNotFound_AndChangesNothing()
    {
        await _platform.DeployAsync(GuestFixtures.Create("nover", GuestFixtures.Says("v1")));
        var before = await InstallInfoAsync("test.nover");

        using var response = await InstallAsync("test.nover", "9.9.9");
        var (status, body) = await ProblemAsync(response);

        Assert.That(status, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(body.GetProperty("detail").GetString(), Does.Contain("test.nover@9.9.9 is not published"));
        Assert.That((await InstallInfoAsync("test.nover")).GetRawText(), Is.EqualTo(before.GetRawText()));
        Assert.That(await CallAsync("test.nover"), Is.EqualTo((HttpStatusCode.OK, "v1")));
    }

    [Test]
    public async Task Upgrade_ThatWidensGrants_NeedsFreshConsentForExactlyTheNewSet_ElseTheOldVersionKeepsServing()
    {
        await _platform.DeployAsync(GuestFixtures.Create("upg", GuestFixtures.Says("v1")));
        var v2 = await _platform.PublishOnlyAsync(GuestFixtures.Create("upg", GuestFixtures.Says("v2"), version: "2.0.0",
            capabilities: [Capabilities.Log], egressHosts: ["api.example.com"]));

        using (var preview = await _platform.Admin.GetAsync("/api/admin/installs/default/test.upg/upgrade?version=2.0.0"))
        {
            var plan = await TestPlatform.JsonAsync(preview);
            Assert.That(plan.GetProperty("consentRequired").GetBoolean(), Is.True);
            Assert.That(plan.GetProperty("capabilities").GetProperty("added").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "cap:log" }));
            Assert.That(plan.GetProperty("egressHosts").GetProperty("added").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "api.example.com" }));
            Assert.That(plan.GetProperty("toContentHash").GetString(), Is.EqualTo(v2.ContentHash));
        }

        object?[] refusals =
        [
            null,
            new { capabilities = new[] { "cap:log" }, egressHosts = Array.Empty<string>() },
            new { capabilities = new[] { "cap:log" }, egressHosts = new[] { "api.example.com", "evil.example.com" } },
        ];
        foreach (var accept in refusals)
        {
            using var refused = await _platform.Admin.PostAsJsonAsync("/api/admin/installs/default/test.upg/upgrade", new { version = "2.0.0", accept });
            var (status, body) = await ProblemAsync(refused);
            Assert.That(status, Is.EqualTo(HttpStatusCode.Conflict), body.GetRawText());
            Assert.That(body.GetProperty("code").GetString(), Is.EqualTo("consent_required"));
            Assert.That(body.GetProperty("diff").GetProperty("capabilities").GetProperty("added")[0].GetString(), Is.EqualTo("cap:log"));
            Assert.That(body.GetProperty("detail").GetString(), Does.Contain("stays at 1.0.0"));
            Assert.That(await CallAsync("test.upg"), Is.EqualTo((HttpStatusCode.OK, "v1")), "the old version keeps serving");
        }

        using (var upgraded = await _platform.Admin.PostAsJsonAsync("/api/admin/installs/default/test.upg/upgrade", new
        {
            version = "2.0.0",
            accept = new { capabilities = new[] { "cap:log" }, egressHosts = new[] { "api.example.com" } },
        }))
        {
            await TestPlatform.EnsureSuccessAsync(upgraded);
        }

        Assert.That(await CallAsync("test.upg"), Is.EqualTo((HttpStatusCode.OK, "v2")));
        var resolved = await _platform.App.Services.GetRequiredService<IInstallResolver>().ResolveAsync("default", "test.upg");
        Assert.That(resolved.Install!.EgressHosts, Is.EquivalentTo(new[] { "api.example.com" }));
        Assert.That(resolved.Install.Grants, Is.EquivalentTo(new[] { "cap:log" }));

        var audit = (await AuditAsync("tenant=default&extension=test.upg")).First(a => a.GetProperty("action").GetString() == "install.upgrade");
        Assert.That(audit.GetProperty("before").GetProperty("version").GetString(), Is.EqualTo("1.0.0"));
        Assert.That(audit.GetProperty("after").GetProperty("version").GetString(), Is.EqualTo("2.0.0"));
        Assert.That(audit.GetProperty("after").GetProperty("egressHosts")[0].GetString(), Is.EqualTo("api.example.com"));
    }

    [Test]
    public async Task Upgrade_ThatNarrowsGrants_NeedsNoConsent_AndDropsTheGrants()
    {
        await _platform.DeployAsync(GuestFixtures.Create("narrow", GuestFixtures.Says("v1"), capabilities: [Capabilities.Log], egressHosts: ["api.example.com"]));
        await _platform.PublishOnlyAsync(GuestFixtures.Create("narrow", GuestFixtures.Says("v2"), version: "1.1.0"));

        using (var upgraded = await _platform.Admin.PostAsJsonAsync("/api/admin/installs/default/test.narrow/upgrade", new { version = "1.1.0" }))
        {
            await TestPlatform.EnsureSuccessAsync(upgraded);
        }

        var info = await InstallInfoAsync("test.narrow");
        Assert.That(info.GetProperty("granted").GetArrayLength(), Is.Zero);
        Assert.That(info.GetProperty("egressHosts").GetArrayLength(), Is.Zero);
        Assert.That(await CallAsync("test.narrow"), Is.EqualTo((HttpStatusCode.OK, "v2")));
    }

    [Test]
    public async Task Rollback_ToAnyContentThisInstallRan_WithConsentWhenItNeedsMore_AndNeverToContentItDidNotRun()
    {
        var v1 = await _platform.DeployAsync(GuestFixtures.Create("rb", GuestFixtures.Says("v1")));
        var v2 = await _platform.PublishOnlyAsync(GuestFixtures.Create("rb", GuestFixtures.Says("v2"), version: "2.0.0", capabilities: [Capabilities.Log]));
        var v3 = await _platform.PublishOnlyAsync(GuestFixtures.Create("rb", GuestFixtures.Says("v3"), version: "3.0.0"));
        var never = await _platform.PublishOnlyAsync(GuestFixtures.Create("rb", GuestFixtures.Says("v4"), version: "4.0.0"));
        using (var a = await _platform.Admin.PostAsJsonAsync("/api/admin/installs/default/test.rb/upgrade",
            new { version = "2.0.0", accept = new { capabilities = new[] { "cap:log" } } }))
        {
            await TestPlatform.EnsureSuccessAsync(a);
        }

        using (var b = await _platform.Admin.PostAsJsonAsync("/api/admin/installs/default/test.rb/upgrade", new { version = "3.0.0" }))
        {
            await TestPlatform.EnsureSuccessAsync(b);
        }

        Assert.That(await CallAsync("test.rb"), Is.EqualTo((HttpStatusCode.OK, "v3")));

        using (var notRun = await _platform.Admin.PostAsJsonAsync("/api/admin/installs/default/test.rb/rollback", new { contentHash = never.ContentHash }))
        {
            var (status, body) = await ProblemAsync(notRun);
            Assert.That(status, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(body.GetProperty("detail").GetString(), Does.Contain("never ran").And.Contain(v1.ContentHash));
        }

        using (var toV1 = await _platform.Admin.PostAsJsonAsync("/api/admin/installs/default/test.rb/rollback", new { contentHash = v1.ContentHash }))
        {
            await TestPlatform.EnsureSuccessAsync(toV1);
        }

        Assert.That(await CallAsync("test.rb"), Is.EqualTo((HttpStatusCode.OK, "v1")));

        using (var toV2 = await _platform.Admin.PostAsJsonAsync("/api/admin/installs/default/test.rb/rollback", new { contentHash = v2.ContentHash }))
        {
            var (status, body) = await ProblemAsync(toV2);
            Assert.That(status, Is.EqualTo(HttpStatusCode.Conflict));
            Assert.That(body.GetProperty("code").GetString(), Is.EqualTo("consent_required"));
        }

        Assert.That(await CallAsync("test.rb"), Is.EqualTo((HttpStatusCode.OK, "v1")));

        using (var toV2 = await _platform.Admin.PostAsJsonAsync("/api/admin/installs/default/test.rb/rollback",
            new { contentHash = v2.ContentHash, accept = new { capabilities = new[] { "cap:log" } } }))
        {
            await TestPlatform.EnsureSuccessAsync(toV2);
        }

        Assert.That(await CallAsync("test.rb"), Is.EqualTo((HttpStatusCode.OK, "v2")));
        var history = (await InstallInfoAsync("test.rb")).GetProperty("history").EnumerateArray()
            .Select(h => (h.GetProperty("action").GetString(), h.GetProperty("contentHash").GetString())).ToList();
        Assert.That(history, Is.EqualTo(new[]
        {
            ("install", v1.ContentHash), ("install.upgrade", v2.ContentHash), ("install.upgrade", v3.ContentHash),
            ("install.rollback", v1.ContentHash), ("install.rollback", v2.ContentHash),
        }));
        var rollbacks = (await AuditAsync("extension=test.rb")).Where(a => a.GetProperty("action").GetString() == "install.rollback").ToList();
        Assert.That(rollbacks[0].GetProperty("before").GetProperty("contentHash").GetString(), Is.EqualTo(v1.ContentHash));
        Assert.That(rollbacks[0].GetProperty("after").GetProperty("contentHash").GetString(), Is.EqualTo(v2.ContentHash));
    }

    [Test]
    public async Task Uninstall_RemovesConfigAndHistory_SoAReinstallStartsClean()
    {
        await _platform.PublishOnlyAsync(GuestFixtures.Create("wipe", GuestFixtures.EchoGreeting, config: GreetingSchema(required: false)));
        using (var installed = await InstallAsync("test.wipe", "1.0.0", config: new { greeting = "remember me" }))
        {
            await TestPlatform.EnsureSuccessAsync(installed);
        }

        var installId = (await InstallInfoAsync("test.wipe")).GetProperty("id").GetString()!;
        Assert.That(await CallAsync("test.wipe"), Is.EqualTo((HttpStatusCode.OK, "\"remember me\"")));

        using (var removed = await _platform.Admin.DeleteAsync("/api/admin/installs/default/test.wipe"))
        {
            Assert.That(removed.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        }

        var store = _platform.App.Services.GetRequiredService<RegistryStore>();
        Assert.That(await store.ListHistoryAsync(installId, CancellationToken.None), Is.Empty);
        using (var again = await InstallAsync("test.wipe", "1.0.0"))
        {
            await TestPlatform.EnsureSuccessAsync(again);
        }

        Assert.That(await CallAsync("test.wipe"), Is.EqualTo((HttpStatusCode.OK, "absent")));
        var uninstall = (await AuditAsync("extension=test.wipe")).First(a => a.GetProperty("action").GetString() == "uninstall");
        Assert.That(uninstall.GetProperty("before").GetProperty("config").GetProperty("greeting").GetString(), Is.EqualTo("remember me"));
        Assert.That(uninstall.GetProperty("after").ValueKind, Is.EqualTo(JsonValueKind.Null));
    }

    [Test]
    public async Task Audit_FiltersByTenantAndExtension_NewestFirst_WithLimit()
    {
        await _platform.DeployAsync(GuestFixtures.Create("auda", GuestFixtures.Says("a")));
        await _platform.DeployAsync(GuestFixtures.Create("audb", GuestFixtures.Says("b")));
        using (var _ = await _platform.Admin.PostAsync("/api/admin/installs/default/test.auda/disable", null))
        {
        }

        var onlyA = await AuditAsync("tenant=default&extension=test.auda");
        Assert.That(onlyA.Select(a => a.GetProperty("extension").GetString()).Distinct(), Is.EqualTo(new[] { "test.auda" }));
        Assert.That(onlyA.Select(a => a.GetProperty("action").GetString()), Is.EqualTo(new[] { "install.disabled", "install" }));
        var anyTenant = await AuditAsync("extension=test.auda");
        Assert.That(anyTenant.Select(a => a.GetProperty("action").GetString()), Is.EqualTo(new[] { "install.disabled", "install", "publish" }),
            "publishing belongs to no tenant");
        Assert.That(onlyA[0].GetProperty("before").GetProperty("state").GetString(), Is.EqualTo("enabled"));
        Assert.That(onlyA[0].GetProperty("after").GetProperty("state").GetString(), Is.EqualTo("disabled"));
        Assert.That(await AuditAsync("tenant=nobody"), Is.Empty);
        Assert.That(await AuditAsync("extension=test.audb&limit=1"), Has.Length.EqualTo(1));
    }

    [Test]
    public async Task RevokedKey_StopsItsInstalledBundlesLoading_WithAClearReason_Audited()
    {
        // A second key for publisher 'test' (rotation), so revoking it leaves the fixture's key working.
        var rotated = PublisherKey.Generate();
        var trustPath = Path.Combine(_platform.DataDirectory, "trust.json");
        TrustBundle.Load(trustPath).WithKey(TestPlatform.TestPublisherName, rotated.PublicKeyRaw).Save(trustPath);
        await _platform.PublishOnlyAsync(GuestFixtures.Create("revoked", GuestFixtures.Says("fine")), rotated);
        await _platform.DeployAsync(GuestFixtures.Create("kept", GuestFixtures.Says("kept")));
        using (var installed = await InstallAsync("test.revoked", "1.0.0"))
        {
            await TestPlatform.EnsureSuccessAsync(installed);
        }

        Assert.That(await CallAsync("test.revoked"), Is.EqualTo((HttpStatusCode.OK, "fine")));

        TrustBundle.Load(trustPath).WithRevoked(rotated.KeyId).Save(trustPath);

        // The request path sees an edited trust file at once (a file watcher) or, should the watcher miss it, within a second.
        var stopped = Stopwatch.StartNew();
        while ((await CallAsync("test.revoked")).Item1 == HttpStatusCode.OK && stopped.Elapsed < TimeSpan.FromSeconds(3))
        {
            await Task.Delay(50);
        }

        using (var response = await _platform.Admin.GetAsync("/api/ext/test.revoked/run"))
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
            Assert.That((await TestPlatform.JsonAsync(response)).GetProperty("code").GetString(), Is.EqualTo("extension_failed"));
        }

        var info = await InstallInfoAsync("test.revoked");
        Assert.That(info.GetProperty("state").GetString(), Is.EqualTo("failed"));
        Assert.That(info.GetProperty("stateReason").GetString(), Does.Contain("revoked").And.Contain(rotated.KeyId));
        var failed = (await AuditAsync("extension=test.revoked")).First();
        Assert.That(failed.GetProperty("action").GetString(), Is.EqualTo("install.failed"));
        Assert.That(failed.GetProperty("who").GetString(), Is.EqualTo("system"));
        Assert.That(await CallAsync("test.kept"), Is.EqualTo((HttpStatusCode.OK, "kept")), "bundles signed by the publisher's other key keep loading");
    }
}
