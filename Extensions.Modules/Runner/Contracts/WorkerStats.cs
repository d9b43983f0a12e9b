namespace Extensions.Modules.Runner.Contracts;

/// <summary>What a worker reports in each Pong: work done, its module cache, and its resident memory.</summary>
/// <param name="Compiles">Modules compiled from Wasm (publish-time Compile frames, or invocations without an artifact).</param>
/// <param name="ArtifactLoads">Precompiled artifacts mapped with DeserializeFile.</param>
public sealed record WorkerStats(long Invocations, long Compiles, long ArtifactLoads, int CachedModules, long CachedBytes, long RssBytes)
{
    public static WorkerStats None { get; } = new(0, 0, 0, 0, 0, 0);
}

/// <summary>One live worker as the pool sees it.</summary>
public sealed record WorkerInfo(int Slot, int ProcessId, bool Accepting, int InFlight, WorkerStats Stats, DateTimeOffset StartedAt);
