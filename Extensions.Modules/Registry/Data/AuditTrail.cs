using Extensions.Modules.Registry.Contracts;

namespace Extensions.Modules.Registry.Data;

/// <summary>The console's view of <see cref="RegistryStore.ListAuditAsync"/>, the query behind <c>GET /api/admin/audit</c>.</summary>
internal sealed class AuditTrail(RegistryStore store) : IAuditTrail
{
    public async Task<IReadOnlyList<AuditEntry>> ListAsync(string tenantId, string? extensionId, string? subject, long? beforeId, int limit, CancellationToken cancellationToken) =>
        [.. (await store.ListAuditAsync(tenantId, extensionId, subject, Math.Clamp(limit, 1, 1000), cancellationToken, beforeId))
            .Select(r => new AuditEntry(r.Id, DateTimeOffset.FromUnixTimeMilliseconds(r.At), r.TenantId, r.Actor, r.Action, r.Subject, r.ExtensionId, r.Detail))];
}
