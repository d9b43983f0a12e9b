using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Extensions.Tests.Support;

namespace Extensions.Tests.Hostile;

/// <summary>Guests that loop, hoard memory or trap are stopped with their own code, and the next request is served.</summary>
[TestFixture]
[CancelAfter(120_000)]
public sealed class RunawayGuestTests
{
    private TestPlatform _platform = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _platform = await TestPlatform.StartAsync();
        await _platform.DeployAsync(GuestFixtures.Create("spin", GuestFixtures.InfiniteLoop,
            limits: new JsonObject { ["fuelPerRequest"] = 2_000_000 }));
        await _platform.DeployAsync(GuestFixtures.Create("slowspin", GuestFixtures.InfiniteLoop,
            limits: new JsonObject { ["fuelPerRequest"] = 1_000_000_000, ["timeoutMs"] = 200 }));
        await _platform.DeployAsync(GuestFixtures.Create("hoard", GuestFixtures.MemoryBomb,
            limits: new JsonObject { ["memoryMb"] = 4 }));
        await _platform.DeployAsync(GuestFixtures.Create("crash", GuestFixtures.Trap));
        await _platform.DeployAsync(GuestFixtures.Create("deep", GuestFixtures.DeepRecursion));
        await _platform.DeployAsync(GuestFixtures.Create("giant", GuestFixtures.GiantResponse));
        await _platform.DeployAsync(GuestFixtures.Create("chatty", GuestFixtures.LogFlood, capabilities: ["cap:log"]));
        await _platform.DeployAsync(GuestFixtures.Create("storm", GuestFixtures.HostCallStorm, capabilities: ["cap:log"],
            limits: new JsonObject { ["fuelPerRequest"] = 1_000_000_000, ["timeoutMs"] = 300 }));
    }

    [OneTimeTearDown]
    public async Task StopAsync() => await _platform.DisposeAsync();

    private async Task<(HttpStatusCode Status, string Code, TimeSpan Elapsed)> CallAsync(string extension)
    {
        var clock = Stopwatch.StartNew();
        using var response = await _platform.Admin.GetAsync($"/api/ext/test.{extension}/run");
        var body = await TestPlatform.JsonAsync(response);
        return (response.StatusCode, body.GetProperty("code").GetString()!, clock.Elapsed);
    }

    private async Task AssertHelloStillServedAsync()
    {
        using var response = await _platform.Admin.GetAsync("/api/ext/samples.hello/hello/Ada");
        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo("""{"message":"Hello, Ada"}"""));
    }

    [Test]
    public async Task InfiniteLoop_WithSmallFuel_IsFuelExhausted()
    {
        var (status, code, _) = await CallAsync("spin");

        Assert.That(code, Is.EqualTo("fuel_exhausted"));
        Assert.That(status, Is.EqualTo(HttpStatusCode.BadGateway));
        await AssertHelloStillServedAsync();
    }

    [Test]
    public async Task InfiniteLoop_WithLargeFuel_TimesOutNearItsDeadline()
    {
        var (status, code, elapsed) = await CallAsync("slowspin");

        Assert.That(code, Is.EqualTo("timeout"));
        Assert.That(status, Is.EqualTo(HttpStatusCode.GatewayTimeout));
        Assert.That(elapsed, Is.LessThan(TimeSpan.FromSeconds(2)), "the epoch deadline, not the watchdog, should stop the guest");
        await AssertHelloStillServedAsync();
    }

    [Test]
    public async Task MemoryBomb_IsMemoryExceeded()
    {
        var (status, code, _) = await CallAsync("hoard");

        Assert.That(code, Is.EqualTo("memory_exceeded"));
        Assert.That(status, Is.EqualTo(HttpStatusCode.BadGateway));
        await AssertHelloStillServedAsync();
    }

    [Test]
    public async Task Trap_IsExtensionTrap()
    {
        var (_, code, _) = await CallAsync("crash");

        Assert.That(code, Is.EqualTo("extension_trap"));
        await AssertHelloStillServedAsync();
    }

    [Test]
    public async Task DeepRecursion_IsStoppedByTheStackLimit()
    {
        var (_, code, elapsed) = await CallAsync("deep");

        Assert.That(code, Is.EqualTo("extension_trap"));
        Assert.That(elapsed, Is.LessThan(TimeSpan.FromSeconds(2)));
        Assert.That(_platform.Logs.Entries.Any(e => e.Message.Contains("test.deep", StringComparison.Ordinal) && e.Message.Contains("stack", StringComparison.OrdinalIgnoreCase)), Is.True);
        await AssertHelloStillServedAsync();
    }

    [Test]
    public async Task GiantResponse_IsRefusedAsTooLarge()
    {
        var (status, code, _) = await CallAsync("giant");

        Assert.That(code, Is.EqualTo("response_too_large"));
        Assert.That(status, Is.EqualTo(HttpStatusCode.BadGateway));
        await AssertHelloStillServedAsync();
    }

    [Test]
    public async Task LogFlood_IsCappedAtTheLogBudget_AndTheRequestStillAnswers()
    {
        var before = _platform.Logs.Entries.Count(e => e.Category == "Extensions.Guest");

        using var response = await _platform.Admin.GetAsync("/api/ext/test.chatty/run");

        // The guest saw -4 (limit) for most of its 10,000 lines and said so with its status.
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo("logged"));
        await Task.Delay(200);
        var reached = _platform.Logs.Entries.Count(e => e.Category == "Extensions.Guest") - before;
        Assert.That(reached, Is.InRange(1, 64), "64 KiB of budget holds at most 64 lines of 1 KiB");
    }

    [Test]
    public async Task HostCallStorm_IsStoppedAtItsDeadline_AndCannotFloodTheHost()
    {
        var before = _platform.Logs.Entries.Count(e => e.Category == "Extensions.Guest");

        var (_, code, elapsed) = await CallAsync("storm");

        Assert.That(code, Is.EqualTo("timeout"));
        Assert.That(elapsed, Is.LessThan(TimeSpan.FromSeconds(2)));
        var reached = _platform.Logs.Entries.Count(e => e.Category == "Extensions.Guest") - before;
        Assert.That(reached, Is.LessThanOrEqualTo(64 * 1024 / 16), "only the log budget's worth of lines may reach the host");
        await AssertHelloStillServedAsync();
    }

    [Test]
    public async Task ManyRunawayGuestsAtOnce_DoNotStarveTheWorkersForever()
    {
        var runaways = Enumerable.Range(0, 12).Select(_ => CallAsync("slowspin")).ToArray();
        var results = await Task.WhenAll(runaways);

        Assert.That(results.Select(r => r.Code), Is.All.EqualTo("timeout"));
        await AssertHelloStillServedAsync();
    }
}
