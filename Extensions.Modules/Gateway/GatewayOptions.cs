using System.ComponentModel.DataAnnotations;

namespace Extensions.Modules.Gateway;

public sealed class GatewayOptions
{
    public const string SectionName = "Gateway";

    /// <summary>Largest request body passed to an extension; larger ones get 413 before being read. <remarks>Defaults to 1 MiB.</remarks></summary>
    [Range(0, 256 * 1024 * 1024)]
    public int MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Days of invocation records kept. <remarks>Defaults to 7.</remarks></summary>
    [Range(1, 3650)]
    public int InvocationRetentionDays { get; set; } = 7;
}
