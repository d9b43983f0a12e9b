namespace Extensions.Modules.Runner.Protocol;

/// <summary>One message: <c>u32 length | u8 kind | u64 invocationId | payload</c>; length counts everything after itself.</summary>
internal readonly record struct Frame(FrameKind Kind, ulong InvocationId, ReadOnlyMemory<byte> Payload);
