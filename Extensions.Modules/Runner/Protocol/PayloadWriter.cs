using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Extensions.Modules.Runner.Protocol;

/// <summary>Little-endian, length-prefixed fields. Bodies travel as raw bytes, never base64.</summary>
/// <remarks>
/// Fields are written into a buffer rented from the shared pool (grown by renting a larger one), and
/// <see cref="ToFrame"/> copies them once into the frame and gives the buffer back: building an Execute frame in a
/// growing array used to throw away three arrays per request.
/// </remarks>
internal sealed class PayloadWriter
{
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(4096);
    private int _length;

    public PayloadWriter U8(byte value)
    {
        Span(1)[0] = value;
        _length += 1;
        return this;
    }

    public PayloadWriter I32(int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(Span(4), value);
        _length += 4;
        return this;
    }

    public PayloadWriter I64(long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(Span(8), value);
        _length += 8;
        return this;
    }

    public PayloadWriter Bytes(ReadOnlySpan<byte> value)
    {
        I32(value.Length);
        value.CopyTo(Span(value.Length));
        _length += value.Length;
        return this;
    }

    public PayloadWriter String(string value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        I32(length);
        Encoding.UTF8.GetBytes(value, Span(length));
        _length += length;
        return this;
    }

    public PayloadWriter Pairs(IReadOnlyCollection<KeyValuePair<string, string>> pairs)
    {
        I32(pairs.Count);
        foreach (var (key, value) in pairs)
        {
            String(key).String(value);
        }

        return this;
    }

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    /// <summary>The frame; the writer is done with after this.</summary>
    public byte[] ToFrame(FrameKind kind, ulong invocationId)
    {
        var frame = FrameCodec.Encode(kind, invocationId, WrittenSpan);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
        return frame;
    }

    /// <summary>Room for <paramref name="size"/> more bytes at the end.</summary>
    private Span<byte> Span(int size)
    {
        if (_buffer.Length - _length < size)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + size));
            _buffer.AsSpan(0, _length).CopyTo(larger);
            if (_buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
            }

            _buffer = larger;
        }

        return _buffer.AsSpan(_length, size);
    }
}
