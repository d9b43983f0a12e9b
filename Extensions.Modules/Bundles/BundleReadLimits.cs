namespace Extensions.Modules.Bundles;

/// <summary>Caps applied while reading an untrusted bundle, before anything is allocated for it.</summary>
public sealed record BundleReadLimits
{
    public static BundleReadLimits Default { get; } = new();

    /// <summary>Uncompressed tar size; decompression stops as soon as it is exceeded (gzip bombs).</summary>
    public long MaxTotalBytes { get; init; } = 64 * 1024 * 1024;
    public int MaxEntries { get; init; } = 10_000;
    public long MaxFileBytes { get; init; } = 32 * 1024 * 1024;
}
