namespace Extensions.Modules.Runner.Pool;

/// <summary>
/// Hands out worker slots (workers × <see cref="RunnerOptions.ConcurrencyPerWorker"/>). When all are busy, invocations
/// wait in per-tenant queues served round robin, so one tenant's flood cannot starve another; each tenant's queue and the
/// whole backlog are bounded, and an invocation that cannot get a slot before its deadline is refused as overloaded.
/// </summary>
internal sealed class Scheduler : IDisposable
{
    private readonly RunnerOptions _options;
    private readonly Func<IEnumerable<WorkerConnection>> _workers;
    private readonly Lock _lock = new();
    private readonly Dictionary<WorkerConnection, int> _busy = [];
    private readonly Dictionary<string, Queue<Waiter>> _queues = new(StringComparer.Ordinal);
    private readonly LinkedList<string> _ring = new();
    private readonly Timer _expiry;
    private int _queued;

    public Scheduler(RunnerOptions options, Func<IEnumerable<WorkerConnection>> workers)
    {
        _options = options;
        _workers = workers;
        // One timer refuses the waiters whose wait is over, instead of a timer per queued invocation.
        var sweep = TimeSpan.FromMilliseconds(Math.Clamp(options.MaxQueueWaitMs / 8, 10, 100));
        _expiry = new Timer(_ => Expire(), null, sweep, sweep);
    }

    public void Dispose() => _expiry.Dispose();

    /// <summary>A slot on a worker, or <c>null</c> when the invocation is refused (backlog full or no slot before <paramref name="wait"/>).</summary>
    public async Task<WorkerConnection?> AcquireAsync(string tenant, TimeSpan wait, CancellationToken cancellationToken)
    {
        Waiter waiter;
        lock (_lock)
        {
            if (_queued == 0 && FreeWorker() is { } free)
            {
                Take(free);
                return free;
            }

            if (wait <= TimeSpan.Zero)
            {
                return null;
            }

            var queue = QueueOf(tenant);
            if (_queued >= _options.MaxQueuedInvocations || queue.Count >= _options.MaxQueuedPerTenant)
            {
                return null;
            }

            waiter = new Waiter(Environment.TickCount64 + (long)wait.TotalMilliseconds);
            queue.Enqueue(waiter);
            _queued++;
        }

        try
        {
            // Null when the wait ran out (see Expire).
            return await (cancellationToken.CanBeCanceled ? waiter.Slot.Task.WaitAsync(cancellationToken) : waiter.Slot.Task);
        }
        catch (OperationCanceledException)
        {
            lock (_lock)
            {
                if (waiter.Slot.Task.IsCompletedSuccessfully)
                {
                    // Granted just as we gave up: hand the slot back.
                    if (waiter.Slot.Task.Result is { } granted)
                    {
                        Release(granted);
                    }
                }
                else
                {
                    waiter.Abandoned = true;
                    waiter.Slot.TrySetCanceled(CancellationToken.None);
                }
            }

            throw;
        }
    }

    /// <summary>Refuses the queued invocations that waited their whole time; they stay in their queue, skipped, until pumped.</summary>
    private void Expire()
    {
        if (Volatile.Read(ref _queued) == 0)
        {
            return;
        }

        var now = Environment.TickCount64;
        lock (_lock)
        {
            foreach (var queue in _queues.Values)
            {
                foreach (var waiter in queue)
                {
                    if (!waiter.Abandoned && now >= waiter.Deadline)
                    {
                        waiter.Abandoned = true;
                        waiter.Slot.TrySetResult(null);
                    }
                }
            }
        }
    }

    public void Release(WorkerConnection worker)
    {
        lock (_lock)
        {
            if (_busy.TryGetValue(worker, out var n))
            {
                if (n <= 1)
                {
                    _busy.Remove(worker);
                }
                else
                {
                    _busy[worker] = n - 1;
                }
            }

            PumpLocked();
        }
    }

    /// <summary>Serves waiters after capacity appeared (a worker started).</summary>
    public void Pump()
    {
        lock (_lock)
        {
            PumpLocked();
        }
    }

    private void PumpLocked()
    {
        while (_ring.First is { } node && FreeWorker() is { } free)
        {
            var tenant = node.Value;
            var queue = _queues[tenant];
            var waiter = queue.Dequeue();
            _queued--;
            _ring.RemoveFirst();
            if (queue.Count > 0)
            {
                _ring.AddLast(tenant);
            }
            else
            {
                _queues.Remove(tenant);
            }

            if (waiter.Abandoned)
            {
                continue;
            }

            Take(free);
            if (!waiter.Slot.TrySetResult(free))
            {
                Release(free);
            }
        }
    }

    private Queue<Waiter> QueueOf(string tenant)
    {
        if (!_queues.TryGetValue(tenant, out var queue))
        {
            _queues[tenant] = queue = new Queue<Waiter>();
            _ring.AddLast(tenant);
        }

        return queue;
    }

    private WorkerConnection? FreeWorker()
    {
        WorkerConnection? best = null;
        var bestBusy = int.MaxValue;
        foreach (var worker in _workers())
        {
            if (!worker.Accepting)
            {
                continue;
            }

            var busy = _busy.GetValueOrDefault(worker);
            if (busy < _options.ConcurrencyPerWorker && busy < bestBusy)
            {
                best = worker;
                bestBusy = busy;
            }
        }

        return best;
    }

    private void Take(WorkerConnection worker) => _busy[worker] = _busy.GetValueOrDefault(worker) + 1;

    private sealed class Waiter(long deadline)
    {
        public long Deadline { get; } = deadline;
        public TaskCompletionSource<WorkerConnection?> Slot { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public bool Abandoned { get; set; }
    }
}
