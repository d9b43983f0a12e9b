using System.Text.Json;
using Extensions.Modules.Bundles;
using Extensions.Modules.Common;
using Extensions.Modules.Registry.Data;
using Extensions.Modules.Storage;
using Microsoft.AspNetCore.Http;

namespace Extensions.Modules.Registry.Installs;

public sealed record InstallResult(string InstallId, string TenantId, string ExtensionId, string Version, string ContentHash, IReadOnlyList<string> Granted, string State);

/// <summary>
/// Installs a published version for a tenant. The admin must consent to exactly the capabilities the manifest lists:
/// nothing is granted implicitly, so a caller that did not look at them cannot install.
/// </summary>
internal sealed class InstallService(RegistryStore store, IContentStore cas)
{
    public async Task<InstallResult> InstallAsync(
        string tenantId, string extensionId, string? version, IReadOnlyList<string>? consent, JsonElement? config, string actor, CancellationToken ct)
    {
        if (!await store.TenantExistsAsync(tenantId, ct))
        {
            throw new ExtensionsException(ProblemCodes.NotFound, StatusCodes.Status404NotFound, $"tenant '{tenantId}' does not exist");
        }

        var versionRow = version is null
            ? (await store.ListVersionsAsync(extensionId, ct)).OrderByDescending(v => Semver.SemVersion.Parse(v.Version), Semver.SemVersion.SortOrderComparer).FirstOrDefault()
            : await store.FindVersionAsync(extensionId, version, ct);
        if (versionRow is null)
        {
            throw new ExtensionsException(ProblemCodes.NotFound, StatusCodes.Status404NotFound,
                version is null ? $"extension '{extensionId}' has no published version" : $"version {extensionId}@{version} is not published");
        }

        var manifest = await LoadManifestAsync(versionRow.ContentHash, ct);
        var requested = manifest.Capabilities.Order(StringComparer.Ordinal).ToArray();
        var consented = (consent ?? []).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        if (!requested.SequenceEqual(consented))
        {
            throw new ExtensionsException(ProblemCodes.ConsentRequired, StatusCodes.Status409Conflict,
                $"{extensionId}@{versionRow.Version} asks for [{string.Join(", ", requested)}]; consent to exactly these capabilities to install it (you consented to [{string.Join(", ", consented)}])");
        }

        var existing = await store.FindInstallAsync(tenantId, extensionId, ct);
        var now = store.Now;
        var row = new InstallRow(
            existing?.Id ?? $"ins_{Guid.NewGuid():N}", tenantId, extensionId, versionRow.Version, versionRow.ContentHash,
            string.Join(",", requested), config is { ValueKind: JsonValueKind.Object } c ? c.GetRawText() : "{}",
            "enabled", null, existing?.CreatedAt ?? now, now);
        await store.UpsertInstallAsync(row, actor, existing is null ? "install" : "install.version", ct);
        return new InstallResult(row.Id, tenantId, extensionId, row.Version, row.ContentHash, requested, row.State);
    }

    public async Task<ExtensionManifest> LoadManifestAsync(string contentHash, CancellationToken ct)
    {
        var tar = await cas.ReadAsync(contentHash, ct)
            ?? throw new ExtensionsException(ProblemCodes.Internal, StatusCodes.Status500InternalServerError, $"bundle {contentHash} is missing from the content store");
        return BundleReader.Read(tar).Manifest;
    }

    /// <summary>Allowed moves between install states. <c>failed</c> may be re-enabled: the bundle is verified again on the next load.</summary>
    private static readonly Dictionary<(string From, string To), bool> Transitions = new()
    {
        [("enabled", "disabled")] = true,
        [("disabled", "enabled")] = true,
        [("failed", "enabled")] = true,
        [("failed", "disabled")] = true,
        [("pending", "enabled")] = true,
        [("pending", "disabled")] = true,
    };

    public async Task<InstallResult> SetStateAsync(string tenantId, string extensionId, string state, string actor, CancellationToken ct)
    {
        var install = await FindAsync(tenantId, extensionId, ct);
        if (!Transitions.ContainsKey((install.State, state)))
        {
            throw new ExtensionsException(ProblemCodes.InvalidState, StatusCodes.Status409Conflict,
                $"{extensionId} is {install.State} for tenant '{tenantId}'; it cannot become {state}");
        }

        await store.SetInstallStateAsync(install.Id, tenantId, extensionId, state, null, actor, ct);
        return new InstallResult(install.Id, tenantId, extensionId, install.Version, install.ContentHash,
            install.GrantedCapabilities.Split(',', StringSplitOptions.RemoveEmptyEntries), state);
    }

    public async Task UninstallAsync(string tenantId, string extensionId, string actor, CancellationToken ct) =>
        await store.DeleteInstallAsync(await FindAsync(tenantId, extensionId, ct), actor, ct);

    private async Task<InstallRow> FindAsync(string tenantId, string extensionId, CancellationToken ct) =>
        await store.FindInstallAsync(tenantId, extensionId, ct)
        ?? throw new ExtensionsException(ProblemCodes.NotFound, StatusCodes.Status404NotFound, $"{extensionId} is not installed for tenant '{tenantId}'");
}
