using System.Security.Cryptography;

namespace Extensions.Modules.Assets;

/// <summary>The iframe SDK (<c>sdk/iframe/index.js</c>, embedded at build time) as a servable file.</summary>
internal sealed class IframeSdk
{
    public IframeSdk()
    {
        using var stream = typeof(IframeSdk).Assembly.GetManifestResourceStream("Extensions.Modules.Assets.iframe-sdk.js")
            ?? throw new InvalidOperationException("the iframe SDK is not embedded in this build");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        var bytes = buffer.ToArray();
        File = new UiFile(bytes, $"\"sha256-{Convert.ToHexStringLower(SHA256.HashData(bytes))}\"", ContentTypes.For(".js"));
    }

    public UiFile File { get; }
}
