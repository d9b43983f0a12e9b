namespace Extensions.Modules.Runner.Contracts;

/// <summary>
/// Capability calls that a guest makes and the worker forwards to the host. The runner hands each one over with the
/// invocation it was minted for; the implementation checks that invocation's grants and performs the call.
/// </summary>
public interface IHostCalls
{
    /// <summary>A guest log line (<c>cap:log</c>).</summary>
    /// <returns>0, or an ABI error code: -2 denied.</returns>
    int Log(InvocationRequest invocation, GuestLogLevel level, string message);
}

public enum GuestLogLevel
{
    Debug = 0,
    Info = 1,
    Warn = 2,
    Error = 3,
}
