namespace Extensions.Modules.Bundles;

/// <summary>Per-endpoint overrides of <see cref="ManifestLimits"/>; null means "use the manifest-wide value".</summary>
/// <param name="RequestsPerSecond">A tighter rate for this endpoint (per tenant's install); the operator's install rate still caps it.</param>
public sealed record EndpointLimits(long? FuelPerRequest, int? MemoryMb, int? TimeoutMs, int? RequestsPerSecond = null);
