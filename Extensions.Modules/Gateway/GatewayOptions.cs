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

    /// <summary>Time allowed to receive a whole request body; a slower sender gets 408. <remarks>Defaults to 10 s.</remarks></summary>
    [Range(100, 600_000)]
    public int BodyReadTimeoutMs { get; set; } = 10_000;

    /// <summary>Sustained requests per second per tenant, over all its extensions; 0 turns the limit off. <remarks>Defaults to 500.</remarks></summary>
    [Range(0, 1_000_000)]
    public int TenantRequestsPerSecond { get; set; } = 500;

    /// <summary>Requests a tenant may send at once above its sustained rate. <remarks>Defaults to 1000.</remarks></summary>
    [Range(1, 10_000_000)]
    public int TenantBurst { get; set; } = 1000;

    /// <summary>Sustained requests per second per install (one tenant's one extension); 0 turns the limit off. <remarks>Defaults to 200.</remarks></summary>
    [Range(0, 1_000_000)]
    public int InstallRequestsPerSecond { get; set; } = 200;

    /// <summary>Requests an install may take at once above its sustained rate. <remarks>Defaults to 400.</remarks></summary>
    [Range(1, 10_000_000)]
    public int InstallBurst { get; set; } = 400;

    /// <summary>Invocations one tenant may have in flight at once; 0 turns the cap off. <remarks>Defaults to 64.</remarks></summary>
    [Range(0, 100_000)]
    public int MaxConcurrentPerTenant { get; set; } = 64;

    /// <summary>Minutes an idempotency key is remembered. <remarks>Defaults to 1440 (a day).</remarks></summary>
    [Range(1, 7 * 24 * 60)]
    public int IdempotencyTtlMinutes { get; set; } = 24 * 60;

    /// <summary>Largest response kept for replay under an idempotency key; larger ones are sent but not kept. <remarks>Defaults to 64 KiB.</remarks></summary>
    [Range(0, 16 * 1024 * 1024)]
    public int MaxIdempotentResponseBytes { get; set; } = 64 * 1024;

    /// <summary>Idempotency records kept at most; the oldest go first. <remarks>Defaults to 100,000.</remarks></summary>
    [Range(1, 10_000_000)]
    public int MaxIdempotencyRecords { get; set; } = 100_000;

    /// <summary>Origins one install may allow for cross-origin calls. <remarks>Defaults to 32.</remarks></summary>
    [Range(1, 1000)]
    public int MaxCorsOrigins { get; set; } = 32;
}
