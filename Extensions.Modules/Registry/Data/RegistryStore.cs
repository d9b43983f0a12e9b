using System.Data.Common;
using System.Text.Json;
using Dapper;
using Extensions.Modules.Storage;

namespace Extensions.Modules.Registry.Data;

/// <summary>All SQL of the registry. Times are unix milliseconds; ids and hashes are text.</summary>
internal sealed class RegistryStore(IDatabase database, TimeProvider time, CrashPoints crashPoints)
{
    /// <summary>Bumped on every write that can change how a request resolves; caches compare it.</summary>
    public long Generation => Interlocked.Read(ref _generation);
    private long _generation;

    public long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    public ValueTask<DbConnection> OpenAsync(CancellationToken ct) => database.OpenAsync(ct);

    public void Changed() => Interlocked.Increment(ref _generation);

    public async Task<bool> AnyTenantAsync(CancellationToken ct)
    {
        await using var c = await OpenAsync(ct);
        return await c.ExecuteScalarAsync<long>(new CommandDefinition("SELECT COUNT(*) FROM registry_tenants", cancellationToken: ct)) > 0;
    }

    public async Task<bool> TenantExistsAsync(string tenantId, CancellationToken ct)
    {
        await using var c = await OpenAsync(ct);
        return await c.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM registry_tenants WHERE id = @tenantId", new { tenantId }, cancellationToken: ct)) > 0;
    }

