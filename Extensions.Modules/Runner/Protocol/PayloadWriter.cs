using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Extensions.Modules.Runner.Protocol;

/// <summary>Little-endian, length-prefixed fields. Bodies travel as raw bytes, never base64.</summary>
internal sealed class PayloadWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new(256);

    public PayloadWriter U8(byte value)
    {
        _buffer.GetSpan(1)[0] = value;
        _buffer.Advance(1);
        return this;
    }

    public PayloadWriter I32(int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(_buffer.GetSpan(4), value);
        _buffer.Advance(4);
        return this;
    }

    public PayloadWriter I64(long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(_buffer.GetSpan(8), value);
        _buffer.Advance(8);
        return this;
    }

    public PayloadWriter Bytes(ReadOnlySpan<byte> value)
    {
        I32(value.Length);
        _buffer.Write(value);
        return this;
    }

    public PayloadWriter String(string value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        I32(length);
        Encoding.UTF8.GetBytes(value, _buffer.GetSpan(length));
        _buffer.Advance(length);
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

    public ReadOnlySpan<byte> WrittenSpan => _buffer.WrittenSpan;

    public byte[] ToFrame(FrameKind kind, ulong invocationId) => FrameCodec.Encode(kind, invocationId, _buffer.WrittenSpan);
}
