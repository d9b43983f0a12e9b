using System.Diagnostics;
using System.Text;
using Extensions.Modules.Runner.Contracts;
using Extensions.Modules.Runner.Protocol;
using Extensions.Modules.Storage;
using Wasmtime;

namespace Extensions.Modules.Runner.Worker;

/// <summary>
/// The only place Wasmtime runs. One Engine (fuel, epochs, pooling allocator) and one Linker that defines exactly the
/// <c>ext</c> imports of ABI <c>ext-v1</c>; a fresh Store per invocation.
/// </summary>
internal sealed class WasmSandbox : IDisposable
{
    public const int EpochTickMs = 10;
    private const int PageSize = 65536;

    private readonly Engine _engine;
    private readonly Linker _linker;
    private readonly ModuleCache _modules;
    private readonly Thread _ticker;
    private volatile bool _disposed;

    public WasmSandbox(int maxConcurrency, long maxMemoryBytes, long moduleCacheBytes)
    {
        _modules = new ModuleCache(moduleCacheBytes);
        Fingerprint = string.Join('/',
            "wasmtime-" + (typeof(Engine).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
                .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "unknown"),
            "fuel", "epoch", $"pool-memory-{maxMemoryBytes}", System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant());
        using var pooling = new PoolingAllocationConfig()
            .WithMaxCoreInstances((uint)(maxConcurrency + 2))
            .WithMaxMemories((uint)(maxConcurrency + 2))
            .WithMaxTables((uint)(maxConcurrency + 2))
            .WithMaxMemorySize((nuint)maxMemoryBytes)
            .WithLinearMemoryKeepResidentBytes((nuint)(1024 * 1024));
        using var config = new Config()
            .WithFuelConsumption(true)
            .WithEpochInterruption(true)
            .WithPoolingAllocationStrategy(pooling);
        _engine = new Engine(config);
        _linker = new Linker(_engine);
        DefineImports(_linker);

        // Epochs advance engine-wide; each store's deadline is counted in ticks of this thread.
        _ticker = new Thread(() =>
        {
            while (!_disposed)
            {
                Thread.Sleep(EpochTickMs);
                if (!_disposed)
                {
                    _engine.IncrementEpoch();
                }
            }
        }) { IsBackground = true, Name = "epoch-ticker" };
        _ticker.Start();
    }

    /// <summary>
    /// What a precompiled artifact depends on: the Wasmtime build and every engine setting that changes generated code.
    /// Artifacts are keyed by it, so a change of either recompiles instead of loading incompatible code.
    /// </summary>
    public string Fingerprint { get; }

    private long _invocations;
    private long _compiles;
    private long _artifactLoads;

    public WorkerStats Stats => new(Interlocked.Read(ref _invocations), Interlocked.Read(ref _compiles), Interlocked.Read(ref _artifactLoads),
        _modules.Count, _modules.Bytes, Environment.WorkingSet);

    /// <summary>
    /// Runs a built-in guest once through the real execute path, so that the first tenant request on a fresh worker does
    /// not pay for JIT-compiling this code. Called before the worker says Hello.
    /// </summary>
    public void WarmUp()
    {
        const string wat = """
            (module
              (import "ext" "req_param" (func $param (param i32 i32 i32 i32) (result i32)))
              (import "ext" "resp_status" (func $status (param i32) (result i32)))
              (import "ext" "resp_header" (func $header (param i32 i32 i32 i32) (result i32)))
              (import "ext" "resp_body" (func $body (param i32 i32) (result i32)))
              (memory (export "memory") 1)
              (data (i32.const 0) "name")
              (func (export "handle") (result i32)
                (drop (call $param (i32.const 0) (i32.const 4) (i32.const 64) (i32.const 64)))
                (drop (call $status (i32.const 200)))
                (drop (call $header (i32.const 0) (i32.const 4) (i32.const 0) (i32.const 4)))
                (drop (call $body (i32.const 0) (i32.const 4)))
                (i32.const 0)))
            """;
        using var module = Module.FromText(_engine, "warm-up", wat);
        var message = new ExecuteMessage("warm-up", "", "", "", new InvocationLimits(1_000_000, PageSize * 2, 1000, 1024, 1024),
            new HashSet<string>(), new GuestHttpRequest("GET", "/", "", [], [new("name", "warm")], []), [], []);
        Run(module, 0, message, NoChannel.Instance, Stopwatch.GetTimestamp());
    }

    /// <summary>Compiles a module (verified against its hash) and returns the serialized artifact.</summary>
    public byte[] Compile(string moduleHash, string modulePath)
    {
        Interlocked.Increment(ref _compiles);
        using var module = Module.FromBytes(_engine, moduleHash, ReadVerified(modulePath, moduleHash));
        return module.Serialize();
    }

