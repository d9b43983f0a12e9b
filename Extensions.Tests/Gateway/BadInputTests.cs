using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Extensions.Modules.Runner.Contracts;
using Extensions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Extensions.Tests.Gateway;

/// <summary>
/// The hostile inputs that no other fixture covers at the front door: each gets a clear answer, and the platform
/// keeps serving everyone else. (Covered elsewhere: missing, garbled and revoked keys, another tenant's extension,
/// undeclared endpoints and encoded traversal in GatewayErrorTests and RoutingTests; a disabled install in
/// InstallLifecycleTests; a 64 MB guest response in RunawayGuestTests; 1xx statuses in ResponseHeaderTests.)
/// </summary>
[TestFixture]
[CancelAfter(90_000)]
public sealed class BadInputTests
{
    private TestPlatform _platform = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        // MaxFuel lifted: the guest killed mid-request must still be running then, not stopped by the fuel cap first.
        _platform = await TestPlatform.StartAsync(new Dictionary<string, string?> { ["Gateway:BodyReadTimeoutMs"] = "700", ["Runner:MaxFuel"] = "1000000000000" });
        await _platform.DeployAsync(GuestFixtures.Create("sink", GatewayGuests.Echo, endpoints: [("POST", "/upload")]));
    }

    [OneTimeTearDown]
    public async Task StopAsync() => await _platform.DisposeAsync();

    private async Task AssertStillServingAsync()
    {
        using var response = await _platform.Admin.GetAsync("/api/ext/samples.hello/hello/Ada");
        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo("""{"message":"Hello, Ada"}"""));
    }

    private async Task<int> SinkInvocationsAsync()
    {
        using var response = await _platform.Admin.GetAsync("/api/admin/invocations?extension=test.sink&limit=1000");
        return (await TestPlatform.JsonAsync(response)).GetArrayLength();
    }

    private string Auth => $"Authorization: Bearer {_platform.AdminKey}";

    [Test]
    public async Task HundredMegabyteBody_Declared_IsRefusedWith413BeforeAnyOfItIsRead()
    {
        var before = await SinkInvocationsAsync();
        var clock = Stopwatch.StartNew();
        var response = await RawHttp.SendAsync(_platform.BaseUrl,
            $"POST /api/ext/test.sink/upload HTTP/1.1\r\n{Auth}\r\nContent-Length: {100 * 1024 * 1024}", "only the start"u8.ToArray());

        Assert.That(response.Status, Is.EqualTo(413));
        Assert.That(response.Body, Does.Contain("\"code\":\"payload_too_large\""));
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "answered without waiting for 100 MB");
        Assert.That(await SinkInvocationsAsync(), Is.EqualTo(before));
        await AssertStillServingAsync();
    }

    [Test]
    public async Task HundredMegabyteBody_Chunked_IsCutOffAtTheCap()
    {
        using var socket = new TcpClient();
        await socket.ConnectAsync(_platform.BaseUrl.Host, _platform.BaseUrl.Port);
        await using var stream = socket.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST /api/ext/test.sink/upload HTTP/1.1\r\nHost: {_platform.BaseUrl.Authority}\r\n{Auth}\r\nTransfer-Encoding: chunked\r\n\r\n"));
        var chunk = new byte[64 * 1024];
        var header = Encoding.ASCII.GetBytes($"{chunk.Length:x}\r\n");
        var reading = RawHttp.ReadAsync(stream);
        long sent = 0;
        try
        {
            while (!reading.IsCompleted && sent < 100L * 1024 * 1024)
            {
                await stream.WriteAsync(header);
                await stream.WriteAsync(chunk);
                await stream.WriteAsync("\r\n"u8.ToArray());
                sent += chunk.Length;
            }
        }
        catch (IOException)
        {
            // The server answered and closed the connection on us: that is the point.
        }

        var response = await reading;
        Assert.That(response.Status, Is.EqualTo(413));
        Assert.That(sent, Is.LessThan(100L * 1024 * 1024), "the gateway stopped reading long before 100 MB");
        await AssertStillServingAsync();
    }

    [Test]
    public async Task TenThousandHeaders_AreRefusedByTheServer_AndNothingElseIsHurt()
    {
        var headers = string.Join("\r\n", Enumerable.Range(0, 10_000).Select(i => $"X-Flood-{i}: {i}"));
        var response = await RawHttp.SendAsync(_platform.BaseUrl, $"GET /api/ext/samples.hello/hello/Ada HTTP/1.1\r\n{Auth}\r\n{headers}");

        Assert.That(response.Status, Is.EqualTo(431));
        await AssertStillServingAsync();
    }

    [Test]
    public async Task HugeKey_IsUnauthenticated()
    {
        var response = await RawHttp.SendAsync(_platform.BaseUrl, $"GET /api/ext/samples.hello/hello/Ada HTTP/1.1\r\nAuthorization: Bearer ext_{new string('A', 8000)}");

        Assert.That(response.Status, Is.EqualTo(401));
        Assert.That(response.Body, Does.Contain("\"code\":\"unauthenticated\""));
    }

    [Test]
    public async Task SlowLorisBody_GetsRequestTimeout_WhileOthersAreServed()
    {
        var before = await SinkInvocationsAsync();
        using var socket = new TcpClient();
        await socket.ConnectAsync(_platform.BaseUrl.Host, _platform.BaseUrl.Port);
        await using var stream = socket.GetStream();
        var clock = Stopwatch.StartNew();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST /api/ext/test.sink/upload HTTP/1.1\r\nHost: {_platform.BaseUrl.Authority}\r\n{Auth}\r\nContent-Length: 1000\r\n\r\n0123456789"));
        var reading = RawHttp.ReadAsync(stream);

        await AssertStillServingAsync();
        var response = await reading;

        Assert.That(response.Status, Is.EqualTo(408));
        Assert.That(response.Body, Does.Contain("\"code\":\"request_timeout\""));
        Assert.That(clock.Elapsed, Is.InRange(TimeSpan.FromMilliseconds(600), TimeSpan.FromSeconds(5)));
        Assert.That(await SinkInvocationsAsync(), Is.EqualTo(before), "a body that never arrived never reached the guest");
    }

    [Test]
    public async Task WorkerCrashMidRequest_FailsThatCall_AndTheNextCallsAreServed()
    {
        await _platform.DeployAsync(GuestFixtures.Create("crashme", GuestFixtures.InfiniteLoop,
            limits: new JsonObject { ["fuelPerRequest"] = 1_000_000_000_000, ["timeoutMs"] = 20_000 }));
        var call = _platform.Admin.GetAsync("/api/ext/test.crashme/run");
        await GatewayGuests.WaitForInFlightAsync(_platform);
        foreach (var pid in ((Modules.Runner.Pool.WorkerPool)_platform.App.Services.GetRequiredService<IExtensionRunner>()).WorkerProcessIds)
        {
            Process.GetProcessById(pid).Kill();
        }

        using var response = await call;
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadGateway));
        Assert.That((await TestPlatform.JsonAsync(response)).GetProperty("code").GetString(), Is.EqualTo("runner_crashed"));

        // Workers come back with back-off; until then calls are answered (overloaded), never hung.
        var deadline = Stopwatch.StartNew();
        HttpStatusCode status;
        do
        {
            using var next = await _platform.Admin.GetAsync("/api/ext/samples.hello/hello/Ada");
            status = next.StatusCode;
            Assert.That(status, Is.EqualTo(HttpStatusCode.OK).Or.EqualTo(HttpStatusCode.ServiceUnavailable));
        }
        while (status != HttpStatusCode.OK && deadline.Elapsed < TimeSpan.FromSeconds(20));

        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
    }
}
