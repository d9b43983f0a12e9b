using Extensions.Modules.Registry.Contracts;

namespace Extensions.Modules.HostApi;

/// <summary>On uninstall, everything the capabilities kept for that install goes: its KV entries and its guest log lines.</summary>
internal sealed class InstallData(KvStore kv, GuestLogStore logs) : IInstallDataOwner
{
    public async Task RemoveInstallDataAsync(string installId, CancellationToken cancellationToken)
    {
        await kv.RemoveInstallAsync(installId, cancellationToken);
        await logs.RemoveInstallAsync(installId, cancellationToken);
    }
}
