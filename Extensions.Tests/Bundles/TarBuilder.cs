using System.Formats.Tar;

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
