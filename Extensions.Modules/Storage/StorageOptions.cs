using System.ComponentModel.DataAnnotations;

namespace Extensions.Modules.Storage;

/// <summary>Where the platform keeps its state: the SQLite database and the content-addressed store.</summary>
public sealed class StorageOptions
{
    public const string SectionName = "Storage";

    /// <summary>Root data directory. Relative paths are resolved against the current directory.</summary>
    /// <remarks>Defaults to <c>./data</c>.</remarks>
    [Required]
    public string DataDirectory { get; set; } = "data";

    /// <summary>SQLite busy timeout, so that concurrent writers wait instead of failing.</summary>
    /// <remarks>Defaults to 5000 ms.</remarks>
    [Range(100, 600_000)]
    public int BusyTimeoutMs { get; set; } = 5000;

    public string FullDataDirectory => Path.GetFullPath(DataDirectory);

    public string DatabasePath => Path.Combine(FullDataDirectory, "extensions.db");
}
