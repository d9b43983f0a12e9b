using System.ComponentModel.DataAnnotations;

namespace Extensions.Modules.Registry;

public sealed class RegistryOptions
{
    public const string SectionName = "Registry";

    /// <summary>Trust bundle file; empty means <c>{data}/trust.json</c>. Re-read when it changes. <remarks>Defaults to empty.</remarks></summary>
    public string TrustBundlePath { get; set; } = "";

    /// <summary>Largest bundle file accepted at publish. <remarks>Defaults to 32 MiB.</remarks></summary>
    [Range(1024, 1024 * 1024 * 1024)]
    public int MaxBundleBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>On first start with an empty data directory, create tenant <c>default</c>, an admin key and install the hello sample.
    /// <remarks>Defaults to true.</remarks></summary>
    public bool SeedOnFirstStart { get; set; } = true;

    /// <summary>Where the hello sample (manifest.json + build/hello.wasm) is read from; empty means beside the program.
    /// <remarks>Defaults to empty.</remarks></summary>
    public string SampleDirectory { get; set; } = "";

    /// <summary>Failed console sign-ins allowed for one user name from one address before that pair is refused for
    /// <see cref="SignInLockoutSeconds"/>. <remarks>Defaults to 5.</remarks></summary>
    [Range(1, 1000)]
    public int SignInMaxFailures { get; set; } = 5;

    /// <summary>Failed console sign-ins allowed from one address (any user names) in the same window. <remarks>Defaults to 50.</remarks></summary>
    [Range(1, 100_000)]
    public int SignInMaxFailuresPerAddress { get; set; } = 50;

    /// <summary>How long failed sign-ins count, and so how long a throttled user name or address waits. <remarks>Defaults to 900 (15 minutes).</remarks></summary>
    [Range(1, 86_400)]
    public int SignInLockoutSeconds { get; set; } = 900;
}
