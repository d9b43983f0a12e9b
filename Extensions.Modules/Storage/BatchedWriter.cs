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
    /// Inserts a batch into <paramref name="table"/> in one transaction. <paramref name="bind"/> binds a row's values in
    /// the order of <paramref name="columns"/>.
    /// </summary>
    /// <remarks>
    /// Rows go in <see cref="RowsPerStatement"/> at a time, through one statement prepared once per batch and bound by
    /// position on SQLite's own handle: a statement per row costs SQLite a fresh run of its program each time (a third
    /// more per row, measured), and Microsoft.Data.Sqlite would look every parameter up by name and allocate a binder for
    /// it on every row. Values are bound straight from the row (no array or boxing per row, text encoded into one reused
    /// buffer). The rows left over take one single-row statement each. SQLite's async methods are synchronous
    /// underneath, and this runs on the writer's own thread, so the rows go in with plain calls.
    /// </remarks>
    protected static async Task InsertAsync(IDatabase database, string table, IReadOnlyList<string> columns, List<T> batch, Action<T, RowBinder> bind)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentException.ThrowIfNullOrEmpty(table);
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(bind);
        await using var connection = await database.OpenAsync();
        await using var tx = await connection.BeginTransactionAsync();
        // The platform's one IDatabase is SqliteDatabase.
        var db = ((SqliteConnection)connection).Handle!;
        var whole = batch.Count / RowsPerStatement * RowsPerStatement;
        if (whole > 0)
        {
            InsertRaw(db, InsertSql(table, columns, RowsPerStatement), columns.Count, batch, 0, whole, bind);
        }

        if (whole < batch.Count)
        {
            InsertRaw(db, InsertSql(table, columns, 1), columns.Count, batch, whole, batch.Count, bind);
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
    private static void InsertRaw(sqlite3 db, string sql, int width, List<T> batch, int from, int to, Action<T, RowBinder> bind)
    {
        Check(db, raw.sqlite3_prepare_v2(db, sql, out var statement));
        using (statement)
        {
            var binder = new RowBinder(db, statement);
            var rowsPerStep = raw.sqlite3_bind_parameter_count(statement) / width;
            for (var first = from; first < to; first += rowsPerStep)
            {
                for (var r = 0; r < rowsPerStep; r++)
                {
                    binder.Start(r * width);
                    bind(batch[first + r], binder);
                    if (binder.Bound != width)
                    {
                        throw new ArgumentException($"a row bound {binder.Bound} values for {width} columns", nameof(bind));
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

    /// <summary>Binds one row's values, in column order, at the row's place in a (multi-row) statement.</summary>
    public sealed class RowBinder
    {
        private readonly sqlite3 _db;
        private readonly sqlite3_stmt _statement;
        private byte[] _utf8 = new byte[256];
        private int _first;

        internal RowBinder(sqlite3 db, sqlite3_stmt statement)
        {
            _db = db;
            _statement = statement;
        }

        internal int Bound { get; private set; }

        /// <summary>A null binds SQL NULL, so a missing value fails as a constraint error (logged), not in .NET.</summary>
        public RowBinder Text(string? value)
        {
            if (value is null)
            {
                return Bind(raw.sqlite3_bind_null(_statement, Next()));
            }

            var length = System.Text.Encoding.UTF8.GetMaxByteCount(value.Length);
            if (length > _utf8.Length)
            {
                _utf8 = new byte[Math.Max(length, _utf8.Length * 2)];
            }

            // SQLite copies the bytes (SQLITE_TRANSIENT), so the buffer is free again once this returns.
            var written = System.Text.Encoding.UTF8.GetBytes(value, _utf8);
            return Bind(raw.sqlite3_bind_text(_statement, Next(), _utf8.AsSpan(0, written)));
        }

        public RowBinder Number(long value) => Bind(raw.sqlite3_bind_int64(_statement, Next(), value));

        public RowBinder Real(double value) => Bind(raw.sqlite3_bind_double(_statement, Next(), value));

        internal void Start(int offset)
        {
            _first = offset;
            Bound = 0;
        }

        private int Next() => _first + ++Bound;

        private RowBinder Bind(int code)
        {
            Check(_db, code);
            return this;
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
