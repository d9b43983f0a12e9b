using Extensions.Modules.Storage;
using System.Formats.Tar;
using System.IO.Compression;

namespace Extensions.Modules.Bundles;

/// <summary>Reads an untrusted bundle file (gzip or raw tar) into memory, refusing anything a canonical bundle can't contain.</summary>
public static class BundleReader
{
    public static Bundle Read(ReadOnlySpan<byte> fileBytes, BundleReadLimits? limits = null)
    {
        limits ??= BundleReadLimits.Default;
        var tar = fileBytes.StartsWith((ReadOnlySpan<byte>)[0x1f, 0x8b]) ? Gunzip(fileBytes, limits) : fileBytes.ToArray();
        if (tar.Length > limits.MaxTotalBytes) throw new BundleException($"bundle is larger than the {limits.MaxTotalBytes} byte limit");

        var files = ReadEntries(tar, limits);
        if (!files.TryGetValue(BundlePacker.ManifestFile, out var manifestBytes))
            throw new BundleException($"bundle has no {BundlePacker.ManifestFile}");
        var result = ManifestReader.Parse(manifestBytes);
        if (!result.IsValid)
            throw new BundleException($"{BundlePacker.ManifestFile} in the bundle is invalid:{Environment.NewLine}{string.Join(Environment.NewLine, result.Errors)}");
        var manifest = result.Manifest!;
        if (!files.TryGetValue(manifest.Main, out var main)) throw new BundleException($"main module '{manifest.Main}' is not in the bundle");
        if (!WasmBinary.IsCoreModule(main)) throw new BundleException($"main module '{manifest.Main}' is not a WebAssembly core module");
        if (manifest.UiEntry is { } entry && !files.ContainsKey(entry)) throw new BundleException($"ui.iframe.entry '{entry}' is not in the bundle");

        return new Bundle(ContentHash.Of(tar), manifest, manifestBytes, files, tar);
    }

    private static byte[] Gunzip(ReadOnlySpan<byte> gz, BundleReadLimits limits)
    {
        using var input = new MemoryStream(gz.ToArray(), writable: false);
        using var gzip = new GZipStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        var buffer = new byte[81920];
        try
        {
            int read;
            while ((read = gzip.Read(buffer)) > 0)
            {
                if (output.Length + read > limits.MaxTotalBytes)
                    throw new BundleException($"bundle expands beyond the {limits.MaxTotalBytes} byte limit; refusing to decompress further");
                output.Write(buffer, 0, read);
            }
        }
        catch (InvalidDataException ex)
        {
            throw new BundleException($"bundle is not valid gzip: {ex.Message}", ex);
        }
        return output.ToArray();
    }

    private static Dictionary<string, byte[]> ReadEntries(byte[] tar, BundleReadLimits limits)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        using var reader = new TarReader(new MemoryStream(tar, writable: false));
        try
        {
            while (reader.GetNextEntry() is { } entry)
            {
                var name = BundlePath.Quote(entry.Name);
                if (files.Count >= limits.MaxEntries) throw new BundleException($"bundle has more than {limits.MaxEntries} entries");
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
                    throw new BundleException($"bundle entry {name} is a {Describe(entry.EntryType)}; only regular files are allowed");
                if (BundlePath.Problem(entry.Name) is { } problem) throw new BundleException($"bundle entry {name} {problem}");
                if (files.ContainsKey(entry.Name)) throw new BundleException($"bundle entry {name} appears more than once");
                if (entry.Length > limits.MaxFileBytes)
                    throw new BundleException($"bundle entry {name} is {entry.Length} bytes, over the {limits.MaxFileBytes} byte limit");

                var content = new byte[entry.Length];
                entry.DataStream?.ReadExactly(content);
                files.Add(entry.Name, content);
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or EndOfStreamException or OverflowException)
        {
            throw new BundleException($"bundle is not a valid tar archive: {ex.Message}", ex);
        }
        catch (ArgumentOutOfRangeException ex)
        {
            // TarReader seeks past an entry's data while reading its header; a size of 2 GB or more overflows that seek.
            throw new BundleException($"bundle is not a valid tar archive: an entry declares more data than the archive holds (over {limits.MaxFileBytes} bytes)", ex);
        }
        return files;
    }

    private static string Describe(TarEntryType type) => type switch
    {
        TarEntryType.SymbolicLink => "symbolic link",
        TarEntryType.HardLink => "hard link",
        TarEntryType.Directory => "directory",
        TarEntryType.CharacterDevice or TarEntryType.BlockDevice => "device",
        TarEntryType.Fifo => "FIFO",
        _ => $"'{type}' entry",
    };
}
