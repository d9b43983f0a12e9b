using System.Text.Json;
using Extensions.Modules.Bundles;
using Extensions.Modules.Common;
using Extensions.Modules.Registry.Contracts;
using Extensions.Modules.Registry.Data;
using Extensions.Modules.Storage;
using Microsoft.AspNetCore.Http;

namespace Extensions.Modules.Registry.Installs;

public sealed record InstallResult(string InstallId, string TenantId, string ExtensionId, string Version, string ContentHash,
    IReadOnlyList<string> Granted, string State, IReadOnlyList<string> EgressHosts);

/// <summary>What the admin consents to: exactly the capabilities and egress hosts a version asks for.</summary>
public sealed record Consent(IReadOnlyList<string>? Capabilities, IReadOnlyList<string>? EgressHosts);

/// <summary>What changes between what an install is granted now and what another version asks for.</summary>
public sealed record GrantDiff(IReadOnlyList<string> Added, IReadOnlyList<string> Removed);

public sealed record ChangePlan(
    string ExtensionId, string TenantId, string FromVersion, string FromContentHash, string ToVersion, string ToContentHash,
    GrantDiff Capabilities, GrantDiff EgressHosts, IReadOnlyList<string> RequiredCapabilities, IReadOnlyList<string> RequiredEgressHosts)
{
    /// <summary>The new version asks for something not granted now: the admin must consent again.</summary>
    public bool ConsentRequired => Capabilities.Added.Count > 0 || EgressHosts.Added.Count > 0;
}

/// <summary>
/// Installs, upgrades, rolls back and removes installs. Nothing is granted implicitly: the admin consents to exactly the
/// capabilities and egress hosts a version lists, and any widening later needs that consent again; without it the install
/// keeps running what it ran.
/// </summary>
internal sealed class InstallService(RegistryStore store, IContentStore cas, IEnumerable<IInstallDataOwner> dataOwners)
{
    public async Task<InstallResult> InstallAsync(
        string tenantId, string extensionId, string? version, Consent consent, JsonElement? config, string actor, CancellationToken ct)
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
        RequireExactConsent(manifest, consent, $"{extensionId}@{versionRow.Version}", "install it", null);
        // Installing over an existing install keeps its settings unless new ones are given.
        var existing = await store.FindInstallAsync(tenantId, extensionId, ct);
        var configText = ValidConfig(manifest, config ?? (existing is null ? EmptyObject : JsonDocument.Parse(existing.Config).RootElement), versionRow.Version);

