using System.Security.Cryptography;
using System.Text;
using Dapper;
using Extensions.Modules.Storage;
using Microsoft.Extensions.Options;

namespace Extensions.Modules.Gateway;

/// <summary>A response kept for replay under an idempotency key.</summary>
internal sealed record StoredResponse(int Status, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[] Body);

internal enum IdempotencyState
{
    /// <summary>The key is new (or expired): this request runs and its response is kept.</summary>
    Started,
    /// <summary>The same request already ran: replay its response.</summary>
    Replay,
    /// <summary>The key was used for a different request.</summary>
    Mismatch,
    /// <summary>The same key is being served right now.</summary>
    InProgress,
}

/// <summary>
/// Idempotency keys on non-GET calls, scoped by tenant and install. A key is claimed with a pending row before the guest
/// runs (so a concurrent duplicate sees it), completed with the response when it is small enough, and released when the
/// invocation failed before the guest answered, so that the client can retry. Rows expire after a TTL; the table is
/// also capped in rows, oldest first.
/// </summary>
internal sealed class IdempotencyStore(IDatabase database, IOptions<GatewayOptions> options, TimeProvider time)
{
    public const string Header = "Idempotency-Key";
    public const string ReplayedHeader = "idempotent-replayed";
    private long _nextPrune;

    public static Migration Migration { get; } = new("gateway", 2, """
        CREATE TABLE gateway_idempotency (
            tenant_id TEXT NOT NULL,
            install_id TEXT NOT NULL,
            key TEXT NOT NULL,
            request_hash TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'done')),
            status INTEGER,
            headers TEXT,
            body BLOB,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            PRIMARY KEY (tenant_id, install_id, key));
        CREATE INDEX gateway_idempotency_expires ON gateway_idempotency (expires_at);
        """);

    /// <summary>Keys are 1–255 visible ASCII characters.</summary>
    public static bool IsValidKey(string key) => key.Length is > 0 and <= 255 && key.All(c => c is > ' ' and < (char)127);

    public static string HashRequest(string method, string path, string query, byte[] body)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{method}\0{path}\0{query}\0"));
        hash.AppendData(body);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    public async Task<(IdempotencyState State, StoredResponse? Response)> BeginAsync(
        string tenantId, string installId, string key, string requestHash, CancellationToken ct)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await PruneIfDueAsync(now, ct);
        await using var connection = await database.OpenAsync(ct);
        var p = new { tenantId, installId, key, requestHash, now, expires = now + (options.Value.IdempotencyTtlMinutes * 60_000L) };
        await connection.ExecuteAsync(new CommandDefinition("""
            DELETE FROM gateway_idempotency WHERE tenant_id = @tenantId AND install_id = @installId AND key = @key AND expires_at <= @now
            """, p, cancellationToken: ct));
        var claimed = await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO gateway_idempotency (tenant_id, install_id, key, request_hash, state, created_at, expires_at)
            VALUES (@tenantId, @installId, @key, @requestHash, 'pending', @now, @expires)
            ON CONFLICT DO NOTHING
            """, p, cancellationToken: ct));
        if (claimed == 1)
        {
            return (IdempotencyState.Started, null);
        }

        var row = await connection.QuerySingleOrDefaultAsync<(string RequestHash, string State, long? Status, string? Headers, byte[]? Body)>(new CommandDefinition("""
            SELECT request_hash, state, status, headers, body FROM gateway_idempotency
            WHERE tenant_id = @tenantId AND install_id = @installId AND key = @key
            """, p, cancellationToken: ct));
        if (row.RequestHash is null)
        {
            // Released between our insert and our read: the earlier request failed and gave the key back.
            return await BeginAsync(tenantId, installId, key, requestHash, ct);
        }

        if (!string.Equals(row.RequestHash, requestHash, StringComparison.Ordinal))
        {
            return (IdempotencyState.Mismatch, null);
        }

        return row.State == "pending"
            ? (IdempotencyState.InProgress, null)
            : (IdempotencyState.Replay, new StoredResponse((int)(row.Status ?? 200), DecodeHeaders(row.Headers), row.Body ?? []));
    }

    /// <summary>Keeps the response for replay, or releases the key when the response is too large to keep.</summary>
    public async Task CompleteAsync(string tenantId, string installId, string key, StoredResponse response)
    {
        if (response.Body.Length > options.Value.MaxIdempotentResponseBytes)
        {
            await ReleaseAsync(tenantId, installId, key);
            return;
        }

        await using var connection = await database.OpenAsync();
        await connection.ExecuteAsync("""
            UPDATE gateway_idempotency SET state = 'done', status = @status, headers = @headers, body = @body
            WHERE tenant_id = @tenantId AND install_id = @installId AND key = @key AND state = 'pending'
            """, new { tenantId, installId, key, status = response.Status, headers = EncodeHeaders(response.Headers), body = response.Body });
    }

    /// <summary>Gives the key back: nothing was kept, a retry runs again.</summary>
    public async Task ReleaseAsync(string tenantId, string installId, string key)
    {
        await using var connection = await database.OpenAsync();
        await connection.ExecuteAsync("""
            DELETE FROM gateway_idempotency WHERE tenant_id = @tenantId AND install_id = @installId AND key = @key AND state = 'pending'
            """, new { tenantId, installId, key });
    }

    private async Task PruneIfDueAsync(long now, CancellationToken ct)
    {
        var due = Interlocked.Read(ref _nextPrune);
        if (now < due || Interlocked.CompareExchange(ref _nextPrune, now + 60_000, due) != due)
        {
            return;
        }

        await using var connection = await database.OpenAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("DELETE FROM gateway_idempotency WHERE expires_at <= @now", new { now }, cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition("""
            DELETE FROM gateway_idempotency WHERE rowid IN (
                SELECT rowid FROM gateway_idempotency ORDER BY created_at
                LIMIT MAX(0, (SELECT COUNT(*) FROM gateway_idempotency) - @max))
            """, new { max = options.Value.MaxIdempotencyRecords }, cancellationToken: ct));
    }

    // Header values reaching here have passed the response filter: no control characters, so a newline separates safely.
    private static string EncodeHeaders(IReadOnlyList<KeyValuePair<string, string>> headers) =>
        string.Join('\n', headers.Select(h => h.Key + "\n" + h.Value));

    private static List<KeyValuePair<string, string>> DecodeHeaders(string? text)
    {
        var parts = string.IsNullOrEmpty(text) ? [] : text.Split('\n');
        var headers = new List<KeyValuePair<string, string>>(parts.Length / 2);
        for (var i = 0; i + 1 < parts.Length; i += 2)
        {
            headers.Add(new(parts[i], parts[i + 1]));
        }

        return headers;
    }
}
