using System.Formats.Tar;
using System.Text;

namespace Extensions.Tests.Bundles;

/// <summary>Builds arbitrary (including hostile) tar archives for reader tests.</summary>
internal sealed class TarBuilder
{
    private readonly List<TarEntry> _entries = [];

    public TarBuilder File(string name, byte[] content, TarEntryFormat format = TarEntryFormat.Ustar)
    {
        TarEntry entry = format == TarEntryFormat.Pax
            ? new PaxTarEntry(TarEntryType.RegularFile, name)
            : new UstarTarEntry(TarEntryType.RegularFile, name);
        entry.DataStream = new MemoryStream(content);
        _entries.Add(entry);
        return this;
    }

    public TarBuilder Entry(TarEntry entry)
    {
        _entries.Add(entry);
        return this;
    }

    /// <summary>A manifest and module that pass validation, so a refusal must come from the entry under test.</summary>
    public TarBuilder ValidExtension() =>
        File("manifest.json", TestManifests.Bytes(MinimalManifest())).File("build/hello.wasm", TestExtension.Wasm);

    /// <summary>Rewrites the size field of the tar entry named <paramref name="entry"/> (and the header checksum) to claim <paramref name="size"/> bytes.</summary>
    public static byte[] DeclareSize(byte[] tar, string entry, long size)
    {
        var header = 0;
        while (Encoding.ASCII.GetString(tar, header, 100).TrimEnd('\0') != entry)
        {
            var length = Convert.ToInt64(Encoding.ASCII.GetString(tar, header + 124, 11), 8);
            header += 512 + (int)((length + 511) / 512 * 512);
        }

        Encoding.ASCII.GetBytes(Convert.ToString(size, 8).PadLeft(11, '0') + "\0").CopyTo(tar, header + 124);
        Encoding.ASCII.GetBytes("        ").CopyTo(tar, header + 148);
        var sum = tar.AsSpan(header, 512).ToArray().Sum(b => (int)b);
        Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ").CopyTo(tar, header + 148);
        return tar;
    }

    public byte[] Build()
    {
        using var output = new MemoryStream();
        using (var writer = new TarWriter(output, leaveOpen: true))
            foreach (var entry in _entries) writer.WriteEntry(entry);
        return output.ToArray();
    }

    private static System.Text.Json.Nodes.JsonObject MinimalManifest()
    {
        var manifest = TestManifests.Valid();
        manifest.Remove("ui");
        return manifest;
    }
}
