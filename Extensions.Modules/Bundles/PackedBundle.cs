using System.IO.Compression;

namespace Extensions.Modules.Bundles;

/// <summary>The canonical tar of a packed directory; the hash covers <see cref="Tar"/>, not its gzip form.</summary>
public sealed record PackedBundle(byte[] Tar, string ContentHash, ExtensionManifest Manifest)
{
    /// <summary>
    /// Gzip with a fixed header (mtime 0, OS "unknown") so the file is stable across machines too;
    /// the deflate bytes may still vary with the zlib build, which is why the hash ignores them.
    /// </summary>
    public byte[] ToGzip()
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.SmallestSize, leaveOpen: true))
            gzip.Write(Tar);
        var bytes = output.ToArray();
        bytes.AsSpan(4, 4).Clear();
        bytes[9] = 0xff;
        return bytes;
    }
}