    public InvocationResult Execute(ulong invocationId, ExecuteMessage message, IGuestChannel channel)
    {
        var started = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _invocations);
        Module module;
        try
        {
            module = Load(message);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or WasmtimeException or InvalidDataException)
        {
            return InvocationResult.Failed(InvocationOutcome.BadModule, ex.Message);
        }

        return Run(module, invocationId, message, channel, started);
    }

    private InvocationResult Run(Module module, ulong invocationId, ExecuteMessage message, IGuestChannel channel, long started)
    {
        var deadline = started + (long)(message.Limits.TimeoutMs * (Stopwatch.Frequency / 1000.0));
        var state = new GuestState(invocationId, message, channel, deadline);
        using var store = new Store(_engine, state);
        store.Fuel = (ulong)message.Limits.Fuel;
        store.SetEpochDeadline((ulong)(message.Limits.TimeoutMs + EpochTickMs - 1) / EpochTickMs + 1);
        store.SetLimits(memorySize: message.Limits.MemoryBytes, tableElements: 100_000, instances: 1, tables: 4, memories: 1);

        InvocationOutcome outcome;
        string? diagnostic = null;
        try
        {
            var instance = _linker.Instantiate(store, module);
            state.Memory = instance.GetMemory("memory") ?? throw new InvalidDataException("module does not export 'memory'");
            instance.GetAction("_initialize")?.Invoke();
            var handle = instance.GetFunction<int>("handle") ?? throw new InvalidDataException("module does not export 'handle() -> i32'");
            var code = handle();
            outcome = state.ResponseTooLarge ? InvocationOutcome.ResponseTooLarge
                : code == 0 ? InvocationOutcome.Ok
                : InvocationOutcome.ExtensionError;
            if (code != 0)
            {
                diagnostic = $"handle() returned {code}";
            }
        }
        catch (TrapException trap)
        {
            outcome = trap.Type switch
            {
                TrapCode.OutOfFuel => InvocationOutcome.FuelExhausted,
                TrapCode.Interrupt => InvocationOutcome.Timeout,
                _ when AtMemoryCap(state, message.Limits.MemoryBytes) => InvocationOutcome.MemoryExceeded,
                _ => InvocationOutcome.Trap,
            };
            diagnostic = trap.Message;
        }
        catch (InvalidDataException ex)
        {
            outcome = InvocationOutcome.BadModule;
            diagnostic = ex.Message;
        }
        catch (WasmtimeException ex)
        {
            // Instantiation over the limits (e.g. a minimum memory above the cap) or a host function fault.
            outcome = ex.Message.Contains("memory", StringComparison.OrdinalIgnoreCase) && ex.Message.Contains("exceeds", StringComparison.OrdinalIgnoreCase)
                ? InvocationOutcome.MemoryExceeded
                : InvocationOutcome.Trap;
            diagnostic = ex.Message;
        }

        var fuelUsed = message.Limits.Fuel - (long)store.Fuel;
        var peak = state.Memory?.GetLength() ?? 0;
        var usage = new InvocationUsage(fuelUsed, Stopwatch.GetElapsedTime(started).TotalMilliseconds, peak, state.HostCalls,
            Stopwatch.GetElapsedTime(0, state.HostCallWaitTicks).TotalMilliseconds);
        return outcome == InvocationOutcome.Ok
            ? new InvocationResult(outcome, state.Status, state.Headers, state.Body.ToArray(), usage, null)
            : new InvocationResult(outcome, 0, [], [], usage, diagnostic);
    }

    // A guest whose memory.grow was refused at the cap usually traps soon after (abort, null deref): report the cause.
    private static bool AtMemoryCap(GuestState state, long cap) =>
        state.Memory is { } memory && memory.GetLength() + PageSize > cap;

    /// <summary>
    /// The precompiled artifact when the host sent one (hash verified, then mapped with DeserializeFile: no compile);
    /// otherwise the module itself is compiled (local <c>invoke</c>, or an artifact built for another engine).
    /// </summary>
    private Module Load(ExecuteMessage message)
    {
        var key = message.ArtifactHash.Length > 0 ? message.ArtifactHash : message.ModuleHash;
        if (_modules.TryGet(key, out var cached))
        {
            return cached;
        }

        if (message.ArtifactHash.Length > 0)
        {
            VerifyFile(message.ArtifactPath, message.ArtifactHash);
            Interlocked.Increment(ref _artifactLoads);
            var artifact = Module.DeserializeFile(_engine, message.ModuleHash, message.ArtifactPath);
            return _modules.Add(key, artifact, new FileInfo(message.ArtifactPath).Length);
        }

        var bytes = ReadVerified(message.ModulePath, message.ModuleHash);
        Interlocked.Increment(ref _compiles);
        return _modules.Add(key, Module.FromBytes(_engine, message.ModuleHash, bytes), bytes.Length * 2L);
    }

    private static byte[] ReadVerified(string path, string expectedHash)
    {
        var bytes = File.ReadAllBytes(path);
        Check(path, ContentHash.Of(bytes), expectedHash);
        return bytes;
    }

    private static void VerifyFile(string path, string expectedHash)
    {
        using var file = File.OpenRead(path);
        Check(path, ContentHash.Of(file), expectedHash);
    }

    private static void Check(string path, string actual, string expected)
    {
        if (actual != expected)
        {
            throw new InvalidDataException($"{path} hashes to {actual}, expected {expected}");
        }
    }

    private static GuestState S(Caller caller) => (GuestState)caller.GetData()!;

    /// <summary>Hands a host reply's data to the guest (read(2) idiom); an answer too big for the buffer is kept for the retry.</summary>
    private static int GiveReply(GuestState state, HostCallReply reply, int ptr, int cap)
    {
        if (reply.Code < 0)
        {
            return (int)reply.Code;
        }

        var length = Give(state, reply.Data, ptr, cap);
        if (length > cap)
        {
            state.RetainLastReply(reply);
        }

        return length;
    }

    private static byte[]? ReadBytes(GuestState state, int ptr, int length) =>
        TryGetSpan(state, ptr, length, out var span) ? span.ToArray() : null;

    /// <summary>The read(2) idiom: return the full length; copy only when the guest's buffer is big enough.</summary>
    private static int Give(GuestState state, ReadOnlySpan<byte> value, int ptr, int cap)
    {
        if (cap < 0)
        {
            return AbiCodes.Invalid;
        }

        if (value.Length <= cap)
        {
            if (!TryGetSpan(state, ptr, value.Length, out var target))
            {
                return AbiCodes.Invalid;
            }

            value.CopyTo(target);
        }

        return value.Length;
    }

    private static int Give(GuestState state, string? value, int ptr, int cap) =>
        value is null ? AbiCodes.Absent : Give(state, Encoding.UTF8.GetBytes(value), ptr, cap);

    private static bool TryGetSpan(GuestState state, int ptr, int length, out Span<byte> span)
    {
        span = default;
        var memory = state.Memory;
        if (memory is null || ptr < 0 || length < 0 || (long)ptr + length > memory.GetLength())
        {
            return false;
        }

        span = memory.GetSpan(ptr, length);
        return true;
    }

    private static string? ReadString(GuestState state, int ptr, int length) =>
        TryGetSpan(state, ptr, length, out var span) ? Encoding.UTF8.GetString(span) : null;

    private static string? Lookup(IReadOnlyList<KeyValuePair<string, string>> pairs, string key, StringComparison comparison)
    {
        foreach (var (k, v) in pairs)
        {
            if (string.Equals(k, key, comparison))
            {
                return v;
            }
        }

        return null;
    }

    private static void DefineImports(Linker linker)
    {
        const string ext = "ext";
        linker.DefineFunction(ext, "req_method", (Caller c, int ptr, int cap) => Give(S(c), S(c).Message.Request.Method, ptr, cap));
        linker.DefineFunction(ext, "req_path", (Caller c, int ptr, int cap) => Give(S(c), S(c).Message.Request.Path, ptr, cap));
        linker.DefineFunction(ext, "req_query", (Caller c, int ptr, int cap) => Give(S(c), S(c).Message.Request.Query, ptr, cap));
        linker.DefineFunction(ext, "req_body", (Caller c, int ptr, int cap) => Give(S(c), S(c).Message.Request.Body, ptr, cap));
        linker.DefineFunction(ext, "req_header", (Caller c, int namePtr, int nameLen, int ptr, int cap) =>
        {
            var s = S(c);
            var name = ReadString(s, namePtr, nameLen);
            return name is null ? AbiCodes.Invalid : Give(s, Lookup(s.Message.Request.Headers, name, StringComparison.OrdinalIgnoreCase), ptr, cap);
        });
        linker.DefineFunction(ext, "req_param", (Caller c, int namePtr, int nameLen, int ptr, int cap) =>
        {
            var s = S(c);
            var name = ReadString(s, namePtr, nameLen);
            return name is null ? AbiCodes.Invalid : Give(s, Lookup(s.Message.Request.Params, name, StringComparison.Ordinal), ptr, cap);
        });
        linker.DefineFunction(ext, "ctx_get", (Caller c, int keyPtr, int keyLen, int ptr, int cap) =>
        {
            var s = S(c);
            var key = ReadString(s, keyPtr, keyLen);
            return key is null ? AbiCodes.Invalid : Give(s, Lookup(s.Message.Context, key, StringComparison.Ordinal), ptr, cap);
        });
        linker.DefineFunction(ext, "config_get", (Caller c, int keyPtr, int keyLen, int ptr, int cap) =>
        {
            var s = S(c);
            var key = ReadString(s, keyPtr, keyLen);
            return key is null ? AbiCodes.Invalid : Give(s, Lookup(s.Message.Config, key, StringComparison.Ordinal), ptr, cap);
        });
        linker.DefineFunction(ext, "resp_status", (Caller c, int code) =>
        {
            if (code is < 100 or > 599)
            {
                return AbiCodes.Invalid;
            }

            S(c).Status = code;
            return 0;
        });
        linker.DefineFunction(ext, "resp_header", (Caller c, int namePtr, int nameLen, int valuePtr, int valueLen) =>
        {
            var s = S(c);
            var name = ReadString(s, namePtr, nameLen);
            var value = ReadString(s, valuePtr, valueLen);
            if (name is null || value is null || s.Headers.Count >= 64)
            {
                return name is null || value is null ? AbiCodes.Invalid : AbiCodes.Limit;
            }

            s.Headers.Add(new(name, value));
            return 0;
        });
        linker.DefineFunction(ext, "resp_body", (Caller c, int ptr, int len) =>
        {
            var s = S(c);
            if (!TryGetSpan(s, ptr, len, out var span))
            {
                return AbiCodes.Invalid;
            }

            if (s.Body.Length + len > s.Message.Limits.MaxResponseBytes)
            {
                s.ResponseTooLarge = true;
                return AbiCodes.Limit;
            }

            s.Body.Write(span);
            return 0;
        });
        linker.DefineFunction(ext, "log", (Caller c, int level, int ptr, int len) =>
        {
            var s = S(c);
            return TryGetSpan(s, ptr, len, out var span) ? s.Log(level, span) : AbiCodes.Invalid;
        });
        linker.DefineFunction(ext, "secret_get", (Caller c, int namePtr, int nameLen, int ptr, int cap) =>
        {
            var s = S(c);
            if (ReadString(s, namePtr, nameLen) is not { } name)
            {
                return AbiCodes.Invalid;
            }

            return GiveReply(s, s.Call(new SecretGetCall(name)), ptr, cap);
        });
        linker.DefineFunction(ext, "kv_get", (Caller c, int keyPtr, int keyLen, int ptr, int cap, int revisionPtr) =>
        {
            var s = S(c);
            if (ReadString(s, keyPtr, keyLen) is not { } key)
            {
                return AbiCodes.Invalid;
            }

            var reply = s.Call(new KvGetCall(key));
            var length = GiveReply(s, reply, ptr, cap);
            if (length >= 0 && length <= cap && revisionPtr != 0)
            {
                if (!TryGetSpan(s, revisionPtr, sizeof(long), out var target))
                {
                    return AbiCodes.Invalid;
                }

                System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(target, reply.Code);
            }

            return length;
        });
        linker.DefineFunction(ext, "kv_put", (Caller c, int keyPtr, int keyLen, int valuePtr, int valueLen, long ifRevision, int ttlMs) =>
        {
            var s = S(c);
            var key = ReadString(s, keyPtr, keyLen);
            var value = ReadBytes(s, valuePtr, valueLen);
            return key is null || value is null || ttlMs < 0
                ? AbiCodes.Invalid
                : s.Call(new KvPutCall(key, value, ifRevision, ttlMs)).Code;
        });
        linker.DefineFunction(ext, "kv_delete", (Caller c, int keyPtr, int keyLen, long ifRevision) =>
        {
            var s = S(c);
            return ReadString(s, keyPtr, keyLen) is { } key ? (int)s.Call(new KvDeleteCall(key, ifRevision)).Code : AbiCodes.Invalid;
        });
        linker.DefineFunction(ext, "kv_list", (Caller c, int prefixPtr, int prefixLen, int cursorPtr, int cursorLen, int ptr, int cap) =>
        {
            var s = S(c);
            var prefix = ReadString(s, prefixPtr, prefixLen);
            var cursor = ReadString(s, cursorPtr, cursorLen);
            if (prefix is null || cursor is null)
            {
                return AbiCodes.Invalid;
            }

            return GiveReply(s, s.Call(new KvListCall(prefix, cursor)), ptr, cap);
        });
        linker.DefineFunction(ext, "http_fetch", (Caller c, int requestPtr, int requestLen, int ptr, int cap) =>
        {
            var s = S(c);
            if (ReadBytes(s, requestPtr, requestLen) is not { } envelope)
            {
                return AbiCodes.Invalid;
            }

            return GiveReply(s, s.Call(new HttpFetchCall(envelope)), ptr, cap);
        });
    }

    public void Dispose()
    {
        // Stop the ticker before the engine goes: incrementing a disposed engine throws.
        _disposed = true;
        _ticker.Join();
        _linker.Dispose();
        _engine.Dispose();
    }
}
