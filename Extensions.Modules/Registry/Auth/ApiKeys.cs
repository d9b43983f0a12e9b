using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Extensions.Modules.Registry.Contracts;
using Extensions.Modules.Registry.Data;

namespace Extensions.Modules.Registry.Auth;

/// <summary>
/// API keys: <c>ext_</c> + 32 random bytes (base64url). Only the SHA-256 of a key is stored; the key itself is shown once.
/// Lookups are cached until any key changes, so a revocation takes effect on the next request.
/// </summary>
internal sealed class ApiKeys(RegistryStore store)
{
    public const string Prefix = "ext_";
    private readonly ConcurrentDictionary<string, (long Generation, CallerIdentity? Caller)> _cache = new(StringComparer.Ordinal);

    public async Task<(string KeyId, string Key)> CreateAsync(string tenantId, string kind, string name, CancellationToken ct)
    {
        var key = Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var id = $"key_{Guid.NewGuid():N}";
        await store.InsertApiKeyAsync(id, tenantId, kind, Hash(key), name, ct);
        await store.AuditAsync(tenantId, "system", "apikey.create", id, $"{kind} key '{name}'", ct);
        return (id, key);
    }

    public async ValueTask<CallerIdentity?> AuthenticateAsync(string presented, CancellationToken ct)
    {
        if (!presented.StartsWith(Prefix, StringComparison.Ordinal) || presented.Length > 128)
        {
            return null;
        }

        var hash = Hash(presented);
        var generation = store.Generation;
        if (_cache.TryGetValue(hash, out var cached) && cached.Generation == generation)
        {
            return cached.Caller;
        }

        var row = await store.FindApiKeyAsync(hash, ct);
        var caller = row is { RevokedAt: null } ? new CallerIdentity(row.TenantId, row.Id, row.Kind, row.Name) : null;
        if (_cache.Count > 10_000)
        {
            _cache.Clear();
        }

        _cache[hash] = (generation, caller);
        return caller;
    }

    private static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}
