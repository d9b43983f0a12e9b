using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Extensions.Modules.Gateway;

/// <summary>
/// One span per extension call (<c>Extensions.Gateway</c>) and the gateway's instruments. The runner's fuel and memory
/// are recorded here because only the gateway knows which tenant and extension they were spent for.
/// </summary>
internal sealed class GatewayTelemetry
{
    public const string Name = "Extensions.Gateway";

    // An ActivitySource is a named handle with no state of its own; listeners subscribe by name.
    private static readonly ActivitySource Source = new(Name);

    private readonly Counter<long> _requests;
    private readonly Histogram<double> _duration;
    private readonly Histogram<long> _fuel;
    private readonly Histogram<long> _memory;
    private readonly Counter<long> _limited;

    public GatewayTelemetry(IMeterFactory meters)
    {
        var meter = meters.Create(Name);
        _requests = meter.CreateCounter<long>("extensions.gateway.requests", "{request}", "Extension calls answered, by outcome code");
        _duration = meter.CreateHistogram<double>("extensions.gateway.duration", "s", "Time from the gateway taking a call to its answer");
        _fuel = meter.CreateHistogram<long>("extensions.runner.fuel", "{fuel}", "Fuel a guest used for one call");
        _memory = meter.CreateHistogram<long>("extensions.runner.memory", "By", "Peak linear memory of a guest for one call");
        _limited = meter.CreateCounter<long>("extensions.gateway.limited", "{request}", "Calls refused by a rate or concurrency limit");
    }

    /// <summary>Named by route template, not by path: span names must not grow with what callers send.</summary>
    public static Activity? StartCall(string method, string route) =>
        Source.StartActivity($"{method} {route}", ActivityKind.Server)?.SetTag("http.request.method", method).SetTag("http.route", route);

    public void Answered(string tenantId, string extensionId, string endpoint, int status, string code, double seconds)
    {
        var tags = new TagList
        {
            { "extensions.tenant", tenantId },
            { "extensions.extension", extensionId },
            { "extensions.endpoint", endpoint },
            { "http.response.status_code", status },
            { "extensions.code", code },
        };
        _requests.Add(1, tags);
        _duration.Record(seconds, tags);
    }

    public void Used(string tenantId, string extensionId, long fuel, long memoryBytes)
    {
        var tags = new TagList { { "extensions.tenant", tenantId }, { "extensions.extension", extensionId } };
        _fuel.Record(fuel, tags);
        _memory.Record(memoryBytes, tags);
    }

    public void Limited(string tenantId, string code) =>
        _limited.Add(1, new TagList { { "extensions.tenant", tenantId }, { "extensions.code", code } });
}
