using Dapper;
using Extensions.Modules.Registry.Contracts;
using Extensions.Modules.Registry.Data;

namespace Extensions.Modules.Registry.Installs;

internal sealed class InstallCatalog(RegistryStore store) : IInstallCatalog
{
    public async Task<IReadOnlyList<InstallSummary>> ListAsync(string tenantId, CancellationToken cancellationToken = default)
    {
        await using var c = await store.OpenAsync(cancellationToken);
        return [.. await c.QueryAsync<InstallSummary>(new CommandDefinition("""
            SELECT i.extension_id AS ExtensionId, i.version AS Version, i.content_hash AS ContentHash, i.state AS State,
                   i.state_reason AS StateReason, b.signer_key_id AS SignerKeyId, i.updated_at AS UpdatedAt
            FROM registry_installs i JOIN registry_bundles b ON b.content_hash = i.content_hash
            WHERE i.tenant_id = @tenantId ORDER BY i.extension_id
            """, new { tenantId }, cancellationToken: cancellationToken))];
    }
}
