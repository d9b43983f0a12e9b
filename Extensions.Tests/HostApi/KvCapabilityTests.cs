using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Extensions.Tests.Support;

namespace Extensions.Tests.HostApi;

/// <summary>
/// <c>cap:kv</c> end to end: the kv-counter sample through the gateway, worker and host, concurrent writers, a guest
/// without the grant (denied, counted, and answered as the guest decides), and a guest that storms the host with calls.
/// </summary>
[TestFixture]
[CancelAfter(120_000)]
public sealed class KvCapabilityTests
{
    private TestPlatform _platform = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _platform = await TestPlatform.StartAsync(new Dictionary<string, string?> { ["Runner:MaxHostCallsPerInvocation"] = "100" });
        await _platform.DeployAsync(Samples.Copy("kv-counter"));
        // The same module, but its install holds no cap:kv grant (the manifest does not ask for it).
        await _platform.DeployAsync(Samples.Copy("kv-counter", m =>
        {
            m["name"] = "kv-ungranted";
            m["capabilities"] = new JsonArray();
        }));
        await _platform.DeployAsync(GuestFixtures.Create("kvstorm", KvStorm, capabilities: ["cap:kv"],
            limits: new JsonObject { ["fuelPerRequest"] = 1_000_000_000, ["timeoutMs"] = 5000 }));
    }

    [OneTimeTearDown]
    public async Task StopAsync() => await _platform.DisposeAsync();

    [Test]
    public async Task Counter_CountsAndReads_ThroughTheGateway()
    {
        using var first = await _platform.Admin.PostAsync("/api/ext/test.kv-counter/counters/visits", null);
        using var second = await _platform.Admin.PostAsync("/api/ext/test.kv-counter/counters/visits", null);
        using var read = await _platform.Admin.GetAsync("/api/ext/test.kv-counter/counters/visits");
        using var missing = await _platform.Admin.GetAsync("/api/ext/test.kv-counter/counters/never");

        await TestPlatform.EnsureSuccessAsync(second);
        var body = await TestPlatform.JsonAsync(read);
        Assert.That(body.GetProperty("count").GetInt64(), Is.EqualTo(2));
        Assert.That(body.GetProperty("revision").GetInt64(), Is.EqualTo((await TestPlatform.JsonAsync(second)).GetProperty("revision").GetInt64()));
        Assert.That(missing.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task ConcurrentIncrements_LoseNoUpdate()
    {
        const int Writers = 24;
        var responses = await Task.WhenAll(Enumerable.Range(0, Writers).Select(_ => _platform.Admin.PostAsync("/api/ext/test.kv-counter/counters/race", null)));
        foreach (var response in responses)
        {
            await TestPlatform.EnsureSuccessAsync(response);
            response.Dispose();
        }

        using var read = await _platform.Admin.GetAsync("/api/ext/test.kv-counter/counters/race");
        Assert.That((await TestPlatform.JsonAsync(read)).GetProperty("count").GetInt64(), Is.EqualTo(Writers));
    }

    [Test]
    public async Task List_PagesThroughCounterNames()
    {
        foreach (var name in new[] { "list-b", "list-a" })
        {
            using var created = await _platform.Admin.PostAsync($"/api/ext/test.kv-counter/counters/{name}", null);
            await TestPlatform.EnsureSuccessAsync(created);
        }

        using var page = await _platform.Admin.GetAsync("/api/ext/test.kv-counter/counters");
        var keys = (await TestPlatform.JsonAsync(page)).GetProperty("keys").EnumerateArray().Select(k => k.GetString()).ToList();

        Assert.That(keys, Does.Contain("counter:list-a").And.Contain("counter:list-b"));
        Assert.That(keys, Is.Ordered);
    }

    [Test]
    public async Task WithoutTheGrant_TheGuestGetsDenied_DecidesTheResponse_AndTheDenialIsCounted()
    {
        long denied = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "extensions.hostapi.denied")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            if (tags.ToArray().Any(t => t.Key == "extension" && (string?)t.Value == "test.kv-ungranted"))
            {
                Interlocked.Add(ref denied, value);
            }
        });
        listener.Start();

        using var response = await _platform.Admin.PostAsync("/api/ext/test.kv-ungranted/counters/x", null);
        var body = await TestPlatform.JsonAsync(response);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden), "the guest chose 403 for a denied call");
        Assert.That(body.GetProperty("abiCode").GetInt32(), Is.EqualTo(-2));
        Assert.That(Interlocked.Read(ref denied), Is.GreaterThanOrEqualTo(1));
    }

    [Test]
    public async Task HostCallStorm_IsCutOffAtTheCallCap_AndOthersAreServed()
    {
        using var response = await _platform.Admin.GetAsync("/api/ext/test.kvstorm/run");

        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo("limit"));
        using var counter = await _platform.Admin.PostAsync("/api/ext/test.kv-counter/counters/after-storm", null);
        await TestPlatform.EnsureSuccessAsync(counter);
        using var hello = await _platform.Admin.GetAsync("/api/ext/samples.hello/hello/Ada");
        Assert.That(await hello.Content.ReadAsStringAsync(), Is.EqualTo("""{"message":"Hello, Ada"}"""));
    }

    /// <summary>Calls kv_get in a loop until the host refuses with -4 (limit), then answers "limit".</summary>
    private const string KvStorm = """
        (module
          (import "ext" "kv_get" (func $get (param i32 i32 i32 i32 i32) (result i32)))
          (import "ext" "resp_status" (func $status (param i32) (result i32)))
          (import "ext" "resp_body" (func $body (param i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 0) "key")
          (data (i32.const 16) "limit")
          (func (export "handle") (result i32)
            (local $r i32)
            (loop $again
              (local.set $r (call $get (i32.const 0) (i32.const 3) (i32.const 64) (i32.const 64) (i32.const 0)))
              (br_if $again (i32.ne (local.get $r) (i32.const -4))))
            (drop (call $status (i32.const 200)))
            (drop (call $body (i32.const 16) (i32.const 5)))
            (i32.const 0)))
        """;

    [Test]
    public async Task Uninstall_RemovesTheInstallsKeys_SoAReinstallStartsEmpty()
    {
        var packed = await _platform.DeployAsync(Samples.Copy("kv-counter", m => m["name"] = "kv-removed"));
        using (var counted = await _platform.Admin.PostAsync("/api/ext/test.kv-removed/counters/kept", null))
        {
            await TestPlatform.EnsureSuccessAsync(counted);
        }

        var installId = await Rows.InstallIdAsync(_platform, "test.kv-removed");
        const string Stored = "SELECT count(*) FROM hostapi_kv WHERE install_id = @installId";
        Assert.That(await Rows.CountAsync(_platform, Stored, new { installId }), Is.EqualTo(1));

        using (var uninstalled = await _platform.Admin.DeleteAsync("/api/admin/installs/default/test.kv-removed"))
        {
            await TestPlatform.EnsureSuccessAsync(uninstalled);
        }

        using (var reinstalled = await _platform.Admin.PostAsJsonAsync("/api/admin/installs", new
        {
            extensionId = "test.kv-removed", tenant = "default", version = packed.Manifest.Version, capabilities = packed.Manifest.Capabilities,
        }))
        {
            await TestPlatform.EnsureSuccessAsync(reinstalled);
        }

        using var read = await _platform.Admin.GetAsync("/api/ext/test.kv-removed/counters/kept");
        Assert.That(read.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), await read.Content.ReadAsStringAsync());
        Assert.That(await Rows.CountAsync(_platform, Stored, new { installId }), Is.Zero, "the uninstalled install's keys are gone");
        Assert.That(await Rows.CountAsync(_platform, "SELECT count(*) FROM hostapi_kv_usage WHERE install_id = @installId", new { installId }), Is.Zero);
        using var neighbour = await _platform.Admin.PostAsync("/api/ext/test.kv-counter/counters/untouched", null);
        await TestPlatform.EnsureSuccessAsync(neighbour);
    }

    [Test]
    public async Task EachCapabilityCall_IsASpan_UnderTheInvocationsDispatchSpan()
    {
        var spans = new System.Collections.Concurrent.ConcurrentBag<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name is "Extensions.Gateway" or "Extensions.Runner",
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);

        using var response = await _platform.Admin.PostAsync("/api/ext/test.kv-counter/counters/traced", null);
        await TestPlatform.EnsureSuccessAsync(response);
        var requestId = response.Headers.GetValues("x-request-id").Single();

        var gateway = spans.Single(s => s.Source.Name == "Extensions.Gateway" && (string?)s.GetTagItem("extensions.request_id") == requestId);
        var dispatch = spans.Single(s => s.OperationName == "runner.dispatch" && s.ParentSpanId == gateway.SpanId);
        var calls = spans.Where(s => s.ParentSpanId == dispatch.SpanId).ToList();
        Assert.That(calls.Select(s => s.OperationName), Is.EquivalentTo(new[] { "hostcall kv_get", "hostcall kv_put" }));
        Assert.That(calls.Select(s => s.TraceId).Distinct(), Is.EqualTo(new[] { gateway.TraceId }));
        Assert.That(calls.Single(s => s.OperationName == "hostcall kv_put").GetTagItem("extensions.result"), Is.GreaterThan(0L));
    }
}
