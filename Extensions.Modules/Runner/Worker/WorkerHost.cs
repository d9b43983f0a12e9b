using System.IO.Pipes;
using Extensions.Modules.Runner.Contracts;
using Extensions.Modules.Runner.Protocol;

namespace Extensions.Modules.Runner.Worker;

/// <summary>
/// The worker process: connects to the host's pipe, proves it was started by that host (the secret it read on stdin),
/// then runs Execute frames until the pipe closes. It holds no database, secrets or network: only Wasm.
/// </summary>
internal sealed class WorkerHost(string pipeName, byte[] secret, int concurrency, long maxMemoryBytes, long moduleCacheBytes, int maxFrameBytes)
{
    private readonly Lock _writeLock = new();
    private Stream? _pipe;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        await using var pipe = new NamedPipeClientStream(".", pipeName, PipeDirection.InOut, PipeOptions.Asynchronous | PipeOptions.CurrentUserOnly);
        await pipe.ConnectAsync(10_000, cancellationToken);
        _pipe = pipe;
        using var sandbox = new WasmSandbox(concurrency, maxMemoryBytes, moduleCacheBytes);
        Send(Messages.Hello(secret, Environment.ProcessId, sandbox.Fingerprint));

        using var slots = new SemaphoreSlim(concurrency);
        var running = new List<Task>();
        var input = new BufferedStream(pipe, 64 * 1024);
        while (!cancellationToken.IsCancellationRequested)
        {
            var frame = await FrameCodec.ReadAsync(input, maxFrameBytes, cancellationToken);
            if (frame is null)
            {
                break;
            }

            var (kind, id, payload) = frame.Value;
            switch (kind)
            {
                case FrameKind.Execute:
                    var message = Messages.ReadExecute(payload.Span);
                    await slots.WaitAsync(cancellationToken);
                    running.RemoveAll(t => t.IsCompleted);
                    running.Add(Task.Run(() =>
                    {
                        try
                        {
                            Send(Messages.Result(id, Run(sandbox, id, message)));
                        }
                        finally
                        {
                            slots.Release();
                        }
                    }, CancellationToken.None));
                    break;
                case FrameKind.Compile:
                    var (moduleHash, modulePath) = Messages.ReadCompile(payload.Span);
                    running.RemoveAll(t => t.IsCompleted);
                    running.Add(Task.Run(() => Send(CompileOne(sandbox, id, moduleHash, modulePath)), CancellationToken.None));
                    break;
                case FrameKind.Ping:
                    Send(Messages.Pong(sandbox.Stats));
                    break;
                case FrameKind.Shutdown:
                    await Task.WhenAll(running);
                    return 0;
                default:
                    throw new ProtocolException($"unexpected frame {kind} from the host");
            }
        }

        await Task.WhenAll(running);
        return 0;
    }

    // Untrusted bytes meet Cranelift here, in a worker, never in the host.
    private static byte[] CompileOne(WasmSandbox sandbox, ulong id, string moduleHash, string modulePath)
    {
        try
        {
            return Messages.Compiled(id, sandbox.Compile(moduleHash, modulePath), "");
        }
        catch (Exception ex) when (ex is Wasmtime.WasmtimeException or IOException or InvalidDataException or UnauthorizedAccessException)
        {
            return Messages.Compiled(id, null, ex.Message);
        }
    }

    private InvocationResult Run(WasmSandbox sandbox, ulong id, ExecuteMessage message)
    {
        try
        {
            return sandbox.Execute(id, message, Send);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return InvocationResult.Failed(InvocationOutcome.Trap, $"worker fault: {ex.GetType().Name}: {ex.Message}");
        }
    }

    private void Send(byte[] frame)
    {
        lock (_writeLock)
        {
            _pipe!.Write(frame);
            _pipe.Flush();
        }
    }
}
