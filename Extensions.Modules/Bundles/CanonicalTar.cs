using System.Formats.Tar;

namespace Extensions.Modules.Bundles;

/// <summary>
/// Writes the one byte-exact tar form of a file set. Ustar, not PAX: .NET names PAX extended headers
/// after the process id, which would make the bytes differ between runs.
/// </summary>
internal static class CanonicalTar
{
    private const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    public static byte[] Write(IReadOnlyDictionary<string, byte[]> files)
    {
        using var output = new MemoryStream();
        using (var writer = new TarWriter(output, TarEntryFormat.Ustar, leaveOpen: true))
        {
            foreach (var (path, content) in files.OrderBy(f => f.Key, StringComparer.Ordinal))
            {
                using var data = new MemoryStream(content, writable: false);
                var entry = new UstarTarEntry(TarEntryType.RegularFile, path)
                {
                    Mode = FileMode,
                    Uid = 0,
                    Gid = 0,
                    UserName = "",
                    GroupName = "",
                    ModificationTime = DateTimeOffset.UnixEpoch,
                    DataStream = data,
                };
                try
                {
                    writer.WriteEntry(entry);
                }
                catch (ArgumentException ex)
                {
                    throw new BundleException($"cannot store {BundlePath.Quote(path)} in a bundle: {ex.Message}", ex);
                }
            }
        }
        return output.ToArray();
    }
}
