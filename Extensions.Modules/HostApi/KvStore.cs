using System.Data.Common;
using System.Text;
using System.Text.Json;
using Dapper;
using Extensions.Modules.Runner.Contracts;
using Extensions.Modules.Storage;
using Microsoft.Extensions.Options;

namespace Extensions.Modules.HostApi;

/// <summary>
/// <c>kv_*</c> (<c>cap:kv</c>): a key-value store scoped to one install, in SQLite. Writes are conditional on the key's
/// revision when the guest asks (optimistic concurrency), may expire (TTL), and are bounded by per-value, per-install key
/// count and per-install byte quotas, each refused with its own ABI code.
/// </summary>
internal sealed class KvStore(IDatabase database, IOptions<HostApiOptions> options, TimeProvider time) : IDisposable
{
    private readonly HostApiOptions _options = options.Value;

    // kv_get is the hot call (a guest may make a thousand per request): it runs on connections kept open with the statement
    // prepared, instead of taking a pooled connection and parsing the SQL again on every call.
    // Last in, first out: the statement (and its connection's page cache) used last is the one still warm in the CPU's
    // caches. A bag kept one per thread, and each of a worker's call lines has its own thread, so every call found a cold one.
    private readonly System.Collections.Concurrent.ConcurrentStack<PreparedGet> _gets = [];
    private int _disposed;

    public async ValueTask<HostCallReply> GetAsync(string installId, string key, CancellationToken ct)
    {
        if (!ValidKey(key))
        {
            return HostCallReply.Error(AbiCodes.Invalid);
        }

        var get = _gets.TryPop(out var kept) ? kept : await PreparedGet.OpenAsync(database, ct);
        var reusable = false;
        try
        {
            var found = get.Run(installId, key, Now);
            reusable = true;
            return found is { } row ? HostCallReply.Ok(row.Revision, row.Value) : HostCallReply.Error(AbiCodes.Absent);
        }
        finally
        {
            // A statement that failed is not trusted again; one that worked goes back unless the store is closing.
            if (reusable && Volatile.Read(ref _disposed) == 0)
            {
                _gets.Push(get);
            }
            else
            {
                get.Dispose();
            }
        }
    }

    public void Dispose()
    {
        Volatile.Write(ref _disposed, 1);
        while (_gets.TryPop(out var get))
        {
            get.Dispose();
        }
    }

