using Extensions.Modules.Common;
using Extensions.Modules.Bundles;
using Extensions.Modules.Gateway;
using Extensions.Modules.Gateway.Contracts;
using Extensions.Modules.Registry.Contracts;
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

    private static readonly PathString GatewayPath = new("/api/ext");

    public static IServiceCollection AddGatewayModule(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddModuleOptions<GatewayOptions>(configuration, GatewayOptions.SectionName);
        services.AddSingleton(InvocationRecorder.Migration);
        services.AddSingleton(IdempotencyStore.Migration);
        services.AddSingleton(CorsPolicy.Migration);
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.TryAddSingleton<InvocationRecorder>();
        services.TryAddSingleton<IInvocationLog>(sp => sp.GetRequiredService<InvocationRecorder>());
        services.AddHostedService(sp => sp.GetRequiredService<InvocationRecorder>());
        services.TryAddSingleton<GatewayLimiter>();
        services.TryAddSingleton<IdempotencyStore>();
        services.TryAddSingleton<CorsPolicy>();
        services.TryAddSingleton<GatewayTelemetry>();
        services.TryAddSingleton<ExtensionEndpoint>();
        return services;
    }

    /// <summary>
    /// The authentication middleware, for every path but the extension front door: that one authenticates its callers
    /// itself (<see cref="ICallerAuthenticator"/>), a key cache lookup instead of two scheme handlers and a claims
    /// principal per call.
    /// </summary>
    public static IApplicationBuilder UseCallerAuthentication(this IApplicationBuilder app)
    {
        app.UseWhen(context => !context.Request.Path.StartsWithSegments(GatewayPath), branch => branch.UseAuthentication());
        // UseAuthentication marks only the branch's copy of the properties; without the mark on the application itself,
        // WebApplication adds a second authentication middleware, for every path, in front of the whole pipeline.
        app.Properties[AuthenticationMiddlewareSetKey] = true;
        return app;
    }

    /// <summary>The mark <c>UseAuthentication</c> leaves (ASP.NET Core's <c>AuthAppBuilderExtensions</c>).</summary>
    private const string AuthenticationMiddlewareSetKey = "__AuthenticationMiddlewareSet";

    /// <summary>The extension front door, <c>/api/ext/{extensionId}/{**path}</c>, <c>/healthz</c>, invocation records and
    /// per-install CORS allowlists.</summary>
    public static IEndpointRouteBuilder MapGatewayEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapMethods(ExtensionEndpoint.Route, ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
                (HttpContext context, string extensionId, ExtensionEndpoint gateway) => gateway.HandleAsync(context, extensionId))
            .AllowAnonymous()   // only at the door: the handler authenticates the caller itself and answers 401 without one
            .WithName("InvokeExtension")
            .WithTags("Gateway");
        // Anonymous at the door because a browser's preflight carries no key; the handler asks for one otherwise.
        endpoints.MapMethods(ExtensionEndpoint.Route, ["OPTIONS"],
                (HttpContext context, string extensionId, ExtensionEndpoint gateway) => gateway.HandleOptionsAsync(context, extensionId))
            .AllowAnonymous()
            .WithName("ExtensionOptions")
            .WithTags("Gateway");
        CorsPolicy.MapAdmin(endpoints);
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
