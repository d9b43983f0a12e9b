namespace Extensions.Modules.Registry.Contracts;

/// <summary>Finds a tenant's install of an extension. Results are cached until the registry changes.</summary>
public interface IInstallResolver
{
    ValueTask<ResolveResult> ResolveAsync(string tenantId, string extensionId, CancellationToken cancellationToken = default);
}
