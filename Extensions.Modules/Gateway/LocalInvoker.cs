using Extensions.Modules.Bundles;
using Extensions.Modules.Runner.Contracts;

namespace Extensions.Modules.Gateway;

/// <summary>One request against a bundle with no server: the same endpoint matching and worker path as the gateway.</summary>
internal static class LocalInvoker
{
    public static async Task<InvocationResult?> InvokeAsync(
        IExtensionRunner runner, ExtensionManifest manifest, string moduleHash, string modulePath,
        string method, string pathAndQuery, IReadOnlyList<KeyValuePair<string, string>> headers, byte[] body,
        IReadOnlyList<KeyValuePair<string, string>> config, CancellationToken cancellationToken)
    {
        var q = pathAndQuery.IndexOf('?', StringComparison.Ordinal);
        var segments = EndpointMatcher.Segments(q < 0 ? pathAndQuery : pathAndQuery[..q])
            ?? throw new ArgumentException($"path '{pathAndQuery}' contains an encoded separator, a dot segment or an invalid escape");
        if (EndpointMatcher.Match(manifest.Endpoints, method.ToUpperInvariant(), segments) is not { } match)
        {
            return null;
        }

        var requestId = $"local-{Guid.NewGuid():N}";
        return await runner.InvokeAsync(new InvocationRequest
        {
            TenantId = "local",
            ExtensionId = manifest.ExtensionId,
            InstallId = Microsoft.Extensions.DependencyInjection.GatewayModule.LocalInstallId,
            Version = manifest.Version,
            RequestId = requestId,
            ModuleHash = moduleHash,
            ModulePath = modulePath,
            Limits = EndpointMatcher.LimitsFor(runner, manifest, match.Endpoint),
            Request = new GuestHttpRequest(method.ToUpperInvariant(), "/" + string.Join('/', segments), q < 0 ? "" : pathAndQuery[(q + 1)..],
                headers, match.Params, body),
            Context = [new("tenant", "local"), new("extension", manifest.ExtensionId), new("install", Microsoft.Extensions.DependencyInjection.GatewayModule.LocalInstallId),
                new("version", manifest.Version), new("request_id", requestId), new("user.id", "local"), new("user.kind", "local")],
            Config = config,
            Grants = manifest.Capabilities.ToHashSet(StringComparer.Ordinal),
            SecretNames = manifest.Secrets,
            EgressHosts = manifest.EgressHosts,
        }, cancellationToken);
    }
}
