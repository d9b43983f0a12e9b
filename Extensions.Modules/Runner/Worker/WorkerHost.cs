using System.Diagnostics;
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
/// while every slot runs a guest.
/// </remarks>
internal sealed class WorkerHost(string socketPath, byte[] secret, int concurrency, long maxMemoryBytes, long moduleCacheBytes, int maxFrameBytes)
{
    private readonly Lock _writeLock = new();
    private readonly Lock _readLock = new();
    private readonly TaskCompletionSource<int> _exit = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ulong, Waiter> _waiters = new();
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

        for (var i = 0; i <= concurrency; i++)
        {
            new Thread(Serve) { IsBackground = true, Name = $"worker-{i}" }.Start();
        }

        using var registration = cancellationToken.Register(() => _exit.TrySetResult(0));
        return await _exit.Task;
    }

    private void Serve()
    {
        try
        {
            while (!_exit.Task.IsCompleted)
            {
                Frame? frame;
                lock (_readLock)
                {
                    while (true)
                    {
                        if (_exit.Task.IsCompleted)
                        {
                            return;
                        }

                        frame = FrameCodec.Read(_input!, maxFrameBytes);
                        if (frame is not { Kind: FrameKind.HostReply } reply)
                        {
                            break;
                        }

                        // A reply only wakes the guest thread blocked on it: the reader completes it and stays the reader,
                        // so no other thread is woken to take over the pipe on a host call's critical path.
                        Complete(reply);
                    }
                }

                if (frame is null)
                {
                    Exit(0);
                    return;
                }

                Handle(frame.Value);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Once the worker is leaving, its pipe closing under the other serving threads is expected.
            if (!_exit.Task.IsCompleted)
            {
                System.Console.Error.WriteLine($"worker: {ex.GetType().Name}: {ex.Message}");
                Exit(1);
            }
        }
    }

    private void Handle(Frame frame)
    {
        var (kind, id, payload) = frame;
        switch (kind)
        {
            case FrameKind.Execute:
                Interlocked.Increment(ref _running);
                try
                {
                    // Log frames ride along with the result in one write (unless there are many), saving a wake-up per line.
                    var outbox = new Outbox(this);
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

    private void Complete(Frame reply)
    {
        // A reply that arrives after its call timed out finds no waiter and is dropped.
        if (_waiters.TryGetValue(reply.InvocationId, out var waiter))
        {
            waiter.Complete(Messages.ReadReply(reply.Payload.Span));
        }
    }

    private void Send(byte[] frame)
    {
        lock (_writeLock)
        {
            _pipe!.Write(frame);
        }
    }

    /// <summary>
    /// Sends a call and blocks this guest's thread until the host replies. Another serving thread reads the reply (there is
    /// always one more thread than guests), so waiting here never stalls the pipe.
    /// </summary>
    private HostCallReply Call(ulong invocationId, byte[] frame, TimeSpan timeout)
    {
        var waiter = new Waiter();
        _waiters[invocationId] = waiter;
        try
        {
            Send(frame);
            return waiter.Wait(timeout) ? waiter.Reply : HostCallReply.Error(AbiCodes.Timeout);
        }
        finally
        {
            _waiters.TryRemove(invocationId, out _);
        }
    }

    /// <summary>One call's reply slot. A late reply (after the wait timed out) completes it harmlessly.</summary>
    private sealed class Waiter
    {
        // A reply takes 30-60 µs; spinning through the first part saves the guest thread's own wake-up (about 10 µs of
        // round trip measured with `--hostcalls`) without holding a core for long when the host is slow.
        private static readonly long SpinTicks = Stopwatch.Frequency * 25 / 1_000_000;
        private readonly object _gate = new();
        private bool _done;

        public HostCallReply Reply { get; private set; }

        public void Complete(HostCallReply reply)
        {
            lock (_gate)
            {
                Reply = reply;
                Volatile.Write(ref _done, true);
                Monitor.PulseAll(_gate);
            }
        }

        public bool Wait(TimeSpan timeout)
        {
            var spinner = new SpinWait();
            var spinUntil = Stopwatch.GetTimestamp() + SpinTicks;
            while (!Volatile.Read(ref _done) && Stopwatch.GetTimestamp() < spinUntil)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
            }

            var until = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
            lock (_gate)
            {
                while (!_done)
                {
                    var left = until - Environment.TickCount64;
                    if (left <= 0 || !Monitor.Wait(_gate, (int)Math.Min(left, int.MaxValue)))
                    {
                        return _done;
                    }
                }

                return true;
            }
        }
    }

    /// <summary>Frames an invocation emits before its result, written together with it (or earlier once they pile up).</summary>
    private sealed class Outbox(WorkerHost host) : IGuestChannel
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

            return host.Call(invocationId, frame, timeout);
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
