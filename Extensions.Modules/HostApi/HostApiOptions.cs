using System.ComponentModel.DataAnnotations;

namespace Extensions.Modules.HostApi;

public sealed class HostApiOptions
{
    public const string SectionName = "HostApi";

    /// <summary>Longest KV key, in UTF-8 bytes. <remarks>Defaults to 512.</remarks></summary>
    [Range(1, 4096)]
    public int KvMaxKeyBytes { get; set; } = 512;

    /// <summary>Largest KV value. <remarks>Defaults to 64 KiB.</remarks></summary>
    [Range(1, 16 * 1024 * 1024)]
    public int KvMaxValueBytes { get; set; } = 64 * 1024;

    /// <summary>Most keys one install may hold. <remarks>Defaults to 10,000.</remarks></summary>
    [Range(1, 10_000_000)]
    public int KvMaxKeysPerInstall { get; set; } = 10_000;

    /// <summary>Most bytes (keys + values) one install may hold. <remarks>Defaults to 16 MiB.</remarks></summary>
    [Range(1024, long.MaxValue)]
    public long KvMaxBytesPerInstall { get; set; } = 16 * 1024 * 1024;

    /// <summary>Keys per <c>kv_list</c> page. <remarks>Defaults to 100.</remarks></summary>
    [Range(1, 10_000)]
    public int KvListPageSize { get; set; } = 100;

    /// <summary>Days guest log lines are kept for their tenant's admins. <remarks>Defaults to 7.</remarks></summary>
    [Range(1, 3650)]
    public int GuestLogRetentionDays { get; set; } = 7;

    /// <summary>Most guest log lines kept in all (the oldest go first). <remarks>Defaults to 1,000,000.</remarks></summary>
    [Range(1000, 1_000_000_000)]
    public long GuestLogMaxRows { get; set; } = 1_000_000;
}
