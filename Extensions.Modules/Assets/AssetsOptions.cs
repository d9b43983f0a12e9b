using System.ComponentModel.DataAnnotations;

namespace Extensions.Modules.Assets;

/// <summary>The asset origin: where extension UI is served, and who may frame it.</summary>
public sealed class AssetsOptions
{
    public const string SectionName = "Assets";

    /// <summary>Scheme of the per-extension origins. <remarks>Defaults to <c>http</c>; use <c>https</c> with a wildcard certificate in production.</remarks></summary>
    [Required]
    [RegularExpression("^https?$")]
    public string Scheme { get; set; } = "http";

    /// <summary>Each extension's UI is served on <c>{label}.{BaseDomain}</c>. <remarks>Defaults to <c>localhost</c>, which browsers resolve to
    /// loopback with no DNS set-up.</remarks></summary>
    [Required]
    [RegularExpression(@"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")]
    public string BaseDomain { get; set; } = "localhost";

    /// <summary>Port in the per-extension origins; 0 means the asset listener's own port (set 443 behind a TLS proxy).
    /// <remarks>Defaults to 0.</remarks></summary>
    [Range(0, 65535)]
    public int PublicPort { get; set; }

    /// <summary>Origins allowed to frame extension UI (CSP <c>frame-ancestors</c>), space-separated; empty means the console listener
    /// as <c>127.0.0.1</c> and <c>localhost</c>. <remarks>Defaults to empty.</remarks></summary>
    [RegularExpression(@"^https?://[a-z0-9.-]+(:[0-9]{1,5})?( https?://[a-z0-9.-]+(:[0-9]{1,5})?)*$")]
    public string ConsoleOrigin { get; set; } = "";

    /// <summary>Memory for indexed UI files of installed bundles, least recently used evicted first. <remarks>Defaults to 64 MiB.</remarks></summary>
    [Range(1, 4096)]
    public int CacheMb { get; set; } = 64;
}
