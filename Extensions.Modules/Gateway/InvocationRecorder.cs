using System.Threading.Channels;
using Dapper;
using Extensions.Modules.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Extensions.Modules.Gateway;

/// <summary>One row per dispatched request: who, which endpoint, how it ended, and what it cost.</summary>
internal sealed record InvocationRecord(
    long At, string TenantId, string ExtensionId, string InstallId, string Version, string RequestId, string Method, string Endpoint,
    long Status, string Code, double DurationMs, long Fuel, long MemoryBytes, long HostCalls);

/// <summary>
/// Writes invocation records in batches off the request path. The queue is bounded: when the database cannot keep up,
/// records are dropped (and counted in the log) rather than slowing requests down. Old rows are pruned by age.
/// </summary>
internal sealed partial class InvocationRecorder(IDatabase database, IOptions<GatewayOptions> options, TimeProvider time, ILogger<InvocationRecorder> logger)
    : BackgroundService
{
    private readonly Channel<InvocationRecord> _queue = Channel.CreateBounded<InvocationRecord>(
        new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private long _dropped;

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
        CREATE INDEX gateway_invocations_at ON gateway_invocations (at);
        """);

    public void Record(InvocationRecord record)
    {
        if (!_queue.Writer.TryWrite(record))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    /// <summary>Waits until everything recorded so far is in the database (tests, shutdown).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        while (_queue.Reader.Count > 0 || Volatile.Read(ref _writing) == 1)
        {
            await Task.Delay(10, cancellationToken);
        }
    }

    private int _writing;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<InvocationRecord>(512);
        var nextPrune = time.GetUtcNow();
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                Volatile.Write(ref _writing, 1);
                while (batch.Count < 512 && _queue.Reader.TryRead(out var record))
                {
                    batch.Add(record);
                }

                await WriteAsync(batch);
                batch.Clear();
                Volatile.Write(ref _writing, 0);

                if (Interlocked.Exchange(ref _dropped, 0) is var dropped and > 0)
                {
                    Log.Dropped(logger, dropped);
                }

                if (time.GetUtcNow() >= nextPrune)
                {
                    await PruneAsync();
                    nextPrune = time.GetUtcNow().AddHours(1);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Drain what is left so a clean stop loses nothing.
            while (_queue.Reader.TryRead(out var record))
            {
                batch.Add(record);
            }

            await WriteAsync(batch);
        }
    }

    private async Task WriteAsync(List<InvocationRecord> batch)
    {
        if (batch.Count == 0)
        {
            return;
        }

        try
        {
            await using var connection = await database.OpenAsync();
            await using var tx = await connection.BeginTransactionAsync();
            await connection.ExecuteAsync("""
                INSERT INTO gateway_invocations (at, tenant_id, extension_id, install_id, version, request_id, method, endpoint, status, code,
                    duration_ms, fuel, memory_bytes, host_calls)
                VALUES (@At, @TenantId, @ExtensionId, @InstallId, @Version, @RequestId, @Method, @Endpoint, @Status, @Code,
                    @DurationMs, @Fuel, @MemoryBytes, @HostCalls)
                """, batch, tx);
            await tx.CommitAsync();
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or IOException)
        {
            Log.WriteFailed(logger, batch.Count, ex.Message);
        }
    }

    private async Task PruneAsync()
    {
        var cutoff = time.GetUtcNow().AddDays(-options.Value.InvocationRetentionDays).ToUnixTimeMilliseconds();
        await using var connection = await database.OpenAsync();
        await connection.ExecuteAsync("DELETE FROM gateway_invocations WHERE at < @cutoff", new { cutoff });
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1010, Level = LogLevel.Warning, Message = "Dropped {Count} invocation records: the database did not keep up")]
        public static partial void Dropped(ILogger logger, long count);

        [LoggerMessage(EventId = 1011, Level = LogLevel.Error, Message = "Could not write {Count} invocation records: {Reason}")]
        public static partial void WriteFailed(ILogger logger, int count, string reason);
    }
}
