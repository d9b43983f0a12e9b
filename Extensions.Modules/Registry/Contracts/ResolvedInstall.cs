using Extensions.Modules.Bundles;

namespace Extensions.Modules.Registry.Contracts;

/// <summary>A tenant's enabled install, verified and ready to run: what the gateway needs to dispatch a request.</summary>
public sealed record ResolvedInstall(
    string InstallId,
    string TenantId,
    string ExtensionId,
    string Version,
    string ContentHash,
    string ModuleHash,
    string ModulePath,
    ExtensionManifest Manifest,
    IReadOnlySet<string> Grants,
    IReadOnlyList<KeyValuePair<string, string>> Config)
{
    /// <summary>Hosts the admin consented to for <c>http_fetch</c> (manifest <c>egress.allowedHosts</c>); <c>*.</c> entries allow subdomains.</summary>
    public IReadOnlySet<string> EgressHosts { get; init; } = new HashSet<string>();
}

/// <summary>Why an install could not be resolved.</summary>
public enum ResolveFailure
{
    None,
    NotInstalled,
    Disabled,
    Failed,
}

public sealed record ResolveResult(ResolvedInstall? Install, ResolveFailure Failure, string? Detail);
