namespace Extensions.Modules.Runner.Protocol;

/// <summary>Frame kinds on the host↔worker pipe. Values are wire format: never renumber.</summary>
internal enum FrameKind : byte
{
    Hello = 1,
    Compile = 2,
    Execute = 3,
    HostCall = 4,
    HostReply = 5,
    Result = 6,
    Cancel = 7,
    Ping = 8,
    Pong = 9,
    Shutdown = 10,
    /// <summary>Worker → host: the answer to <see cref="Compile"/> (the serialized artifact, or why it failed).</summary>
    Compiled = 11,
    /// <summary>Worker → host, first on a call line: <see cref="Messages.CallLine"/>. Capability calls and their replies
    /// travel on these lines, one per serving thread, never on the main connection.</summary>
    CallLine = 12,
}
