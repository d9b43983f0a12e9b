using Extensions.Modules.Bundles;
using Extensions.Modules.Runner.Contracts;
using Extensions.Modules.Runner.Protocol;
using Wasmtime;

namespace Extensions.Modules.Runner.Worker;

/// <summary>Everything one invocation's host functions touch. Lives exactly as long as its Store.</summary>
internal sealed class GuestState(ulong invocationId, ExecuteMessage message, Action<byte[]> send)
{
    private int _logBytes;

    public ulong InvocationId { get; } = invocationId;
    public ExecuteMessage Message { get; } = message;
    public Memory? Memory { get; set; }

    public int Status { get; set; } = 200;
    public List<KeyValuePair<string, string>> Headers { get; } = [];
    public MemoryStream Body { get; } = new();
    public bool ResponseTooLarge { get; set; }
    public int HostCalls { get; set; }

    /// <summary>Forwards a log line to the host. The grant and the budget are checked here too, so that a denial costs no round trip;
    /// the host checks the grant again, since it trusts nothing a worker says.</summary>
    public int Log(int level, ReadOnlySpan<byte> message)
    {
        HostCalls++;
        if (!Message.Grants.Contains(Capabilities.Log))
        {
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
        send(Messages.LogCall(InvocationId, level, message));
        return 0;
    }
}
