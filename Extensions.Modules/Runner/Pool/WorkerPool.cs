using Extensions.Modules.Runner.Contracts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Extensions.Modules.Runner.Pool;

/// <summary>
/// Keeps <see cref="RunnerOptions.Workers"/> worker processes alive and sends each invocation to the least busy one.
/// A worker that dies is replaced with exponential back-off; its in-flight invocations have already failed fast.
/// </summary>
internal sealed partial class WorkerPool(IOptions<RunnerOptions> options, IHostCalls hostCalls, ILogger<WorkerPool> logger)
    : BackgroundService, IExtensionRunner
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);
    private readonly RunnerOptions _options = options.Value;
    private readonly WorkerConnection?[] _slots = new WorkerConnection?[options.Value.Workers];
    private readonly TaskCompletionSource _firstReady = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int LiveWorkers => _slots.Count(w => w is { IsAlive: true });

    /// <summary>Completes when every slot has had its first worker started (or failed to).</summary>
    public Task Ready => _firstReady.Task;

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

    private async Task SuperviseAsync(int slot, CancellationToken stoppingToken)
    {
        var backoff = TimeSpan.FromMilliseconds(100);
        while (!stoppingToken.IsCancellationRequested)
        {
            var worker = _slots[slot];
            if (worker is not null)
            {
                var startedAt = DateTimeOffset.UtcNow;
                await worker.Exited.WaitAsync(stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                if (stoppingToken.IsCancellationRequested)
                {
                    return;
                }

                await worker.DisposeAsync();
                _slots[slot] = null;
                // A worker that lived a while earns a quick restart; one that keeps dying backs off.
                backoff = DateTimeOffset.UtcNow - startedAt > TimeSpan.FromSeconds(30) ? TimeSpan.FromMilliseconds(100) : backoff;
            }

            await Task.Delay(backoff, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (!stoppingToken.IsCancellationRequested && !await TryStartAsync(slot, stoppingToken))
            {
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }

    private async Task<bool> TryStartAsync(int slot, CancellationToken cancellationToken)
    {
        var worker = new WorkerConnection(slot, _options, hostCalls, logger);
        try
        {
            await worker.StartAsync(cancellationToken);
            _slots[slot] = worker;
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.WorkerStartFailed(logger, slot, ex.Message);
            await worker.DisposeAsync();
            return false;
        }
    }

    public async Task<InvocationResult> InvokeAsync(InvocationRequest request, CancellationToken cancellationToken = default)
    {
        WorkerConnection? best = null;
        foreach (var worker in _slots)
        {
            if (worker is { IsAlive: true } && (best is null || worker.InFlight < best.InFlight))
            {
                best = worker;
            }
        }

        return best is null
            ? InvocationResult.Failed(InvocationOutcome.Unavailable, "no worker is running")
            : await best.InvokeAsync(request, cancellationToken);
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
        await Task.WhenAll(_slots.Where(w => w is not null).Select(w => w!.DisposeAsync().AsTask()));
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4010, Level = LogLevel.Error, Message = "Worker {Slot} failed to start: {Reason}")]
        public static partial void WorkerStartFailed(ILogger logger, int slot, string reason);
    }
}
