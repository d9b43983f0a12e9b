using System.Security.Cryptography;
using System.Threading.Channels;

namespace Extensions.Host.Commands;

/// <summary>
/// Changes to an extension project's sources, as batches: the first change opens a batch, which closes once the tree has
/// been quiet for the debounce interval (an editor's save is often a write, a rename and a chmod). Build outputs,
/// dependencies (<c>node_modules</c>, <c>package-lock.json</c>), VCS folders, editor scratch files and bundles are ignored,
/// so a build never triggers the next one.
/// </summary>
/// <remarks>
/// A batch is also checked against the files as the last build found them (<see cref="BuildStarting"/>): a path whose
/// content is what that build read is dropped (an editor's touch, a late event of the save the build already has), and so
/// is a file that did not exist then and was written while the build ran (the build made it: a lock file, a generated
/// file). A source the author changes while a build runs has new content, so it still starts the next build.
/// </remarks>
internal sealed class ProjectWatcher : IDisposable
{
    private static readonly string[] IgnoredFolders = ["node_modules", ".git", "obj", "bin"];
    private static readonly string[] IgnoredSuffixes = ["~", ".swp", ".swx", ".tmp", ".extb", ".sig", ".log"];
    private static readonly string[] IgnoredNames = ["4913" /* vim's probe file */, "package-lock.json"];
    private const long MaxHashedBytes = 16 << 20;

    /// <summary>File timestamps come from a coarse kernel clock: allow this much either side of the build's window.</summary>
    private static readonly TimeSpan ClockSlack = TimeSpan.FromMilliseconds(50);

    private readonly FileSystemWatcher _watcher;
    private readonly Channel<string> _changes = Channel.CreateUnbounded<string>();
    private readonly string _root;
    private volatile string[] _outputs;
    private Dictionary<string, string>? _snapshot;
    private DateTime _buildStarted;
    private DateTime _buildEnded;

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
        while (true)
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
                    break;
                }
            }

            paths.RemoveWhere(p => !IsChange(p));
            if (paths.Count > 0)
            {
                return (paths, firstSeen);
            }
        }
    }

    /// <summary>Records the project's files as the build about to start will read them.</summary>
    public void BuildStarting()
    {
        _buildStarted = DateTime.UtcNow;
        var snapshot = new Dictionary<string, string>(StringComparer.Ordinal);
        Scan(_root, snapshot);
        _snapshot = snapshot;
    }

    /// <summary>Closes the build's window: files first written from now on are the author's.</summary>
    public void BuildFinished() => _buildEnded = DateTime.UtcNow;

    public bool IsIgnored(string relative)
    {
        var segments = relative.Split('/');
        if (segments.Any(s => s.Length == 0 || s[0] == '.' || IgnoredFolders.Contains(s, StringComparer.Ordinal)))
        {
            return true;
        }

        var name = segments[^1];
        return IgnoredNames.Contains(name, StringComparer.Ordinal)
            || IgnoredSuffixes.Any(s => name.EndsWith(s, StringComparison.Ordinal))
            || _outputs.Any(o => relative == o || relative.StartsWith(o + "/", StringComparison.Ordinal));
    }

    public void Dispose() => _watcher.Dispose();

    /// <summary>Whether a path in a batch differs from what the last build read (see the remarks on the class).</summary>
    private bool IsChange(string relative)
    {
        if (_snapshot is not { } snapshot)
        {
            return true;
        }

        var full = Path.Combine(_root, relative);
        var existedBefore = snapshot.ContainsKey(relative);
        if (File.Exists(full))
        {
            return existedBefore
                ? Fingerprint(full) is not { } now || now != snapshot[relative]
                : !WrittenDuringBuild(File.GetLastWriteTimeUtc(full));
        }

        if (Directory.Exists(full))
        {
            // A folder's own events say only that something in it changed; its files have events of their own.
            return !existedBefore && !WrittenDuringBuild(Directory.GetLastWriteTimeUtc(full));
        }

        // Gone: a deletion matters only if the build saw it there.
        return existedBefore;
    }

    private bool WrittenDuringBuild(DateTime written) =>
        _buildEnded >= _buildStarted && written >= _buildStarted - ClockSlack && written <= _buildEnded + ClockSlack;

    /// <summary>Every file and folder of the project the watcher does not ignore, with a fingerprint of each file's content.</summary>
    private void Scan(string directory, Dictionary<string, string> into)
    {
        IEnumerable<string> entries;
        try
        {
            entries = Directory.EnumerateFileSystemEntries(directory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return;
        }

        foreach (var entry in entries)
        {
            var relative = Path.GetRelativePath(_root, entry).Replace(Path.DirectorySeparatorChar, '/');
            if (IsIgnored(relative))
            {
                continue;
            }

            if (Directory.Exists(entry))
            {
                into[relative] = "";
                Scan(entry, into);
            }
            else if (Fingerprint(entry) is { } fingerprint)
            {
                into[relative] = fingerprint;
            }
        }
    }

    /// <summary>The SHA-256 of a file's content (size and time for a huge one), or <c>null</c> when it cannot be read now.</summary>
    private static string? Fingerprint(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (info.Length > MaxHashedBytes)
            {
                return $"{info.Length}:{info.LastWriteTimeUtc.Ticks}";
            }

            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            return Convert.ToHexString(SHA256.HashData(stream));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private void Offer(string fullPath)
    {
        var relative = Path.GetRelativePath(_root, fullPath).Replace(Path.DirectorySeparatorChar, '/');
        if (relative != "." && !relative.StartsWith("../", StringComparison.Ordinal) && !IsIgnored(relative))
        {
            _changes.Writer.TryWrite(relative);
        }
    }
}