    public async ValueTask<HostCallReply> PutAsync(string installId, KvPutCall put, CancellationToken ct)
    {
        if (!ValidKey(put.Key) || put.IfRevision < -1 || put.TtlMs < 0)
        {
            return HostCallReply.Error(AbiCodes.Invalid);
        }

        if (put.Value.Length > _options.KvMaxValueBytes)
        {
            return HostCallReply.Error(AbiCodes.ValueTooLarge);
        }

        await using var connection = await database.OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var now = Now;
        var existing = await CurrentAsync(connection, tx, installId, put.Key, now, ct);
        if (!RevisionMatches(put.IfRevision, existing?.Revision))
        {
            return HostCallReply.Error(AbiCodes.Conflict);
        }

        // Read after CurrentAsync, which may just have removed an expired entry.
        var usage = await UsageAsync(connection, tx, installId, ct);

        var size = EntrySize(put.Key, put.Value.Length);
        var keys = usage.Keys + (existing is null ? 1 : 0);
        var bytes = usage.Bytes + size - (existing?.Size ?? 0);
        if (keys > _options.KvMaxKeysPerInstall || bytes > _options.KvMaxBytesPerInstall)
        {
            // Expired entries still count until swept: sweep this install's, then decide.
            var (sweptKeys, sweptBytes) = await SweepAsync(connection, tx, installId, now, ct);
            keys -= sweptKeys;
            bytes -= sweptBytes;
            if (keys > _options.KvMaxKeysPerInstall)
            {
                await tx.CommitAsync(ct);
                return HostCallReply.Error(AbiCodes.TooManyKeys);
            }

            if (bytes > _options.KvMaxBytesPerInstall)
            {
                await tx.CommitAsync(ct);
                return HostCallReply.Error(AbiCodes.StorageFull);
            }
        }

        var revision = usage.NextRevision;
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO hostapi_kv (install_id, key, value, revision, expires_at, updated_at)
            VALUES (@installId, @key, @value, @revision, @expiresAt, @now)
            ON CONFLICT (install_id, key) DO UPDATE SET
                value = excluded.value, revision = excluded.revision, expires_at = excluded.expires_at, updated_at = excluded.updated_at
            """, new { installId, key = put.Key, value = put.Value, revision, expiresAt = put.TtlMs > 0 ? now + put.TtlMs : (long?)null, now },
            tx, cancellationToken: ct));
        await SaveUsageAsync(connection, tx, installId, revision + 1, keys, bytes, ct);
        await tx.CommitAsync(ct);
        return HostCallReply.Ok(revision, []);
    }

    public async ValueTask<HostCallReply> DeleteAsync(string installId, string key, long ifRevision, CancellationToken ct)
    {
        if (!ValidKey(key) || ifRevision < -1)
        {
            return HostCallReply.Error(AbiCodes.Invalid);
        }

        await using var connection = await database.OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var existing = await CurrentAsync(connection, tx, installId, key, Now, ct);
        if (existing is null)
        {
            return HostCallReply.Error(ifRevision > 0 ? AbiCodes.Conflict : AbiCodes.Absent);
        }

        if (!RevisionMatches(ifRevision, existing.Value.Revision))
        {
            return HostCallReply.Error(AbiCodes.Conflict);
        }

        var usage = await UsageAsync(connection, tx, installId, ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM hostapi_kv WHERE install_id = @installId AND key = @key", new { installId, key }, tx, cancellationToken: ct));
        await SaveUsageAsync(connection, tx, installId, usage.NextRevision, usage.Keys - 1, usage.Bytes - existing.Value.Size, ct);
        await tx.CommitAsync(ct);
        return HostCallReply.Ok(0, []);
    }

    /// <summary>One page of keys under <paramref name="prefix"/> after <paramref name="cursor"/>, as JSON
    /// <c>{"keys":[...],"cursor":"..."|null}</c>; the cursor is opaque to the guest and null on the last page.</summary>
    public async ValueTask<HostCallReply> ListAsync(string installId, string prefix, string cursor, CancellationToken ct)
    {
        string after;
        try
        {
            after = cursor.Length == 0 ? "" : Encoding.UTF8.GetString(Convert.FromBase64String(cursor));
        }
        catch (FormatException)
        {
            return HostCallReply.Error(AbiCodes.Invalid);
        }

        if (Encoding.UTF8.GetByteCount(prefix) > _options.KvMaxKeyBytes)
        {
            return HostCallReply.Error(AbiCodes.Invalid);
        }

        var pageSize = _options.KvListPageSize;
        await using var connection = await database.OpenAsync(ct);
        var keys = (await connection.QueryAsync<string>(new CommandDefinition("""
            SELECT key FROM hostapi_kv
            WHERE install_id = @installId AND key >= @prefix AND key > @after AND substr(key, 1, length(@prefix)) = @prefix
              AND (expires_at IS NULL OR expires_at > @now)
            ORDER BY key LIMIT @limit
            """, new { installId, prefix, after, now = Now, limit = pageSize + 1 }, cancellationToken: ct))).AsList();

        var more = keys.Count > pageSize;
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartArray("keys");
            for (var i = 0; i < Math.Min(keys.Count, pageSize); i++)
            {
                json.WriteStringValue(keys[i]);
            }

            json.WriteEndArray();
            if (more)
            {
                json.WriteString("cursor", Convert.ToBase64String(Encoding.UTF8.GetBytes(keys[pageSize - 1])));
            }
            else
            {
                json.WriteNull("cursor");
            }

            json.WriteEndObject();
        }

        return HostCallReply.Ok(0, buffer.ToArray());
    }

    /// <summary>Everything of one install (on uninstall).</summary>
    public async Task RemoveInstallAsync(string installId, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            DELETE FROM hostapi_kv WHERE install_id = @installId;
            DELETE FROM hostapi_kv_usage WHERE install_id = @installId;
            """, new { installId }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
    }

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    private bool ValidKey(string key) =>
        key.Length > 0 && Encoding.UTF8.GetByteCount(key) <= _options.KvMaxKeyBytes && !key.Contains('\0');

    private static bool RevisionMatches(long expected, long? actual) => expected switch
    {
        -1 => true,
        0 => actual is null,
        _ => actual == expected,
    };

    private static long EntrySize(string key, int valueLength) => Encoding.UTF8.GetByteCount(key) + (long)valueLength;

