using System.Diagnostics;
using Extensions.Modules.Bundles;
using Extensions.Modules.Runner.Contracts;
using Extensions.Modules.Runner.Protocol;
using Wasmtime;

namespace Extensions.Modules.Runner.Worker;

/// <summary>Everything one invocation's host functions touch. Lives exactly as long as its Store.</summary>
internal sealed class GuestState(ulong invocationId, ExecuteMessage message, IGuestChannel channel, long deadline)
{
    private int _logBytes;
    private bool _timedOut;
    private byte[]? _retainedCall;
    private HostCallReply _retainedReply;
    private byte[]? _lastCall;

    public ulong InvocationId { get; } = invocationId;
    public ExecuteMessage Message { get; } = message;
    public Memory? Memory { get; set; }

    public int Status { get; set; } = 200;
    public List<KeyValuePair<string, string>> Headers { get; } = [];
    public MemoryStream Body { get; } = new();
    public bool ResponseTooLarge { get; set; }
    public int HostCalls { get; set; }

    /// <summary>Stopwatch ticks this guest spent blocked on the host's replies.</summary>
    public long HostCallWaitTicks { get; private set; }

    /// <summary>Forwards a log line to the host. The grant and the budget are checked here too, so that the guest learns of
    /// a denial at once; the host checks the grant again, since it trusts nothing a worker says.</summary>
    public int Log(int level, ReadOnlySpan<byte> message)
    {
        HostCalls++;
        if (!Message.Grants.Contains(Capabilities.Log))
        {
            // The text stays here; the empty line only lets the host count the denial (within the same byte budget).
            if (_logBytes < Message.Limits.MaxLogBytes)
            {
                _logBytes++;
                channel.Send(Messages.LogCall(InvocationId, level, []));
            }

            return AbiCodes.Denied;
        }

        if (level is < 0 or > 3)
        {
            return AbiCodes.Invalid;
        }

        if (_logBytes + message.Length > Message.Limits.MaxLogBytes)
        {
            return AbiCodes.Limit;
        }

        _logBytes += message.Length;
        channel.Send(Messages.LogCall(InvocationId, level, message));
        return 0;
    }

    /// <summary>
    /// A call the guest waits for. The host decides on grants (and counts denials). When the guest's buffer was too small
    /// for the last answer, asking again with the same arguments is answered from that answer: the read(2) idiom must not
    /// fetch twice or see a newer value.
    /// </summary>
    public HostCallReply Call(HostCall call)
    {
        HostCalls++;

        // Past the deadline nothing more crosses the pipe; the epoch stops the guest at its next check.
        if (_timedOut)
        {
            return HostCallReply.Error(AbiCodes.Timeout);
        }

        var frame = Messages.Call(InvocationId, call);
        _lastCall = frame;
        if (_retainedCall is { } retained && retained.AsSpan().SequenceEqual(frame))
        {
            _retainedCall = null;
            return _retainedReply;
        }

        _retainedCall = null;
        var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
        if (remaining <= TimeSpan.Zero)
        {
            _timedOut = true;
            return HostCallReply.Error(AbiCodes.Timeout);
        }

        var sent = Stopwatch.GetTimestamp();
        var reply = channel.Call(InvocationId, frame, remaining);
        HostCallWaitTicks += Stopwatch.GetTimestamp() - sent;
        // A capability's own timeout (an http_fetch to a slow server) leaves the guest free to go on; only the
        // invocation's deadline ends its host calls.
        if (reply.Code == AbiCodes.Timeout && Stopwatch.GetTimestamp() >= deadline)
        {
            _timedOut = true;
        }

        return reply;
    }

    /// <summary>Keeps the last call's answer, which the guest could not take yet (its buffer was too small), for the retry.</summary>
    public void RetainLastReply(HostCallReply reply)
    {
        _retainedCall = _lastCall;
        _retainedReply = reply;
    }
}

/// <summary>How an invocation reaches the host from inside the worker.</summary>
internal interface IGuestChannel
{
    /// <summary>Fire-and-forget frames (log lines).</summary>
    void Send(byte[] frame);

    /// <summary>Sends a HostCall frame and blocks until the host's reply or <paramref name="timeout"/> (then <see cref="AbiCodes.Timeout"/>).</summary>
    HostCallReply Call(ulong invocationId, byte[] frame, TimeSpan timeout);
}

/// <summary>A channel to nowhere: for runs outside a worker (warm-up, benchmarks) that make no capability calls.</summary>
internal sealed class NoChannel : IGuestChannel
{
    public static readonly NoChannel Instance = new();

    public void Send(byte[] frame)
    {
    }

    public HostCallReply Call(ulong invocationId, byte[] frame, TimeSpan timeout) => HostCallReply.Error(AbiCodes.Internal);
}
