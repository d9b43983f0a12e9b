namespace Extensions.Modules.Registry.Contracts;

/// <summary>A tenant's API keys as an admin manages them (the console's keys page). Keys are stored hashed: a new key is
/// shown once, when it is created, and never again.</summary>
public interface ITenantKeys
{
    Task<IReadOnlyList<TenantKey>> ListAsync(string tenantId, CancellationToken cancellationToken);

    /// <returns>The new key's id and the key itself (the only time it exists in clear).</returns>
    Task<(string KeyId, string Key)> CreateAsync(string tenantId, string name, string actor, CancellationToken cancellationToken);

    /// <returns>False when the tenant has no such live key.</returns>
    Task<bool> RevokeAsync(string tenantId, string keyId, string actor, CancellationToken cancellationToken);
}

/// <summary>One API key without its secret: who it is for and whether it still works.</summary>
public sealed record TenantKey(string Id, string Kind, string Name, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);
