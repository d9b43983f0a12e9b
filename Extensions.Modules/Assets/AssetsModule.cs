using Extensions.Modules.Assets;
using Extensions.Modules.Common;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

public static class AssetsModule
{
    /// <summary>Per-extension asset origins and the UI file cache; <see cref="AssetOrigins"/> is the public contract.</summary>
    public static IServiceCollection AddAssetsModule(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddModuleOptions<AssetsOptions>(configuration, AssetsOptions.SectionName);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<AssetOrigins>();
        services.TryAddSingleton<UiBundleCache>();
        services.TryAddSingleton<SdkFiles>();
        return services;
    }

    /// <summary><c>GET/HEAD /ext-ui/{extensionId}/{contentHash}/{**path}</c>; the host keeps it on the asset listener only.</summary>
    public static IEndpointRouteBuilder MapAssetsEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapMethods(AssetEndpoint.Route, ["GET", "HEAD"], AssetEndpoint.HandleAsync)
            .AllowAnonymous()
            .WithName("ExtensionUiAsset")
            .WithTags("Assets");
        return endpoints;
    }
}
