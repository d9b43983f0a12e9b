using System.Net.Sockets;
using Extensions.Modules.Runner.Contracts;
using Extensions.Modules.Runner.Protocol;

namespace Extensions.Modules.Runner.Worker;

/// <summary>
/// The worker process: connects to the host's socket, proves it was started by that host (the secret it read on stdin),
/// then serves frames until the pipe closes. It holds no database, secrets or network: only Wasm.
/// </summary>
/// <remarks>
/// Threads work leader/follower style: whichever thread holds the read lock reads the next frame, hands the lock on, and
/// runs that frame itself. A request therefore costs one wake-up (the reader's) instead of a hand-off to another thread.
/// There is one thread more than the host's concurrency per worker, so a frame (a Ping, a Compile) is always read even
/// while every slot runs a guest. Each thread has its own <see cref="CallLine"/> for its guest's capability calls.
/// </remarks>
internal sealed class WorkerHost(string socketPath, byte[] secret, int concurrency, long maxMemoryBytes, long moduleCacheBytes, int maxFrameBytes)
{
    private readonly Lock _writeLock = new();
    private readonly Lock _readLock = new();
    private readonly TaskCompletionSource<int> _exit = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CallLine[] _lines = [];
    private Stream? _pipe;
    private Stream? _input;
    private WasmSandbox? _sandbox;
    private int _running;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        // Blocking calls only, as on the host's end: reads then wait in the kernel, not on .NET's epoll thread.
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(socketPath));
        await using var pipe = new NetworkStream(socket, ownsSocket: true);
        _pipe = pipe;
        using var input = new BufferedStream(pipe, 64 * 1024);
        _input = input;
        using var sandbox = new WasmSandbox(concurrency, maxMemoryBytes, moduleCacheBytes);
        _sandbox = sandbox;
        sandbox.WarmUp();
        Send(Messages.Hello(secret, Environment.ProcessId, sandbox.Fingerprint));
        _lines = [.. Enumerable.Range(0, concurrency + 1).Select(i => CallLine.Connect(socketPath, secret, i, maxFrameBytes))];

        for (var i = 0; i <= concurrency; i++)
        {
            var line = _lines[i];
            new Thread(() => Serve(line)) { IsBackground = true, Name = $"worker-{i}" }.Start();
        }

        using var registration = cancellationToken.Register(() => _exit.TrySetResult(0));
        return await _exit.Task;
    }

    private void Serve(CallLine line)
    {
        try
        {
            while (!_exit.Task.IsCompleted)
            {
                Frame? frame;
                lock (_readLock)
                {
                    if (_exit.Task.IsCompleted)
                    {
                        return;
                    }

                    frame = FrameCodec.Read(_input!, maxFrameBytes);
                }

                if (frame is null)
                {
                    Exit(0);
                    return;
                }

                Handle(frame.Value, line);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Once the worker is leaving, its pipe closing under the other serving threads is expected.
            Fail(ex);
        }
    }

    private void Handle(Frame frame, CallLine line)
    {
        var (kind, id, payload) = frame;
        switch (kind)
        {
            case FrameKind.Execute:
                Interlocked.Increment(ref _running);
                try
                {
                    // Log frames ride along with the result in one write (unless there are many), saving a wake-up per line.
                    var outbox = new Outbox(this, line);
                    outbox.SendWith(Messages.Result(id, Run(id, Messages.ReadExecute(payload.Span), outbox)));
                }
                finally
                {
                    Interlocked.Decrement(ref _running);
                }

                break;
            case FrameKind.Compile:
                // Compiles are rare and may be slow: off the serving threads, so they never hold a slot the host counts on.
                var (moduleHash, modulePath) = Messages.ReadCompile(payload.Span);
                _ = Task.Run(() => Send(CompileOne(id, moduleHash, modulePath)));
                break;
            case FrameKind.Ping:
                Send(Messages.Pong(_sandbox!.Stats));
                break;
            case FrameKind.Shutdown:
                // Let guests in flight finish and answer; then leave.
                while (Volatile.Read(ref _running) > 0)
                {
                    Thread.Sleep(5);
                }

                Exit(0);
                break;
            default:
                throw new ProtocolException($"unexpected frame {kind} from the host");
        }
    }

    // Untrusted bytes meet Cranelift here, in a worker, never in the host.
    private byte[] CompileOne(ulong id, string moduleHash, string modulePath)
    {
        try
        {
            return Messages.Compiled(id, _sandbox!.Compile(moduleHash, modulePath), "");
        }
        catch (Exception ex) when (ex is Wasmtime.WasmtimeException or IOException or InvalidDataException or UnauthorizedAccessException)
        {
            return Messages.Compiled(id, null, ex.Message);
        }
    }

    private InvocationResult Run(ulong id, ExecuteMessage message, IGuestChannel channel)
    {
        try
        {
            return _sandbox!.Execute(id, message, channel);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return InvocationResult.Failed(InvocationOutcome.Trap, $"worker fault: {ex.GetType().Name}: {ex.Message}");
        }
    }

    private void Exit(int code) => _exit.TrySetResult(code);

    private void Fail(Exception ex)
    {
        if (!_exit.Task.IsCompleted)
        {
            System.Console.Error.WriteLine($"worker: {ex.GetType().Name}: {ex.Message}");
            Exit(1);
        }
    }

    private void Send(byte[] frame)
    {
        lock (_writeLock)
        {
            _pipe!.Write(frame);
        }
    }

    /// <summary>Frames an invocation emits before its result, written together with it (or earlier once they pile up).</summary>
    private sealed class Outbox(WorkerHost host, CallLine line) : IGuestChannel
    {
        private const int FlushBytes = 16 * 1024;
        private readonly List<byte[]> _frames = [];
        private int _bytes;

        public void Add(byte[] frame)
        {
            _frames.Add(frame);
            _bytes += frame.Length;
            if (_bytes >= FlushBytes)
            {
                host.Send(Concat(null));
                _frames.Clear();
                _bytes = 0;
            }
        }

        public void Send(byte[] frame) => Add(frame);

        /// <summary>Log lines written before the call go out first, so the host sees them in the guest's order.</summary>
        public HostCallReply Call(ulong invocationId, byte[] frame, TimeSpan timeout)
        {
            if (_frames.Count > 0)
            {
                host.Send(Concat(null));
                _frames.Clear();
                _bytes = 0;
            }

            try
            {
                return line.Call(invocationId, frame, timeout);
            }
            catch (Exception ex) when (ex is IOException or SocketException or ProtocolException)
            {
                // The line is broken, and with it this worker: the host replaces it.
                host.Fail(ex);
                return HostCallReply.Error(AbiCodes.Internal);
            }
        }

        public void SendWith(byte[] last) => host.Send(_frames.Count == 0 ? last : Concat(last));

        private byte[] Concat(byte[]? last)
        {
            var all = new byte[_bytes + (last?.Length ?? 0)];
            var at = 0;
            foreach (var frame in _frames)
            {
                frame.CopyTo(all, at);
                at += frame.Length;
            }

            last?.CopyTo(all, at);
            return all;
        }
    }
}
