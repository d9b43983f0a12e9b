using Extensions.Modules.Registry.Contracts;
using Extensions.Modules.Registry.Data;

namespace Extensions.Modules.Registry.Auth;

/// <summary>A tenant's keys for the console and the admin API: listed without secrets, created (shown once), revoked; audited.</summary>
internal sealed class TenantKeys(RegistryStore store, ApiKeys keys) : ITenantKeys
{
    public async Task<IReadOnlyList<TenantKey>> ListAsync(string tenantId, CancellationToken cancellationToken) =>
        [.. (await store.ListApiKeysAsync(tenantId, cancellationToken)).Select(k => new TenantKey(k.Id, k.Kind, k.Name,
            DateTimeOffset.FromUnixTimeMilliseconds(k.CreatedAt), k.RevokedAt is { } at ? DateTimeOffset.FromUnixTimeMilliseconds(at) : null))];

    public async Task<(string KeyId, string Key)> CreateAsync(string tenantId, string name, string actor, CancellationToken cancellationToken)
    {
        var created = await keys.CreateAsync(tenantId, CallerIdentity.TenantKind, name, cancellationToken);
        await store.AuditAsync(tenantId, actor, "apikey.create", created.KeyId, name, cancellationToken);
        return created;
    }

    public async Task<bool> RevokeAsync(string tenantId, string keyId, string actor, CancellationToken cancellationToken)
    {
        if (!await store.RevokeApiKeyAsync(keyId, cancellationToken, tenantId))
        {
            return false;
        }

        await store.AuditAsync(tenantId, actor, "apikey.revoke", keyId, "", cancellationToken);
        return true;
    }
}
