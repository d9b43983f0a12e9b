using Dapper;
using Extensions.Modules.Gateway.Contracts;
using Extensions.Modules.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Extensions.Modules.Gateway;

/// <summary>One row per dispatched request: who, which endpoint, how it ended, and what it cost.</summary>
internal sealed record InvocationRecord(
    long At, string TenantId, string ExtensionId, string InstallId, string Version, string RequestId, string Method, string Endpoint,
    long Status, string Code, double DurationMs, long Fuel, long MemoryBytes, long HostCalls);

/// <summary>
/// Writes invocation records in batches off the request path (see <see cref="BatchedWriter{T}"/>). Old rows are pruned by age.
/// </summary>
internal sealed partial class InvocationRecorder(IDatabase database, IOptions<GatewayOptions> options, TimeProvider time, ILogger<InvocationRecorder> logger)
    : BatchedWriter<InvocationRecord>(TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1), time), IInvocationLog
{
    /// <summary>Flushes what is queued first, so a request that just finished is in the answer.</summary>
    public async Task<IReadOnlyList<InvocationEntry>> ListAsync(InvocationQuery query, CancellationToken ct)
    {
        await FlushAsync(ct);
        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.QueryAsync<InvocationEntry>(new CommandDefinition("""
            SELECT id AS Id, at AS At, tenant_id AS TenantId, extension_id AS ExtensionId, install_id AS InstallId, version AS Version,
                   request_id AS RequestId, method AS Method, endpoint AS Endpoint, status AS Status, code AS Code,
                   duration_ms AS DurationMs, fuel AS Fuel, memory_bytes AS MemoryBytes, host_calls AS HostCalls
            FROM gateway_invocations
            WHERE (@TenantId IS NULL OR tenant_id = @TenantId) AND (@ExtensionId IS NULL OR extension_id = @ExtensionId)
              AND (@InstallId IS NULL OR install_id = @InstallId) AND (@BeforeId IS NULL OR id < @BeforeId)
            ORDER BY id DESC LIMIT @Limit
            """, new { query.TenantId, query.ExtensionId, query.InstallId, query.BeforeId, Limit = Math.Clamp(query.Limit, 1, 1000) }, cancellationToken: ct));
        return rows.AsList();
    }

    private static readonly string[] Columns =
        ["at", "tenant_id", "extension_id", "install_id", "version", "request_id", "method", "endpoint", "status", "code", "duration_ms", "fuel", "memory_bytes", "host_calls"];

    public static Migration Migration { get; } = new("gateway", 1, """
        CREATE TABLE gateway_invocations (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at INTEGER NOT NULL,
            tenant_id TEXT NOT NULL,
            extension_id TEXT NOT NULL,
            install_id TEXT NOT NULL,
            version TEXT NOT NULL,
            request_id TEXT NOT NULL,
            method TEXT NOT NULL,
            endpoint TEXT NOT NULL,
            status INTEGER NOT NULL,
            code TEXT NOT NULL,
            duration_ms REAL NOT NULL,
            fuel INTEGER NOT NULL,
            memory_bytes INTEGER NOT NULL,
            host_calls INTEGER NOT NULL);
        CREATE INDEX gateway_invocations_tenant ON gateway_invocations (tenant_id, extension_id, id);
        """);

    protected override void OnDropped(long count) => Log.Dropped(logger, count);

    protected override async Task WriteAsync(List<InvocationRecord> batch)
    {
        try
        {
            await InsertAsync(database, "gateway_invocations", Columns, batch, (r, row) => row
                .Number(r.At).Text(r.TenantId).Text(r.ExtensionId).Text(r.InstallId).Text(r.Version).Text(r.RequestId).Text(r.Method)
                .Text(r.Endpoint).Number(r.Status).Text(r.Code).Real(r.DurationMs).Number(r.Fuel).Number(r.MemoryBytes).Number(r.HostCalls));
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or IOException)
        {
            Log.WriteFailed(logger, batch.Count, ex.Message);
        }
    }

    protected override async Task PruneAsync()
    {
        // Rows are appended in time order, so the oldest are the lowest ids: find the first one to keep, delete below it.
        var cutoff = Time.GetUtcNow().AddDays(-options.Value.InvocationRetentionDays).ToUnixTimeMilliseconds();
        await using var connection = await database.OpenAsync();
        await connection.ExecuteAsync("""
            DELETE FROM gateway_invocations
            WHERE id < COALESCE((SELECT id FROM gateway_invocations WHERE at >= @cutoff ORDER BY id LIMIT 1), (SELECT MAX(id) + 1 FROM gateway_invocations))
            """, new { cutoff });
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1010, Level = LogLevel.Warning, Message = "Dropped {Count} invocation records: the database did not keep up")]
        public static partial void Dropped(ILogger logger, long count);

        [LoggerMessage(EventId = 1011, Level = LogLevel.Error, Message = "Could not write {Count} invocation records: {Reason}")]
        public static partial void WriteFailed(ILogger logger, int count, string reason);
    }
}
