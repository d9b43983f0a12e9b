using Extensions.Modules.Gateway;
using Extensions.Modules.Gateway.Contracts;
using Extensions.Modules.HostApi;
using Extensions.Modules.HostApi.Contracts;
using Extensions.Modules.Storage;
using Extensions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Extensions.Tests.Storage;

/// <summary>
/// The writers insert a batch through multi-row statements plus single-row ones for the rest: every row must arrive,
/// once, in the order it was added, with each value in its own column.
/// </summary>
[TestFixture]
[CancelAfter(60_000)]
public sealed class BatchedWriterTests
{
    // Two whole multi-row statements and a remainder, all in one batch (rows added faster than the batch window).
    private static readonly int Rows = 2 * BatchedWriter<InvocationRecord>.RowsPerStatement + 7;

    [Test]
    public async Task ABatchLargerThanOneStatement_IsWrittenWhole_InOrder_ValueByValue()
    {
        await using var platform = await TestPlatform.StartAsync();
        var recorder = platform.App.Services.GetRequiredService<InvocationRecorder>();
        var logs = platform.App.Services.GetRequiredService<GuestLogStore>();
        // Recent times: the writers prune rows older than their retention after a batch.
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (var i = 0; i < Rows; i++)
        {
            recorder.Add(new(now + i, "tenant-w", $"ext.{i}", $"ins_{i}", $"1.0.{i}", $"req-{i}", i % 2 == 0 ? "GET" : "POST", $"/e/{i}",
                200 + i, $"code_{i}", i + 0.5, 10_000 + i, 20_000 + i, i));
            logs.Add(new(now + 1_000 + i, "tenant-w", $"ext.{i}", $"ins_{i}", $"req-{i}", i % 2 == 0 ? "info" : "warn", Message(i)));
        }

        var records = (await recorder.ListAsync(new InvocationQuery("tenant-w", Limit: 1000), CancellationToken.None)).Reverse().ToList();
        var lines = (await logs.ListAsync("tenant-w", new GuestLogQuery(Limit: 1000), CancellationToken.None)).Reverse().ToList();

        Assert.That(records, Has.Count.EqualTo(Rows));
        Assert.That(lines, Has.Count.EqualTo(Rows));
        for (var i = 0; i < Rows; i++)
        {
            var r = records[i];
            Assert.That(new object[] { r.At, r.ExtensionId, r.InstallId, r.Version, r.RequestId, r.Method, r.Endpoint, r.Status, r.Code, r.DurationMs, r.Fuel, r.MemoryBytes, r.HostCalls },
                Is.EqualTo(new object[] { now + i, $"ext.{i}", $"ins_{i}", $"1.0.{i}", $"req-{i}", i % 2 == 0 ? "GET" : "POST", $"/e/{i}", 200L + i, $"code_{i}", i + 0.5, 10_000L + i, 20_000L + i, (long)i }),
                $"invocation record {i}");
            var l = lines[i];
            Assert.That(new object[] { l.At, l.ExtensionId, l.InstallId, l.RequestId, l.Level, l.Message },
                Is.EqualTo(new object[] { now + 1_000 + i, $"ext.{i}", $"ins_{i}", $"req-{i}", i % 2 == 0 ? "info" : "warn", Message(i) }),
                $"log line {i}");
        }

        Assert.That(records.Select(r => r.Id), Is.Ordered.Ascending.And.Unique);
        Assert.That(lines.Select(l => l.Id), Is.Ordered.Ascending.And.Unique);
    }

    // Text is encoded into one reused buffer: a long multi-byte line in the middle checks it grows and the next row's
    // shorter text is not mixed with what was left in it.
    private static string Message(int i) => $"line {i} ünïcode" + (i == 40 ? new string('é', 700) : "");
}