    public async Task CreateTenantAsync(string id, string name, CancellationToken ct)
    {
        await using var c = await OpenAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            "INSERT INTO registry_tenants (id, name, created_at) VALUES (@id, @name, @now)", new { id, name, now = Now }, cancellationToken: ct));
    }

    public async Task InsertApiKeyAsync(string id, string tenantId, string kind, string keyHash, string name, CancellationToken ct)
    {
        await using var c = await OpenAsync(ct);
        await c.ExecuteAsync(new CommandDefinition("""
            INSERT INTO registry_api_keys (id, tenant_id, kind, key_hash, name, created_at)
            VALUES (@id, @tenantId, @kind, @keyHash, @name, @now)
            """, new { id, tenantId, kind, keyHash, name, now = Now }, cancellationToken: ct));
        Changed();
    }

    public async Task<ApiKeyRow?> FindApiKeyAsync(string keyHash, CancellationToken ct)
    {
        await using var c = await OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<ApiKeyRow>(new CommandDefinition("""
            SELECT id AS Id, tenant_id AS TenantId, kind AS Kind, name AS Name, revoked_at AS RevokedAt
            FROM registry_api_keys WHERE key_hash = @keyHash
            """, new { keyHash }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<(string Id, string Kind, string Name, long CreatedAt, long? RevokedAt)>> ListApiKeysAsync(string tenantId, CancellationToken ct)
    {
        await using var c = await OpenAsync(ct);
        var rows = await c.QueryAsync<(string Id, string Kind, string Name, long CreatedAt, long? RevokedAt)>(new CommandDefinition("""
            SELECT id AS Id, kind AS Kind, name AS Name, created_at AS CreatedAt, revoked_at AS RevokedAt
            FROM registry_api_keys WHERE tenant_id = @tenantId ORDER BY created_at, id
            """, new { tenantId }, cancellationToken: ct));
        return rows.AsList();
    }

    /// <param name="tenantId">When given, only a key of that tenant is revoked.</param>
    public async Task<bool> RevokeApiKeyAsync(string id, CancellationToken ct, string? tenantId = null)
    {
        await using var c = await OpenAsync(ct);
        var n = await c.ExecuteAsync(new CommandDefinition(
            "UPDATE registry_api_keys SET revoked_at = @now WHERE id = @id AND revoked_at IS NULL AND (@tenantId IS NULL OR tenant_id = @tenantId)",
            new { id, now = Now, tenantId }, cancellationToken: ct));
        Changed();
        return n > 0;
    }

    public async Task<VersionRow?> FindVersionAsync(string extensionId, string version, CancellationToken ct)
    {
        await using var c = await OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<VersionRow>(new CommandDefinition("""
            SELECT extension_id AS ExtensionId, version AS Version, content_hash AS ContentHash, published_at AS PublishedAt
            FROM registry_versions WHERE extension_id = @extensionId AND version = @version
            """, new { extensionId, version }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<VersionRow>> ListVersionsAsync(string? extensionId, CancellationToken ct)
    {
        await using var c = await OpenAsync(ct);
        return [.. await c.QueryAsync<VersionRow>(new CommandDefinition("""
            SELECT extension_id AS ExtensionId, version AS Version, content_hash AS ContentHash, published_at AS PublishedAt
            FROM registry_versions WHERE @extensionId IS NULL OR extension_id = @extensionId
            ORDER BY extension_id, published_at
            """, new { extensionId }, cancellationToken: ct))];
    }

    public async Task<BundleRow?> FindBundleAsync(string contentHash, CancellationToken ct)
    {
        await using var c = await OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<BundleRow>(new CommandDefinition("""
            SELECT content_hash AS ContentHash, size AS Size, module_hash AS ModuleHash, signer_key_id AS SignerKeyId,
                   signature AS Signature, published_at AS PublishedAt
            FROM registry_bundles WHERE content_hash = @contentHash
            """, new { contentHash }, cancellationToken: ct));
    }

    /// <summary>Records a published version (and its extension and bundle rows) in one transaction.</summary>
    public async Task InsertVersionAsync(string extensionId, string publisher, string name, string version, BundleRow bundle, string actor, CancellationToken ct)
    {
        await using var c = await OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await c.ExecuteAsync(new CommandDefinition("""
            INSERT OR IGNORE INTO registry_extensions (id, publisher, name, created_at) VALUES (@extensionId, @publisher, @name, @now);
            INSERT OR IGNORE INTO registry_bundles (content_hash, size, module_hash, signer_key_id, signature, published_at)
            VALUES (@ContentHash, @Size, @ModuleHash, @SignerKeyId, @Signature, @now);
            INSERT INTO registry_versions (extension_id, version, content_hash, published_at) VALUES (@extensionId, @version, @ContentHash, @now);
            """, new { extensionId, publisher, name, version, bundle.ContentHash, bundle.Size, bundle.ModuleHash, bundle.SignerKeyId, bundle.Signature, now = Now },
            tx, cancellationToken: ct));
        await AuditAsync(c, tx, null, actor, "publish", $"{extensionId}@{version}",
            $"content {bundle.ContentHash}, {bundle.Size} bytes, signed by {bundle.SignerKeyId}", ct, extensionId, null,
            JsonSerializer.Serialize(new { version, contentHash = bundle.ContentHash, size = bundle.Size, signerKeyId = bundle.SignerKeyId }));
        await crashPoints.ReachedAsync("publish.before-commit", extensionId);
        await tx.CommitAsync(ct);
        Changed();
    }

    public async Task<InstallRow?> FindInstallAsync(string tenantId, string extensionId, CancellationToken ct)
    {
        await using var c = await OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<InstallRow>(new CommandDefinition(InstallSelect + " WHERE tenant_id = @tenantId AND extension_id = @extensionId",
            new { tenantId, extensionId }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<InstallRow>> ListInstallsAsync(string? tenantId, CancellationToken ct)
    {
        await using var c = await OpenAsync(ct);
        return [.. await c.QueryAsync<InstallRow>(new CommandDefinition(InstallSelect + " WHERE @tenantId IS NULL OR tenant_id = @tenantId ORDER BY tenant_id, extension_id",
            new { tenantId }, cancellationToken: ct))];
    }

    /// <summary>
    /// Writes an install (create, version change, grants or config) with its audit row, and a history row when it now
    /// runs other content or grants, all in one transaction.
    /// </summary>
    public async Task WriteInstallAsync(InstallRow? before, InstallRow after, string actor, string action, CancellationToken ct)
    {
        await using var c = await OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await c.ExecuteAsync(new CommandDefinition("""
            INSERT INTO registry_installs (id, tenant_id, extension_id, version, content_hash, granted_capabilities, granted_egress, config, state, state_reason, created_at, updated_at)
            VALUES (@Id, @TenantId, @ExtensionId, @Version, @ContentHash, @GrantedCapabilities, @GrantedEgress, @Config, @State, @StateReason, @CreatedAt, @UpdatedAt)
            ON CONFLICT (tenant_id, extension_id) DO UPDATE SET
                version = excluded.version, content_hash = excluded.content_hash, granted_capabilities = excluded.granted_capabilities,
                granted_egress = excluded.granted_egress, config = excluded.config, state = excluded.state, state_reason = excluded.state_reason,
                updated_at = excluded.updated_at
            """, after, tx, cancellationToken: ct));
        if (before is null || before.ContentHash != after.ContentHash || before.GrantedCapabilities != after.GrantedCapabilities
            || before.GrantedEgress != after.GrantedEgress)
        {
            await c.ExecuteAsync(new CommandDefinition("""
                INSERT INTO registry_install_history
                    (install_id, tenant_id, extension_id, version, content_hash, granted_capabilities, granted_egress, action, actor, at)
                VALUES (@Id, @TenantId, @ExtensionId, @Version, @ContentHash, @GrantedCapabilities, @GrantedEgress, @action, @actor, @UpdatedAt)
                """, new { after.Id, after.TenantId, after.ExtensionId, after.Version, after.ContentHash, after.GrantedCapabilities, after.GrantedEgress, action, actor, after.UpdatedAt },
                tx, cancellationToken: ct));
        }

        await AuditAsync(c, tx, after.TenantId, actor, action, after.ExtensionId,
            $"version {after.Version} ({after.ContentHash}), granted [{after.GrantedCapabilities}], egress [{after.GrantedEgress}], state {after.State}", ct,
            after.ExtensionId, Snapshot(before), Snapshot(after));
        await crashPoints.ReachedAsync("install.before-commit", after.ExtensionId);
        await tx.CommitAsync(ct);
        Changed();
    }

    public async Task SetInstallStateAsync(string installId, string tenantId, string extensionId, string state, string? reason, string actor, CancellationToken ct)
    {
        await using var c = await OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var before = await c.QuerySingleOrDefaultAsync<InstallRow>(new CommandDefinition(InstallSelect + " WHERE id = @installId", new { installId }, tx, cancellationToken: ct));
        await c.ExecuteAsync(new CommandDefinition(
            "UPDATE registry_installs SET state = @state, state_reason = @reason, updated_at = @now WHERE id = @installId",
            new { installId, state, reason, now = Now }, tx, cancellationToken: ct));
        await AuditAsync(c, tx, tenantId, actor, $"install.{state}", extensionId, reason ?? "", ct,
            extensionId, Snapshot(before), Snapshot(before is null ? null : before with { State = state, StateReason = reason }));
        await tx.CommitAsync(ct);
        Changed();
    }

    /// <summary>Removes an install with its configuration and history (the audit keeps what it was).</summary>
    public async Task DeleteInstallAsync(InstallRow install, string actor, CancellationToken ct)
    {
        await using var c = await OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await c.ExecuteAsync(new CommandDefinition("""
            DELETE FROM registry_install_history WHERE install_id = @Id;
            DELETE FROM registry_installs WHERE id = @Id;
            """, new { install.Id }, tx, cancellationToken: ct));
        await AuditAsync(c, tx, install.TenantId, actor, "uninstall", install.ExtensionId, $"version {install.Version} ({install.ContentHash})", ct,
            install.ExtensionId, Snapshot(install), null);
        await tx.CommitAsync(ct);
        Changed();
    }

    public async Task<IReadOnlyList<HistoryRow>> ListHistoryAsync(string installId, CancellationToken ct)
    {
        await using var c = await OpenAsync(ct);
        return [.. await c.QueryAsync<HistoryRow>(new CommandDefinition("""
            SELECT id AS Id, install_id AS InstallId, version AS Version, content_hash AS ContentHash, granted_capabilities AS GrantedCapabilities,
                   granted_egress AS GrantedEgress, action AS Action, actor AS Actor, at AS At
            FROM registry_install_history WHERE install_id = @installId ORDER BY id
            """, new { installId }, cancellationToken: ct))];
    }

    public async Task AuditAsync(string? tenantId, string actor, string action, string subject, string detail, CancellationToken ct)
    {
        await using var c = await OpenAsync(ct);
        await AuditAsync(c, null, tenantId, actor, action, subject, detail, ct);
    }

    /// <summary>Newest first; each filter is optional; <paramref name="beforeId"/> pages backwards.</summary>
    public async Task<IReadOnlyList<AuditRow>> ListAuditAsync(string? tenantId, string? extensionId, string? subject, int limit, CancellationToken ct, long? beforeId = null)
    {
        await using var c = await OpenAsync(ct);
        return [.. await c.QueryAsync<AuditRow>(new CommandDefinition("""
            SELECT id AS Id, at AS At, tenant_id AS TenantId, actor AS Actor, action AS Action, subject AS Subject, detail AS Detail,
                   extension_id AS ExtensionId, before AS Before, after AS After
            FROM registry_audit
            WHERE (@tenantId IS NULL OR tenant_id = @tenantId) AND (@extensionId IS NULL OR extension_id = @extensionId)
              AND (@subject IS NULL OR subject = @subject) AND (@beforeId IS NULL OR id < @beforeId)
            ORDER BY id DESC LIMIT @limit
            """, new { tenantId, extensionId, subject, limit, beforeId }, cancellationToken: ct))];
    }

    private Task<int> AuditAsync(DbConnection c, DbTransaction? tx, string? tenantId, string actor, string action, string subject, string detail, CancellationToken ct,
        string? extensionId = null, string? before = null, string? after = null) =>
        c.ExecuteAsync(new CommandDefinition("""
            INSERT INTO registry_audit (at, tenant_id, actor, action, subject, detail, extension_id, before, after)
            VALUES (@now, @tenantId, @actor, @action, @subject, @detail, @extensionId, @before, @after)
            """, new { now = Now, tenantId, actor, action, subject, detail, extensionId, before, after }, tx, cancellationToken: ct));

    /// <summary>An install as the audit shows it before and after a change.</summary>
    public static string? Snapshot(InstallRow? row) => row is null ? null : JsonSerializer.Serialize(new
    {
        version = row.Version,
        contentHash = row.ContentHash,
        state = row.State,
        capabilities = row.Capabilities,
        egressHosts = row.EgressHosts,
        config = JsonDocument.Parse(row.Config).RootElement,
    });

    private const string InstallSelect = """
        SELECT id AS Id, tenant_id AS TenantId, extension_id AS ExtensionId, version AS Version, content_hash AS ContentHash,
               granted_capabilities AS GrantedCapabilities, config AS Config, state AS State, state_reason AS StateReason,
               created_at AS CreatedAt, updated_at AS UpdatedAt, granted_egress AS GrantedEgress
        FROM registry_installs
        """;
}
