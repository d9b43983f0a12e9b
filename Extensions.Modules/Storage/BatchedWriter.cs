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
    /// Inserts a batch into <paramref name="table"/> in one transaction. <paramref name="values"/> gives a row's values in
    /// the order of <paramref name="columns"/>.
    /// </summary>
    /// <remarks>
    /// Rows go in <see cref="RowsPerStatement"/> at a time, through one statement prepared once per batch and bound by
    /// position on SQLite's own handle: a statement per row costs SQLite a fresh run of its program each time (a third
    /// more per row, measured), and Microsoft.Data.Sqlite would look every parameter up by name and allocate a binder for
    /// it on every row. The rows left over take one single-row statement each. SQLite's async methods are synchronous
    /// underneath, and this runs on the writer's own thread, so the rows go in with plain calls.
    /// </remarks>
    protected static async Task InsertAsync(IDatabase database, string table, IReadOnlyList<string> columns, List<T> batch, Func<T, object?[]> values)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentException.ThrowIfNullOrEmpty(table);
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(values);
        await using var connection = await database.OpenAsync();
        await using var tx = await connection.BeginTransactionAsync();
        // The platform's one IDatabase is SqliteDatabase.
        var db = ((SqliteConnection)connection).Handle!;
        var whole = batch.Count / RowsPerStatement * RowsPerStatement;
        if (whole > 0)
        {
            InsertRaw(db, InsertSql(table, columns, RowsPerStatement), columns.Count, batch, 0, whole, values);
        }

        if (whole < batch.Count)
        {
            InsertRaw(db, InsertSql(table, columns, 1), columns.Count, batch, whole, batch.Count, values);
        }

        await tx.CommitAsync();
    }

    /// <summary>Rows one multi-row statement inserts; its parameters stay far under SQLite's limit of 32,766.</summary>
    internal const int RowsPerStatement = 32;

    private static string InsertSql(string table, IReadOnlyList<string> columns, int rows)
    {
        var row = "(" + string.Join(", ", Enumerable.Repeat("?", columns.Count)) + ")";
        return $"INSERT INTO {table} ({string.Join(", ", columns)}) VALUES " + string.Join(", ", Enumerable.Repeat(row, rows));
    }

    // Rows [from, to) of the batch, as many per step as the statement has rows (it has a multiple of `width` parameters).
    private static void InsertRaw(sqlite3 db, string sql, int width, List<T> batch, int from, int to, Func<T, object?[]> values)
    {
        Check(db, raw.sqlite3_prepare_v2(db, sql, out var statement));
        using (statement)
        {
            var rowsPerStep = raw.sqlite3_bind_parameter_count(statement) / width;
            for (var first = from; first < to; first += rowsPerStep)
            {
                for (var r = 0; r < rowsPerStep; r++)
                {
                    var rowValues = values(batch[first + r]);
                    if (rowValues.Length != width)
                    {
                        throw new ArgumentException($"a row has {rowValues.Length} values for {width} columns", nameof(values));
                    }

                    for (var c = 0; c < width; c++)
                    {
                        var index = r * width + c + 1;
                        Check(db, rowValues[c] switch
                        {
                            null => raw.sqlite3_bind_null(statement, index),
                            string text => raw.sqlite3_bind_text(statement, index, text),
                            long number => raw.sqlite3_bind_int64(statement, index, number),
                            int number => raw.sqlite3_bind_int64(statement, index, number),
                            double real => raw.sqlite3_bind_double(statement, index, real),
                            bool flag => raw.sqlite3_bind_int64(statement, index, flag ? 1 : 0),
                            byte[] blob => raw.sqlite3_bind_blob(statement, index, blob),
                            var other => throw new ArgumentException($"cannot store a {other.GetType().Name} in column {c + 1}", nameof(values)),
                        });
                    }
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
