namespace Extensions.Modules.Bundles;

/// <summary>Per-endpoint overrides of <see cref="ManifestLimits"/>; null means "use the manifest-wide value".</summary>
public sealed record EndpointLimits(long? FuelPerRequest, int? MemoryMb, int? TimeoutMs);
