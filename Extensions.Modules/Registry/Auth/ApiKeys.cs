using System.Buffers.Binary;
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
    private const int MaxLength = 128;

    // Keyed by the key's SHA-256 as numbers, so that a lookup that hits allocates nothing (it runs on every gateway call).
    private readonly ConcurrentDictionary<Digest, (long Generation, CallerIdentity? Caller)> _cache = new();

    public async Task<(string KeyId, string Key)> CreateAsync(string tenantId, string kind, string name, CancellationToken ct)
    {
        var key = Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var id = $"key_{Guid.NewGuid():N}";
        await store.InsertApiKeyAsync(id, tenantId, kind, Hash(key), name, ct);
        await store.AuditAsync(tenantId, "system", "apikey.create", id, $"{kind} key '{name}'", ct);
        return (id, key);
    }

    /// <summary>The caller a key stands for, when the cache knows it (as of the registry's latest change).</summary>
    /// <returns>False when the store must be asked (<see cref="AuthenticateAsync"/>).</returns>
    public bool TryCached(ReadOnlySpan<char> presented, out CallerIdentity? caller)
    {
        caller = null;
        if (!presented.StartsWith(Prefix, StringComparison.Ordinal) || presented.Length > MaxLength)
        {
            return true;
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        if (_cache.TryGetValue(DigestOf(presented, hash), out var cached) && cached.Generation == store.Generation)
        {
            caller = cached.Caller;
            return true;
        }

        return false;
    }

    public async ValueTask<CallerIdentity?> AuthenticateAsync(string presented, CancellationToken ct)
    {
        if (TryCached(presented, out var known))
        {
            return known;
        }

        // A miss: the key is well formed (TryCached answers every other case), and the store is asked by its hash.
        var hash = new byte[SHA256.HashSizeInBytes];
        var digest = DigestOf(presented, hash);
        var generation = store.Generation;
        var row = await store.FindApiKeyAsync(Convert.ToHexStringLower(hash), ct);
        var caller = row is { RevokedAt: null } ? new CallerIdentity(row.TenantId, row.Id, row.Kind, row.Name) : null;
        if (_cache.Count > 10_000)
        {
            _cache.Clear();
        }

        _cache[digest] = (generation, caller);
        return caller;
    }

    /// <summary>The hex SHA-256 the store keeps for a key, from the same hashing as the cache's <see cref="DigestOf"/>.</summary>
    private static string Hash(string key)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        DigestOf(key, hash);
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>SHA-256 of the key's UTF-8 into <paramref name="hash"/>, and the same as a dictionary key.</summary>
    private static Digest DigestOf(ReadOnlySpan<char> presented, Span<byte> hash)
    {
        Span<byte> utf8 = stackalloc byte[MaxLength * 3];
        SHA256.HashData(utf8[..Encoding.UTF8.GetBytes(presented, utf8)], hash);
        return new Digest(BinaryPrimitives.ReadUInt64LittleEndian(hash), BinaryPrimitives.ReadUInt64LittleEndian(hash[8..]),
            BinaryPrimitives.ReadUInt64LittleEndian(hash[16..]), BinaryPrimitives.ReadUInt64LittleEndian(hash[24..]));
    }

    private readonly record struct Digest(ulong A, ulong B, ulong C, ulong D);
}
