using System.Diagnostics;
using System.Net;
using Extensions.Modules.Runner.Contracts;
using Extensions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Extensions.Tests.Runner;

/// <summary>A worker killed from outside is replaced; requests keep being served.</summary>
[TestFixture]
[CancelAfter(60_000)]
public sealed class WorkerRecoveryTests
{
    [Test]
    public async Task KilledWorker_IsReplaced_AndRequestsSucceed()
    {
        await using var platform = await TestPlatform.StartAsync();
        var before = WorkerPids(platform);
        Assert.That(before, Has.Count.EqualTo(2));

        Process.GetProcessById(before[0]).Kill();

        var deadline = DateTime.UtcNow.AddSeconds(20);
        IReadOnlyList<int> after;
        do
        {
            await Task.Delay(50);
            after = WorkerPids(platform);
        }
        while ((after.Count < 2 || after.Contains(before[0])) && DateTime.UtcNow < deadline);

        Assert.That(after, Has.Count.EqualTo(2));
        Assert.That(after, Does.Not.Contain(before[0]));
        for (var i = 0; i < 4; i++)
        {
            using var response = await platform.Admin.GetAsync("/api/ext/samples.hello/hello/Ada");
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }
    }

    [Test]
    public async Task Workers_AreChildProcessesOfTheSameProgram()
    {
        await using var platform = await TestPlatform.StartAsync();

        foreach (var pid in WorkerPids(platform))
        {
            var cmdline = await File.ReadAllTextAsync($"/proc/{pid}/cmdline");
            Assert.That(cmdline.Split('\0'), Does.Contain("worker"));
            Assert.That(cmdline, Does.Contain("Extensions.Host"));
        }
    }

    [Test]
    public async Task WorkerKilledMidRequest_FailsThatRequestFastWithRunnerCrashed()
    {
        // The long guest must still be running when its worker is killed, not stopped by the operator's fuel cap first.
        await using var platform = await TestPlatform.StartAsync(new Dictionary<string, string?> { ["Runner:MaxFuel"] = "1000000000000" });
        await platform.DeployAsync(GuestFixtures.Create("longspin", GuestFixtures.InfiniteLoop,
            limits: new System.Text.Json.Nodes.JsonObject { ["fuelPerRequest"] = 1_000_000_000_000, ["timeoutMs"] = 20_000 }));

        var clock = Stopwatch.StartNew();
        var call = platform.Admin.GetAsync("/api/ext/test.longspin/run");
        await Task.Delay(500);
        foreach (var pid in WorkerPids(platform))
        {
            Process.GetProcessById(pid).Kill();
        }

        using var response = await call;
        var body = await TestPlatform.JsonAsync(response);
        Assert.That(body.GetProperty("code").GetString(), Is.EqualTo("runner_crashed"));
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "in-flight requests must not wait for their deadline");
    }

    private static IReadOnlyList<int> WorkerPids(TestPlatform platform) =>
        ((Modules.Runner.Pool.WorkerPool)platform.App.Services.GetRequiredService<IExtensionRunner>()).WorkerProcessIds;
}
