using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using Extensions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenTelemetry.Trace;

namespace Extensions.Tests.Gateway;

/// <summary>Spans (gateway → runner) and metrics, seen by real in-process listeners; OTLP export to a real HTTP endpoint.</summary>
[TestFixture]
[NonParallelizable]
[CancelAfter(60_000)]
public sealed class TelemetryTests
{
    /// <summary>The one span matching <paramref name="match"/>: a server span stops just after its response is sent, so it may lag the client.</summary>
    private static async Task<Activity> StoppedAsync(ConcurrentBag<Activity> spans, Func<Activity, bool> match)
    {
        for (var i = 0; i < 100 && !spans.Any(match); i++)
        {
            await Task.Delay(20);
        }

        return spans.Single(match);
    }

    [Test]
    public async Task EachCall_IsAGatewaySpan_WithTheRunnerDispatchAsItsChild()
    {
        var spans = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Extensions.Gateway" or "Extensions.Runner",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(listener);
        await using var platform = await TestPlatform.StartAsync();

        using var response = await platform.Admin.GetAsync("/api/ext/samples.hello/hello/Ada");
        var requestId = response.Headers.GetValues("x-request-id").Single();

        var gateway = await StoppedAsync(spans, s => s.Source.Name == "Extensions.Gateway" && (string?)s.GetTagItem("extensions.request_id") == requestId);
        Assert.That(gateway.Kind, Is.EqualTo(ActivityKind.Server));
        Assert.That(gateway.DisplayName, Is.EqualTo("GET /api/ext/{extensionId}/{**path}"));
        Assert.That(gateway.GetTagItem("extensions.tenant"), Is.EqualTo("default"));
        Assert.That(gateway.GetTagItem("extensions.extension"), Is.EqualTo("samples.hello"));
        Assert.That(gateway.GetTagItem("extensions.install"), Is.Not.Null.And.Not.Empty);
        Assert.That(gateway.GetTagItem("extensions.endpoint"), Is.EqualTo("/hello/:name"));
        Assert.That(gateway.GetTagItem("http.response.status_code"), Is.EqualTo(200));
        Assert.That(gateway.GetTagItem("extensions.code"), Is.EqualTo("ok"));

        var runner = spans.Single(s => s.Source.Name == "Extensions.Runner" && s.ParentSpanId == gateway.SpanId);
        Assert.That(runner.TraceId, Is.EqualTo(gateway.TraceId));
        Assert.That(runner.GetTagItem("extensions.extension"), Is.EqualTo("samples.hello"));
        Assert.That(runner.GetTagItem("extensions.outcome"), Is.EqualTo("Ok"));
        Assert.That(runner.GetTagItem("extensions.fuel")?.ToString(), Is.EqualTo(response.Headers.GetValues("x-ext-fuel").Single()));
    }

    [Test]
    public async Task FailedCall_SpanIsMarkedAsAnError()
    {
        var spans = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Extensions.Gateway",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(listener);
        await using var platform = await TestPlatform.StartAsync();
        await platform.DeployAsync(GuestFixtures.Create("crash", GuestFixtures.Trap));

        using var response = await platform.Admin.GetAsync("/api/ext/test.crash/run");
        var requestId = response.Headers.GetValues("x-request-id").Single();

        var span = await StoppedAsync(spans, s => (string?)s.GetTagItem("extensions.request_id") == requestId);
        Assert.That(span.Status, Is.EqualTo(ActivityStatusCode.Error));
        Assert.That(span.GetTagItem("extensions.code"), Is.EqualTo("extension_trap"));
    }

    [Test]
    public async Task Metrics_CountRequests_TimeThem_AndRecordFuel()
    {
        await using var platform = await TestPlatform.StartAsync();
        var factory = platform.App.Services.GetRequiredService<IMeterFactory>();
        var measurements = new ConcurrentBag<(string Instrument, double Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener
        {
            // Only this platform's meters: another platform in this process has its own factory.
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "Extensions.Gateway" && instrument.Meter.Scope == factory)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
            measurements.Add((instrument.Name, value, new Dictionary<string, object?>(tags.ToArray())));
        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Add(i, v, t));
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Add(i, v, t));
        listener.Start();

        using var first = await platform.Admin.GetAsync("/api/ext/samples.hello/hello/Ada");
        using var second = await platform.Admin.GetAsync("/api/ext/samples.hello/nothing");

