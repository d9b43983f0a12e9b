using System.Security.Cryptography;

namespace Extensions.Modules.Assets;

/// <summary>
/// The host's files for extension UIs, embedded at build time and served under every installed bundle at reserved paths:
/// the iframe SDK (<c>sdk/iframe/index.js</c>) and the UI kit (<c>sdk/ui-kit</c>). A bundle needs no copy of them, and a
/// page links them relatively, on its own origin, within <c>default-src 'self'</c>.
/// </summary>
internal sealed class SdkFiles
{
    public const string Prefix = "_sdk/";

    private readonly Dictionary<string, UiFile> _files = new(StringComparer.Ordinal)
    {
        [Prefix + "iframe.js"] = Load("iframe-sdk.js", ".js"),
        [Prefix + "ui-kit.css"] = Load("ui-kit.css", ".css"),
        [Prefix + "ui-kit.js"] = Load("ui-kit.js", ".js"),
    };

    /// <summary>The host file at a bundle path, or null when the path is not one of them.</summary>
    public UiFile? Find(string path) => _files.GetValueOrDefault(path);

    private static UiFile Load(string name, string extension)
    {
        using var stream = typeof(SdkFiles).Assembly.GetManifestResourceStream($"Extensions.Modules.Assets.{name}")
            ?? throw new InvalidOperationException($"{name} is not embedded in this build");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        var bytes = buffer.ToArray();
        return new UiFile(bytes, $"\"sha256-{Convert.ToHexStringLower(SHA256.HashData(bytes))}\"", ContentTypes.For(extension));
    }
}
