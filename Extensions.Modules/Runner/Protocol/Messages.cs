using Extensions.Modules.Runner.Contracts;

namespace Extensions.Modules.Runner.Protocol;

/// <summary>Payload layouts of the frames, shared by host and worker so that the two can never drift apart.</summary>
internal static class Messages
{
    public const int HelloVersion = 2;

    /// <summary>Host-call operations inside a <see cref="FrameKind.HostCall"/> frame (wire format: never renumber).</summary>
    public const byte OpLog = 1;
    public const byte OpSecretGet = 2;
    public const byte OpKvGet = 3;
    public const byte OpKvPut = 4;
    public const byte OpKvDelete = 5;
    public const byte OpKvList = 6;
    public const byte OpHttpFetch = 7;

    public static byte[] Hello(ReadOnlySpan<byte> secret, int processId, string fingerprint) =>
        new PayloadWriter().I32(HelloVersion).Bytes(secret).I32(processId).String(fingerprint).ToFrame(FrameKind.Hello, 0);

    public static (int Version, byte[] Secret, int ProcessId, string Fingerprint) ReadHello(ReadOnlySpan<byte> payload)
    {
        var r = new PayloadReader(payload);
        return (r.I32(), r.Bytes(), r.I32(), r.String());
    }

    /// <summary>The first frame on each call line: the worker's secret again and which serving thread the line belongs to.</summary>
    public static byte[] CallLine(ReadOnlySpan<byte> secret, int index) =>
        new PayloadWriter().Bytes(secret).I32(index).ToFrame(FrameKind.CallLine, 0);

    public static (byte[] Secret, int Index) ReadCallLine(ReadOnlySpan<byte> payload)
    {
        var r = new PayloadReader(payload);
        return (r.Bytes(), r.I32());
    }

    public static byte[] Compile(ulong id, string moduleHash, string modulePath) =>
        new PayloadWriter().String(moduleHash).String(modulePath).ToFrame(FrameKind.Compile, id);

    public static (string ModuleHash, string ModulePath) ReadCompile(ReadOnlySpan<byte> payload)
    {
        var r = new PayloadReader(payload);
        return (r.String(), r.String());
    }

    public static byte[] Compiled(ulong id, byte[]? artifact, string error) =>
        new PayloadWriter().U8(artifact is null ? (byte)0 : (byte)1).Bytes(artifact ?? []).String(error).ToFrame(FrameKind.Compiled, id);

    public static (byte[]? Artifact, string Error) ReadCompiled(ReadOnlySpan<byte> payload)
    {
        var r = new PayloadReader(payload);
        var ok = r.U8() == 1;
        var artifact = r.Bytes();
        return (ok ? artifact : null, r.String());
    }

    public static byte[] Execute(ulong invocationId, InvocationRequest request, string artifactHash, string artifactPath)
    {
        var w = new PayloadWriter()
            .String(request.ModuleHash)
            .String(request.ModulePath)
            .String(artifactHash)
            .String(artifactPath)
            .I64(request.Limits.Fuel)
            .I64(request.Limits.MemoryBytes)
            .I32(request.Limits.TimeoutMs)
            .I32(request.Limits.MaxResponseBytes)
            .I32(request.Limits.MaxLogBytes)
            .I32(request.Grants.Count);
        foreach (var grant in request.Grants)
        {
            w.String(grant);
        }

        return w.String(request.Request.Method)
            .String(request.Request.Path)
            .String(request.Request.Query)
            .Pairs(request.Request.Headers)
            .Pairs(request.Request.Params)
            .Pairs(request.Context)
            .Pairs(request.Config)
            .Bytes(request.Request.Body)
            .ToFrame(FrameKind.Execute, invocationId);
    }

    public static ExecuteMessage ReadExecute(ReadOnlySpan<byte> payload)
    {
        var r = new PayloadReader(payload);
        var moduleHash = r.String();
        var modulePath = r.String();
        var artifactHash = r.String();
        var artifactPath = r.String();
        var limits = new InvocationLimits(r.I64(), r.I64(), r.I32(), r.I32(), r.I32());
        var grantCount = r.I32();
        if (grantCount is < 0 or > 1024)
        {
            throw new ProtocolException($"grant count {grantCount} is out of range");
        }

        var grants = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < grantCount; i++)
        {
            grants.Add(r.String());
        }

