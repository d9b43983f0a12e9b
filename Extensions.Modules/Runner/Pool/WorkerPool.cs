using Extensions.Modules.Runner.Contracts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Extensions.Modules.Runner.Pool;

/// <summary>
/// Keeps <see cref="RunnerOptions.Workers"/> worker processes alive and runs each invocation in a worker slot handed out by
/// the <see cref="Scheduler"/>. A worker that dies is replaced with exponential back-off; its in-flight invocations have
/// already failed fast.
/// </summary>
internal sealed partial class WorkerPool : BackgroundService, IExtensionRunner
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);
    // Stateless handle: one span per dispatch (queue wait + worker round trip), a child of the caller's span.
    internal static readonly System.Diagnostics.ActivitySource Tracing = new("Extensions.Runner");
    private readonly RunnerOptions _options;
    private readonly IHostCalls _hostCalls;
    private readonly ArtifactStore _artifacts;
    private readonly ILogger<WorkerPool> _logger;
    private readonly WorkerConnection?[] _slots;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<WorkerConnection, Task> _retiring = new();
    private readonly Scheduler _scheduler;
    private readonly TaskCompletionSource _firstReady = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public WorkerPool(IOptions<RunnerOptions> options, IHostCalls hostCalls, ArtifactStore artifacts, ILogger<WorkerPool> logger)
    {
        _options = options.Value;
        _hostCalls = hostCalls;
        _artifacts = artifacts;
        _logger = logger;
        _slots = new WorkerConnection?[_options.Workers];
        _scheduler = new Scheduler(_options, () => _slots.OfType<WorkerConnection>());
    }

    public int LiveWorkers => _slots.Count(w => w is { Accepting: true });

    public IReadOnlyList<WorkerInfo> Workers =>
        [.. _slots.Where(w => w is { IsAlive: true }).Select(w => new WorkerInfo(w!.Slot, w.ProcessId, w.Accepting, w.InFlight, w.Stats, w.StartedAt))];

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Start the first generation before the host accepts traffic, so the first request finds workers.
        await Task.WhenAll(Enumerable.Range(0, _slots.Length).Select(slot => TryStartAsync(slot, cancellationToken)));
        _firstReady.TrySetResult();
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.WhenAll(Enumerable.Range(0, _slots.Length).Select(slot => SuperviseAsync(slot, stoppingToken)));
    }

    /// <summary>
    /// One slot's life: start a worker, ping it, and replace it when it exits, stops answering, grows past its memory
    /// budget or has served its quota. Recycling drains: the old worker finishes its in-flight work while the new one takes traffic.
    /// </summary>
    private async Task SuperviseAsync(int slot, CancellationToken stoppingToken)
    {
        var backoff = TimeSpan.FromMilliseconds(100);
        var interval = TimeSpan.FromMilliseconds(_options.PingIntervalMs);
        while (!stoppingToken.IsCancellationRequested)
        {
            var worker = _slots[slot];
            if (worker is null)
            {
                await Task.Delay(backoff, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                if (!stoppingToken.IsCancellationRequested && !await TryStartAsync(slot, stoppingToken))
                {
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                }

                continue;
            }

            await Task.WhenAny(worker.Exited, Task.Delay(interval, stoppingToken));
            if (stoppingToken.IsCancellationRequested)
            {
                return;
            }

            if (worker.Exited.IsCompleted)
            {
                // A worker that lived a while earns a quick restart; one that keeps dying backs off.
                backoff = DateTimeOffset.UtcNow - worker.StartedAt > TimeSpan.FromSeconds(30) ? TimeSpan.FromMilliseconds(100) : backoff;
                _slots[slot] = null;
                await worker.DisposeAsync();
                continue;
            }

            var silentFor = TimeSpan.FromMilliseconds(Environment.TickCount64 - worker.LastPongTicks);
            if (silentFor > TimeSpan.FromMilliseconds(_options.HangTimeoutMs))
            {
                Log.WorkerHung(_logger, slot, worker.ProcessId, silentFor.TotalMilliseconds);
                worker.Kill();
                continue;
            }

            var stats = worker.Stats;
            var reason = stats.RssBytes > _options.MaxWorkerRssMb * 1024L * 1024L ? $"resident memory {stats.RssBytes / (1024 * 1024)} MiB is over its budget"
                : stats.Invocations >= _options.RecycleAfterInvocations ? $"served {stats.Invocations} invocations"
                : null;
            if (reason is not null)
            {
                // The replacement starts first, so the slot keeps serving meanwhile; should it fail to start, the old
                // worker goes on serving and the next round tries again.
                Log.WorkerRecycled(_logger, slot, worker.ProcessId, reason);
                if (await TryStartAsync(slot, stoppingToken))
                {
                    worker.Drain();
                    _retiring[worker] = RetireAsync(worker);
                }

                continue;
            }

            // Off the supervisor: a stopped worker stops reading, and a write into its full pipe must not stall the loop.
            _ = Task.Run(worker.Ping, CancellationToken.None);
        }
    }

    private async Task RetireAsync(WorkerConnection worker)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(_options.MaxTimeoutMs + _options.WatchdogGraceMs);
        while (worker.InFlight > 0 && !worker.Exited.IsCompleted && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        await worker.DisposeAsync();
        _retiring.TryRemove(worker, out _);
    }

    private async Task<bool> TryStartAsync(int slot, CancellationToken cancellationToken)
    {
        var worker = new WorkerConnection(slot, _options, _hostCalls, _logger);
        try
        {
            await worker.StartAsync(cancellationToken);
            _slots[slot] = worker;
            _scheduler.Pump();
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.WorkerStartFailed(_logger, slot, ex.Message);
            await worker.DisposeAsync();
            return false;
        }
    }

    public async Task<InvocationResult> InvokeAsync(InvocationRequest request, CancellationToken cancellationToken = default)
    {
        using var activity = Tracing.StartActivity("runner.dispatch");
        activity?.SetTag("extensions.tenant", request.TenantId).SetTag("extensions.extension", request.ExtensionId).SetTag("extensions.install", request.InstallId);
        var result = await DispatchAsync(request, cancellationToken);
        activity?.SetTag("extensions.outcome", result.Outcome.ToString()).SetTag("extensions.fuel", result.Usage.Fuel);
        return result;
    }

    private async Task<InvocationResult> DispatchAsync(InvocationRequest request, CancellationToken cancellationToken)
    {
        var worker = await _scheduler.AcquireAsync(request.TenantId, TimeSpan.FromMilliseconds(_options.MaxQueueWaitMs), cancellationToken);
        if (worker is null)
        {
            return InvocationResult.Failed(InvocationOutcome.Unavailable, LiveWorkers == 0 ? "no worker is running" : "every worker slot is busy and the queue is full");
        }

        try
        {
            var artifact = await ArtifactForAsync(worker.Fingerprint, request.ModuleHash, request.ModulePath, cancellationToken);
            return await worker.InvokeAsync(request, artifact.Hash, artifact.Path, cancellationToken);
        }
        catch (ModuleRejectedException ex)
        {
            return InvocationResult.Failed(InvocationOutcome.BadModule, ex.Message);
        }
        catch (IOException ex)
        {
            return InvocationResult.Failed(InvocationOutcome.RunnerCrashed, ex.Message);
        }
        finally
        {
            _scheduler.Release(worker);
        }
    }

    public async Task<string> PrepareAsync(string moduleHash, string modulePath, CancellationToken cancellationToken = default)
    {
        await _firstReady.Task.WaitAsync(cancellationToken);
        var worker = LeastBusy() ?? throw new IOException("no worker is running to compile the module");
        return (await ArtifactForAsync(worker.Fingerprint, moduleHash, modulePath, cancellationToken)).Hash;
    }

    private Task<(string Hash, string Path)> ArtifactForAsync(string fingerprint, string moduleHash, string modulePath, CancellationToken cancellationToken) =>
        _artifacts.EnsureAsync(moduleHash, fingerprint, async () =>
        {
            var compiler = LeastBusy() ?? throw new IOException("no worker is running to compile the module");
            return await compiler.CompileAsync(moduleHash, modulePath, TimeSpan.FromMilliseconds(_options.CompileTimeoutMs), CancellationToken.None);
        }).WaitAsync(cancellationToken);

    private WorkerConnection? LeastBusy()
    {
        WorkerConnection? best = null;
        foreach (var worker in _slots)
        {
            if (worker is { Accepting: true } && (best is null || worker.InFlight < best.InFlight))
            {
                best = worker;
            }
        }

        return best;
    }

    public InvocationLimits LimitsFor(long? fuel, int? memoryMb, int? timeoutMs) => new(
        Math.Clamp(fuel ?? _options.DefaultFuel, 1, _options.MaxFuel),
        Math.Clamp(memoryMb ?? _options.DefaultMemoryMb, 1, _options.MaxMemoryMb) * 1024L * 1024L,
        Math.Clamp(timeoutMs ?? _options.DefaultTimeoutMs, 1, _options.MaxTimeoutMs),
        _options.MaxResponseBytes,
        _options.MaxLogBytes);

    /// <summary>Process ids of the live workers (operators and tests use them to find the children).</summary>
    public IReadOnlyList<int> WorkerProcessIds => [.. _slots.Where(w => w is { IsAlive: true }).Select(w => w!.ProcessId)];

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await Task.WhenAll(_slots.Where(w => w is not null).Select(w => w!.DisposeAsync().AsTask())
            .Concat(_retiring.Keys.Select(w => w.DisposeAsync().AsTask())));
        _scheduler.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4011, Level = LogLevel.Warning, Message = "Worker {Slot} (process {ProcessId}) has not answered a ping for {Milliseconds:0} ms; killing it")]
        public static partial void WorkerHung(ILogger logger, int slot, int processId, double milliseconds);

        [LoggerMessage(EventId = 4012, Level = LogLevel.Information, Message = "Recycling worker {Slot} (process {ProcessId}): {Reason}")]
        public static partial void WorkerRecycled(ILogger logger, int slot, int processId, string reason);

        [LoggerMessage(EventId = 4010, Level = LogLevel.Error, Message = "Worker {Slot} failed to start: {Reason}")]
        public static partial void WorkerStartFailed(ILogger logger, int slot, string reason);
    }
}
