namespace Extensions.Modules.Storage;

/// <summary>
/// Immutable blobs addressed by <c>sha256:&lt;hex&gt;</c>. Writes are atomic; reads verify the hash, so a blob
/// altered on disk is never returned.
/// </summary>
public interface IContentStore
{
    /// <summary>Stores the bytes (idempotent) and returns their content hash.</summary>
    Task<string> PutAsync(ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default);

    /// <summary>Reads and verifies a blob. Throws <see cref="ContentIntegrityException"/> when the bytes no longer match.</summary>
    /// <returns><c>null</c> when the blob does not exist.</returns>
    Task<byte[]?> ReadAsync(string contentHash, CancellationToken cancellationToken = default);

    /// <summary>The file path of a blob, for readers that verify on their own (workers load modules by path).</summary>
    string PathOf(string contentHash);

    bool Exists(string contentHash);
}

/// <summary>A stored blob's bytes no longer match its hash.</summary>
public sealed class ContentIntegrityException(string contentHash, string actualHash)
    : Exception($"content {contentHash} failed verification: the stored bytes hash to {actualHash}")
{
    public string ContentHash { get; } = contentHash;
}
