using System.Text.Json;
using Extensions.Modules.Registry.Contracts;
using Extensions.Modules.Registry.Data;
using Extensions.Modules.Registry.Publishing;

namespace Extensions.Modules.Registry.Installs;

/// <summary>The admin API's services behind a public contract; it adds no rules of its own.</summary>
internal sealed class RegistryAdmin(RegistryStore store, PublishService publisher, InstallService installs) : IRegistryAdmin
{
    public Task<PublishResult> PublishAsync(byte[] bundleFile, string signatureJson, string actor, CancellationToken cancellationToken) =>
        publisher.PublishAsync(bundleFile, signatureJson, actor, cancellationToken);

    public async Task<IReadOnlyList<PublishedVersion>> ListVersionsAsync(string? extensionId, CancellationToken cancellationToken) =>
        [.. (await store.ListVersionsAsync(extensionId, cancellationToken)).Select(ToPublished)];

    public async Task<PublishedVersionDetail?> FindVersionAsync(string extensionId, string version, CancellationToken cancellationToken)
    {
        if (await store.FindVersionAsync(extensionId, version, cancellationToken) is not { } row
            || await store.FindBundleAsync(row.ContentHash, cancellationToken) is not { } bundle)
        {
            return null;
        }

        return new PublishedVersionDetail(ToPublished(row), bundle.SignerKeyId, bundle.Size, await installs.LoadManifestAsync(row.ContentHash, cancellationToken));
    }

    public async Task<InstallDetail?> FindInstallAsync(string tenantId, string extensionId, CancellationToken cancellationToken)
    {
        if (await store.FindInstallAsync(tenantId, extensionId, cancellationToken) is not { } install)
        {
            return null;
        }

        var history = await store.ListHistoryAsync(install.Id, cancellationToken);
        using var config = JsonDocument.Parse(install.Config);
        return new InstallDetail(install.Id, install.TenantId, install.ExtensionId, install.Version, install.ContentHash, install.State,
            install.StateReason, install.Capabilities, install.EgressHosts, config.RootElement.Clone(),
            await installs.LoadManifestAsync(install.ContentHash, cancellationToken),
            [.. history.Select(h => new InstallHistoryEntry(h.Version, h.ContentHash, h.Action, h.Actor, DateTimeOffset.FromUnixTimeMilliseconds(h.At)))]);
    }

    public Task<InstallResult> InstallAsync(string tenantId, string extensionId, string version, Consent consent, JsonElement? config, string actor,
        CancellationToken cancellationToken) =>
        installs.InstallAsync(tenantId, extensionId, version, consent, config, actor, cancellationToken);

    public Task<InstallResult> SetConfigAsync(string tenantId, string extensionId, JsonElement config, string actor, CancellationToken cancellationToken) =>
        installs.SetConfigAsync(tenantId, extensionId, config, actor, cancellationToken);

    public Task<InstallResult> SetStateAsync(string tenantId, string extensionId, string state, string actor, CancellationToken cancellationToken) =>
        installs.SetStateAsync(tenantId, extensionId, state, actor, cancellationToken);

    public Task<ChangePlan> PlanUpgradeAsync(string tenantId, string extensionId, string version, CancellationToken cancellationToken) =>
        installs.PlanUpgradeAsync(tenantId, extensionId, version, cancellationToken);

    public Task<ChangePlan> PlanRollbackAsync(string tenantId, string extensionId, string contentHash, CancellationToken cancellationToken) =>
        installs.PlanRollbackAsync(tenantId, extensionId, contentHash, cancellationToken);

    public Task<InstallResult> UpgradeAsync(string tenantId, string extensionId, string version, Consent? consent, string actor, CancellationToken cancellationToken) =>
        installs.UpgradeAsync(tenantId, extensionId, version, consent, null, actor, cancellationToken);

    public Task<InstallResult> RollbackAsync(string tenantId, string extensionId, string contentHash, Consent? consent, string actor, CancellationToken cancellationToken) =>
        installs.RollbackAsync(tenantId, extensionId, contentHash, consent, null, actor, cancellationToken);

    public Task UninstallAsync(string tenantId, string extensionId, string actor, CancellationToken cancellationToken) =>
        installs.UninstallAsync(tenantId, extensionId, actor, cancellationToken);

    private static PublishedVersion ToPublished(VersionRow row) =>
        new(row.ExtensionId, row.Version, row.ContentHash, DateTimeOffset.FromUnixTimeMilliseconds(row.PublishedAt));
}
