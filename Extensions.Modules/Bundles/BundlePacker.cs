using Extensions.Modules.Storage;
namespace Extensions.Modules.Bundles;

/// <summary>Packs an extension directory into its canonical bundle: manifest.json, main, ui/** and asset globs.</summary>
public static class BundlePacker
{
    public const string ManifestFile = "manifest.json";
    private const string UiFolder = "ui";

    public static PackedBundle Pack(string directory) => Pack(directory, null);

    /// <summary>Packs with the manifest's bytes passed through <paramref name="editManifest"/> first (<c>dev</c> gives each
    /// rebuild its own version this way, without touching the author's file); the result is validated like any manifest.</summary>
    public static PackedBundle Pack(string directory, Func<byte[], byte[]>? editManifest)
    {
        var root = new DirectoryInfo(directory);
        if (!root.Exists) throw new BundleException($"extension directory '{directory}' does not exist");

        var manifestPath = Path.Combine(root.FullName, ManifestFile);
        if (!File.Exists(manifestPath)) throw new BundleException($"no {ManifestFile} in '{root.FullName}'");
        var manifestBytes = File.ReadAllBytes(manifestPath);
        if (editManifest is not null) manifestBytes = editManifest(manifestBytes);
        var result = ManifestReader.Parse(manifestBytes);
        if (!result.IsValid)
            throw new BundleException($"{ManifestFile} is invalid:{Environment.NewLine}{string.Join(Environment.NewLine, result.Errors)}");
        var manifest = result.Manifest!;

        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal) { [ManifestFile] = manifestBytes };
        var mainPath = Path.Combine(root.FullName, manifest.Main);
        if (!File.Exists(mainPath)) throw new BundleException($"main module '{manifest.Main}' not found in '{root.FullName}'");
        var limits = BundleReadLimits.Default;
        foreach (var path in Select(root, manifest))
        {
            // Checked before reading so a stray multi-gigabyte file fails fast instead of exhausting memory.
            var file = new FileInfo(Path.Combine(root.FullName, path));
            if (file.Length > limits.MaxFileBytes)
                throw new BundleException($"'{path}' is {file.Length} bytes; readers accept files up to {limits.MaxFileBytes} bytes");
            files[path] = File.ReadAllBytes(file.FullName);
        }

        if (!WasmBinary.IsCoreModule(files[manifest.Main]))
            throw new BundleException($"main module '{manifest.Main}' is not a WebAssembly core module (expected the \\0asm header, version 1)");
        if (manifest.UiEntry is { } entry && !files.ContainsKey(entry))
            throw new BundleException($"ui.iframe.entry '{entry}' is not among the packed files (ui/** and assets)");

        if (files.Count > limits.MaxEntries) throw new BundleException($"bundle would hold {files.Count} files; readers accept at most {limits.MaxEntries}");

        var tar = CanonicalTar.Write(files);
        if (tar.Length > limits.MaxTotalBytes) throw new BundleException($"bundle would be {tar.Length} bytes; readers accept at most {limits.MaxTotalBytes}");
        return new PackedBundle(tar, ContentHash.Of(tar), manifest);
    }

    /// <summary>Bundle paths of main, ui/** and asset matches; symlinks are refused rather than followed out of the tree.</summary>
    private static SortedSet<string> Select(DirectoryInfo root, ExtensionManifest manifest)
    {
        var globs = manifest.Assets.Select(AssetGlob.ToRegex).ToList();
        var selected = new SortedSet<string>(StringComparer.Ordinal) { manifest.Main };
        // Only walk the whole tree when globs need it: an author's node_modules or .git is none of our business otherwise.
        var ui = new DirectoryInfo(Path.Combine(root.FullName, UiFolder));
        if (ui.LinkTarget is not null) throw new BundleException($"'{UiFolder}' is a symbolic link; bundles hold regular files only");
        var start = globs.Count > 0 ? root : ui;
        var candidates = start.Exists ? Walk(root, start) : [];
        foreach (var (path, isLink) in candidates.Append((manifest.Main, new FileInfo(Path.Combine(root.FullName, manifest.Main)).LinkTarget is not null)))
        {
            var wanted = path == manifest.Main || path.StartsWith(UiFolder + "/", StringComparison.Ordinal) || globs.Any(g => g.IsMatch(path));
            if (!wanted || path == ManifestFile) continue;
            if (isLink) throw new BundleException($"'{path}' is a symbolic link; bundles hold regular files only");
            if (BundlePath.Problem(path) is { } problem) throw new BundleException($"cannot store {BundlePath.Quote(path)} in a bundle: it {problem}");
            selected.Add(path);
        }
        return selected;
    }

    /// <summary>Files (and links, reported but not followed) under <paramref name="dir"/>, as '/'-separated paths relative to <paramref name="root"/>.</summary>
    private static IEnumerable<(string Path, bool IsLink)> Walk(DirectoryInfo root, DirectoryInfo dir)
    {
        foreach (var item in dir.EnumerateFileSystemInfos())
        {
            var path = Path.GetRelativePath(root.FullName, item.FullName).Replace(Path.DirectorySeparatorChar, '/');
            if (item.LinkTarget is not null) yield return (path, true);
            else if (item is DirectoryInfo sub)
                foreach (var child in Walk(root, sub)) yield return child;
            else yield return (path, false);
        }
    }
}
