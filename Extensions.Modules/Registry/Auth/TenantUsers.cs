using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Dapper;
using Extensions.Modules.Common;
using Extensions.Modules.Registry.Contracts;
using Extensions.Modules.Registry.Data;
using Extensions.Modules.Storage;
using Microsoft.AspNetCore.Identity;

namespace Extensions.Modules.Registry.Auth;

/// <summary>A user row; <see cref="Stamp"/> changes whenever the password changes or the user is disabled, which ends their sessions.</summary>
internal sealed record UserRow(string Id, string TenantId, string Name, string Role, string PasswordHash, string Stamp, long CreatedAt, long? DisabledAt, long? LastSignInAt);

/// <summary>
/// Tenant users who sign in to the console with a user name and password. Passwords are hashed with ASP.NET Core Identity's
/// <see cref="PasswordHasher{TUser}"/> (PBKDF2 with a per-password salt, upgraded on sign-in when its defaults move on). Names
/// are unique per tenant and stored lower-case. Every change is audited.
/// </summary>
internal sealed partial class TenantUsers(RegistryStore store)
{
    public const int MinPasswordChars = 12;
    public const int MaxPasswordChars = 256;
    private readonly PasswordHasher<UserRow> _hasher = new();
    private readonly ConcurrentDictionary<string, (long Generation, string? Stamp)> _stamps = new(StringComparer.Ordinal);

    /// <summary>Hash of a random password, verified against when the user does not exist so that both cases cost the same.</summary>
    private readonly Lazy<string> _decoy = new(() => new PasswordHasher<UserRow>().HashPassword(null!, Convert.ToBase64String(RandomNumberGenerator.GetBytes(24))));

    // Own migration key so its numbering never collides with the registry's main sequence; runs after it (ordinal order).
    public static Migration Migration { get; } = new("registry-users", 1, """
        CREATE TABLE registry_users (
            id TEXT PRIMARY KEY,
            tenant_id TEXT NOT NULL REFERENCES registry_tenants(id),
            name TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('admin', 'user')),
            password_hash TEXT NOT NULL,
            stamp TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            disabled_at INTEGER,
            last_sign_in_at INTEGER,
            UNIQUE (tenant_id, name));
        """);

    [GeneratedRegex(@"^[a-z0-9][a-z0-9._@-]{0,63}\z")]
    private static partial Regex NamePattern();

    public static string Normalise(string name) => name.Trim().ToLowerInvariant();

    public static bool IsValidName(string name) => NamePattern().IsMatch(name);

    /// <returns>The user, and the password when one was generated (shown once).</returns>
    public async Task<(TenantUser User, string? GeneratedPassword)> CreateAsync(string tenantId, string name, string role, string? password, string actor, CancellationToken ct)
    {
        name = Normalise(name);
        if (!IsValidName(name))
        {
            throw new ExtensionsException(ProblemCodes.InvalidRequest, 400, "name must be 1-64 characters of a-z, 0-9, '.', '_', '@' or '-', starting with a letter or digit");
        }

        if (role is not (CallerIdentity.AdminRole or CallerIdentity.UserRole))
        {
            throw new ExtensionsException(ProblemCodes.InvalidRequest, 400, "role must be 'admin' or 'user'");
        }

        var (clear, generated) = PasswordOrGenerated(password);
        if (!await store.TenantExistsAsync(tenantId, ct))
        {
            throw new ExtensionsException(ProblemCodes.NotFound, 404, $"tenant '{tenantId}' does not exist");
        }

        var id = $"usr_{Guid.NewGuid():N}";
        var now = store.Now;
        await using var c = await store.OpenAsync(ct);
        try
        {
            await c.ExecuteAsync(new CommandDefinition("""
                INSERT INTO registry_users (id, tenant_id, name, role, password_hash, stamp, created_at, updated_at)
                VALUES (@id, @tenantId, @name, @role, @hash, @stamp, @now, @now)
                """, new { id, tenantId, name, role, hash = _hasher.HashPassword(null!, clear), stamp = NewStamp(), now }, cancellationToken: ct));
        }
        catch (Microsoft.Data.Sqlite.SqliteException ex) when (ex.SqliteErrorCode == 19)
        {
            throw new ExtensionsException(ProblemCodes.VersionConflict, 409, $"tenant '{tenantId}' already has a user '{name}'");
        }

        await store.AuditAsync(tenantId, actor, "user.create", id, $"{role} user '{name}'", ct);
        return (new TenantUser(id, tenantId, name, role, DateTimeOffset.FromUnixTimeMilliseconds(now), null, null), generated ? clear : null);
    }

    public async Task<IReadOnlyList<TenantUser>> ListAsync(string tenantId, CancellationToken ct)
    {
        await using var c = await store.OpenAsync(ct);
        var rows = await c.QueryAsync<UserRow>(new CommandDefinition(Select + " WHERE tenant_id = @tenantId ORDER BY name", new { tenantId }, cancellationToken: ct));
        return [.. rows.Select(ToUser)];
    }

