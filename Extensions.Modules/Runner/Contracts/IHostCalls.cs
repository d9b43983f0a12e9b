namespace Extensions.Modules.Runner.Contracts;

/// <summary>
/// Capability calls that a guest makes and the worker forwards to the host. The runner hands each one over with the
/// invocation it was minted for (never an id the worker names); the implementation checks that invocation's grants and
/// performs the call.
/// </summary>
public interface IHostCalls
{
    /// <summary>A guest log line (<c>cap:log</c>). Fire-and-forget: the guest does not wait for it.</summary>
    /// <returns>0, or an ABI error code: -2 denied.</returns>
    int Log(InvocationRequest invocation, GuestLogLevel level, string message);

    /// <summary>
    /// A call the guest waits for (kv, secrets, http). Runs off the pipe's read thread. <paramref name="cancellationToken"/>
    /// fires at the invocation's deadline or when the invocation ends; the guest then sees <see cref="AbiCodes.Timeout"/>.
    /// </summary>
    ValueTask<HostCallReply> CallAsync(InvocationRequest invocation, HostCall hostCall, CancellationToken cancellationToken);
}

public enum GuestLogLevel
{
    Debug = 0,
    Info = 1,
    Warn = 2,
    Error = 3,
}

/// <summary>A guest's call that crosses the pipe and waits for the host. Each kind maps to one <c>ext</c> import.</summary>
public abstract record HostCall
{
    /// <summary>The import the guest called, for errors, metrics and traces.</summary>
    public abstract string Import { get; }
}

/// <summary><c>secret_get(name)</c>.</summary>
public sealed record SecretGetCall(string Name) : HostCall
{
    public override string Import => "secret_get";
}

/// <summary><c>kv_get(key)</c>.</summary>
public sealed record KvGetCall(string Key) : HostCall
{
    public override string Import => "kv_get";
}

/// <summary><c>kv_put(key, value, if_revision, ttl_ms)</c>: <see cref="IfRevision"/> -1 = any, 0 = must not exist, n = must be n.</summary>
public sealed record KvPutCall(string Key, byte[] Value, long IfRevision, long TtlMs) : HostCall
{
    public override string Import => "kv_put";
}

/// <summary><c>kv_delete(key, if_revision)</c>.</summary>
public sealed record KvDeleteCall(string Key, long IfRevision) : HostCall
{
    public override string Import => "kv_delete";
}

/// <summary><c>kv_list(prefix, cursor)</c>: one page of keys.</summary>
public sealed record KvListCall(string Prefix, string Cursor) : HostCall
{
    public override string Import => "kv_list";
}

/// <summary><c>http_fetch(request envelope)</c>: see the ABI reference for the envelope.</summary>
public sealed record HttpFetchCall(byte[] Envelope) : HostCall
{
    public override string Import => "http_fetch";
}

/// <summary>
/// The host's answer. <see cref="Code"/> ≥ 0 is success (its meaning depends on the call: a revision, 0), negative is an
/// <see cref="AbiCodes"/> error. <see cref="Data"/> is what the guest reads (a value, a page, a response envelope).
/// </summary>
public readonly record struct HostCallReply(long Code, byte[] Data)
{
    public static HostCallReply Error(int code) => new(code, []);

    public static HostCallReply Ok(long code, byte[] data) => new(code, data);
}
