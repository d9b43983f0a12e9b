using System.ComponentModel.DataAnnotations;

namespace Extensions.Modules.Runner;

/// <summary>Worker pool size and the operator's caps on every invocation.</summary>
public sealed class RunnerOptions : IValidatableObject
{
    public const string SectionName = "Runner";

    /// <summary>Worker child processes. <remarks>Defaults to the number of cores.</remarks></summary>
    [Range(1, 256)]
    public int Workers { get; set; } = Environment.ProcessorCount;

    /// <summary>Invocations one worker runs at the same time. <remarks>Defaults to 8.</remarks></summary>
    /// <remarks>
    /// More than the worker's share of cores on purpose: with 4, a worker under load sat idle between a result and its
    /// next invocation (c=32 throughput 0.28 of plain Kestrel on 2 cores; 0.30–0.33 with 8 and no gain past it), and a
    /// guest waiting on a host call (a fetch) holds its slot without using a core.
    /// </remarks>
    [Range(1, 256)]
    public int ConcurrencyPerWorker { get; set; } = 8;

    /// <summary>Invocations that may wait for a worker slot, all tenants together; past it: 503 <c>overloaded</c>. <remarks>Defaults to 512.</remarks></summary>
    [Range(0, 1_000_000)]
    public int MaxQueuedInvocations { get; set; } = 512;

    /// <summary>Invocations one tenant may have waiting, so a flood fills its own queue, not everyone's. <remarks>Defaults to 128.</remarks></summary>
    [Range(0, 1_000_000)]
    public int MaxQueuedPerTenant { get; set; } = 128;

    /// <summary>Longest an invocation waits for a worker slot before it is refused as overloaded. <remarks>Defaults to 2000 ms.</remarks></summary>
    [Range(0, 600_000)]
    public int MaxQueueWaitMs { get; set; } = 2000;

    /// <summary>Fuel when the manifest names none. <remarks>Defaults to 10,000,000.</remarks></summary>
    [Range(1, long.MaxValue)]
    public long DefaultFuel { get; set; } = 10_000_000;

    /// <summary>Highest fuel a manifest may ask for. <remarks>Defaults to 1,000,000,000.</remarks></summary>
    [Range(1, long.MaxValue)]
    public long MaxFuel { get; set; } = 1_000_000_000;

    /// <summary>Linear memory when the manifest names none. <remarks>Defaults to 16 MiB.</remarks></summary>
    [Range(1, 4096)]
    public int DefaultMemoryMb { get; set; } = 16;

    /// <summary>Highest linear memory a manifest may ask for; also the pooling allocator's slot size. <remarks>Defaults to 128 MiB.</remarks></summary>
    [Range(1, 4096)]
    public int MaxMemoryMb { get; set; } = 128;

    /// <summary>Wall-clock deadline when the manifest names none. <remarks>Defaults to 2000 ms.</remarks></summary>
    [Range(10, 600_000)]
    public int DefaultTimeoutMs { get; set; } = 2000;

    /// <summary>Longest deadline a manifest may ask for. <remarks>Defaults to 30,000 ms.</remarks></summary>
    [Range(10, 600_000)]
    public int MaxTimeoutMs { get; set; } = 30_000;

    /// <summary>Largest response body a guest may produce. <remarks>Defaults to 4 MiB.</remarks></summary>
    [Range(1, 256 * 1024 * 1024)]
    public int MaxResponseBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Log bytes one invocation may write. <remarks>Defaults to 64 KiB.</remarks></summary>
    [Range(0, 64 * 1024 * 1024)]
    public int MaxLogBytes { get; set; } = 64 * 1024;

    /// <summary>Largest frame on the worker pipe. <remarks>Defaults to 64 MiB.</remarks></summary>
    [Range(1024, 1024 * 1024 * 1024)]
    public int MaxFrameBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>How long past its deadline the host waits for a worker's answer before killing that worker. <remarks>Defaults to 2000 ms.</remarks></summary>
    [Range(100, 600_000)]
    public int WatchdogGraceMs { get; set; } = 2000;

    /// <summary>Bytes of loaded modules each worker keeps (least recently used out). <remarks>Defaults to 256 MiB.</remarks></summary>
    [Range(1, 65536)]
    public int ModuleCacheMb { get; set; } = 256;

    /// <summary>Longest a worker may spend compiling one module before it is killed and the module refused. <remarks>Defaults to 60,000 ms.</remarks></summary>
    [Range(1000, 3_600_000)]
    public int CompileTimeoutMs { get; set; } = 60_000;

    /// <summary>How often the host pings each worker. <remarks>Defaults to 1000 ms.</remarks></summary>
    [Range(50, 60_000)]
    public int PingIntervalMs { get; set; } = 1000;

    /// <summary>A worker that has not answered a ping for this long is killed and replaced. <remarks>Defaults to 5000 ms.</remarks></summary>
    [Range(100, 600_000)]
    public int HangTimeoutMs { get; set; } = 5000;

    /// <summary>A worker whose resident memory grows past this is recycled. <remarks>Defaults to 1536 MiB: room for
    /// <see cref="ConcurrencyPerWorker"/> guests at <see cref="MaxMemoryMb"/> each (8 × 128 MiB) plus the runtime.</remarks></summary>
    [Range(32, 1024 * 1024)]
    public int MaxWorkerRssMb { get; set; } = 1536;

    /// <summary>A worker is recycled (drained and replaced) after this many invocations: a safety net, not a need, since every invocation gets a fresh Store. <remarks>Defaults to 1,000,000.</remarks></summary>
    [Range(1, long.MaxValue)]
    public long RecycleAfterInvocations { get; set; } = 1_000_000;

    /// <summary>Worker executable; empty means this same program. <remarks>Defaults to empty.</remarks></summary>
    public string WorkerPath { get; set; } = "";

    /// <summary>Waited-for capability calls (kv, secrets, http) one invocation may make; past it the guest gets -4 limit.</summary>
    [Range(1, 1_000_000)]
    public int MaxHostCallsPerInvocation { get; set; } = 1000;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (DefaultFuel > MaxFuel)
        {
            yield return new("DefaultFuel must not exceed MaxFuel", [nameof(DefaultFuel)]);
        }

        if (DefaultMemoryMb > MaxMemoryMb)
        {
            yield return new("DefaultMemoryMb must not exceed MaxMemoryMb", [nameof(DefaultMemoryMb)]);
        }

        if (HangTimeoutMs <= PingIntervalMs)
        {
            yield return new("HangTimeoutMs must be longer than PingIntervalMs", [nameof(HangTimeoutMs)]);
        }

        if (DefaultTimeoutMs > MaxTimeoutMs)
        {
            yield return new("DefaultTimeoutMs must not exceed MaxTimeoutMs", [nameof(DefaultTimeoutMs)]);
        }
    }
}
