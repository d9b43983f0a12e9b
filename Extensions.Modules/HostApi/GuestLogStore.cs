using System.Threading.Channels;
using Dapper;
using Extensions.Modules.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Extensions.Modules.HostApi;

/// <summary>A guest log line as its tenant's admins see it.</summary>
internal sealed record GuestLogEntry(long At, string TenantId, string ExtensionId, string InstallId, string RequestId, string Level, string Message);

/// <summary>
/// Keeps guest log lines per invocation so that the tenant's admins can read them (and nobody else). Writes happen in
/// batches on their own thread; the queue is bounded, so a guest cannot slow requests down by logging (lines beyond it are
/// dropped and counted). Rows older than the retention, or beyond the row cap, are pruned.
/// </summary>
internal sealed partial class GuestLogStore(IDatabase database, IOptions<HostApiOptions> options, TimeProvider time, ILogger<GuestLogStore> logger)
    : BackgroundService
{
    private readonly Channel<GuestLogEntry> _queue = Channel.CreateBounded<GuestLogEntry>(
        new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private long _dropped;
    private int _writing;

    public void Add(GuestLogEntry entry)
    {
        if (!_queue.Writer.TryWrite(entry))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    /// <summary>Waits until every line added so far is in the database (before a query answers).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        while (_queue.Reader.Count > 0 || Volatile.Read(ref _writing) == 1)
        {
            await Task.Delay(10, cancellationToken);
        }
    }

    public async Task<IReadOnlyList<GuestLogEntry>> QueryAsync(string tenantId, string? extensionId, string? requestId, int limit, CancellationToken ct)
    {
        await FlushAsync(ct);
        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.QueryAsync<GuestLogEntry>(new CommandDefinition("""
            SELECT at AS At, tenant_id AS TenantId, extension_id AS ExtensionId, install_id AS InstallId, request_id AS RequestId,
                   level AS Level, message AS Message
            FROM hostapi_guest_logs
            WHERE tenant_id = @tenantId AND (@extensionId IS NULL OR extension_id = @extensionId) AND (@requestId IS NULL OR request_id = @requestId)
            ORDER BY id DESC LIMIT @limit
            """, new { tenantId, extensionId, requestId, limit }, cancellationToken: ct));
        return rows.AsList();
    }

    public async Task RemoveInstallAsync(string installId, CancellationToken ct)
    {
        await FlushAsync(ct);
        await using var connection = await database.OpenAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM hostapi_guest_logs WHERE install_id = @installId", new { installId }, cancellationToken: ct));
    }

    // SQLite calls are synchronous whatever their names say: the writer has its own thread, off the request threads.
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stoppingToken)
    {
        var batch = new List<GuestLogEntry>(1024);
        var nextPrune = time.GetUtcNow();
        try
        {
            while (_queue.Reader.WaitToReadAsync(stoppingToken).AsTask().GetAwaiter().GetResult())
            {
                stoppingToken.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(50));
                Volatile.Write(ref _writing, 1);
                while (batch.Count < 4096 && _queue.Reader.TryRead(out var entry))
                {
                    batch.Add(entry);
                }

                Write(batch);
                batch.Clear();
                Volatile.Write(ref _writing, 0);
                if (Interlocked.Exchange(ref _dropped, 0) is var dropped and > 0)
                {
                    Log.Dropped(logger, dropped);
                }

                if (time.GetUtcNow() >= nextPrune)
                {
                    Prune();
                    nextPrune = time.GetUtcNow().AddMinutes(10);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            while (_queue.Reader.TryRead(out var entry))
            {
                batch.Add(entry);
            }

            Write(batch);
        }
    }

    private void Write(List<GuestLogEntry> batch)
    {
        if (batch.Count == 0)
        {
            return;
        }

        try
        {
            using var connection = database.OpenAsync().AsTask().GetAwaiter().GetResult();
            using var tx = connection.BeginTransaction();
            connection.Execute("""
                INSERT INTO hostapi_guest_logs (at, tenant_id, extension_id, install_id, request_id, level, message)
                VALUES (@At, @TenantId, @ExtensionId, @InstallId, @RequestId, @Level, @Message)
                """, batch, tx);
            tx.Commit();
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or IOException)
        {
            Log.WriteFailed(logger, batch.Count, ex.Message);
        }
    }

    private void Prune()
    {
        try
        {
            var cutoff = time.GetUtcNow().AddDays(-options.Value.GuestLogRetentionDays).ToUnixTimeMilliseconds();
            using var connection = database.OpenAsync().AsTask().GetAwaiter().GetResult();
            connection.Execute("""
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