    private static async Task<(long Revision, long Size)?> CurrentAsync(DbConnection connection, DbTransaction tx, string installId, string key, long now, CancellationToken ct)
    {
        var row = await connection.QuerySingleOrDefaultAsync<(long Revision, long Size, long? ExpiresAt)?>(new CommandDefinition("""
            SELECT revision AS Revision, length(CAST(key AS BLOB)) + length(value) AS Size, expires_at AS ExpiresAt
            FROM hostapi_kv WHERE install_id = @installId AND key = @key
            """, new { installId, key }, tx, cancellationToken: ct));
        if (row is not { } found)
        {
            return null;
        }

        if (found.ExpiresAt is { } expires && expires <= now)
        {
            // Expired: gone for the guest. Remove it now so the write below starts from a clean slate.
            var usage = await UsageAsync(connection, tx, installId, ct);
            await connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM hostapi_kv WHERE install_id = @installId AND key = @key", new { installId, key }, tx, cancellationToken: ct));
            await SaveUsageAsync(connection, tx, installId, usage.NextRevision, usage.Keys - 1, usage.Bytes - found.Size, ct);
            return null;
        }

        return (found.Revision, found.Size);
    }

    private static async Task<(long Keys, long Bytes)> SweepAsync(DbConnection connection, DbTransaction tx, string installId, long now, CancellationToken ct)
    {
        var swept = await connection.QuerySingleAsync<(long Keys, long? Bytes)>(new CommandDefinition("""
            SELECT count(*) AS Keys, sum(length(CAST(key AS BLOB)) + length(value)) AS Bytes FROM hostapi_kv
            WHERE install_id = @installId AND expires_at IS NOT NULL AND expires_at <= @now
            """, new { installId, now }, tx, cancellationToken: ct));
        if (swept.Keys > 0)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM hostapi_kv WHERE install_id = @installId AND expires_at IS NOT NULL AND expires_at <= @now",
                new { installId, now }, tx, cancellationToken: ct));
            var usage = await UsageAsync(connection, tx, installId, ct);
            await SaveUsageAsync(connection, tx, installId, usage.NextRevision, usage.Keys - swept.Keys, usage.Bytes - (swept.Bytes ?? 0), ct);
        }

        return (swept.Keys, swept.Bytes ?? 0);
    }

    private static async Task<(long NextRevision, long Keys, long Bytes)> UsageAsync(DbConnection connection, DbTransaction tx, string installId, CancellationToken ct) =>
        await connection.QuerySingleOrDefaultAsync<(long NextRevision, long Keys, long Bytes)?>(new CommandDefinition(
            "SELECT next_revision AS NextRevision, keys AS Keys, bytes AS Bytes FROM hostapi_kv_usage WHERE install_id = @installId",
            new { installId }, tx, cancellationToken: ct)) ?? (1, 0, 0);

    private static async Task SaveUsageAsync(DbConnection connection, DbTransaction tx, string installId, long nextRevision, long keys, long bytes, CancellationToken ct) =>
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO hostapi_kv_usage (install_id, next_revision, keys, bytes) VALUES (@installId, @nextRevision, @keys, @bytes)
            ON CONFLICT (install_id) DO UPDATE SET next_revision = excluded.next_revision, keys = excluded.keys, bytes = excluded.bytes
            """, new { installId, nextRevision, keys, bytes }, tx, cancellationToken: ct));

    /// <summary>One open connection with the kv_get statement prepared on it; used by one caller at a time.</summary>
    private sealed class PreparedGet : IDisposable
    {
        private readonly DbConnection _connection;
        private readonly DbCommand _command;
        private readonly DbParameter _install, _key, _now;

        private PreparedGet(DbConnection connection)
        {
            _connection = connection;
            _command = connection.CreateCommand();
            _command.CommandText = """
                SELECT value, revision FROM hostapi_kv
                WHERE install_id = $install AND key = $key AND (expires_at IS NULL OR expires_at > $now)
                """;
            _install = Add("$install");
            _key = Add("$key");
            _now = Add("$now");
            _command.Prepare();

            DbParameter Add(string name)
            {
                var parameter = _command.CreateParameter();
                parameter.ParameterName = name;
                _command.Parameters.Add(parameter);
                return parameter;
            }
        }

        public static async ValueTask<PreparedGet> OpenAsync(IDatabase database, CancellationToken ct)
        {
            var connection = await database.OpenAsync(ct);
            try
            {
                return new PreparedGet(connection);
            }
            catch
            {
                await connection.DisposeAsync();
                throw;
            }
        }

        public (byte[] Value, long Revision)? Run(string installId, string key, long now)
        {
            _install.Value = installId;
            _key.Value = key;
            _now.Value = now;
            using var reader = _command.ExecuteReader(System.Data.CommandBehavior.SingleRow);
            return reader.Read() ? (reader.GetFieldValue<byte[]>(0), reader.GetInt64(1)) : null;
        }

        public void Dispose()
        {
            _command.Dispose();
            _connection.Dispose();
        }
    }
}
