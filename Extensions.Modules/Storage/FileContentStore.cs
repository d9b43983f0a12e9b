using Microsoft.Extensions.Options;

namespace Extensions.Modules.Storage;

/// <summary>Blobs under <c>{data}/cas/sha256/ab/cdef…</c>, written to a temp file and renamed into place.</summary>
internal sealed class FileContentStore(IOptions<StorageOptions> options) : IContentStore
{
    private readonly string _root = Path.Combine(options.Value.FullDataDirectory, "cas", "sha256");

    public async Task<string> PutAsync(ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        var hash = ContentHash.Of(content.Span);
        var path = PathOf(hash);
        if (File.Exists(path))
        {
            return hash;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = Path.Combine(_root, $".tmp-{Guid.NewGuid():N}");
        try
        {
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.WriteThrough))
            {
                await file.WriteAsync(content, cancellationToken);
            }

            // Never overwrite: a worker may have the existing file mapped.
            File.Move(temp, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another writer stored the same content first.
        }
        finally
        {
            File.Delete(temp);
        }

        return hash;
    }

    public async Task<byte[]?> ReadAsync(string contentHash, CancellationToken cancellationToken = default)
    {
        var path = PathOf(contentHash);
        if (!File.Exists(path))
        {
            return null;
        }

        var bytes = await File.ReadAllBytesAsync(path, cancellationToken);
        var actual = ContentHash.Of(bytes);
        return actual == contentHash ? bytes : throw new ContentIntegrityException(contentHash, actual);
    }

    public string PathOf(string contentHash)
    {
        var hex = ContentHash.Hex(contentHash);
        return Path.Combine(_root, hex[..2], hex[2..]);
    }

    public bool Exists(string contentHash) => File.Exists(PathOf(contentHash));
}
