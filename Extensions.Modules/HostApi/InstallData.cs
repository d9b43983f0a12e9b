using Extensions.Modules.Registry.Contracts;

namespace Extensions.Modules.HostApi;

/// <summary>On uninstall, everything the capabilities kept for that install goes: its KV entries, secrets and guest log lines.</summary>
internal sealed class InstallData(KvStore kv, SecretStore secrets, GuestLogStore logs) : IInstallDataOwner
{
    public async Task RemoveInstallDataAsync(string installId, CancellationToken cancellationToken)
    {
        await kv.RemoveInstallAsync(installId, cancellationToken);
        await secrets.RemoveInstallAsync(installId, cancellationToken);
        await logs.RemoveInstallAsync(installId, cancellationToken);
    }
}