    /// <returns>False when the tenant has no such user or it is already disabled.</returns>
    public async Task<bool> DisableAsync(string tenantId, string name, string actor, CancellationToken ct)
    {
        name = Normalise(name);
        await using var c = await store.OpenAsync(ct);
        var id = await c.ExecuteScalarAsync<string?>(new CommandDefinition("""
            UPDATE registry_users SET disabled_at = @now, updated_at = @now, stamp = @stamp
            WHERE tenant_id = @tenantId AND name = @name AND disabled_at IS NULL
            RETURNING id
            """, new { tenantId, name, now = store.Now, stamp = NewStamp() }, cancellationToken: ct));
        if (id is null)
        {
            return false;
        }

        store.Changed();
        await store.AuditAsync(tenantId, actor, "user.disable", id, $"user '{name}'", ct);
        return true;
    }

    /// <summary>Sets a new password (given, or generated and returned once) and ends the user's sessions.</summary>
    /// <returns>Null when the tenant has no such user; else the generated password, or "" when one was given.</returns>
    public async Task<string?> SetPasswordAsync(string tenantId, string name, string? password, string actor, CancellationToken ct)
    {
        name = Normalise(name);
        var (clear, generated) = PasswordOrGenerated(password);
        await using var c = await store.OpenAsync(ct);
        var id = await c.ExecuteScalarAsync<string?>(new CommandDefinition("""
            UPDATE registry_users SET password_hash = @hash, stamp = @stamp, updated_at = @now
            WHERE tenant_id = @tenantId AND name = @name
            RETURNING id
            """, new { tenantId, name, hash = _hasher.HashPassword(null!, clear), stamp = NewStamp(), now = store.Now }, cancellationToken: ct));
        if (id is null)
        {
            return null;
        }

        store.Changed();
        await store.AuditAsync(tenantId, actor, "user.password", id, $"user '{name}'", ct);
        return generated ? clear : "";
    }

    /// <summary>Checks a password. Costs one hash verification whether or not the user exists.</summary>
    /// <returns>The user when the password is right (disabled or not), else null.</returns>
    public async Task<UserRow?> VerifyAsync(string tenantId, string name, string password, CancellationToken ct)
    {
        name = Normalise(name);
        UserRow? row = null;
        if (IsValidName(name) && password.Length <= MaxPasswordChars)
        {
            await using var c = await store.OpenAsync(ct);
            row = await c.QuerySingleOrDefaultAsync<UserRow>(new CommandDefinition(
                Select + " WHERE tenant_id = @tenantId AND name = @name", new { tenantId, name }, cancellationToken: ct));
        }

        var result = _hasher.VerifyHashedPassword(row!, row?.PasswordHash ?? _decoy.Value, password.Length <= MaxPasswordChars ? password : "");
        if (row is null || result == PasswordVerificationResult.Failed)
        {
            return null;
        }

        await using var update = await store.OpenAsync(ct);
        await update.ExecuteAsync(new CommandDefinition(result == PasswordVerificationResult.SuccessRehashNeeded
            ? "UPDATE registry_users SET last_sign_in_at = @now, password_hash = @hash WHERE id = @id"
            : "UPDATE registry_users SET last_sign_in_at = @now WHERE id = @id",
            new { now = store.Now, id = row.Id, hash = result == PasswordVerificationResult.SuccessRehashNeeded ? _hasher.HashPassword(row, password) : null }, cancellationToken: ct));
        return row;
    }

    /// <summary>True while the user is enabled and its stamp is the one the session was issued with (cached until any user changes).</summary>
    public async Task<bool> IsSessionValidAsync(string userId, string stamp, CancellationToken ct)
    {
        var generation = store.Generation;
        if (!_stamps.TryGetValue(userId, out var cached) || cached.Generation != generation)
        {
            await using var c = await store.OpenAsync(ct);
            var current = await c.ExecuteScalarAsync<string?>(new CommandDefinition(
                "SELECT stamp FROM registry_users WHERE id = @userId AND disabled_at IS NULL", new { userId }, cancellationToken: ct));
            if (_stamps.Count > 10_000)
            {
                _stamps.Clear();
            }

            cached = (generation, current);
            _stamps[userId] = cached;
        }

        return cached.Stamp is { } active && CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.UTF8.GetBytes(active), System.Text.Encoding.UTF8.GetBytes(stamp));
    }

    private static (string Password, bool Generated) PasswordOrGenerated(string? password)
    {
        if (password is null)
        {
            return (Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)).Replace('+', '-').Replace('/', '_'), true);
        }

        if (password.Length is < MinPasswordChars or > MaxPasswordChars)
        {
            throw new ExtensionsException(ProblemCodes.InvalidRequest, 400,
                $"password must be {MinPasswordChars}-{MaxPasswordChars} characters (leave it out to have one generated)");
        }

        return (password, false);
    }

    private static string NewStamp() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    private static TenantUser ToUser(UserRow r) => new(r.Id, r.TenantId, r.Name, r.Role, DateTimeOffset.FromUnixTimeMilliseconds(r.CreatedAt),
        r.DisabledAt is { } d ? DateTimeOffset.FromUnixTimeMilliseconds(d) : null, r.LastSignInAt is { } s ? DateTimeOffset.FromUnixTimeMilliseconds(s) : null);

    private const string Select = """
        SELECT id AS Id, tenant_id AS TenantId, name AS Name, role AS Role, password_hash AS PasswordHash, stamp AS Stamp,
               created_at AS CreatedAt, disabled_at AS DisabledAt, last_sign_in_at AS LastSignInAt
        FROM registry_users
        """;
}
