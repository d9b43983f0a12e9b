using System.Security.Cryptography;
using Extensions.Modules.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Extensions.Modules.HostApi;

/// <summary>
/// The 256-bit key that encrypts secrets at rest: <c>{data}/host.key</c> (base64, mode 0600), created on first start.
/// Losing it loses every stored secret value; it is deliberately kept out of the database so a copy of the database alone
/// reveals nothing.
/// </summary>
internal sealed partial class HostKey(IOptions<StorageOptions> storage, ILogger<HostKey> logger) : IHostedService
{
    public const string FileName = "host.key";
    public const int KeyBytes = 32;

    private readonly Lazy<byte[]> _key = new(() => LoadOrCreate(Path.Combine(storage.Value.FullDataDirectory, FileName), logger));

    public string FilePath => Path.Combine(storage.Value.FullDataDirectory, FileName);

    public ReadOnlySpan<byte> Value => _key.Value;

    /// <summary>Creates (or checks) the key at start, so a broken key file stops the host instead of the first secret call.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = _key.Value;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    internal static byte[] LoadOrCreate(string path, ILogger logger)
    {
        if (!File.Exists(path))
        {
            Create(path);
            Log.Created(logger, path);
        }

        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(path);
            if ((mode & ~(UnixFileMode.UserRead | UnixFileMode.UserWrite)) != 0)
            {
                // Readable by others: tighten it rather than refuse to start, and say so.
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                Log.ModeTightened(logger, path, Convert.ToString((int)mode, 8));
            }
        }

        byte[] key;
        try
        {
            key = Convert.FromBase64String(File.ReadAllText(path).Trim());
        }
        catch (FormatException)
        {
            key = [];
        }

        return key.Length == KeyBytes
            ? key
            : throw new InvalidOperationException($"{path} is not a host key (expected {KeyBytes} bytes in base64); restore it from backup, or move it away to start without the stored secrets");
    }

    private static void Create(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = $"{path}.{Guid.NewGuid():N}.tmp";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        var key = RandomNumberGenerator.GetBytes(KeyBytes);
        using (var file = new FileStream(temp, options))
        using (var writer = new StreamWriter(file))
        {
            writer.Write(Convert.ToBase64String(key) + "\n");
            writer.Flush();
            file.Flush(flushToDisk: true);
        }

        CryptographicOperations.ZeroMemory(key);
        try
        {
            // Never replace an existing key: another start may have won the race, and its key is the one in use.
            File.Move(temp, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temp);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5100, Level = LogLevel.Information, Message = "Created the host key for secrets at {Path}; back it up with the data directory")]
        public static partial void Created(ILogger logger, string path);

        [LoggerMessage(EventId = 5101, Level = LogLevel.Warning, Message = "Host key {Path} was readable by others (mode {Mode}); restricted it to the owner")]
        public static partial void ModeTightened(ILogger logger, string path, string mode);
    }
}
