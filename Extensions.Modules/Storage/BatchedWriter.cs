using Microsoft.Data.Sqlite;
using SQLitePCL;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;

namespace Extensions.Modules.Storage;

/// <summary>
/// Rows written off the request path: a bounded queue drained in batches on a thread of its own, with periodic pruning.
/// When the database cannot keep up, new rows are dropped (and counted) rather than slowing callers down.
/// </summary>
/// <param name="batchWindow">How long a batch may gather before it is written: one transaction per row would cost more than the work that made it.</param>
/// <param name="pruneEvery">How often <see cref="PruneAsync"/> runs (first at start).</param>
public abstract class BatchedWriter<T>(TimeSpan batchWindow, TimeSpan pruneEvery, TimeProvider time) : BackgroundService
{
    private const int MaxBatch = 4096;
    private readonly Channel<T> _queue = Channel.CreateBounded<T>(
        new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private long _dropped;
    private int _writing;

    protected TimeProvider Time { get; } = time;

    /// <summary>Queues a row; never blocks. A full queue drops it and counts the drop.</summary>
    public void Add(T row)
    {
        if (!_queue.Writer.TryWrite(row))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    /// <summary>Waits until every row added so far is in the database (before a query answers, in tests, at shutdown).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        while (_queue.Reader.Count > 0 || Volatile.Read(ref _writing) == 1)
        {
            await Task.Delay(10, cancellationToken);
        }
    }

    /// <summary>Writes one (non-empty) batch. Failures are the implementation's to log: the writer goes on with the next batch.</summary>
    protected abstract Task WriteAsync(List<T> batch);

    protected abstract Task PruneAsync();

    /// <summary>
    /// Inserts a batch in one transaction with one single-row statement, prepared once and re-bound per row.
    /// <paramref name="values"/> gives a row's values in the order of <paramref name="parameters"/>.
    /// </summary>
    /// <remarks>
    /// A many-row statement looks cheaper but is not: SQLite finds each named parameter by a linear scan of the statement's
    /// names. For the same reason the rows are bound by position on SQLite's own statement: Microsoft.Data.Sqlite looks
    /// every parameter up by name, and allocates a binder for it, on every row (under load that was a twentieth of the
    /// host's allocations). SQLite's async methods are synchronous underneath, and this runs on the writer's own thread,
    /// so the rows go in with plain calls.
    /// </remarks>
    protected static async Task InsertAsync(IDatabase database, string sql, IReadOnlyList<string> parameters, List<T> batch, Func<T, object?[]> values)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(values);
        await using var connection = await database.OpenAsync();
        await using var tx = await connection.BeginTransactionAsync();
        // The platform's one IDatabase is SqliteDatabase.
        InsertRaw(((SqliteConnection)connection).Handle!, sql, parameters, batch, values);
        await tx.CommitAsync();
    }

    private static void InsertRaw(sqlite3 db, string sql, IReadOnlyList<string> parameters, List<T> batch, Func<T, object?[]> values)
    {
        Check(db, raw.sqlite3_prepare_v2(db, sql, out var statement));
        using (statement)
        {
            var positions = new int[parameters.Count];
            for (var i = 0; i < positions.Length; i++)
            {
                positions[i] = raw.sqlite3_bind_parameter_index(statement, parameters[i]);
                if (positions[i] == 0)
                {
                    throw new ArgumentException($"the statement has no parameter {parameters[i]}", nameof(parameters));
                }
            }

            foreach (var row in batch)
            {
                var rowValues = values(row);
                for (var i = 0; i < positions.Length; i++)
                {
                    Check(db, rowValues[i] switch
                    {
                        null => raw.sqlite3_bind_null(statement, positions[i]),
                        string text => raw.sqlite3_bind_text(statement, positions[i], text),
                        long number => raw.sqlite3_bind_int64(statement, positions[i], number),
                        int number => raw.sqlite3_bind_int64(statement, positions[i], number),
                        double real => raw.sqlite3_bind_double(statement, positions[i], real),
                        bool flag => raw.sqlite3_bind_int64(statement, positions[i], flag ? 1 : 0),
                        byte[] blob => raw.sqlite3_bind_blob(statement, positions[i], blob),
                        var other => throw new ArgumentException($"cannot store a {other.GetType().Name} in {parameters[i]}", nameof(values)),
                    });
                }

                var step = raw.sqlite3_step(statement);
                if (step != raw.SQLITE_DONE)
                {
                    Check(db, step);
                }

                Check(db, raw.sqlite3_reset(statement));
            }
        }
    }

    private static void Check(sqlite3 db, int code)
    {
        if (code is not (raw.SQLITE_OK or raw.SQLITE_DONE or raw.SQLITE_ROW))
        {
            throw new SqliteException(raw.sqlite3_errmsg(db).utf8_to_string(), code);
        }
    }

    /// <summary>Rows dropped since the last report because the queue was full.</summary>
    protected abstract void OnDropped(long count);

    // SQLite calls are synchronous whatever their names say: the writer gets its own thread so that a batch being written
    // never holds one of the few thread-pool threads that requests run on.
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stoppingToken)
    {
        var batch = new List<T>(MaxBatch);
        var nextPrune = Time.GetUtcNow();
        try
        {
            while (_queue.Reader.WaitToReadAsync(stoppingToken).AsTask().GetAwaiter().GetResult())
            {
                stoppingToken.WaitHandle.WaitOne(batchWindow);
                Volatile.Write(ref _writing, 1);
                while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var row))
                {
                    batch.Add(row);
                }

                Write(batch);
                batch.Clear();
                Volatile.Write(ref _writing, 0);
                if (Interlocked.Exchange(ref _dropped, 0) is var dropped and > 0)
                {
                    OnDropped(dropped);
                }

                if (Time.GetUtcNow() >= nextPrune)
                {
                    PruneAsync().GetAwaiter().GetResult();
                    nextPrune = Time.GetUtcNow().Add(pruneEvery);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Drain what is left so a clean stop loses nothing.
            while (_queue.Reader.TryRead(out var row))
            {
                batch.Add(row);
            }

            Write(batch);
        }
    }

    private void Write(List<T> batch)
    {
        if (batch.Count > 0)
        {
            WriteAsync(batch).GetAwaiter().GetResult();
        }
    }
}
