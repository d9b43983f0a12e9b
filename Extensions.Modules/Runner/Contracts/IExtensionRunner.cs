namespace Extensions.Modules.Runner.Contracts;

/// <summary>Runs guests in the worker pool.</summary>
public interface IExtensionRunner
{
    /// <summary>Runs one invocation. Never throws for guest or worker misbehaviour: see <see cref="InvocationResult.Outcome"/>.</summary>
    Task<InvocationResult> InvokeAsync(InvocationRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Makes sure a precompiled artifact of the module exists for the workers' engine, compiling it once in a worker
    /// if needed (at publish, so that no request pays for it). Returns the artifact's content hash.
    /// </summary>
    /// <exception cref="ModuleRejectedException">The module does not compile.</exception>
    Task<string> PrepareAsync(string moduleHash, string modulePath, CancellationToken cancellationToken = default);

    /// <summary>Limits for one invocation: what the manifest asks for, defaulted and clamped to the operator's caps.</summary>
    InvocationLimits LimitsFor(long? fuel, int? memoryMb, int? timeoutMs);

    /// <summary>Workers currently connected and accepting work.</summary>
    int LiveWorkers { get; }
}
