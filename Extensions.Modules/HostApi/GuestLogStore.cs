using Dapper;
using Extensions.Modules.HostApi.Contracts;
using Extensions.Modules.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Extensions.Modules.HostApi;

/// <summary>A guest log line as its tenant's admins see it.</summary>
internal sealed record GuestLogEntry(long At, string TenantId, string ExtensionId, string InstallId, string RequestId, string Level, string Message);

/// <summary>
/// Keeps guest log lines per invocation so that the tenant's admins can read them (and nobody else). Lines are written in
/// batches off the request path (see <see cref="BatchedWriter{T}"/>), so a guest cannot slow requests down by logging; rows
/// older than the retention, or beyond the row cap, are pruned.
/// </summary>
internal sealed partial class GuestLogStore(IDatabase database, IOptions<HostApiOptions> options, TimeProvider time, ILogger<GuestLogStore> logger)
    : BatchedWriter<GuestLogEntry>(TimeSpan.FromMilliseconds(50), TimeSpan.FromMinutes(10), time), IGuestLogReader
{
    private static readonly string[] Columns = ["at", "tenant_id", "extension_id", "install_id", "request_id", "level", "message"];

    /// <summary>Flushes what is queued first, so lines of a request that just finished are in the answer.</summary>
    public async Task<IReadOnlyList<GuestLogLine>> ListAsync(string tenantId, GuestLogQuery query, CancellationToken ct)
    {
        await FlushAsync(ct);
        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.QueryAsync<GuestLogLine>(new CommandDefinition("""
            SELECT id AS Id, at AS At, tenant_id AS TenantId, extension_id AS ExtensionId, install_id AS InstallId, request_id AS RequestId,
                   level AS Level, message AS Message
            FROM hostapi_guest_logs
            WHERE tenant_id = @tenantId AND (@ExtensionId IS NULL OR extension_id = @ExtensionId) AND (@InstallId IS NULL OR install_id = @InstallId)
              AND (@RequestId IS NULL OR request_id = @RequestId) AND (@Level IS NULL OR level = @Level) AND (@BeforeId IS NULL OR id < @BeforeId)
            ORDER BY id DESC LIMIT @Limit
            """, new { tenantId, query.ExtensionId, query.InstallId, query.RequestId, query.Level, query.BeforeId, Limit = Math.Clamp(query.Limit, 1, 1000) },
            cancellationToken: ct));
        return rows.AsList();
    }

    public async Task RemoveInstallAsync(string installId, CancellationToken ct)
    {
        await FlushAsync(ct);
        await using var connection = await database.OpenAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM hostapi_guest_logs WHERE install_id = @installId", new { installId }, cancellationToken: ct));
    }

    protected override void OnDropped(long count) => Log.Dropped(logger, count);

    protected override async Task WriteAsync(List<GuestLogEntry> batch)
    {
        try
        {
            await InsertAsync(database, "hostapi_guest_logs", Columns, batch, (e, row) => row
                .Number(e.At).Text(e.TenantId).Text(e.ExtensionId).Text(e.InstallId).Text(e.RequestId).Text(e.Level).Text(e.Message));
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or IOException)
        {
            Log.WriteFailed(logger, batch.Count, ex.Message);
        }
    }

    protected override async Task PruneAsync()
    {
        try
        {
            var cutoff = Time.GetUtcNow().AddDays(-options.Value.GuestLogRetentionDays).ToUnixTimeMilliseconds();
            await using var connection = await database.OpenAsync();
            await connection.ExecuteAsync("""
                DELETE FROM hostapi_guest_logs
                WHERE at < @cutoff OR id <= (SELECT MAX(id) FROM hostapi_guest_logs) - @maxRows
                """, new { cutoff, maxRows = options.Value.GuestLogMaxRows });
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or IOException)
        {
            Log.WriteFailed(logger, 0, ex.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5010, Level = LogLevel.Warning, Message = "Dropped {Count} guest log lines: the database did not keep up")]
        public static partial void Dropped(ILogger logger, long count);

        [LoggerMessage(EventId = 5011, Level = LogLevel.Error, Message = "Could not write {Count} guest log lines: {Reason}")]
        public static partial void WriteFailed(ILogger logger, int count, string reason);
    }
}
