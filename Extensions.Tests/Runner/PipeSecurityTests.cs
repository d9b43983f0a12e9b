using System.Net;
using Extensions.Modules.Bundles;
using Extensions.Tests.Support;

namespace Extensions.Tests.Runner;

/// <summary>
/// A worker that lies or breaks the protocol is cut off; the host stays up and no forged answer reaches a caller.
/// The misbehaving worker is a script speaking the real frame protocol over the real pipe.
/// </summary>
[TestFixture]
[CancelAfter(60_000)]
[NonParallelizable]
public sealed class PipeSecurityTests
{
    private static string FakeWorker()
    {
        var path = Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "fake-worker.py");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private static async Task<TestPlatform> StartWithFakeWorkersAsync(string mode)
    {
        Environment.SetEnvironmentVariable("FAKE_WORKER_MODE", mode);
        return await TestPlatform.StartAsync(new Dictionary<string, string?>
        {
            ["Runner:WorkerPath"] = FakeWorker(),
            ["Runner:Workers"] = "1",
            ["Runner:WatchdogGraceMs"] = "300",
            ["Registry:SeedOnFirstStart"] = "false",
            ["Logging:LogLevel:Extensions.Modules.Runner"] = "Information",
        }, requireAdminKey: false);
    }

    [TearDown]
    public void TearDown() => Environment.SetEnvironmentVariable("FAKE_WORKER_MODE", null);

    [Test]
    public async Task WorkerWithWrongSecret_IsRefused_AndTheHostStaysUp()
    {
        await using var platform = await StartWithFakeWorkersAsync("wrong-secret");

        using var health = await platform.Client(null).GetAsync("/healthz");
        var body = await TestPlatform.JsonAsync(health);

        Assert.That(health.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(body.GetProperty("workers").GetInt32(), Is.Zero);
        Assert.That(platform.Logs.Entries.Any(e => e.Message.Contains("wrong secret", StringComparison.Ordinal)), Is.True);
    }

    // "impostor": another process (the worker's child) connects in the worker's place, with the right secret.
    // "wrong-line-secret": the worker's Hello is right, but a call line presents another secret.
    [TestCase("impostor", "connected in place of worker")]
    [TestCase("wrong-line-secret", "wrong secret or index on a call line")]
    public async Task AConnectionThatIsNotTheWorkersOwn_IsRefused_EvenAfterTheRightSecret(string mode, string expectedLog)
    {
        await using var platform = await StartWithFakeWorkersAsync(mode);

        using var health = await platform.Client(null).GetAsync("/healthz");

        Assert.That(health.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(platform.Logs.Entries.Any(e => e.Message.Contains(expectedLog, StringComparison.Ordinal)), Is.True,
            string.Join("\n", platform.Logs.Entries.Select(e => e.Message)));
    }

    [TestCase("garbage-after-hello", "runner_crashed", "unknown frame kind")]
    [TestCase("oversized-frame", "runner_crashed", "frame length")]
    [TestCase("foreign-ids", "timeout", "did not answer invocation")]
    [TestCase("foreign-host-call", "timeout", "did not answer invocation")]
    [TestCase("unknown-host-call", "runner_crashed", "unknown host call")]
    [TestCase("host-call-on-main", "runner_crashed", "instead of a call line")]
    public async Task MisbehavingWorker_IsCutOff_AndNothingForgedReachesTheCaller(string mode, string expectedCode, string expectedLog)
    {
        await using var platform = await StartWithFakeWorkersAsync(mode);
        var installed = await platform.DeployAsync(GuestFixtures.Create("victim", GuestFixtures.Ok,
            limits: new System.Text.Json.Nodes.JsonObject { ["timeoutMs"] = 200 }));
        Assert.That(installed.Manifest.ExtensionId, Is.EqualTo("test.victim"));

        using var response = await platform.Admin.GetAsync("/api/ext/test.victim/run");
        var text = await response.Content.ReadAsStringAsync();

        Assert.That(text, Does.Not.Contain("forged"));
        Assert.That(System.Text.Json.JsonDocument.Parse(text).RootElement.GetProperty("code").GetString(), Is.EqualTo(expectedCode), text);
        Assert.That(platform.Logs.Entries.Any(e => e.Message.Contains(expectedLog, StringComparison.Ordinal)), Is.True,
            string.Join("\n", platform.Logs.Entries.Select(e => e.Message)));
        using var health = await platform.Client(null).GetAsync("/healthz");
        Assert.That(health.StatusCode, Is.AnyOf(HttpStatusCode.OK, HttpStatusCode.ServiceUnavailable), "the host itself keeps answering");
        Assert.That(await Rows.CountAsync(platform, "SELECT count(*) FROM hostapi_kv"), Is.Zero, "no capability call was performed");
    }

    [Test]
    public async Task WorkerAskingForAnUngrantedCapability_IsDenied_OnTheHostsOwnRecordOfTheInvocation()
    {
        await using var platform = await StartWithFakeWorkersAsync("ungranted-host-call");
        await platform.DeployAsync(GuestFixtures.Create("victim", GuestFixtures.Ok));

        using var response = await platform.Admin.GetAsync("/api/ext/test.victim/run");

        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo("host answered -2"));
    }
}
