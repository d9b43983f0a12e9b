using Extensions.Modules.Bundles;
using Extensions.Modules.Storage;
using Microsoft.Extensions.Options;

namespace Extensions.Modules.Registry.Publishing;

/// <summary>The operator's trust bundle, re-read whenever the file changes (edited by the <c>trust</c> verb or by hand).</summary>
/// <remarks>
/// <see cref="Current"/> looks at the file on every read (publishing, installing). The request path reads
/// <see cref="Latest"/> instead, which looks only when a file watcher saw the file change, or a second after it last
/// looked (a watcher can miss events, e.g. on network file systems): a revoked key stops serving at once, or within a
/// second, without a stat per request.
/// </remarks>
internal sealed class TrustStore : IDisposable
{
    private static readonly TimeSpan RecheckAfter = TimeSpan.FromSeconds(1);
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly FileSystemWatcher? _watcher;
    private (DateTime Stamp, long Length, TrustBundle Bundle)? _current;
    private long _generation;
    private long _checkedAt = long.MinValue;
    private int _changed = 1;

    public TrustStore(IOptions<RegistryOptions> options, IOptions<StorageOptions> storage, TimeProvider time)
    {
        _time = time;
        Path = string.IsNullOrEmpty(options.Value.TrustBundlePath)
            ? System.IO.Path.Combine(storage.Value.FullDataDirectory, "trust.json")
            : System.IO.Path.GetFullPath(options.Value.TrustBundlePath);
        var directory = System.IO.Path.GetDirectoryName(Path)!;
        if (Directory.Exists(directory))
        {
            _watcher = new FileSystemWatcher(directory, System.IO.Path.GetFileName(Path))
            {
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
            };
            _watcher.Changed += (_, _) => Volatile.Write(ref _changed, 1);
            _watcher.Created += (_, _) => Volatile.Write(ref _changed, 1);
            _watcher.Deleted += (_, _) => Volatile.Write(ref _changed, 1);
            _watcher.Renamed += (_, _) => Volatile.Write(ref _changed, 1);
            _watcher.Error += (_, _) => Volatile.Write(ref _changed, 1);
            _watcher.EnableRaisingEvents = true;
        }
    }

    /// <summary>Changes whenever the trust bundle is (re-)read, so caches of verified installs know to verify again.</summary>
    public long Generation
    {
        get
        {
            lock (_lock)
            {
                return _generation;
            }
        }
    }

    public string Path { get; }

    /// <summary>The bundle as the file holds it now.</summary>
    public TrustBundle Current
    {
        get
        {
            Volatile.Write(ref _changed, 0);
            Interlocked.Exchange(ref _checkedAt, _time.GetTimestamp());
            var info = new FileInfo(Path);
            var stamp = info.Exists ? info.LastWriteTimeUtc : DateTime.MinValue;
            var length = info.Exists ? info.Length : -1;
            lock (_lock)
            {
                if (_current is not { } c || c.Stamp != stamp || c.Length != length)
                {
                    _current = (stamp, length, TrustBundle.Load(Path));
                    _generation++;
                }

                return _current.Value.Bundle;
            }
        }
    }

    /// <summary>The bundle, looking at the file only if it was seen to change or a second has passed (see remarks).</summary>
    public TrustBundle Latest
    {
        get
        {
            if (Volatile.Read(ref _changed) == 0 && _time.GetElapsedTime(Interlocked.Read(ref _checkedAt)) < RecheckAfter)
            {
                lock (_lock)
                {
                    if (_current is { } c)
                    {
                        return c.Bundle;
                    }
                }
            }

            return Current;
        }
    }

    public void Save(TrustBundle bundle)
    {
        lock (_lock)
        {
            bundle.Save(Path);
            _current = null;
        }
    }

    public void Dispose() => _watcher?.Dispose();
}
