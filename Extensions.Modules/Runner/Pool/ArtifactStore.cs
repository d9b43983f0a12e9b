using System.Collections.Concurrent;
using Dapper;
using Extensions.Modules.Storage;
using Microsoft.Extensions.Logging;

namespace Extensions.Modules.Runner.Pool;

/// <summary>
/// Precompiled artifacts, one per (module hash, engine fingerprint), stored in the CAS and recorded in
/// <c>runner_artifacts</c>. Each is compiled once, by a worker; concurrent requests for the same one share that compile.
/// </summary>
internal sealed partial class ArtifactStore(IDatabase database, IContentStore cas, TimeProvider time, ILogger<ArtifactStore> logger)
{
    private readonly ConcurrentDictionary<(string Module, string Fingerprint), Lazy<Task<(string Hash, string Path)>>> _known = new();

    public static Migration Migration { get; } = new("runner", 1, """
        CREATE TABLE runner_artifacts (
            module_hash TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            artifact_hash TEXT NOT NULL,
            size INTEGER NOT NULL,
            compile_ms INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (module_hash, fingerprint));
        """);

    /// <summary>The artifact's content hash and path, compiling through <paramref name="compile"/> if there is none yet.</summary>
    public async Task<(string Hash, string Path)> EnsureAsync(string moduleHash, string fingerprint, Func<Task<byte[]>> compile)
    {
        var key = (moduleHash, fingerprint);
        // Every request comes here: the known answer is taken without allocating (no closure, no path string).
        if (_known.TryGetValue(key, out var known) && known.IsValueCreated && known.Value.IsCompletedSuccessfully)
        {
            return known.Value.Result;
        }

        var lazy = _known.GetOrAdd(key, _ => new Lazy<Task<(string, string)>>(async () =>
        {
            var hash = await LoadOrCompileAsync(moduleHash, fingerprint, compile);
            return (hash, cas.PathOf(hash));
        }));
        try
        {
            return await lazy.Value;
        }
        catch
        {
            // Let the next request try again (the worker may have died mid-compile).
            _known.TryRemove(new KeyValuePair<(string, string), Lazy<Task<(string Hash, string Path)>>>(key, lazy));
            throw;
        }
    }

    private async Task<string> LoadOrCompileAsync(string moduleHash, string fingerprint, Func<Task<byte[]>> compile)
    {
        await using (var connection = await database.OpenAsync())
        {
            var known = await connection.QuerySingleOrDefaultAsync<string>(
                "SELECT artifact_hash FROM runner_artifacts WHERE module_hash = @moduleHash AND fingerprint = @fingerprint",
                new { moduleHash, fingerprint });
            if (known is not null && cas.Exists(known))
            {
                return known;
            }
        }

        var started = time.GetTimestamp();
        var artifact = await compile();
        var elapsed = time.GetElapsedTime(started);
        var hash = await cas.PutAsync(artifact);
        await using (var connection = await database.OpenAsync())
        {
            await connection.ExecuteAsync("""
                INSERT INTO runner_artifacts (module_hash, fingerprint, artifact_hash, size, compile_ms, created_at)
                VALUES (@moduleHash, @fingerprint, @hash, @size, @ms, @now)
                ON CONFLICT (module_hash, fingerprint) DO UPDATE SET artifact_hash = excluded.artifact_hash, size = excluded.size,
                    compile_ms = excluded.compile_ms, created_at = excluded.created_at
                """, new { moduleHash, fingerprint, hash, size = artifact.Length, ms = (long)elapsed.TotalMilliseconds, now = time.GetUtcNow().ToUnixTimeMilliseconds() });
        }

        Log.Compiled(logger, moduleHash, hash, artifact.Length, elapsed.TotalMilliseconds);
        return hash;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4020, Level = LogLevel.Information, Message = "Precompiled module {ModuleHash} into {ArtifactHash} ({Bytes} bytes, {Milliseconds:0} ms)")]
        public static partial void Compiled(ILogger logger, string moduleHash, string artifactHash, int bytes, double milliseconds);
    }
}
