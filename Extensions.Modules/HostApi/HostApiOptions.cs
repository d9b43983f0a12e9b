using System.ComponentModel.DataAnnotations;
using System.Net;

namespace Extensions.Modules.HostApi;

public sealed class HostApiOptions : IValidatableObject
{
    public const string SectionName = "HostApi";

    /// <summary>Longest KV key, in UTF-8 bytes. <remarks>Defaults to 512.</remarks></summary>
    [Range(1, 4096)]
    public int KvMaxKeyBytes { get; set; } = 512;

    /// <summary>Largest KV value. <remarks>Defaults to 64 KiB.</remarks></summary>
    [Range(1, 16 * 1024 * 1024)]
    public int KvMaxValueBytes { get; set; } = 64 * 1024;

    /// <summary>Most keys one install may hold. <remarks>Defaults to 10,000.</remarks></summary>
    [Range(1, 10_000_000)]
    public int KvMaxKeysPerInstall { get; set; } = 10_000;

    /// <summary>Most bytes (keys + values) one install may hold. <remarks>Defaults to 16 MiB.</remarks></summary>
    [Range(1024, long.MaxValue)]
    public long KvMaxBytesPerInstall { get; set; } = 16 * 1024 * 1024;

    /// <summary>Keys per <c>kv_list</c> page. <remarks>Defaults to 100.</remarks></summary>
    [Range(1, 10_000)]
    public int KvListPageSize { get; set; } = 100;

    /// <summary>Days guest log lines are kept for their tenant's admins. <remarks>Defaults to 7.</remarks></summary>
    [Range(1, 3650)]
    public int GuestLogRetentionDays { get; set; } = 7;

    /// <summary>Most guest log lines kept in all (the oldest go first). <remarks>Defaults to 1,000,000.</remarks></summary>
    [Range(1000, 1_000_000_000)]
    public long GuestLogMaxRows { get; set; } = 1_000_000;

    /// <summary>Largest secret value. <remarks>Defaults to 64 KiB.</remarks></summary>
    [Range(1, 1024 * 1024)]
    public int SecretMaxBytes { get; set; } = 64 * 1024;

    /// <summary><c>http_fetch</c> calls one invocation may make. <remarks>Defaults to 16.</remarks></summary>
    [Range(1, 1000)]
    public int HttpFetchMaxCallsPerInvocation { get; set; } = 16;

    /// <summary>Largest request envelope (JSON line + body) a guest may send. <remarks>Defaults to 1 MiB.</remarks></summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int HttpFetchMaxRequestBytes { get; set; } = 1024 * 1024;

    /// <summary>Largest response body a guest may receive; a bigger one is refused with -4. <remarks>Defaults to 4 MiB.</remarks></summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int HttpFetchMaxResponseBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Time for one <c>http_fetch</c> including redirects; the invocation's deadline still applies. <remarks>Defaults to 10 s.</remarks></summary>
    [Range(100, 600_000)]
    public int HttpFetchTimeoutMs { get; set; } = 10_000;

    /// <summary>
    /// Address ranges (CIDR) that <c>http_fetch</c> may reach even though they are loopback, private, link-local and so on.
    /// <remarks>Empty by default: only public addresses. Allowing a range exposes whatever listens there to every
    /// extension whose consented hosts resolve into it.</remarks>
    /// </summary>
    public List<string> EgressAllowedRanges { get; set; } = [];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var range in EgressAllowedRanges)
        {
            var slash = range.IndexOf('/', StringComparison.Ordinal);
            if (!IPNetwork.TryParse(range, out var network) || slash < 0)
            {
                yield return new ValidationResult($"'{range}' is not a CIDR range such as 127.0.0.0/8 or fd00::/8", [nameof(EgressAllowedRanges)]);
            }
            else if (!IPAddress.Parse(range.AsSpan(0, slash)).Equals(network.BaseAddress))
            {
                // Host bits set: the operator may have meant a single address; make them say which.
                yield return new ValidationResult($"'{range}' has bits set beyond its prefix; write {network} for the range or {range[..slash]}/{(network.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128)} for one address", [nameof(EgressAllowedRanges)]);
            }
        }
    }
}
