using Extensions.Modules.Bundles;
using Extensions.Modules.Storage;
using Microsoft.Extensions.Options;

namespace Extensions.Modules.Registry.Publishing;

/// <summary>The operator's trust bundle, re-read whenever the file changes (edited by the <c>trust</c> verb or by hand).</summary>
internal sealed class TrustStore(IOptions<RegistryOptions> options, IOptions<StorageOptions> storage)
{
    private readonly Lock _lock = new();
    private (DateTime Stamp, long Length, TrustBundle Bundle)? _current;
    private long _generation;

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

    public string Path { get; } = string.IsNullOrEmpty(options.Value.TrustBundlePath)
        ? System.IO.Path.Combine(storage.Value.FullDataDirectory, "trust.json")
        : System.IO.Path.GetFullPath(options.Value.TrustBundlePath);

    public TrustBundle Current
    {
        get
        {
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

    public void Save(TrustBundle bundle)
    {
        lock (_lock)
        {
            bundle.Save(Path);
            _current = null;
        }
    }
}
