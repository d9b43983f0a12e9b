using System.Collections.Concurrent;
using System.Text.Json;
using Extensions.Modules.Bundles;
using Extensions.Modules.Registry.Contracts;
using Extensions.Modules.Registry.Data;
using Extensions.Modules.Registry.Publishing;
using Extensions.Modules.Storage;
using Microsoft.Extensions.Logging;

namespace Extensions.Modules.Registry.Installs;

/// <summary>
/// Resolves (tenant, extension) to a runnable install. Loading an install re-reads its bundle from the CAS (hash verified)
/// and re-verifies the signature against the current trust bundle; a bundle that fails is marked <c>failed</c> and audited.
/// Results are cached until the registry's generation changes.
/// </summary>
internal sealed partial class InstallResolver(RegistryStore store, IContentStore cas, TrustStore trust, ILogger<InstallResolver> logger)
    : IInstallResolver
{
    private readonly ConcurrentDictionary<(string, string), ((long, long) Generation, ResolveResult Result)> _cache = new();

    public async ValueTask<ResolveResult> ResolveAsync(string tenantId, string extensionId, CancellationToken cancellationToken = default)
    {
        // A trust bundle edited on disk (a revoked key) must reach installs that are already loaded.
        _ = trust.Latest;
        var generation = (store.Generation, trust.Generation);
        if (_cache.TryGetValue((tenantId, extensionId), out var cached) && cached.Generation == generation)
        {
            return cached.Result;
        }

        var result = await LoadAsync(tenantId, extensionId, cancellationToken);
        _cache[(tenantId, extensionId)] = (generation, result);
        return result;
    }

    private async Task<ResolveResult> LoadAsync(string tenantId, string extensionId, CancellationToken ct)
    {
        var install = await store.FindInstallAsync(tenantId, extensionId, ct);
        switch (install?.State)
        {
            case null:
                return new(null, ResolveFailure.NotInstalled, null);
            case "disabled":
            case "pending":
                return new(null, ResolveFailure.Disabled, $"install is {install.State}");
            case "failed":
                return new(null, ResolveFailure.Failed, install.StateReason);
        }

        var bundleRow = await store.FindBundleAsync(install.ContentHash, ct);
        string? problem = null;
        Bundle? bundle = null;
        try
        {
            var tar = await cas.ReadAsync(install.ContentHash, ct);
            if (tar is null || bundleRow is null)
            {
                problem = $"bundle {install.ContentHash} is missing from the content store";
            }
            else
            {
                bundle = BundleReader.Read(tar);
                var check = trust.Current.Verify(BundleSignature.Parse(bundleRow.Signature), bundle.ContentHash, bundle.Manifest.Publisher);
                if (!check.Ok)
                {
                    problem = $"signature no longer verifies: {check.Code}: {check.Message}";
                }
                else if (!cas.Exists(bundleRow.ModuleHash))
                {
                    problem = $"module {bundleRow.ModuleHash} is missing from the content store";
                }
            }
        }
        catch (Exception ex) when (ex is ContentIntegrityException or BundleException or IOException)
        {
            problem = ex.Message;
        }

        if (problem is not null)
        {
            Log.InstallFailed(logger, tenantId, extensionId, problem);
            await store.SetInstallStateAsync(install.Id, tenantId, extensionId, "failed", problem, "system", ct);
            return new(null, ResolveFailure.Failed, problem);
        }

        var config = new List<KeyValuePair<string, string>>();
        using (var doc = JsonDocument.Parse(install.Config))
        {
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                config.Add(new(property.Name, property.Value.GetRawText()));
            }
        }

        var grants = install.Capabilities.ToHashSet(StringComparer.Ordinal);
        return new(new ResolvedInstall(install.Id, tenantId, extensionId, install.Version, install.ContentHash,
            bundleRow!.ModuleHash, cas.PathOf(bundleRow.ModuleHash), bundle!.Manifest, grants, config)
        {
            EgressHosts = install.EgressHosts.ToHashSet(StringComparer.Ordinal),
        }, ResolveFailure.None, null);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2010, Level = LogLevel.Error, Message = "Install of {ExtensionId} for tenant {TenantId} failed verification: {Problem}")]
        public static partial void InstallFailed(ILogger logger, string tenantId, string extensionId, string problem);
    }
}
