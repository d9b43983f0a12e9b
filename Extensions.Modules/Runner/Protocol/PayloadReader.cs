using System.Buffers.Binary;
using System.Text;

namespace Extensions.Modules.Runner.Protocol;

/// <summary>Reads what <see cref="PayloadWriter"/> wrote; any out-of-range length is a protocol error.</summary>
internal ref struct PayloadReader(ReadOnlySpan<byte> payload)
{
    private ReadOnlySpan<byte> _rest = payload;

    public byte U8()
    {
        var value = Take(1)[0];
        return value;
    }

    public int I32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    public long I64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    public ReadOnlySpan<byte> BytesSpan()
    {
        var length = I32();
        return length < 0 ? throw new ProtocolException("negative length") : Take(length);
    }

    public byte[] Bytes() => BytesSpan().ToArray();

    public string String() => Encoding.UTF8.GetString(BytesSpan());

    public List<KeyValuePair<string, string>> Pairs()
    {
        var count = I32();
        if (count < 0 || count > _rest.Length / 8)
        {
            throw new ProtocolException($"pair count {count} is out of range");
        }

        var pairs = new List<KeyValuePair<string, string>>(count);
        for (var i = 0; i < count; i++)
        {
            pairs.Add(new(String(), String()));
        }

        return pairs;
    }

    public readonly bool AtEnd => _rest.IsEmpty;

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > _rest.Length)
        {
            throw new ProtocolException("payload is shorter than its fields");
        }

        var taken = _rest[..count];
        _rest = _rest[count..];
        return taken;
    }
}
