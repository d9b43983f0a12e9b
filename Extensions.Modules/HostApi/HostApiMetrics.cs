using System.Diagnostics.Metrics;

namespace Extensions.Modules.HostApi;

/// <summary>Capability calls performed and denied, by import and extension.</summary>
internal sealed class HostApiMetrics
{
    public const string MeterName = "Extensions.HostApi";
    private readonly Counter<long> _calls;
    private readonly Counter<long> _denied;

    public HostApiMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _calls = meter.CreateCounter<long>("extensions.hostapi.calls", description: "Capability calls performed for guests");
        _denied = meter.CreateCounter<long>("extensions.hostapi.denied", description: "Capability calls refused because the install was not granted the capability");
    }

    public void Called(string import, string extensionId) =>
        _calls.Add(1, new KeyValuePair<string, object?>("import", import), new KeyValuePair<string, object?>("extension", extensionId));

    public void Denied(string import, string extensionId) =>
        _denied.Add(1, new KeyValuePair<string, object?>("import", import), new KeyValuePair<string, object?>("extension", extensionId));
}
