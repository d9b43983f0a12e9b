using System.Threading.Channels;

namespace Extensions.Host.Commands;

/// <summary>
/// Changes to an extension project's sources, as batches: the first change opens a batch, which closes once the tree has
/// been quiet for the debounce interval (an editor's save is often a write, a rename and a chmod). Build outputs,
/// dependencies, VCS folders, editor scratch files and bundles are ignored, so a build never triggers the next one.
/// </summary>
internal sealed class ProjectWatcher : IDisposable
{
    private static readonly string[] IgnoredFolders = ["node_modules", ".git", "obj", "bin"];
    private static readonly string[] IgnoredSuffixes = ["~", ".swp", ".swx", ".tmp", ".extb", ".sig", ".log"];

    private readonly FileSystemWatcher _watcher;
    private readonly Channel<string> _changes = Channel.CreateUnbounded<string>();
    private readonly string _root;
    private volatile string[] _outputs;

    public ProjectWatcher(string root, IEnumerable<string> outputs)
    {
        _root = Path.GetFullPath(root);
        _outputs = [.. outputs];
        _watcher = new FileSystemWatcher(_root)
        {
            IncludeSubdirectories = true,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size,
        };
        _watcher.Changed += (_, e) => Offer(e.FullPath);
        _watcher.Created += (_, e) => Offer(e.FullPath);
        _watcher.Deleted += (_, e) => Offer(e.FullPath);
        _watcher.Renamed += (_, e) =>
        {
            Offer(e.OldFullPath);
            Offer(e.FullPath);
        };
        _watcher.EnableRaisingEvents = true;
    }

    /// <summary>Project-relative paths (files or folders) whose changes are the build's own output, e.g. <c>build</c>.</summary>
    public void SetOutputs(IEnumerable<string> outputs) => _outputs = [.. outputs];

    /// <summary>Waits for the next batch of changed paths (relative, '/'-separated) and the time its first change was seen.</summary>
    public async Task<(IReadOnlySet<string> Paths, long FirstSeen)> NextAsync(TimeSpan debounce, CancellationToken ct)
    {
        var first = await _changes.Reader.ReadAsync(ct);
        var firstSeen = System.Diagnostics.Stopwatch.GetTimestamp();
        var paths = new HashSet<string>(StringComparer.Ordinal) { first };
        while (true)
        {
            using var quiet = CancellationTokenSource.CreateLinkedTokenSource(ct);
            quiet.CancelAfter(debounce);
            try
            {
                paths.Add(await _changes.Reader.ReadAsync(quiet.Token));
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                return (paths, firstSeen);
            }
        }
    }

    public bool IsIgnored(string relative)
    {
        var segments = relative.Split('/');
        if (segments.Any(s => s.Length == 0 || s[0] == '.' || IgnoredFolders.Contains(s, StringComparer.Ordinal)))
        {
            return true;
        }

        var name = segments[^1];
        return name == "4913" // vim's probe file
            || IgnoredSuffixes.Any(s => name.EndsWith(s, StringComparison.Ordinal))
            || _outputs.Any(o => relative == o || relative.StartsWith(o + "/", StringComparison.Ordinal));
    }

    public void Dispose() => _watcher.Dispose();

    private void Offer(string fullPath)
    {
        var relative = Path.GetRelativePath(_root, fullPath).Replace(Path.DirectorySeparatorChar, '/');
        if (relative != "." && !relative.StartsWith("../", StringComparison.Ordinal) && !IsIgnored(relative))
        {
            _changes.Writer.TryWrite(relative);
        }
    }
}
