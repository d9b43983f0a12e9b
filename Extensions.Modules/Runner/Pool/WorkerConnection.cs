using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;
using Extensions.Modules.Runner.Contracts;
using Extensions.Modules.Runner.Protocol;
using Microsoft.Extensions.Logging;

namespace Extensions.Modules.Runner.Pool;

/// <summary>
/// The host's end of one worker: the child process, its pipe, and the invocations in flight on it.
/// Many invocations are multiplexed on the pipe by id; only ids minted here are accepted back.
/// </summary>
internal sealed partial class WorkerConnection : IAsyncDisposable
{
    private readonly RunnerOptions _options;
    private readonly IHostCalls _hostCalls;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<ulong, Pending> _pending = new();
    private readonly ConcurrentDictionary<ulong, TaskCompletionSource<(byte[]?, string)>> _compiles = new();
    private readonly CancellationTokenSource _stopping = new();
    private HostLine? _main;
    private HostLine[] _lines = [];
    private Process? _process;
    private int _reading;
    private long _nextId;
    private int _dead;
    private int _disposed;
    private Timer? _watchdog;

    public WorkerConnection(int slot, RunnerOptions options, IHostCalls hostCalls, ILogger logger)
    {
        Slot = slot;
        _options = options;
        _hostCalls = hostCalls;
        _logger = logger;
    }

    public int Slot { get; }

    /// <summary>The worker's engine fingerprint (from Hello): precompiled artifacts are only valid for engines with the same one.</summary>
    public string Fingerprint { get; private set; } = "";
    // Kept from the start: Process.Id throws once the process object is disposed, and a lost worker is reported after that.
    public int ProcessId { get; private set; }
    public int InFlight => _pending.Count;

    /// <summary>False once the worker is draining (recycled): it finishes what it has but gets nothing new.</summary>
    public bool Accepting => IsAlive && Volatile.Read(ref _draining) == 0;
    private int _draining;

    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;
    public WorkerStats Stats { get; private set; } = WorkerStats.None;
    public long LastPongTicks => Interlocked.Read(ref _lastPong);
    private long _lastPong = Environment.TickCount64;

    public void Drain() => Interlocked.Exchange(ref _draining, 1);

    /// <summary>Asks for a Pong; a worker that stops answering (stopped, wedged) is found by its <see cref="LastPongTicks"/>.</summary>
    public void Ping()
    {
        if (IsAlive)
        {
            try
            {
                Send(FrameCodec.Encode(FrameKind.Ping, 0, []));
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException)
            {
                // The read loop notices the broken pipe.
            }
        }
    }
    public bool IsAlive => Volatile.Read(ref _dead) == 0 && Volatile.Read(ref _reading) == 1;

