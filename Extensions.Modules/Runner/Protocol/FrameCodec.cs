using System.Buffers.Binary;

namespace Extensions.Modules.Runner.Protocol;

/// <summary>Reads and writes frames on a stream. A frame over the size limit or with an unknown kind is a protocol error.</summary>
internal static class FrameCodec
{
    public const int HeaderSize = 4 + 1 + 8;

    public static byte[] Encode(FrameKind kind, ulong invocationId, ReadOnlySpan<byte> payload)
    {
        var buffer = new byte[HeaderSize + payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(buffer, (uint)(1 + 8 + payload.Length));
        buffer[4] = (byte)kind;
        BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(5), invocationId);
        payload.CopyTo(buffer.AsSpan(HeaderSize));
        return buffer;
    }

    /// <summary>Reads one frame; <c>null</c> at a clean end of stream. For the handshake, which needs a timeout.</summary>
    public static async ValueTask<Frame?> ReadAsync(Stream stream, int maxFrameBytes, CancellationToken cancellationToken)
    {
        var header = new byte[HeaderSize];
        if (!await ReadExactlyOrEndAsync(stream, header, cancellationToken))
        {
            return null;
        }

        var (length, kind, id) = ParseHeader(header, maxFrameBytes);
        var payload = new byte[length];
        return await ReadExactlyOrEndAsync(stream, payload, cancellationToken)
            ? new Frame(kind, id, payload)
            : throw new ProtocolException("stream ended inside a frame");
    }

    /// <summary>Reads one frame, blocking; <c>null</c> at a clean end of stream. For dedicated reader threads.</summary>
    public static Frame? Read(Stream stream, int maxFrameBytes)
    {
        Span<byte> header = stackalloc byte[HeaderSize];
        if (!ReadExactlyOrEnd(stream, header))
        {
            return null;
        }

        var (length, kind, id) = ParseHeader(header, maxFrameBytes);
        var payload = new byte[length];
        return ReadExactlyOrEnd(stream, payload)
            ? new Frame(kind, id, payload)
            : throw new ProtocolException("stream ended inside a frame");
    }

    /// <summary>Checks a header; returns the payload length, kind and invocation id. Anything out of bounds is a protocol error.</summary>
    public static (int PayloadLength, FrameKind Kind, ulong InvocationId) ParseHeader(ReadOnlySpan<byte> header, int maxFrameBytes)
    {
        var length = BinaryPrimitives.ReadUInt32LittleEndian(header);
        if (length < 9 || length - 9 > (uint)maxFrameBytes)
        {
            throw new ProtocolException($"frame length {length} is outside 9..{maxFrameBytes + 9}");
        }

        var kind = (FrameKind)header[4];
        if (!Enum.IsDefined(kind))
        {
            throw new ProtocolException($"unknown frame kind {header[4]}");
        }

        return ((int)(length - 9), kind, BinaryPrimitives.ReadUInt64LittleEndian(header[5..]));
    }

    private static bool ReadExactlyOrEnd(Stream stream, Span<byte> buffer)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = stream.Read(buffer[read..]);
            if (n == 0)
            {
                return read == 0 && buffer.Length > 0 ? false : throw new ProtocolException("stream ended inside a frame");
            }

            read += n;
        }

        return true;
    }

    private static async ValueTask<bool> ReadExactlyOrEndAsync(Stream stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer[read..], cancellationToken);
            if (n == 0)
            {
                return read == 0 && buffer.Length > 0 ? false : throw new ProtocolException("stream ended inside a frame");
            }

            read += n;
        }

        return true;
    }
}

internal sealed class ProtocolException(string message) : Exception(message);
