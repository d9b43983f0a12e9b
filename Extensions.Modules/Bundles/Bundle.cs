namespace Extensions.Modules.Bundles;

/// <summary>A bundle that passed <see cref="BundleReader"/>; its signature is checked separately against <see cref="ContentHash"/>.</summary>
public sealed class Bundle
{
    internal Bundle(string contentHash, ExtensionManifest manifest, byte[] manifestBytes, IReadOnlyDictionary<string, byte[]> files, byte[] tar)
    {
        ContentHash = contentHash;
        Manifest = manifest;
        ManifestBytes = manifestBytes;
        Files = files;
        Tar = tar;
        MainModule = files[manifest.Main];
    }

    public string ContentHash { get; }
    public ExtensionManifest Manifest { get; }
    public byte[] ManifestBytes { get; }

    /// <summary>Every file by its bundle path, including manifest.json and the main module.</summary>
    public IReadOnlyDictionary<string, byte[]> Files { get; }

    /// <summary>The uncompressed tar exactly as received, i.e. the bytes <see cref="ContentHash"/> covers.</summary>
    public byte[] Tar { get; }
    public byte[] MainModule { get; }

    /// <summary>
    /// The files a browser may fetch: everything under <c>ui/</c> and whatever the manifest's <c>assets</c> globs match,
    /// never the manifest or the main module (server code stays on the server).
    /// </summary>
    public IEnumerable<KeyValuePair<string, byte[]>> UiFiles()
    {
        var globs = Manifest.Assets.Select(AssetGlob.ToRegex).ToList();
        return Files.Where(f => f.Key != BundlePacker.ManifestFile && f.Key != Manifest.Main
            && (f.Key.StartsWith("ui/", StringComparison.Ordinal) || globs.Any(g => g.IsMatch(f.Key))));
    }
}
