using System.CommandLine;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;

namespace Extensions.Host.Commands;

/// <summary>
/// <c>backup OUT</c> and <c>restore IN</c>: a data directory as one gzip'd tar. The database is copied with
/// <c>VACUUM INTO</c>, a read transaction, so a running server keeps serving and the copy is one consistent moment;
/// the CAS objects that copy references are added (the CAS only ever grows, so they are all there), and so are the trust
/// bundle, the host key, the admin key file and <c>keys/</c>. A <c>backup.json</c> first in the archive lists every file
/// with its size and SHA-256; restore checks all of them before anything appears at the target.
/// </summary>
internal static partial class BackupVerbs
{
    public const string ManifestName = "backup.json";
    private const string Format = "extensions-backup";
    private const int FormatVersion = 1;
    private const UnixFileMode PrivateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode PrivateDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Files beside the database that belong in a backup, when present.</summary>
    private static readonly string[] LooseFiles = ["host.key", "admin.key", ".seeded"];

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase, WriteIndented = true };

    public static Command Backup()
    {
        var output = new Argument<string>("out") { Description = "Archive file to write (.tar.gz); must not exist" };
        var data = new Option<string>("--data") { Description = "Data directory of the instance (it may be running)", DefaultValueFactory = _ => "data" };
        var trust = new Option<string?>("--trust") { Description = "Trust bundle file, when Registry:TrustBundlePath puts it outside the data directory. Default: DIR/trust.json" };
        var command = new Command("backup",
            "Write a consistent backup of a data directory (database snapshot, extension bundles, trust bundle, host key) while the server runs. "
            + "The archive holds the key that decrypts every stored secret: keep it private.")
        {
            output, data, trust,
        };
        command.SetAction((parse, ct) => Verbs.Guard(() => WriteBackupAsync(parse.GetValue(output)!, parse.GetValue(data)!, parse.GetValue(trust), ct)));
        return command;
    }

    public static Command Restore()
    {
        var input = new Argument<string>("in") { Description = "Archive written by 'backup'" };
        var data = new Option<string>("--data") { Description = "Data directory to create; must not exist or be empty", DefaultValueFactory = _ => "data" };
        var command = new Command("restore", "Restore a backup into a new, empty data directory. A corrupt or incomplete archive is refused and nothing is written.")
        {
            input, data,
        };
        command.SetAction((parse, ct) => Verbs.Guard(() => RestoreAsync(parse.GetValue(input)!, parse.GetValue(data)!, ct)));
        return command;
    }

    private static async Task<int> WriteBackupAsync(string output, string dataDir, string? trustPath, CancellationToken ct)
    {
        var data = Path.GetFullPath(dataDir);
        var database = Path.Combine(data, "extensions.db");
        if (!File.Exists(database))
        {
            throw new CliException($"{data} holds no database (extensions.db); pass --data DIR");
        }

        output = Path.GetFullPath(output);
        if (File.Exists(output) || Directory.Exists(output))
        {
            throw new CliException($"{output} exists; a backup never overwrites, choose another name");
        }

        var scratch = Directory.CreateTempSubdirectory("ext-backup-").FullName;
        var partial = output + ".partial";
        try
        {
            var snapshot = Path.Combine(scratch, "extensions.db");
            try
            {
                await SnapshotAsync(database, snapshot, ct);
            }
            catch (SqliteException ex)
            {
                throw new CliException($"could not snapshot {database}: {ex.Message}");
            }

            // (archive path, file on disk)
            var files = new List<(string Name, string Source)> { ("extensions.db", snapshot) };
            var hashes = await ReferencedObjectsAsync(snapshot, ct);
            foreach (var hash in hashes)
            {
                var hex = hash["sha256:".Length..];
                var name = $"cas/sha256/{hex[..2]}/{hex[2..]}";
                var source = Path.Combine(data, "cas", "sha256", hex[..2], hex[2..]);
                if (!File.Exists(source))
                {
                    throw new CliException($"content object {hash} named by the database is missing from {Path.Combine(data, "cas")}; this data directory cannot be backed up whole");
                }

                files.Add((name, source));
            }

            var trust = trustPath is null ? Path.Combine(data, "trust.json") : Path.GetFullPath(trustPath);
            if (File.Exists(trust))
            {
                files.Add(("trust.json", trust));
            }

            files.AddRange(LooseFiles.Select(f => (f, Path.Combine(data, f))).Where(f => File.Exists(f.Item2)));
            var keys = Path.Combine(data, "keys");
            if (Directory.Exists(keys))
            {
                files.AddRange(Directory.EnumerateFiles(keys, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
                    .Select(f => (Path.GetRelativePath(data, f).Replace('\\', '/'), f)));
            }

            var entries = new List<BackupFile>();
            foreach (var (name, source) in files)
            {
                var (size, sha) = await HashFileAsync(source, ct);
                if (name.StartsWith("cas/sha256/", StringComparison.Ordinal) && sha != name["cas/sha256/".Length..].Replace("/", "", StringComparison.Ordinal))
                {
                    throw new CliException($"content object {name} does not match its hash (the CAS is damaged); this data directory cannot be backed up whole");
                }

                entries.Add(new BackupFile(name, size, sha));
            }

            var manifest = new BackupManifest(Format, FormatVersion, DateTimeOffset.UtcNow, Version(), data, entries);
            await using (var file = new FileStream(partial, NewPrivateFile()))
            await using (var gzip = new GZipStream(file, CompressionLevel.Optimal))
            await using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: false))
            {
                var header = new PaxTarEntry(TarEntryType.RegularFile, ManifestName) { DataStream = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(manifest, Json)) };
                await tar.WriteEntryAsync(header, ct);
                foreach (var (name, source) in files)
                {
                    await using var content = File.OpenRead(source);
                    await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = content, Mode = PrivateFile }, ct);
                }
            }

            File.Move(partial, output);
            var bytes = new FileInfo(output).Length;
            Console.WriteLine($"backup: {output} ({entries.Count} files, {bytes / 1024.0 / 1024.0:0.0} MiB): database snapshot, {hashes.Count} content objects, "
                + $"{(File.Exists(trust) ? "trust bundle" : "no trust bundle")}, {(File.Exists(Path.Combine(data, "host.key")) ? "host key" : "no host key yet")}");
            Console.WriteLine("warning: this archive holds the host key that decrypts every stored secret and the admin API key: "
                + "protect it like the data directory itself (it is written with mode 0600; keep copies encrypted and off this machine).");
            return 0;
        }
        finally
        {
            File.Delete(partial);
            Directory.Delete(scratch, recursive: true);
        }
    }

    /// <summary>
    /// <c>VACUUM INTO</c> from a separate read-only connection: a read transaction on the WAL database, so the server's
    /// writer is never blocked, and the copy is one consistent moment with no WAL of its own.
    /// </summary>
    private static async Task SnapshotAsync(string database, string snapshot, CancellationToken ct)
    {
        var source = new SqliteConnectionStringBuilder { DataSource = database, Mode = SqliteOpenMode.ReadOnly, Pooling = false, DefaultTimeout = 30 }.ToString();
        await using var connection = new SqliteConnection(source);
        await connection.OpenAsync(ct);
        await using (var busy = connection.CreateCommand())
        {
            busy.CommandText = "PRAGMA busy_timeout = 30000";
            await busy.ExecuteNonQueryAsync(ct);
        }

        await using var vacuum = connection.CreateCommand();
        vacuum.CommandText = "VACUUM INTO $path";
        vacuum.Parameters.AddWithValue("$path", snapshot);
        await vacuum.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Every CAS object the database names: bundles, their modules and precompiled artifacts.</summary>
    private static async Task<List<string>> ReferencedObjectsAsync(string database, CancellationToken ct)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        await connection.OpenAsync(ct);
        var tables = new HashSet<string>(StringComparer.Ordinal);
        await using (var list = connection.CreateCommand())
        {
            list.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table'";
            await using var reader = await list.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                tables.Add(reader.GetString(0));
            }
        }

        var queries = new List<string>();
        if (tables.Contains("registry_bundles"))
        {
            queries.Add("SELECT content_hash FROM registry_bundles UNION SELECT module_hash FROM registry_bundles");
        }

        if (tables.Contains("runner_artifacts"))
        {
            queries.Add("SELECT artifact_hash FROM runner_artifacts");
        }

        var hashes = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var query in queries)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = query;
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var hash = reader.GetString(0);
                hashes.Add(ContentHashPattern().IsMatch(hash) ? hash : throw new CliException($"the database names '{hash}', which is not a content hash"));
            }
        }

        return [.. hashes];
    }

    private static async Task<int> RestoreAsync(string input, string dataDir, CancellationToken ct)
    {
        if (!File.Exists(input))
        {
            throw new CliException($"{input} does not exist");
        }

        var target = Path.GetFullPath(dataDir).TrimEnd(Path.DirectorySeparatorChar);
        if (File.Exists(target) || (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any()))
        {
            throw new CliException($"{target} is not empty; restore only into a new or empty data directory");
        }

        var parent = Path.GetDirectoryName(target) ?? throw new CliException($"{target} has no parent directory");
        Directory.CreateDirectory(parent);
        // Staged beside the target so the final step is one rename on the same file system.
        var staging = Path.Combine(parent, $".{Path.GetFileName(target)}.restoring-{Guid.NewGuid():N}");
        CreatePrivateDirectory(staging);
        try
        {
            BackupManifest manifest;
            try
            {
                manifest = await ExtractAsync(input, staging, ct);
                await CheckDatabaseAsync(Path.Combine(staging, "extensions.db"), ct);
            }
            catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or IOException or FormatException or JsonException or SqliteException or NotSupportedException)
            {
                throw new CliException($"{input} is corrupt or incomplete ({ex.Message}); nothing was restored");
            }

            if (Directory.Exists(target))
            {
                Directory.Delete(target);
            }

            Directory.Move(staging, target);
            Console.WriteLine($"restored {manifest.Files.Count} files into {target} (backup of {manifest.Source}, taken {manifest.CreatedAt:u} by {manifest.PlatformVersion})");
            Console.WriteLine($"start it with: serve --data {dataDir}");
            return 0;
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
    }

    /// <summary>Unpacks into <paramref name="staging"/>, checking every file against <c>backup.json</c>; throws on any difference.</summary>
    private static async Task<BackupManifest> ExtractAsync(string input, string staging, CancellationToken ct)
    {
        await using var file = File.OpenRead(input);
        await using var gzip = new GZipStream(file, CompressionMode.Decompress);
        await using var tar = new TarReader(gzip);
        var first = await tar.GetNextEntryAsync(copyData: true, ct);
        if (first is not { EntryType: TarEntryType.RegularFile or TarEntryType.V7RegularFile, Name: ManifestName, DataStream: { } manifestStream })
        {
            throw new InvalidDataException($"it does not start with {ManifestName}; is it a backup written by 'backup'?");
        }

        var manifest = await JsonSerializer.DeserializeAsync<BackupManifest>(manifestStream, Json, ct)
            ?? throw new InvalidDataException($"{ManifestName} is empty");
        if (manifest.Format != Format || manifest.FormatVersion != FormatVersion)
        {
            throw new InvalidDataException($"{ManifestName} describes format '{manifest.Format}' version {manifest.FormatVersion}; this program reads '{Format}' version {FormatVersion}");
        }

        var expected = new Dictionary<string, BackupFile>(StringComparer.Ordinal);
        foreach (var entry in manifest.Files ?? [])
        {
            if (!SafePathPattern().IsMatch(entry.Path) || entry.Path.Split('/').Any(s => s is "." or "..") || !expected.TryAdd(entry.Path, entry))
            {
                throw new InvalidDataException($"{ManifestName} lists an unsafe or repeated path '{entry.Path}'");
            }
        }

        if (!expected.ContainsKey("extensions.db"))
        {
            throw new InvalidDataException($"{ManifestName} lists no database");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (await tar.GetNextEntryAsync(copyData: false, ct) is { } entry)
        {
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || !expected.TryGetValue(entry.Name, out var listed) || !seen.Add(entry.Name))
            {
                throw new InvalidDataException($"entry '{entry.Name}' is not a file listed once in {ManifestName}");
            }

            var path = Path.Combine(staging, entry.Name.Replace('/', Path.DirectorySeparatorChar));
            CreatePrivateDirectory(Path.GetDirectoryName(path)!);
            await using (var output = new FileStream(path, NewPrivateFile()))
            {
                if (entry.DataStream is { } content)
                {
                    await content.CopyToAsync(output, ct);
                }
            }

            var (size, sha) = await HashFileAsync(path, ct);
            if (size != listed.Bytes || sha != listed.Sha256)
            {
                throw new InvalidDataException($"'{entry.Name}' does not match its checksum in {ManifestName}");
            }
        }

        var missing = expected.Keys.Where(k => !seen.Contains(k)).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidDataException($"{missing.Count} listed file(s) are missing, e.g. '{missing[0]}'");
        }

        return manifest;
    }

    private static async Task CheckDatabaseAsync(string database, CancellationToken ct)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        await connection.OpenAsync(ct);
        await using var check = connection.CreateCommand();
        check.CommandText = "PRAGMA integrity_check";
        var result = (string?)await check.ExecuteScalarAsync(ct);
        if (result != "ok")
        {
            throw new InvalidDataException($"the database fails its integrity check: {result}");
        }
    }

    private static async Task<(long Size, string Sha256)> HashFileAsync(string path, CancellationToken ct)
    {
        await using var stream = File.OpenRead(path);
        var hash = await SHA256.HashDataAsync(stream, ct);
        return (stream.Length, Convert.ToHexStringLower(hash));
    }

    /// <summary>A new file only its owner can read (0600), created that way rather than narrowed after.</summary>
    private static FileStreamOptions NewPrivateFile()
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = PrivateFile;
        }

        return options;
    }

    private static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, PrivateDirectory);
        }
    }

    private static string Version() =>
        typeof(BackupVerbs).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "unknown";

    [GeneratedRegex("^sha256:[0-9a-f]{64}$")]
    private static partial Regex ContentHashPattern();

    [GeneratedRegex("^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")]
    private static partial Regex SafePathPattern();

    internal sealed record BackupFile(string Path, long Bytes, string Sha256);

    internal sealed record BackupManifest(
        string Format,
        int FormatVersion,
        DateTimeOffset CreatedAt,
        string PlatformVersion,
        string Source,
        [property: JsonRequired] IReadOnlyList<BackupFile> Files);
}
