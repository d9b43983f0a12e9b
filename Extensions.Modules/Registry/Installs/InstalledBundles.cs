using System.Collections.Concurrent;
using Dapper;
using Extensions.Modules.Bundles;
using Extensions.Modules.Registry.Contracts;
using Extensions.Modules.Registry.Data;
using Extensions.Modules.Registry.Publishing;

namespace Extensions.Modules.Registry.Installs;

/// <summary>
/// Answers the asset origin. Cached per (extension, hash) until the registry changes or the trust bundle is re-read, so a
/// disable, uninstall, upgrade or revoked key stops the old bundle's UI on the next request.
/// </summary>
internal sealed class InstalledBundles(RegistryStore store, TrustStore trust) : IInstalledBundles
{
    private const int MaxCached = 10_000;
    private readonly ConcurrentDictionary<(string, string), (long Generation, TrustBundle Trust, bool Installed)> _cache = new();

    public async ValueTask<bool> IsInstalledVersionAsync(string extensionId, string contentHash, CancellationToken cancellationToken = default)
    {
        var generation = store.Generation;
        var currentTrust = trust.Latest;
        if (_cache.TryGetValue((extensionId, contentHash), out var cached) && cached.Generation == generation && ReferenceEquals(cached.Trust, currentTrust))
        {
            return cached.Installed;
        }

        await using var c = await store.OpenAsync(cancellationToken);
        var row = await c.QueryFirstOrDefaultAsync<SignedBy>(new CommandDefinition("""
            SELECT e.publisher AS Publisher, b.signature AS Signature
            FROM registry_installs i
            JOIN registry_extensions e ON e.id = i.extension_id
            JOIN registry_bundles b ON b.content_hash = i.content_hash
            WHERE i.extension_id = @extensionId AND i.content_hash = @contentHash AND i.state = 'enabled'
            LIMIT 1
            """, new { extensionId, contentHash }, cancellationToken: cancellationToken));
        var installed = row is { } r && currentTrust.Verify(BundleSignature.Parse(r.Signature), contentHash, r.Publisher).Ok;
        if (_cache.Count >= MaxCached)
        {
            _cache.Clear();
        }

        _cache[(extensionId, contentHash)] = (generation, currentTrust, installed);
        return installed;
    }

    private sealed record SignedBy(string Publisher, string Signature);
}
