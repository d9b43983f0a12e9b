using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Extensions.Modules.Gateway;
using Extensions.Modules.Storage;
using Extensions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Extensions.Tests.Gateway;

/// <summary><c>Idempotency-Key</c> on non-GET calls: replayed, never run twice; misuse and races get their own codes.</summary>
[TestFixture]
[CancelAfter(90_000)]
public sealed class IdempotencyTests
{
    private TestPlatform _platform = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        // The slow guest must run into its deadline, not its fuel: lift the operator's fuel cap above what it can burn in 1.5 s.
        _platform = await TestPlatform.StartAsync(new Dictionary<string, string?> { ["Runner:MaxFuel"] = "1000000000000" });
        await _platform.DeployAsync(GuestFixtures.Create("echo", GatewayGuests.Echo, endpoints: [("POST", "/orders"), ("POST", "/refunds"), ("GET", "/orders")]));
        await _platform.DeployAsync(GuestFixtures.Create("echo2", GatewayGuests.Echo, endpoints: [("POST", "/orders")]));
        await _platform.DeployAsync(GuestFixtures.Create("slowpost", GuestFixtures.InfiniteLoop, endpoints: [("POST", "/run")],
            limits: new JsonObject { ["fuelPerRequest"] = 1_000_000_000_000, ["timeoutMs"] = 1500 }));
    }

    [OneTimeTearDown]
    public async Task StopAsync() => await _platform.DisposeAsync();

    private static HttpRequestMessage Post(string path, string key, string body = "{\"amount\":5}") => new(HttpMethod.Post, path)
    {
        Content = new StringContent(body),
        Headers = { { "Idempotency-Key", key } },
    };

    private async Task<int> InvocationCountAsync(string extension, string? key = null)
    {
        using var response = await (key is null ? _platform.Admin : _platform.Client(key)).GetAsync($"/api/admin/invocations?extension={extension}&limit=1000");
        return (await TestPlatform.JsonAsync(response)).GetArrayLength();
    }

    private static string NewKey() => $"key-{Guid.NewGuid():N}";

    [Test]
    public async Task SameKeyAndRequest_IsReplayed_NotRunAgain()
    {
        var key = NewKey();
        var before = await InvocationCountAsync("test.echo");
        using var first = await _platform.Admin.SendAsync(Post("/api/ext/test.echo/orders", key));
        using var second = await _platform.Admin.SendAsync(Post("/api/ext/test.echo/orders", key));

        Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(first.Headers.Contains("idempotent-replayed"), Is.False);
        Assert.That(second.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(second.Headers.GetValues("idempotent-replayed").Single(), Is.EqualTo("true"));
        Assert.That(await second.Content.ReadAsStringAsync(), Is.EqualTo(await first.Content.ReadAsStringAsync()).And.EqualTo("POST /orders"));
        Assert.That(second.Headers.Contains("x-ext-fuel"), Is.False, "nothing ran, so nothing was spent");
        Assert.That(await InvocationCountAsync("test.echo") - before, Is.EqualTo(1), "the guest ran once");
    }

    [Test]
    public async Task SameKeyWithAnotherBodyOrPath_IsIdempotencyKeyReused()
    {
        var key = NewKey();
        using var first = await _platform.Admin.SendAsync(Post("/api/ext/test.echo/orders", key));
        using var otherBody = await _platform.Admin.SendAsync(Post("/api/ext/test.echo/orders", key, "{\"amount\":500}"));
        using var otherPath = await _platform.Admin.SendAsync(Post("/api/ext/test.echo/refunds", key));
        using var again = await _platform.Admin.SendAsync(Post("/api/ext/test.echo/orders", key));

        Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        foreach (var refused in new[] { otherBody, otherPath })
        {
            Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.UnprocessableEntity));
            Assert.That((await TestPlatform.JsonAsync(refused)).GetProperty("code").GetString(), Is.EqualTo("idempotency_key_reused"));
        }

        Assert.That(again.Headers.Contains("idempotent-replayed"), "the original is still what the key stands for");
    }

    [Test]
    public async Task Keys_AreScopedByInstall_AndByTenant()
    {
        var key = NewKey();
        using var a = await _platform.Admin.SendAsync(Post("/api/ext/test.echo/orders", key));
        using var otherExtension = await _platform.Admin.SendAsync(Post("/api/ext/test.echo2/orders", key));

        using var created = await _platform.Admin.PostAsJsonAsync("/api/admin/tenants", new { id = "idemb", name = "B" });
        using var installed = await _platform.Admin.PostAsJsonAsync("/api/admin/installs", new { extensionId = "test.echo", tenant = "idemb", version = "1.0.0" });
        await TestPlatform.EnsureSuccessAsync(installed);
        using var keyResponse = await _platform.Admin.PostAsJsonAsync("/api/admin/tenants/idemb/keys", new { name = "k" });
        using var tenantB = _platform.Client((await TestPlatform.JsonAsync(keyResponse)).GetProperty("key").GetString());
        using var otherTenant = await tenantB.SendAsync(Post("/api/ext/test.echo/orders", key));

        Assert.That(otherExtension.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(otherExtension.Headers.Contains("idempotent-replayed"), Is.False);
        Assert.That(otherTenant.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(otherTenant.Headers.Contains("idempotent-replayed"), Is.False, "another tenant's key with the same text is another key");
    }

    [Test]
    public async Task ConcurrentDuplicate_IsInProgress_AndAFailedCallGivesTheKeyBack()
    {
        var key = NewKey();
        var first = _platform.Admin.SendAsync(Post("/api/ext/test.slowpost/run", key));
        await GatewayGuests.WaitForInFlightAsync(_platform);
        using var duplicate = await _platform.Admin.SendAsync(Post("/api/ext/test.slowpost/run", key));
        using var firstResponse = await first;

        Assert.That(duplicate.StatusCode, Is.EqualTo(HttpStatusCode.Conflict));
        Assert.That((await TestPlatform.JsonAsync(duplicate)).GetProperty("code").GetString(), Is.EqualTo("idempotency_in_progress"));
        Assert.That(firstResponse.StatusCode, Is.EqualTo(HttpStatusCode.GatewayTimeout).Or.EqualTo(HttpStatusCode.BadGateway));

        // The guest never answered, so nothing was kept: a retry runs (and times out) again instead of replaying a failure.
        using var retry = await _platform.Admin.SendAsync(Post("/api/ext/test.slowpost/run", key));
        // (On a badly overloaded machine the watchdog may beat the guest's own deadline: runner_crashed is the same story.)
        Assert.That((await TestPlatform.JsonAsync(retry)).GetProperty("code").GetString(), Is.AnyOf("timeout", "runner_crashed"));
        Assert.That(retry.Headers.Contains("idempotent-replayed"), Is.False);
    }

    [TestCase("")]
    [TestCase("has space")]
    [TestCase("tab\tinside")]
    public async Task MalformedKey_IsInvalidRequest_AndNothingRuns(string key)
    {
        var before = await InvocationCountAsync("test.echo2");
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/ext/test.echo2/orders") { Content = new StringContent("x") };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        using var response = await _platform.Admin.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That((await TestPlatform.JsonAsync(response)).GetProperty("code").GetString(), Is.EqualTo("invalid_request"));
        Assert.That(await InvocationCountAsync("test.echo2"), Is.EqualTo(before));
    }

    [Test]
    public async Task TooLongKey_IsInvalidRequest()
    {
        using var response = await _platform.Admin.SendAsync(Post("/api/ext/test.echo2/orders", new string('k', 256)));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
    }

    [Test]
    public async Task GetWithAKey_IsNotReplayed()
    {
        var request = () => new HttpRequestMessage(HttpMethod.Get, "/api/ext/test.echo/orders") { Headers = { { "Idempotency-Key", "get-key" } } };
        using var first = await _platform.Admin.SendAsync(request());
        using var second = await _platform.Admin.SendAsync(request());

        Assert.That(second.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(second.Headers.Contains("idempotent-replayed"), Is.False, "GET is safe to repeat; keys apply to other methods");
    }

    [Test]
    public async Task ResponseLargerThanTheBound_IsNotKept_SoTheKeyRunsAgain()
    {
        await using var platform = await TestPlatform.StartAsync(new Dictionary<string, string?> { ["Gateway:MaxIdempotentResponseBytes"] = "4" });
        await platform.DeployAsync(GuestFixtures.Create("echo", GatewayGuests.Echo, endpoints: [("POST", "/orders")]));
        using var first = await platform.Admin.SendAsync(Post("/api/ext/test.echo/orders", "k1"));
        using var second = await platform.Admin.SendAsync(Post("/api/ext/test.echo/orders", "k1"));

        Assert.That(await first.Content.ReadAsStringAsync(), Is.EqualTo("POST /orders"));
        Assert.That(second.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(second.Headers.Contains("idempotent-replayed"), Is.False);
        Assert.That(second.Headers.Contains("x-ext-fuel"), "it ran again");
    }

    private sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Test]
    public async Task Keys_ExpireAfterTheirTtl_AndTheTableIsCappedOldestFirst()
    {
        // The store against the platform's real database, with a clock the test moves.
        var clock = new ManualClock(DateTimeOffset.UnixEpoch.AddYears(60));
        var options = Options.Create(new GatewayOptions { IdempotencyTtlMinutes = 2, MaxIdempotencyRecords = 2 });
        var store = new IdempotencyStore(_platform.App.Services.GetRequiredService<IDatabase>(), options, clock);
        var response = new StoredResponse(201, [new("content-type", "text/plain")], "made"u8.ToArray());

        Assert.That((await store.BeginAsync("ttl", "i1", "a", "h", default)).State, Is.EqualTo(IdempotencyState.Started));
        await store.CompleteAsync("ttl", "i1", "a", response);
        var replay = await store.BeginAsync("ttl", "i1", "a", "h", default);
        Assert.That(replay.State, Is.EqualTo(IdempotencyState.Replay));
        Assert.That(replay.Response!.Status, Is.EqualTo(201));
        Assert.That(replay.Response.Headers, Is.EqualTo(response.Headers));
        Assert.That(replay.Response.Body, Is.EqualTo(response.Body));

        clock.Now += TimeSpan.FromSeconds(121);
        Assert.That((await store.BeginAsync("ttl", "i1", "a", "other", default)).State, Is.EqualTo(IdempotencyState.Started), "expired: the key is free");

        foreach (var key in new[] { "b", "c", "d" })
        {
            clock.Now += TimeSpan.FromSeconds(1);
            await store.BeginAsync("cap", "i1", key, "h", default);
            await store.CompleteAsync("cap", "i1", key, response);
        }

        clock.Now += TimeSpan.FromSeconds(59);  // past the next prune (a minute after the last), well within every TTL
        Assert.That((await store.BeginAsync("cap", "i1", "d", "h", default)).State, Is.EqualTo(IdempotencyState.Replay), "newest kept");
        Assert.That((await store.BeginAsync("cap", "i1", "b", "h", default)).State, Is.EqualTo(IdempotencyState.Started), "oldest dropped by the cap");
    }
}
