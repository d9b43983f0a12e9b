using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Extensions.Modules.Storage;

internal sealed class SqliteDatabase : IDatabase
{
    private readonly string _connectionString;

    public SqliteDatabase(IOptions<StorageOptions> options)
    {
        var o = options.Value;
        Directory.CreateDirectory(o.FullDataDirectory);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = o.DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = Math.Max(1, o.BusyTimeoutMs / 1000),
            // Not ForeignKeys = true: Microsoft.Data.Sqlite would run that pragma on every open, pooled or not.
        }.ToString();
        BusyTimeoutMs = o.BusyTimeoutMs;
    }

    private int BusyTimeoutMs { get; }

    public async ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken = default)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        // Pragmas stick to the physical connection, which the pool hands out again and again: set them once per handle,
        // not on every open (they cost a statement each, on paths as hot as a guest's kv_get).
        if (connection.Handle is { } handle && !_prepared.TryGetValue(handle, out _))
        {
            using var pragma = connection.CreateCommand();
            pragma.CommandText = $"PRAGMA busy_timeout = {BusyTimeoutMs}; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;";
            await pragma.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            _prepared.AddOrUpdate(handle, Marker);
        }

        return connection;
    }

    private static readonly object Marker = new();
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<SQLitePCL.sqlite3, object> _prepared = new();
}
