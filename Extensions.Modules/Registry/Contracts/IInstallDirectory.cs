namespace Extensions.Modules.Registry.Contracts;

/// <summary>
/// Installs in any state (unlike <see cref="IInstallResolver"/>, which serves only enabled, verified ones): what other
/// modules need to manage an install's own data, such as its secrets, before it is enabled.
/// </summary>
public interface IInstallDirectory
{
    /// <returns><c>null</c> when the extension is not installed for the tenant.</returns>
    ValueTask<InstallInfo?> FindAsync(string tenantId, string extensionId, CancellationToken cancellationToken = default);

    /// <summary>Writes an audit row. <paramref name="detail"/> is shown to operators: never put secret values in it.</summary>
    Task AuditAsync(string tenantId, string actor, string action, string subject, string detail, CancellationToken cancellationToken = default);
}

/// <summary>An install as recorded, with the secret names its installed version's manifest declares.</summary>
public sealed record InstallInfo(string InstallId, string TenantId, string ExtensionId, string Version, string State, IReadOnlyList<string> SecretNames);