        var now = store.Now;
        var row = new InstallRow(
            existing?.Id ?? $"ins_{Guid.NewGuid():N}", tenantId, extensionId, versionRow.Version, versionRow.ContentHash,
            InstallRow.Join(manifest.Capabilities), configText, "enabled", null, existing?.CreatedAt ?? now, now, InstallRow.Join(manifest.EgressHosts));
        await store.WriteInstallAsync(existing, row, actor, existing is null ? "install" : "install.version", ct);
        return Result(row);
    }

    public async Task<InstallResult> SetConfigAsync(string tenantId, string extensionId, JsonElement config, string actor, CancellationToken ct)
    {
        var install = await FindAsync(tenantId, extensionId, ct);
        var manifest = await LoadManifestAsync(install.ContentHash, ct);
        var row = install with { Config = ValidConfig(manifest, config, install.Version), UpdatedAt = store.Now };
        await store.WriteInstallAsync(install, row, actor, "install.config", ct);
        return Result(row);
    }

    public async Task<(InstallRow Install, IReadOnlyList<HistoryRow> History)> ShowAsync(string tenantId, string extensionId, CancellationToken ct)
    {
        var install = await FindAsync(tenantId, extensionId, ct);
        return (install, await store.ListHistoryAsync(install.Id, ct));
    }

    public async Task<ChangePlan> PlanUpgradeAsync(string tenantId, string extensionId, string version, CancellationToken ct)
    {
        var install = await FindAsync(tenantId, extensionId, ct);
        var target = await store.FindVersionAsync(extensionId, version, ct)
            ?? throw new ExtensionsException(ProblemCodes.NotFound, StatusCodes.Status404NotFound, $"version {extensionId}@{version} is not published");
        return Plan(install, target.Version, target.ContentHash, await LoadManifestAsync(target.ContentHash, ct));
    }

    public async Task<InstallResult> UpgradeAsync(
        string tenantId, string extensionId, string version, Consent? consent, JsonElement? config, string actor, CancellationToken ct)
    {
        var plan = await PlanUpgradeAsync(tenantId, extensionId, version, ct);
        return await MoveAsync(tenantId, extensionId, plan, consent, config, "install.upgrade", actor, ct);
    }

    /// <summary>Back to content this install ran before; grants it would need beyond today's need consent as for an upgrade.</summary>
    public async Task<InstallResult> RollbackAsync(
        string tenantId, string extensionId, string contentHash, Consent? consent, JsonElement? config, string actor, CancellationToken ct)
    {
        var plan = await PlanRollbackAsync(tenantId, extensionId, contentHash, ct);
        return await MoveAsync(tenantId, extensionId, plan, consent, config, "install.rollback", actor, ct);
    }

    /// <summary>What a rollback to <paramref name="contentHash"/> would change, before anything is changed.</summary>
    public async Task<ChangePlan> PlanRollbackAsync(string tenantId, string extensionId, string contentHash, CancellationToken ct)
    {
        var install = await FindAsync(tenantId, extensionId, ct);
        var history = await store.ListHistoryAsync(install.Id, ct);
        var earlier = history.LastOrDefault(h => h.ContentHash == contentHash)
            ?? throw new ExtensionsException(ProblemCodes.NotFound, StatusCodes.Status404NotFound,
                $"this install of {extensionId} never ran {contentHash}; it ran: {string.Join(", ", history.Select(h => $"{h.Version} {h.ContentHash}").Distinct())}");
        return Plan(install, earlier.Version, earlier.ContentHash, await LoadManifestAsync(earlier.ContentHash, ct));
    }

    private async Task<InstallResult> MoveAsync(
        string tenantId, string extensionId, ChangePlan plan, Consent? consent, JsonElement? config, string action, string actor, CancellationToken ct)
    {
        var install = await FindAsync(tenantId, extensionId, ct);
        if (install.ContentHash == plan.ToContentHash)
        {
            throw new ExtensionsException(ProblemCodes.InvalidState, StatusCodes.Status409Conflict,
                $"{extensionId} already runs {plan.ToVersion} ({plan.ToContentHash}) for tenant '{tenantId}'");
        }

        if (install.ContentHash != plan.FromContentHash)
        {
            throw new ExtensionsException(ProblemCodes.InvalidState, StatusCodes.Status409Conflict,
                $"{extensionId} changed while this was being decided (it now runs {install.Version}); look at the diff again");
        }

        var manifest = await LoadManifestAsync(plan.ToContentHash, ct);
        if (plan.ConsentRequired || consent is not null)
        {
            RequireExactConsent(manifest, consent ?? new Consent(null, null), $"{extensionId}@{plan.ToVersion}", "move to it", plan);
        }

        var configText = ValidConfig(manifest, config ?? JsonDocument.Parse(install.Config).RootElement, plan.ToVersion);
        var row = install with
        {
            Version = plan.ToVersion,
            ContentHash = plan.ToContentHash,
            GrantedCapabilities = InstallRow.Join(manifest.Capabilities),
            GrantedEgress = InstallRow.Join(manifest.EgressHosts),
            Config = configText,
            // New content gets a fresh verification on its next load.
            State = install.State == "failed" ? "enabled" : install.State,
            StateReason = install.State == "failed" ? null : install.StateReason,
            UpdatedAt = store.Now,
        };
        await store.WriteInstallAsync(install, row, actor, action, ct);
        return Result(row);
    }

    private static ChangePlan Plan(InstallRow install, string version, string contentHash, ExtensionManifest target) =>
        new(install.ExtensionId, install.TenantId, install.Version, install.ContentHash, version, contentHash,
            Diff(install.Capabilities, target.Capabilities), Diff(install.EgressHosts, target.EgressHosts),
            [.. target.Capabilities.Order(StringComparer.Ordinal)], [.. target.EgressHosts.Order(StringComparer.Ordinal)]);

    private static GrantDiff Diff(IReadOnlyList<string> granted, IReadOnlyList<string> wanted) =>
        new([.. wanted.Except(granted, StringComparer.Ordinal).Order(StringComparer.Ordinal)],
            [.. granted.Except(wanted, StringComparer.Ordinal).Order(StringComparer.Ordinal)]);

    private static void RequireExactConsent(ExtensionManifest manifest, Consent consent, string what, string purpose, ChangePlan? plan)
    {
        var capabilities = manifest.Capabilities.Order(StringComparer.Ordinal).ToArray();
        var egress = manifest.EgressHosts.Order(StringComparer.Ordinal).ToArray();
        var givenCapabilities = (consent.Capabilities ?? []).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var givenEgress = (consent.EgressHosts ?? []).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        if (capabilities.SequenceEqual(givenCapabilities) && egress.SequenceEqual(givenEgress))
        {
            return;
        }

        var detail = $"{what} asks for capabilities [{string.Join(", ", capabilities)}] and egress hosts [{string.Join(", ", egress)}]; " +
            $"consent to exactly these to {purpose} (you consented to [{string.Join(", ", givenCapabilities)}] and [{string.Join(", ", givenEgress)}])";
        if (plan is not null)
        {
            detail = $"{plan.ExtensionId} stays at {plan.FromVersion}: " + detail;
        }

        throw new ExtensionsException(ProblemCodes.ConsentRequired, StatusCodes.Status409Conflict, detail)
        {
            Members = plan is null ? null : new Dictionary<string, JsonElement> { ["diff"] = JsonSerializer.SerializeToElement(plan, Json) },
        };
    }

    private static string ValidConfig(ExtensionManifest manifest, JsonElement config, string version)
    {
        var errors = InstallConfig.Validate(manifest, config);
        if (errors.Count > 0)
        {
            throw new ExtensionsException(ProblemCodes.InvalidConfig, StatusCodes.Status400BadRequest,
                $"config does not match the schema of {manifest.ExtensionId}@{version}: {string.Join("; ", errors)}");
        }

        return config.GetRawText();
    }

    private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

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
        return Result(install with { State = state });
    }

    /// <summary>Other modules' data for the install goes first, so a failure there leaves the install to retry; then the row, its config and history.</summary>
    public async Task UninstallAsync(string tenantId, string extensionId, string actor, CancellationToken ct)
    {
        var install = await FindAsync(tenantId, extensionId, ct);
        foreach (var owner in dataOwners)
        {
            await owner.RemoveInstallDataAsync(install.Id, ct);
        }

        await store.DeleteInstallAsync(install, actor, ct);
    }

    private static InstallResult Result(InstallRow row) =>
        new(row.Id, row.TenantId, row.ExtensionId, row.Version, row.ContentHash, row.Capabilities, row.State, row.EgressHosts);

    private async Task<InstallRow> FindAsync(string tenantId, string extensionId, CancellationToken ct) =>
        await store.FindInstallAsync(tenantId, extensionId, ct)
        ?? throw new ExtensionsException(ProblemCodes.NotFound, StatusCodes.Status404NotFound, $"{extensionId} is not installed for tenant '{tenantId}'");
}
