namespace Extensions.Modules.Registry.Data;

internal sealed record ApiKeyRow(string Id, string TenantId, string Kind, string Name, long? RevokedAt);

internal sealed record BundleRow(string ContentHash, long Size, string ModuleHash, string SignerKeyId, string Signature, long PublishedAt);

internal sealed record VersionRow(string ExtensionId, string Version, string ContentHash, long PublishedAt);

internal sealed record InstallRow(
    string Id, string TenantId, string ExtensionId, string Version, string ContentHash,
    string GrantedCapabilities, string Config, string State, string? StateReason, long CreatedAt, long UpdatedAt);

internal sealed record AuditRow(long Id, long At, string? TenantId, string Actor, string Action, string Subject, string Detail);
