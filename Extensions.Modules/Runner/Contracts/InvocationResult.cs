namespace Extensions.Modules.Runner.Contracts;

/// <summary>How an invocation ended. Expected failures are values, not exceptions.</summary>
public enum InvocationOutcome : byte
{
    /// <summary><c>handle()</c> returned 0: the guest's status, headers and body stand.</summary>
    Ok = 0,
    /// <summary><c>handle()</c> returned non-zero.</summary>
    ExtensionError = 1,
    FuelExhausted = 2,
    MemoryExceeded = 3,
    Timeout = 4,
    /// <summary>The guest trapped (unreachable, stack overflow, bad memory access, ...).</summary>
    Trap = 5,
    ResponseTooLarge = 6,
    /// <summary>The worker died or broke protocol while the invocation was in flight.</summary>
    RunnerCrashed = 7,
    /// <summary>No live worker could take the invocation.</summary>
    Unavailable = 8,
    /// <summary>The module could not be loaded: missing, hash mismatch, bad imports or exports.</summary>
    BadModule = 9,
}

/// <param name="HostCallWaitMs">Time the guest spent blocked in capability calls (worker to host and back), part of <paramref name="WallMs"/>.</param>
public sealed record InvocationUsage(long Fuel, double WallMs, long PeakMemoryBytes, int HostCalls, double HostCallWaitMs = 0)
{
    public static InvocationUsage None { get; } = new(0, 0, 0, 0);
}

public sealed record InvocationResult(
    InvocationOutcome Outcome,
    int Status,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    byte[] Body,
    InvocationUsage Usage,
    string? Diagnostic)
{
    public static InvocationResult Failed(InvocationOutcome outcome, string diagnostic) =>
        new(outcome, 0, [], [], InvocationUsage.None, diagnostic);
}
