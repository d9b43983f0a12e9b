using System.Diagnostics;
using System.Net;
using Extensions.Modules.Runner.Contracts;
using Extensions.Modules.Runner.Pool;
using Extensions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Extensions.Tests.Runner;

/// <summary>Workers that hang, bloat or have served their quota are replaced without failing anyone's request.</summary>
[TestFixture]
[CancelAfter(120_000)]
public sealed class WorkerLifecycleTests
{
    private static WorkerPool Pool(TestPlatform platform) => (WorkerPool)platform.App.Services.GetRequiredService<IExtensionRunner>();

    private static async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(50);
        }

        return true;
    }

    [Test]
    public async Task StoppedWorker_ThatMissesPings_IsKilledAndReplaced()
    {
        await using var platform = await TestPlatform.StartAsync(new Dictionary<string, string?>
        {
            ["Runner:PingIntervalMs"] = "100",
            ["Runner:HangTimeoutMs"] = "1500",
        });
        Assert.That(await WaitUntilAsync(() => Pool(platform).WorkerProcessIds.Count == 2, TimeSpan.FromSeconds(15)), Is.True, "both workers should be up");
        var victim = Pool(platform).WorkerProcessIds[0];
        using (var stop = Process.Start("kill", ["-STOP", victim.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await stop.WaitForExitAsync();
        }

        Assert.That(await WaitUntilAsync(() => !Pool(platform).WorkerProcessIds.Contains(victim) && Pool(platform).WorkerProcessIds.Count == 2, TimeSpan.FromSeconds(15)),
            Is.True, "the stopped worker should have been replaced");
        Assert.That(await WaitUntilAsync(() => !File.Exists($"/proc/{victim}/status") || File.ReadAllText($"/proc/{victim}/status").Contains("zombie", StringComparison.Ordinal), TimeSpan.FromSeconds(5)),
            Is.True, "the stopped worker should have been killed");
        Assert.That(platform.Logs.Entries.Any(e => e.Message.Contains("has not answered a ping", StringComparison.Ordinal)), Is.True);
        using var response = await platform.Admin.GetAsync("/api/ext/samples.hello/hello/Ada");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task Worker_AfterItsInvocationQuota_IsRecycled_WithoutFailingRequests()
    {
        await using var platform = await TestPlatform.StartAsync(new Dictionary<string, string?>
        {
            ["Runner:PingIntervalMs"] = "100",
            ["Runner:RecycleAfterInvocations"] = "5",
            ["Logging:LogLevel:Extensions.Modules.Runner"] = "Information",
        });
        var first = Pool(platform).WorkerProcessIds.ToHashSet();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 60; i++)
        {
            using var response = await platform.Admin.GetAsync("/api/ext/samples.hello/hello/Ada");
            statuses.Add(response.StatusCode);
            await Task.Delay(10);
        }

        Assert.That(statuses, Is.All.EqualTo(HttpStatusCode.OK));
        // Sequential requests may all land on one slot (the other stays idle and is not recycled), and a replacement
        // starts before its predecessor drains, so the last swap may still be under way here.
        Assert.That(await WaitUntilAsync(() => Pool(platform).WorkerProcessIds.Count == 2 && Pool(platform).WorkerProcessIds.Except(first).Any(), TimeSpan.FromSeconds(15)),
            Is.True, "a worker past its quota should have been replaced");
        Assert.That(platform.Logs.Entries.Any(e => e.Message.Contains("Recycling worker", StringComparison.Ordinal) && e.Message.Contains("invocations", StringComparison.Ordinal)), Is.True);
    }

    [Test]
    public async Task Worker_OverItsMemoryBudget_IsRecycled()
    {
        await using var platform = await TestPlatform.StartAsync(new Dictionary<string, string?>
        {
            ["Runner:PingIntervalMs"] = "100",
            ["Runner:MaxWorkerRssMb"] = "32",
            ["Logging:LogLevel:Extensions.Modules.Runner"] = "Information",
        });
        var first = Pool(platform).WorkerProcessIds.ToHashSet();

        // Any .NET worker is over 32 MiB resident, so each is recycled as soon as its first Pong reports it.
        Assert.That(await WaitUntilAsync(() => !Pool(platform).WorkerProcessIds.Intersect(first).Any(), TimeSpan.FromSeconds(15)), Is.True);
        Assert.That(platform.Logs.Entries.Any(e => e.Message.Contains("resident memory", StringComparison.Ordinal)), Is.True);
    }
}
