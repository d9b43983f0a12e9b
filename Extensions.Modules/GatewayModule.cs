using Extensions.Modules.Common;
using Extensions.Modules.Bundles;
using Extensions.Modules.Gateway;
using Extensions.Modules.Runner.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

public static class GatewayModule
{
    /// <summary>The install id of every <see cref="InvokeLocalAsync"/> run (tenant <c>local</c>).</summary>
    public const string LocalInstallId = "local";

    public static IServiceCollection AddGatewayModule(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddModuleOptions<GatewayOptions>(configuration, GatewayOptions.SectionName);
        services.AddSingleton(InvocationRecorder.Migration);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<InvocationRecorder>();
        services.AddHostedService(sp => sp.GetRequiredService<InvocationRecorder>());
        return services;
    }

    /// <summary>The extension front door, <c>/api/ext/{extensionId}/{**path}</c>, and <c>/healthz</c>.</summary>
    public static IEndpointRouteBuilder MapGatewayEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapMethods(ExtensionEndpoint.Route, ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"], ExtensionEndpoint.HandleAsync)
            .RequireAuthorization()
            .WithName("InvokeExtension")
            .WithTags("Gateway");
        endpoints.MapGet("/healthz", HealthEndpoint.Handle).WithName("Health").AllowAnonymous();
        InvocationEndpoints.Map(endpoints);
        return endpoints;
    }

    /// <summary>
    /// Runs one request against a manifest and module with no server, through the same endpoint matching and worker path
    /// as the gateway (the <c>invoke</c> verb). Every capability the manifest asks for is granted.
    /// </summary>
    /// <returns><c>null</c> when no declared endpoint matches.</returns>
    public static Task<InvocationResult?> InvokeLocalAsync(
        IExtensionRunner runner, ExtensionManifest manifest, string moduleHash, string modulePath,
        string method, string pathAndQuery, IReadOnlyList<KeyValuePair<string, string>> headers, byte[] body,
        IReadOnlyList<KeyValuePair<string, string>> config, CancellationToken cancellationToken = default) =>
        LocalInvoker.InvokeAsync(runner, manifest, moduleHash, modulePath, method, pathAndQuery, headers, body, config, cancellationToken);
}
