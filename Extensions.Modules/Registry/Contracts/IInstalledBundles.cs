namespace Extensions.Modules.Registry.Contracts;

/// <summary>What the asset origin may serve: bundles that are the enabled version of an extension for some tenant.</summary>
public interface IInstalledBundles
{
    /// <summary>
    /// True when <paramref name="contentHash"/> is the enabled install of <paramref name="extensionId"/> for at least one tenant and
    /// its signature still verifies against the current trust bundle. The content hash is also the bundle's address in the CAS.
    /// </summary>
    ValueTask<bool> IsInstalledVersionAsync(string extensionId, string contentHash, CancellationToken cancellationToken = default);
}
