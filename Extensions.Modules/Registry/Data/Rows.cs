namespace Extensions.Modules.Registry.Data;

internal sealed record ApiKeyRow(string Id, string TenantId, string Kind, string Name, long? RevokedAt);

internal sealed record BundleRow(string ContentHash, long Size, string ModuleHash, string SignerKeyId, string Signature, long PublishedAt);

internal sealed record VersionRow(string ExtensionId, string Version, string ContentHash, long PublishedAt);

internal sealed record InstallRow(
    string Id, string TenantId, string ExtensionId, string Version, string ContentHash,
    string GrantedCapabilities, string Config, string State, string? StateReason, long CreatedAt, long UpdatedAt, string GrantedEgress = "")
{
    public IReadOnlyList<string> Capabilities => Split(GrantedCapabilities);

    public IReadOnlyList<string> EgressHosts => Split(GrantedEgress);

    public static string Join(IEnumerable<string> values) => string.Join(",", values.Order(StringComparer.Ordinal));

    private static string[] Split(string list) => list.Split(',', StringSplitOptions.RemoveEmptyEntries);
}

internal sealed record AuditRow(long Id, long At, string? TenantId, string Actor, string Action, string Subject, string Detail,
    string? ExtensionId = null, string? Before = null, string? After = null);

/// <summary>One (version, content, grants) an install ran; rollback may return to any of them.</summary>
internal sealed record HistoryRow(long Id, string InstallId, string Version, string ContentHash, string GrantedCapabilities, string GrantedEgress,
    string Action, string Actor, long At);
