using System.Text.Json;
using Extensions.Modules.Bundles;
using Extensions.Modules.Registry.Installs;
using Extensions.Modules.Registry.Publishing;

namespace Extensions.Modules.Registry.Contracts;

/// <summary>
/// The registry's management operations as the admin API performs them, for callers in the same process (the console's
/// pages). Every rule (signature and trust, exact consent, config schema, allowed state moves) is enforced behind this
/// contract, and a refusal is an <c>ExtensionsException</c> with the same code and detail the admin API answers with.
/// </summary>
public interface IRegistryAdmin
{
    Task<PublishResult> PublishAsync(byte[] bundleFile, string signatureJson, string actor, CancellationToken cancellationToken);

    /// <summary>Published versions, oldest first per extension; all extensions when <paramref name="extensionId"/> is null.</summary>
    Task<IReadOnlyList<PublishedVersion>> ListVersionsAsync(string? extensionId, CancellationToken cancellationToken);

    /// <summary>One published version with its manifest, read from the signed bundle; null when it is not published.</summary>
    Task<PublishedVersionDetail?> FindVersionAsync(string extensionId, string version, CancellationToken cancellationToken);

    /// <summary>A tenant's install in any state, with its manifest and the contents it ran; null when not installed.</summary>
    Task<InstallDetail?> FindInstallAsync(string tenantId, string extensionId, CancellationToken cancellationToken);

    Task<InstallResult> InstallAsync(string tenantId, string extensionId, string version, Consent consent, JsonElement? config, string actor,
        CancellationToken cancellationToken);

    Task<InstallResult> SetConfigAsync(string tenantId, string extensionId, JsonElement config, string actor, CancellationToken cancellationToken);

    /// <param name="state"><c>enabled</c> or <c>disabled</c>.</param>
    Task<InstallResult> SetStateAsync(string tenantId, string extensionId, string state, string actor, CancellationToken cancellationToken);

    Task<ChangePlan> PlanUpgradeAsync(string tenantId, string extensionId, string version, CancellationToken cancellationToken);

    Task<ChangePlan> PlanRollbackAsync(string tenantId, string extensionId, string contentHash, CancellationToken cancellationToken);

    /// <param name="consent">Needed (and checked to be exact) when the plan widens the grants; null otherwise.</param>
    Task<InstallResult> UpgradeAsync(string tenantId, string extensionId, string version, Consent? consent, string actor, CancellationToken cancellationToken);

    Task<InstallResult> RollbackAsync(string tenantId, string extensionId, string contentHash, Consent? consent, string actor, CancellationToken cancellationToken);

    /// <summary>Removes the install with everything other modules keep for it (KV, secrets, guest logs); the audit trail stays.</summary>
    Task UninstallAsync(string tenantId, string extensionId, string actor, CancellationToken cancellationToken);
}

/// <summary>A published version and its provenance.</summary>
public sealed record PublishedVersion(string ExtensionId, string Version, string ContentHash, DateTimeOffset PublishedAt);

public sealed record PublishedVersionDetail(PublishedVersion Version, string SignerKeyId, long Size, ExtensionManifest Manifest);

/// <summary>An install as recorded: what it runs, what was granted, its settings, and every content it ran (oldest first).</summary>
public sealed record InstallDetail(
    string InstallId, string TenantId, string ExtensionId, string Version, string ContentHash, string State, string? StateReason,
    IReadOnlyList<string> Granted, IReadOnlyList<string> EgressHosts, JsonElement Config, ExtensionManifest Manifest, IReadOnlyList<InstallHistoryEntry> History);

public sealed record InstallHistoryEntry(string Version, string ContentHash, string Action, string Actor, DateTimeOffset At);
