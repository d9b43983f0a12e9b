using System.Net.Sockets;
using Extensions.Modules.Runner.Contracts;
using Extensions.Modules.Runner.Protocol;

namespace Extensions.Modules.Runner.Worker;

/// <summary>
/// One serving thread's own connection to the host for capability calls. The thread that sends a call reads the reply
/// itself, blocked in the kernel on this line: a call wakes the host's reader of the line and then this thread, and
/// nothing else. (On the shared connection a reply first woke the worker's reader, which then woke the guest's thread.)
/// </summary>
internal sealed class CallLine : IDisposable
{
    private readonly Socket _socket;
    private readonly int _maxFrameBytes;
    private byte[] _buffer = new byte[4096];
    private int _start;
    private int _end;
    private int _timeoutMs = -1;

    private CallLine(Socket socket, int maxFrameBytes)
    {
        _socket = socket;
        _maxFrameBytes = maxFrameBytes;
    }

    /// <summary>Connects a line and introduces it with the worker's secret; blocking calls only, as on the main connection.</summary>
    public static CallLine Connect(string socketPath, ReadOnlySpan<byte> secret, int index, int maxFrameBytes)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(socketPath));
            var line = new CallLine(socket, maxFrameBytes);
            line.Write(Messages.CallLine(secret, index));
            return line;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Sends a call and waits for its reply, or <see cref="AbiCodes.Timeout"/> when none comes within
    /// <paramref name="timeout"/> (the host answers by the invocation's deadline; this is the worker's own bound).
    /// </summary>
    /// <exception cref="IOException">The host closed the line.</exception>
    /// <exception cref="ProtocolException">The host sent something other than a reply.</exception>
    public HostCallReply Call(ulong invocationId, byte[] frame, TimeSpan timeout)
    {
        var until = Environment.TickCount64 + (long)Math.Ceiling(timeout.TotalMilliseconds);
        Write(frame);
        while (true)
        {
            var left = until - Environment.TickCount64;
            if (left <= 0 || Read((int)Math.Min(left, int.MaxValue)) is not { } reply)
            {
                return HostCallReply.Error(AbiCodes.Timeout);
            }

            if (reply.Kind != FrameKind.HostReply)
            {
                throw new ProtocolException($"unexpected frame {reply.Kind} on a call line");
            }

            // Anything else is the late reply to a call that timed out in an earlier invocation on this thread.
            if (reply.InvocationId == invocationId)
            {
                return Messages.ReadReply(reply.Payload.Span);
            }
        }
    }

    public void Dispose() => _socket.Dispose();

    private void Write(ReadOnlySpan<byte> frame)
    {
        while (!frame.IsEmpty)
        {
            frame = frame[_socket.Send(frame)..];
        }
    }

    /// <summary>The next frame, or <c>null</c> when <paramref name="timeoutMs"/> passes first. Bytes of a frame that has
    /// not fully arrived stay in the buffer, so a timeout never loses the framing.</summary>
    private Frame? Read(int timeoutMs)
    {
        while (true)
        {
            var buffered = _end - _start;
            var needed = FrameCodec.HeaderSize;
            if (buffered >= FrameCodec.HeaderSize)
            {
                var (length, kind, id) = FrameCodec.ParseHeader(_buffer.AsSpan(_start, FrameCodec.HeaderSize), _maxFrameBytes);
                needed = FrameCodec.HeaderSize + length;
                if (buffered >= needed)
                {
                    var payload = _buffer.AsSpan(_start + FrameCodec.HeaderSize, length).ToArray();
                    _start += needed;
                    if (_start == _end)
                    {
                        _start = _end = 0;
                        // A large reply (a fetched body) does not keep its buffer for the rest of the worker's life.
                        if (_buffer.Length > 64 * 1024)
                        {
                            _buffer = new byte[4096];
                        }
                    }

                    return new Frame(kind, id, payload);
                }
            }

            if (_buffer.Length - _start < needed)
            {
                var larger = needed > _buffer.Length ? new byte[Math.Max(needed, _buffer.Length * 2)] : _buffer;
                _buffer.AsSpan(_start, buffered).CopyTo(larger);
                _buffer = larger;
                _start = 0;
                _end = buffered;
            }

            if (timeoutMs != _timeoutMs)
            {
                _socket.ReceiveTimeout = timeoutMs;
                _timeoutMs = timeoutMs;
            }

            int received;
            try
            {
                received = _socket.Receive(_buffer.AsSpan(_end));
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
            {
                return null;
            }

            if (received == 0)
            {
                throw new IOException("the host closed the call line");
            }

            _end += received;
        }
    }
}
