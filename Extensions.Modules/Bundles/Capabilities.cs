using System.Collections.Frozen;

namespace Extensions.Modules.Bundles;

/// <summary>Capability names a manifest may request.</summary>
public static class Capabilities
{
    public const string Log = "cap:log";
    public const string Kv = "cap:kv";
    public const string Secrets = "cap:secrets";
    public const string HttpFetch = "cap:http.fetch";

    /// <summary>
    /// Only what the host implements today: accepting a capability it cannot honour would let an
    /// admin consent to something that then fails at run time.
    /// </summary>
    public static IReadOnlySet<string> Known { get; } = new[] { Log, Kv, Secrets, HttpFetch }.ToFrozenSet(StringComparer.Ordinal);
}
