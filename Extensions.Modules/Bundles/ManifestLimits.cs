namespace Extensions.Modules.Bundles;

/// <summary>What the author asks for; the host still caps these by operator policy.</summary>
public sealed record ManifestLimits(long? FuelPerRequest, int? MemoryMb, int? TimeoutMs);
