namespace Extensions.Modules.Registry.Contracts;

/// <summary>A tenant's install as the console lists it: what runs, in which state, and its provenance.</summary>
public sealed record InstallSummary(
    string ExtensionId, string Version, string ContentHash, string State, string? StateReason, string SignerKeyId, long UpdatedAt);

/// <summary>Read-only view of a tenant's installs for the console.</summary>
public interface IInstallCatalog
{
    Task<IReadOnlyList<InstallSummary>> ListAsync(string tenantId, CancellationToken cancellationToken = default);
}
