using System.Collections.Concurrent;
using System.Security.Cryptography;
using Extensions.Modules.Bundles;
using Extensions.Modules.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Extensions.Modules.Assets;

/// <summary>One UI file, ready to send: bytes, strong ETag (SHA-256 of the bytes) and exact content type.</summary>
internal sealed record UiFile(byte[] Content, string ETag, string ContentType);

/// <summary>
/// The UI files of installed bundles, indexed once per content hash. A bundle is read whole from the CAS (which verifies its hash,
/// so every file is covered by the signed content hash), its UI files are kept with their ETags, and the least recently used bundles
/// are dropped past <see cref="AssetsOptions.CacheMb"/>. Concurrent first requests for one bundle share one read.
/// </summary>
internal sealed partial class UiBundleCache(IContentStore cas, IOptions<AssetsOptions> options, TimeProvider time, ILogger<UiBundleCache> logger)
{
    private readonly ConcurrentDictionary<string, Lazy<Task<Entry>>> _entries = new(StringComparer.Ordinal);
    private readonly Lock _evictLock = new();

    /// <summary>The bundle's UI files by bundle path; throws <see cref="BundleUnavailableException"/> when the bundle can't be read.</summary>
    public async Task<IReadOnlyDictionary<string, UiFile>> GetAsync(string contentHash)
    {
        var lazy = _entries.GetOrAdd(contentHash, hash => new Lazy<Task<Entry>>(() => LoadAsync(hash)));
        Entry entry;
        try
        {
            entry = await lazy.Value;
        }
        catch
        {
            _entries.TryRemove(new KeyValuePair<string, Lazy<Task<Entry>>>(contentHash, lazy));
            throw;
        }

        entry.LastUse = time.GetTimestamp();
        return entry.Files;
    }

    private async Task<Entry> LoadAsync(string contentHash)
    {
        await Task.Yield();
        Bundle bundle;
        try
        {
            var tar = await cas.ReadAsync(contentHash) ?? throw new BundleUnavailableException($"bundle {contentHash} is missing from the content store");
            bundle = BundleReader.Read(tar);
        }
        catch (Exception ex) when (ex is ContentIntegrityException or BundleException or IOException)
        {
            Log.LoadFailed(logger, contentHash, ex.Message);
            throw new BundleUnavailableException(ex.Message);
        }

        var files = bundle.UiFiles().ToDictionary(
            f => f.Key,
            f => new UiFile(f.Value, $"\"sha256-{Convert.ToHexStringLower(SHA256.HashData(f.Value))}\"", ContentTypes.For(f.Key)),
            StringComparer.Ordinal);
        var entry = new Entry(files, files.Values.Sum(f => (long)f.Content.Length)) { LastUse = time.GetTimestamp() };
        Log.Indexed(logger, contentHash, files.Count, entry.Bytes);
        Evict(contentHash, entry.Bytes);
        return entry;
    }

    /// <summary>Drops least recently used bundles (never the one just loaded) until the new one fits.</summary>
    private void Evict(string loading, long incoming)
    {
        var budget = options.Value.CacheMb * 1024L * 1024L;
        lock (_evictLock)
        {
            var loaded = _entries
                .Where(e => e.Key != loading && e.Value.IsValueCreated && e.Value.Value.IsCompletedSuccessfully)
                .Select(e => (e.Key, Lazy: e.Value, e.Value.Value.Result))
                .OrderBy(e => e.Result.LastUse)
                .ToList();
            var total = loaded.Sum(e => e.Result.Bytes) + incoming;
            foreach (var (hash, lazy, entry) in loaded)
            {
                if (total <= budget) break;
                if (_entries.TryRemove(new KeyValuePair<string, Lazy<Task<Entry>>>(hash, lazy))) total -= entry.Bytes;
            }
        }
    }

    /// <summary>Bundles currently indexed; for tests and stats.</summary>
    public int Count => _entries.Count;

    private sealed class Entry(IReadOnlyDictionary<string, UiFile> files, long bytes)
    {
        public IReadOnlyDictionary<string, UiFile> Files { get; } = files;
        public long Bytes { get; } = bytes;
        public long LastUse { get; set; }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3000, Level = LogLevel.Debug, Message = "Indexed the UI of bundle {ContentHash}: {Files} files, {Bytes} bytes")]
        public static partial void Indexed(ILogger logger, string contentHash, int files, long bytes);

        [LoggerMessage(EventId = 3001, Level = LogLevel.Error, Message = "UI of bundle {ContentHash} cannot be served: {Problem}")]
        public static partial void LoadFailed(ILogger logger, string contentHash, string problem);
    }
}

/// <summary>An installed bundle could not be read from the CAS (missing, altered on disk, or unreadable).</summary>
internal sealed class BundleUnavailableException(string message) : Exception(message);