        var method = r.String();
        var path = r.String();
        var query = r.String();
        var headers = r.Pairs();
        var parameters = r.Pairs();
        var context = r.Pairs();
        var config = r.Pairs();
        var body = r.Bytes();
        return new ExecuteMessage(moduleHash, modulePath, artifactHash, artifactPath, limits, grants,
            new GuestHttpRequest(method, path, query, headers, parameters, body), context, config);
    }

    public static byte[] Result(ulong invocationId, InvocationResult result) =>
        new PayloadWriter()
            .U8((byte)result.Outcome)
            .I32(result.Status)
            .Pairs(result.Headers)
            .Bytes(result.Body)
            .I64(result.Usage.Fuel)
            .I64((long)(result.Usage.WallMs * 1000))
            .I64(result.Usage.PeakMemoryBytes)
            .I32(result.Usage.HostCalls)
            .I64((long)(result.Usage.HostCallWaitMs * 1000))
            .String(result.Diagnostic ?? "")
            .ToFrame(FrameKind.Result, invocationId);

    public static InvocationResult ReadResult(ReadOnlySpan<byte> payload)
    {
        var r = new PayloadReader(payload);
        var outcome = (InvocationOutcome)r.U8();
        if (!Enum.IsDefined(outcome))
        {
            throw new ProtocolException($"unknown outcome {(byte)outcome}");
        }

        var status = r.I32();
        var headers = r.Pairs();
        var body = r.Bytes();
        var usage = new InvocationUsage(r.I64(), r.I64() / 1000.0, r.I64(), r.I32(), r.I64() / 1000.0);
        var diagnostic = r.String();
        return new InvocationResult(outcome, status, headers, body, usage, diagnostic.Length == 0 ? null : diagnostic);
    }

    public static byte[] Pong(WorkerStats stats) =>
        new PayloadWriter().I64(stats.Invocations).I64(stats.Compiles).I64(stats.ArtifactLoads).I32(stats.CachedModules)
            .I64(stats.CachedBytes).I64(stats.RssBytes).ToFrame(FrameKind.Pong, 0);

    public static WorkerStats ReadPong(ReadOnlySpan<byte> payload)
    {
        var r = new PayloadReader(payload);
        return new WorkerStats(r.I64(), r.I64(), r.I64(), r.I32(), r.I64(), r.I64());
    }

    public static byte[] LogCall(ulong invocationId, int level, ReadOnlySpan<byte> message) =>
        new PayloadWriter().U8(OpLog).I32(level).Bytes(message).ToFrame(FrameKind.HostCall, invocationId);

    /// <summary>A call the guest waits for; the host answers with a <see cref="FrameKind.HostReply"/> for the same invocation.</summary>
    public static byte[] Call(ulong invocationId, HostCall call)
    {
        var w = new PayloadWriter();
        switch (call)
        {
            case SecretGetCall c:
                w.U8(OpSecretGet).String(c.Name);
                break;
            case KvGetCall c:
                w.U8(OpKvGet).String(c.Key);
                break;
            case KvPutCall c:
                w.U8(OpKvPut).String(c.Key).Bytes(c.Value).I64(c.IfRevision).I64(c.TtlMs);
                break;
            case KvDeleteCall c:
                w.U8(OpKvDelete).String(c.Key).I64(c.IfRevision);
                break;
            case KvListCall c:
                w.U8(OpKvList).String(c.Prefix).String(c.Cursor);
                break;
            case HttpFetchCall c:
                w.U8(OpHttpFetch).Bytes(c.Envelope);
                break;
            default:
                throw new ArgumentException($"no wire form for {call.GetType().Name}", nameof(call));
        }

        return w.ToFrame(FrameKind.HostCall, invocationId);
    }

    /// <summary>The waited-for call in a HostCall payload whose operation byte is <paramref name="op"/> (already read).</summary>
    public static HostCall ReadCall(byte op, ReadOnlySpan<byte> rest)
    {
        var r = new PayloadReader(rest);
        return op switch
        {
            OpSecretGet => new SecretGetCall(r.String()),
            OpKvGet => new KvGetCall(r.String()),
            OpKvPut => new KvPutCall(r.String(), r.Bytes(), r.I64(), r.I64()),
            OpKvDelete => new KvDeleteCall(r.String(), r.I64()),
            OpKvList => new KvListCall(r.String(), r.String()),
            OpHttpFetch => new HttpFetchCall(r.Bytes()),
            _ => throw new ProtocolException($"unknown host call {op}"),
        };
    }

    public static byte[] Reply(ulong invocationId, HostCallReply reply) =>
        new PayloadWriter().I64(reply.Code).Bytes(reply.Data).ToFrame(FrameKind.HostReply, invocationId);

    public static HostCallReply ReadReply(ReadOnlySpan<byte> payload)
    {
        var r = new PayloadReader(payload);
        return new HostCallReply(r.I64(), r.Bytes());
    }
}

/// <summary>An invocation as the worker sees it. <see cref="ArtifactHash"/> is empty when no precompiled artifact is offered.</summary>
internal sealed record ExecuteMessage(
    string ModuleHash,
    string ModulePath,
    string ArtifactHash,
    string ArtifactPath,
    InvocationLimits Limits,
    IReadOnlySet<string> Grants,
    GuestHttpRequest Request,
    IReadOnlyList<KeyValuePair<string, string>> Context,
    IReadOnlyList<KeyValuePair<string, string>> Config);
