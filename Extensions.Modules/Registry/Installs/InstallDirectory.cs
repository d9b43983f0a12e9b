using Extensions.Modules.Registry.Contracts;
using Extensions.Modules.Registry.Data;

namespace Extensions.Modules.Registry.Installs;

internal sealed class InstallDirectory(RegistryStore store, InstallService installs) : IInstallDirectory
{
    public async ValueTask<InstallInfo?> FindAsync(string tenantId, string extensionId, CancellationToken cancellationToken = default)
    {
        if (await store.FindInstallAsync(tenantId, extensionId, cancellationToken) is not { } install)
        {
            return null;
        }

        // Read from the signed bundle, as everywhere: the secret names are part of what the admin consented to.
        var manifest = await installs.LoadManifestAsync(install.ContentHash, cancellationToken);
        return new InstallInfo(install.Id, install.TenantId, install.ExtensionId, install.Version, install.State, manifest.Secrets);
    }

    public Task AuditAsync(string tenantId, string actor, string action, string subject, string detail, CancellationToken cancellationToken = default) =>
        store.AuditAsync(tenantId, actor, action, subject, detail, cancellationToken);
}