        var requests = measurements.Where(m => m.Instrument == "extensions.gateway.requests").ToList();
        Assert.That(requests.Single(m => (string?)m.Tags["extensions.code"] == "ok").Tags["extensions.extension"], Is.EqualTo("samples.hello"));
        Assert.That(requests.Single(m => (string?)m.Tags["extensions.code"] == "endpoint_not_found").Tags["http.response.status_code"], Is.EqualTo(404));
        Assert.That(measurements.Count(m => m.Instrument == "extensions.gateway.duration" && m.Value > 0), Is.EqualTo(2));
        var fuel = measurements.Single(m => m.Instrument == "extensions.runner.fuel");
        Assert.That(fuel.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(first.Headers.GetValues("x-ext-fuel").Single()));
        Assert.That(fuel.Tags["extensions.tenant"], Is.EqualTo("default"));
    }

    [Test]
    public async Task RefusedCalls_AreCountedAsLimited()
    {
        await using var platform = await TestPlatform.StartAsync(new Dictionary<string, string?>
        {
            ["Gateway:TenantRequestsPerSecond"] = "1",
            ["Gateway:TenantBurst"] = "1",
        });
        var factory = platform.App.Services.GetRequiredService<IMeterFactory>();
        long limited = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name == "extensions.gateway.limited" && instrument.Meter.Scope == factory)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, v, _, _) => Interlocked.Add(ref limited, v));
        listener.Start();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await platform.Admin.GetAsync("/api/ext/samples.hello/hello/Ada");
            statuses.Add(response.StatusCode);
        }

        Assert.That(Interlocked.Read(ref limited), Is.EqualTo(statuses.Count(s => s == HttpStatusCode.TooManyRequests)).And.GreaterThan(0));
    }

    [Test]
    public async Task TelemetryIsOffByDefault()
    {
        await using var platform = await TestPlatform.StartAsync();
        Assert.That(platform.App.Services.GetService<TracerProvider>(), Is.Null, "no exporter configured, no provider");
    }

    [Test]
    public async Task OtlpEndpoint_ReceivesTheGatewaySpans()
    {
        var port = FreePort();
        using var collector = new HttpListener { Prefixes = { $"http://127.0.0.1:{port}/" } };
        collector.Start();
        var received = new ConcurrentQueue<(string Path, string? ContentType, byte[] Body)>();
        var serving = Task.Run(async () =>
        {
            while (collector.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await collector.GetContextAsync();
                }
                catch (HttpListenerException)
                {
                    return;
                }
                catch (ObjectDisposedException)
                {
                    return;
                }

                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                received.Enqueue((context.Request.Url!.AbsolutePath, context.Request.ContentType, body.ToArray()));
                context.Response.StatusCode = 200;
                context.Response.Close();
            }
        });

        await using (var platform = await TestPlatform.StartAsync(new Dictionary<string, string?>
        {
            ["Telemetry:OtlpEndpoint"] = $"http://127.0.0.1:{port}",
            ["Telemetry:OtlpProtocol"] = "http/protobuf",
        }))
        {
            using var response = await platform.Admin.GetAsync("/api/ext/samples.hello/hello/Ada");
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(platform.App.Services.GetRequiredService<TracerProvider>().ForceFlush(10_000), Is.True);
        }

        var traces = received.Where(r => r.Path == "/v1/traces").ToList();
        Assert.That(traces, Is.Not.Empty);
        Assert.That(traces[0].ContentType, Is.EqualTo("application/x-protobuf"));
        // Protobuf carries strings as UTF-8: the span's scope name and attributes are readable in the bytes.
        var text = string.Concat(traces.Select(t => Encoding.UTF8.GetString(t.Body)));
        Assert.That(text, Does.Contain("Extensions.Gateway").And.Contain("Extensions.Runner").And.Contain("samples.hello"));
        collector.Stop();
        await serving;
    }

    [TestCase("Telemetry:OtlpEndpoint", "not a url")]
    [TestCase("Telemetry:OtlpProtocol", "carrier-pigeon")]
    [TestCase("Telemetry:Exporter", "console")]
    public void InvalidTelemetrySetting_StopsStart(string key, string value)
    {
        Assert.That(async () => await TestPlatform.StartAsync(new Dictionary<string, string?> { [key] = value }),
            Throws.InstanceOf<OptionsValidationException>().Or.InstanceOf<InvalidOperationException>());
    }

    private static int FreePort()
    {
        using var socket = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }
}