    /// <summary>Completes when the worker is gone for any reason (exit, EOF, protocol error, kill).</summary>
    public Task Exited => _exited.Task;
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var secret = RandomNumberGenerator.GetBytes(32);
        // A socket in a fresh 0700 directory: only this user can reach the path, only the worker we start may connect,
        // and the path is gone once it has.
        var directory = Directory.CreateTempSubdirectory("ext-worker-");
        if (!OperatingSystem.IsWindows())
        {
            // mkdtemp makes it 0700 already; said here so that nothing depends on that.
            File.SetUnixFileMode(directory.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var path = Path.Combine(directory.FullName, "pipe");
        try
        {
            using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen(_options.ConcurrencyPerWorker + 2);

            var info = WorkerLauncher.StartInfo(_options,
            [
                "--socket", path,
                "--concurrency", _options.ConcurrencyPerWorker.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--max-memory-mb", _options.MaxMemoryMb.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--module-cache-mb", _options.ModuleCacheMb.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--max-frame-bytes", _options.MaxFrameBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ]);
            _process = Process.Start(info) ?? throw new InvalidOperationException("worker process did not start");
            ProcessId = _process.Id;
            // The secret goes over stdin, never the command line, which other users can read.
            await _process.StandardInput.WriteLineAsync(Convert.ToHexStringLower(secret).AsMemory(), cancellationToken);
            await _process.StandardInput.FlushAsync(cancellationToken);
            _process.StandardInput.Close();
            _ = PumpOutputAsync(_process.StandardOutput, false);
            _ = PumpOutputAsync(_process.StandardError, true);

            // Blocking accept and Hello on a thread of their own: the socket must never see an asynchronous operation (see Send).
            var deadline = Environment.TickCount64 + 30_000;
            Fingerprint = await Task.Factory.StartNew(() => Connect(listener, secret, deadline, cancellationToken),
                cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        catch
        {
            Kill();
            throw;
        }
        finally
        {
            try
            {
                directory.Delete(recursive: true);
            }
            catch (IOException)
            {
                // Left in the temporary directory; it holds nothing but a dead socket path.
            }
        }

        _reading = 1;
        new Thread(() =>
        {
            try
            {
                ReadLoop();
            }
            finally
            {
                Volatile.Write(ref _reading, 0);
            }
        }) { IsBackground = true, Name = $"worker-{Slot}-reader" }.Start();
        for (var i = 0; i < _lines.Length; i++)
        {
            var line = _lines[i];
            new Thread(() => CallLoop(line)) { IsBackground = true, Name = $"worker-{Slot}-calls-{i}" }.Start();
        }

        // One timer per worker looks for invocations past their deadline and grace, instead of a timer per invocation.
        var sweep = TimeSpan.FromMilliseconds(Math.Clamp(_options.WatchdogGraceMs / 4, 10, 250));
        _watchdog = new Timer(_ => Watch(), null, sweep, sweep);
        Log.WorkerStarted(_logger, Slot, _process.Id);
    }

    /// <summary>Accepts the worker's connection (only from the process started for it) and checks its Hello, then its call lines.</summary>
    /// <returns>The worker's engine fingerprint.</returns>
    private string Connect(Socket listener, byte[] secret, long deadline, CancellationToken cancellationToken)
    {
        _main = new HostLine(new NetworkStream(Accept(listener, deadline, cancellationToken), ownsSocket: true));
        var hello = ReadFirstFrame(_main.Stream, deadline);
        if (hello.Kind != FrameKind.Hello)
        {
            throw new ProtocolException($"expected Hello, got {hello.Kind}");
        }

        var (version, presented, _, fingerprint) = Messages.ReadHello(hello.Payload.Span);
        if (version != Messages.HelloVersion || !CryptographicOperations.FixedTimeEquals(presented, secret))
        {
            throw new ProtocolException("worker presented a wrong secret or protocol version");
        }

        // Then one call line per serving thread of the worker, each from the same process with the same secret.
        var lines = new HostLine?[_options.ConcurrencyPerWorker + 1];
        try
        {
            for (var i = 0; i < lines.Length; i++)
            {
                var stream = new NetworkStream(Accept(listener, deadline, cancellationToken), ownsSocket: true);
                var first = ReadFirstFrame(stream, deadline);
                var (linePresented, index) = first.Kind == FrameKind.CallLine ? Messages.ReadCallLine(first.Payload.Span) : ([], -1);
                if (!CryptographicOperations.FixedTimeEquals(linePresented, secret) || index < 0 || index >= lines.Length || lines[index] is not null)
                {
                    stream.Dispose();
                    throw new ProtocolException("worker presented a wrong secret or index on a call line");
                }

                lines[index] = new HostLine(stream);
            }
        }
        catch
        {
            foreach (var line in lines)
            {
                line?.Dispose();
            }

            throw;
        }

        _lines = [.. lines.Select(l => l!)];
        return fingerprint;
    }

    /// <summary>Accepts the next connection, only from the process started for this worker.</summary>
    private Socket Accept(Socket listener, long deadline, CancellationToken cancellationToken)
    {
        while (!listener.Poll(TimeSpan.FromMilliseconds(50), SelectMode.SelectRead))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_process!.HasExited)
            {
                throw new ProtocolException($"worker exited with code {_process.ExitCode} before connecting");
            }

            if (Environment.TickCount64 > deadline)
            {
                throw new ProtocolException("worker did not connect within 30 s");
            }
        }

        var socket = listener.Accept();
        if (OperatingSystem.IsLinux() && PeerProcessId(socket) is var peer && peer != _process!.Id)
        {
            socket.Dispose();
            throw new ProtocolException($"process {peer} connected in place of worker {_process.Id}");
        }

        // A stopped worker stops reading: a write blocked past this fails, and the worker is replaced (see Send).
        socket.SendTimeout = 30_000;
        return socket;
    }

    private static Frame ReadFirstFrame(NetworkStream stream, long deadline)
    {
        stream.Socket.ReceiveTimeout = (int)Math.Max(1, deadline - Environment.TickCount64);
        var frame = FrameCodec.Read(stream, 1024) ?? throw new ProtocolException("worker closed the pipe before introducing itself");
        stream.Socket.ReceiveTimeout = 0;
        return frame;
    }

    /// <summary>The pid of the process at the other end of a Unix socket (SO_PEERCRED: pid, uid, gid).</summary>
    private static int PeerProcessId(Socket socket)
    {
        Span<byte> credentials = stackalloc byte[12];
        socket.GetRawSocketOption(1 /* SOL_SOCKET */, 17 /* SO_PEERCRED */, credentials);
        return BitConverter.ToInt32(credentials);
    }

    /// <summary>Has the worker compile a module and return the serialized artifact.</summary>
    /// <exception cref="ModuleRejectedException">The module does not compile.</exception>
    public async Task<byte[]> CompileAsync(string moduleHash, string modulePath, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var id = (ulong)Interlocked.Increment(ref _nextId);
        var completion = new TaskCompletionSource<(byte[]?, string)>(TaskCreationOptions.RunContinuationsAsynchronously);
        _compiles[id] = completion;
        try
        {
            if (!IsAlive)
            {
                throw new IOException("worker is not running");
            }

            Send(Messages.Compile(id, moduleHash, modulePath));
            var (artifact, error) = await completion.Task.WaitAsync(timeout, cancellationToken);
            return artifact ?? throw new ModuleRejectedException($"the module does not compile: {error}");
        }
        catch (TimeoutException)
        {
            // A module that takes this long to compile is hostile or broken; the worker may be stuck in Cranelift.
            Kill();
            throw new ModuleRejectedException($"compiling the module took longer than {timeout.TotalSeconds:0} s");
        }
        finally
        {
            _compiles.TryRemove(id, out _);
        }
    }

    public async Task<InvocationResult> InvokeAsync(InvocationRequest request, string artifactHash, string artifactPath, CancellationToken cancellationToken)
    {
        var id = (ulong)Interlocked.Increment(ref _nextId);
        using var pending = new Pending(request);
        _pending[id] = pending;
        try
        {
            if (!IsAlive)
            {
                return InvocationResult.Failed(InvocationOutcome.RunnerCrashed, "worker is not running");
            }

            // The epoch stops the guest at its deadline; past deadline + grace the worker itself is stuck (see Watch).
            pending.WatchdogAt = Environment.TickCount64 + request.Limits.TimeoutMs + _options.WatchdogGraceMs;
            Send(Messages.Execute(id, request, artifactHash, artifactPath));
            return await (cancellationToken.CanBeCanceled ? pending.Completion.Task.WaitAsync(cancellationToken) : pending.Completion.Task);
        }
        catch (IOException ex)
        {
            return InvocationResult.Failed(InvocationOutcome.RunnerCrashed, $"worker pipe failed: {ex.Message}");
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>
    /// Writes one frame. Only blocking calls ever touch the socket: one asynchronous call would switch it to non-blocking
    /// for good, and every read of the read loop would then wait on .NET's epoll thread instead of in the kernel, one
    /// more thread wake-up per frame. Writes block only while the worker's receive buffer is full; a worker that stopped
    /// reading is replaced by the supervisor, and past the send timeout the write fails and the worker is killed.
    /// </summary>
    private void Send(byte[] frame)
    {
        try
        {
            _main!.Send(frame);
        }
        catch (IOException)
        {
            // A frame may be half written: nothing more can be sent on this pipe.
            Kill();
            throw;
        }
        catch (ObjectDisposedException ex)
        {
            // Killed since the caller checked IsAlive: callers handle a lost worker as an IOException.
            throw new IOException("the worker's pipe is closed", ex);
        }
    }

    /// <summary>
    /// The read loop runs on its own thread with blocking reads: a frame wakes exactly this thread, which completes the
    /// invocation; the caller's continuation then runs inline here (see <see cref="Pending.Completion"/>).
    /// </summary>
    private void ReadLoop() => Pump(_main!.Stream, 64 * 1024, "pipe closed", frame =>
    {
        var (kind, id, payload) = frame;
        if (kind == FrameKind.Pong)
        {
            Stats = Messages.ReadPong(payload.Span);
            Interlocked.Exchange(ref _lastPong, Environment.TickCount64);
            return;
        }

        if (kind == FrameKind.Compiled)
        {
            if (_compiles.TryGetValue(id, out var compile))
            {
                compile.TrySetResult(Messages.ReadCompiled(payload.Span));
            }

            return;
        }

        // Ids the host never minted (or already finished) are ignored: a worker cannot act for another invocation.
        if (!_pending.TryGetValue(id, out var pending))
        {
            return;
        }

        switch (kind)
        {
            case FrameKind.Result:
                pending.Completion.TrySetResult(Messages.ReadResult(payload.Span));
                break;
            case FrameKind.HostCall:
                HandleHostCall(id, pending, payload.Span, null);
                break;
            default:
                throw new ProtocolException($"unexpected frame {kind} from a worker");
        }
    });

    /// <summary>
    /// One call line's reader, on its own thread with blocking reads like <see cref="ReadLoop"/>: a capability call that
    /// completes synchronously is answered from here, so a call costs this thread's wake-up and the guest thread's.
    /// </summary>
    private void CallLoop(HostLine line) => Pump(line.Stream, 16 * 1024, "call line closed", frame =>
    {
        var (kind, id, payload) = frame;
        if (kind != FrameKind.HostCall)
        {
            throw new ProtocolException($"unexpected frame {kind} on a call line");
        }

        if (_pending.TryGetValue(id, out var pending))
        {
            HandleHostCall(id, pending, payload.Span, line);
        }
    });

    /// <summary>Reads frames on the calling (dedicated) thread until the stream ends or breaks the protocol; then the
    /// worker is gone. Buffered: one read usually brings a frame's header and payload, often several frames.</summary>
    private void Pump(Stream stream, int bufferBytes, string endReason, Action<Frame> handle)
    {
        var reason = endReason;
        var input = new BufferedStream(stream, bufferBytes);
        try
        {
            while (!_stopping.IsCancellationRequested && FrameCodec.Read(input, _options.MaxFrameBytes) is { } frame)
            {
                handle(frame);
            }
        }
        catch (Exception ex) when (ex is ProtocolException or IOException or ObjectDisposedException)
        {
            reason = _stopping.IsCancellationRequested ? "stopping" : ex.Message;
            if (!_stopping.IsCancellationRequested && Volatile.Read(ref _dead) == 0)
            {
                Log.WorkerProtocolError(_logger, Slot, ProcessId, ex.Message);
            }
        }

        MarkDead(reason);
    }

    /// <param name="line">The call line the frame came on; <c>null</c> for the main connection, where only log lines may come.</param>
    private void HandleHostCall(ulong id, Pending pending, ReadOnlySpan<byte> payload, HostLine? line)
    {
        var reader = new PayloadReader(payload);
        var op = reader.U8();
        if (op == Messages.OpLog)
        {
            var level = reader.I32();
            var message = reader.String();
            if (level is >= 0 and <= 3 && pending.TryChargeLog(message.Length + 1))
            {
                _hostCalls.Log(pending.Request, (GuestLogLevel)level, message);
            }

            return;
        }

        if (line is null)
        {
            throw new ProtocolException("a capability call came on the main connection instead of a call line");
        }

        var call = Messages.ReadCall(op, payload[1..]);
        var refusal = pending.TryBeginCall(_options.MaxHostCallsPerInvocation, out var token);
        if (refusal != 0)
        {
            ReplyNow(id, HostCallReply.Error(refusal), line);
            return;
        }

        // A span per capability call, child of the invocation's dispatch span (the read thread has no ambient one).
        var ambient = Activity.Current;
        var span = WorkerPool.Tracing.StartActivity("hostcall " + call.Import, ActivityKind.Internal, pending.TraceParent);
        span?.SetTag("extensions.import", call.Import).SetTag("extensions.extension", pending.Request.ExtensionId).SetTag("extensions.tenant", pending.Request.TenantId);

        // Started on the read thread: a call that completes synchronously (a KV read) is answered here without a thread
        // hop. Capabilities that may wait (writes, network) yield first, so the pipe keeps flowing meanwhile.
        ValueTask<HostCallReply> work;
        try
        {
            work = _hostCalls.CallAsync(pending.Request, call, token);
        }
        catch (Exception ex)
        {
            work = ValueTask.FromException<HostCallReply>(ex);
        }

        if (work.IsCompleted)
        {
            HostCallReply reply;
            try
            {
                reply = work.Result;
            }
            catch (Exception ex)
            {
                reply = Fault(ex, call, pending);
            }

            pending.EndCall();
            End(span, reply);
            ReplyNow(id, reply, line);
        }
        else
        {
            pending.ArmDeadline();
            _ = FinishAsync(id, pending, call, work, span, line);
        }

        Activity.Current = ambient;
    }

    private static void End(Activity? span, HostCallReply reply)
    {
        if (span is not null)
        {
            span.SetTag("extensions.result", reply.Code);
            span.Dispose();
        }
    }

    private async Task FinishAsync(ulong id, Pending pending, HostCall call, ValueTask<HostCallReply> work, Activity? span, HostLine line)
    {
        HostCallReply reply;
        try
        {
            reply = await work;
        }
        catch (Exception ex)
        {
            reply = Fault(ex, call, pending);
        }

        pending.EndCall();
        End(span, reply);
        ReplyNow(id, reply, line);
    }

    private HostCallReply Fault(Exception ex, HostCall call, Pending pending)
    {
        if (ex is OperationCanceledException)
        {
            return HostCallReply.Error(AbiCodes.Timeout);
        }

        // A capability fault is the guest's -5, never the host's crash.
        Log.HostCallFailed(_logger, call.Import, pending.Request.ExtensionId, ex);
        return HostCallReply.Error(AbiCodes.Internal);
    }

    private void ReplyNow(ulong id, HostCallReply reply, HostLine line)
    {
        if (!_pending.ContainsKey(id) || !IsAlive)
        {
            return;
        }

        try
        {
            line.Send(Messages.Reply(id, reply));
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // A reply may be half written: nothing more can be sent on this line. The read loops report the loss.
            Kill();
        }
    }

    /// <summary>An invocation the worker has not answered by its deadline and grace ends as a timeout, and the worker,
    /// stuck in it, is replaced (its other invocations fail with <see cref="InvocationOutcome.RunnerCrashed"/>).</summary>
    private void Watch()
    {
        var now = Environment.TickCount64;
        foreach (var (id, pending) in _pending)
        {
            // Taken out first, so that the kill does not answer it as crashed; answered last, because its caller's
            // continuation runs right here.
            if (now >= pending.WatchdogAt && !pending.Completion.Task.IsCompleted && _pending.TryRemove(id, out _))
            {
                Log.WorkerStuck(_logger, Slot, ProcessId, id);
                Kill();
                pending.Completion.TrySetResult(InvocationResult.Failed(InvocationOutcome.Timeout, "worker did not answer by the deadline and was replaced"));
            }
        }
    }

    private void MarkDead(string reason)
    {
        if (Interlocked.Exchange(ref _dead, 1) != 0)
        {
            return;
        }

        if (!_stopping.IsCancellationRequested)
        {
            Log.WorkerLost(_logger, Slot, ProcessId, reason);
        }

        Kill();
        foreach (var pending in _pending.Values)
        {
            pending.Completion.TrySetResult(InvocationResult.Failed(InvocationOutcome.RunnerCrashed, $"worker {ProcessId} exited: {reason}"));
        }

        foreach (var compile in _compiles.Values)
        {
            compile.TrySetException(new IOException($"worker {ProcessId} exited while compiling: {reason}"));
        }

        _watchdog?.Dispose();
        _exited.TrySetResult();
    }

    /// <summary>Kills the worker; its in-flight invocations fail with <see cref="InvocationOutcome.RunnerCrashed"/>.</summary>
    public void Kill()
    {
        try
        {
            if (_process is { HasExited: false })
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _main?.Dispose();
        foreach (var line in _lines)
        {
            line.Dispose();
        }
    }

    private async Task PumpOutputAsync(StreamReader reader, bool isError)
    {
        try
        {
            while (await reader.ReadLineAsync() is { } line)
            {
                if (isError)
                {
                    Log.WorkerStderr(_logger, Slot, line);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // The process is gone.
        }
        finally
        {
            if (isError)
            {
                MarkDead("process exited");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync();
        if (IsAlive)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                Send(FrameCodec.Encode(FrameKind.Shutdown, 0, []));
                await _process!.WaitForExitAsync(timeout.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
            {
                // Fall through to kill.
            }
        }

        MarkDead("stopping");
        _process?.Dispose();
        _stopping.Dispose();
    }

    /// <summary>The host's end of one connection to the worker: the main one, or the call line of one of its serving
    /// threads (that thread's capability calls and their replies).</summary>
    private sealed class HostLine(NetworkStream stream) : IDisposable
    {
        private readonly Lock _writeLock = new();

        public NetworkStream Stream { get; } = stream;

        /// <summary>Blocking, like every use of these sockets; an async call would make the socket non-blocking for good.</summary>
        public void Send(byte[] frame)
        {
            lock (_writeLock)
            {
                Stream.Write(frame);
            }
        }

        public void Dispose()
        {
            try
            {
                // Wakes the connection's reader if it is blocked in a read.
                Stream.Socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // Not connected yet, or already closed.
            }

            Stream.Dispose();
        }
    }

    private sealed class Pending(InvocationRequest request) : IDisposable
    {
        private readonly long _started = Environment.TickCount64;
        private readonly Lock _lock = new();
        private CancellationTokenSource? _calls;
        private bool _ended;
        private bool _calling;
        private bool _armed;
        private int _callCount;
        private int _logBytes;

        public InvocationRequest Request { get; } = request;

        /// <summary>Milliseconds left before the invocation's deadline (negative past it).</summary>
        private long RemainingMs => Request.Limits.TimeoutMs - (Environment.TickCount64 - _started);

        /// <summary>When the watchdog gives up on the worker (<see cref="Environment.TickCount64"/>).</summary>
        public long WatchdogAt { get; set; } = long.MaxValue;

        /// <summary>The dispatch span this invocation runs under, if traced: capability calls become its children.</summary>
        public ActivityContext TraceParent { get; } = Activity.Current?.Context ?? default;
        // Completed by the read loop; the caller resumes inline there (one thread hop less per request), so nothing after
        // an invocation may block: the gateway only writes the response.
        public TaskCompletionSource<InvocationResult> Completion { get; } = new();

        public bool TryChargeLog(int bytes)
        {
            if (_logBytes + bytes > Request.Limits.MaxLogBytes)
            {
                return false;
            }

            _logBytes += bytes;
            return true;
        }

        /// <summary>
        /// Admits one waited-for call: at most one at a time (the guest is blocked on it) and a bounded number per
        /// invocation. The token fires at the invocation's deadline or its end, whichever comes first.
        /// </summary>
        /// <returns>0, or the ABI code the guest gets instead.</returns>
        public int TryBeginCall(int maxCalls, out CancellationToken token)
        {
            token = default;
            lock (_lock)
            {
                if (_ended)
                {
                    return AbiCodes.Timeout;
                }

                if (_calling)
                {
                    return AbiCodes.Invalid;
                }

                if (++_callCount > maxCalls)
                {
                    return AbiCodes.Limit;
                }

                if (RemainingMs <= 0)
                {
                    return AbiCodes.Timeout;
                }

                // The deadline's timer is armed only once a call has to wait (see ArmDeadline): reads answered at once
                // never need it, and a timer per invocation was a fifth of a first KV read's cost in the host.
                _calls ??= new CancellationTokenSource();

                _calling = true;
                token = _calls.Token;
                return 0;
            }
        }

        /// <summary>A call is waiting (a write, a fetch): its token must now fire at the invocation's deadline.</summary>
        public void ArmDeadline()
        {
            lock (_lock)
            {
                if (_calls is { } calls && !_armed)
                {
                    _armed = true;
                    calls.CancelAfter(TimeSpan.FromMilliseconds(Math.Max(0, RemainingMs)));
                }
            }
        }

        public void EndCall()
        {
            lock (_lock)
            {
                _calling = false;
            }
        }

        /// <summary>The invocation is over: whatever capability call is still running is cancelled.</summary>
        public void Dispose()
        {
            CancellationTokenSource? calls;
            lock (_lock)
            {
                _ended = true;
                calls = _calls;
                _calls = null;
            }

            if (calls is not null)
            {
                calls.Cancel();
                calls.Dispose();
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4000, Level = LogLevel.Information, Message = "Worker {Slot} started as process {ProcessId}")]
        public static partial void WorkerStarted(ILogger logger, int slot, int processId);

        [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "Worker {Slot} (process {ProcessId}) lost: {Reason}")]
        public static partial void WorkerLost(ILogger logger, int slot, int processId, string reason);

        [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Worker {Slot} (process {ProcessId}) broke protocol: {Reason}")]
        public static partial void WorkerProtocolError(ILogger logger, int slot, int processId, string reason);

        [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "Worker {Slot} (process {ProcessId}) did not answer invocation {InvocationId} past its deadline; killing it")]
        public static partial void WorkerStuck(ILogger logger, int slot, int processId, ulong invocationId);

        [LoggerMessage(EventId = 4004, Level = LogLevel.Warning, Message = "Worker {Slot} stderr: {Line}")]
        public static partial void WorkerStderr(ILogger logger, int slot, string line);

        [LoggerMessage(EventId = 4005, Level = LogLevel.Error, Message = "Host call {Import} of {ExtensionId} failed")]
        public static partial void HostCallFailed(ILogger logger, string import, string extensionId, Exception exception);
    }
}
