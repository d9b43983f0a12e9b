using Extensions.Modules.Common;
using Extensions.Modules.HostApi;
using Extensions.Modules.Runner.Contracts;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

public static class HostApiModule
{
    /// <summary>Capability implementations that guests reach through the worker pipe.</summary>
    public static IServiceCollection AddHostApiModule(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddModuleOptions<HostApiOptions>(configuration, HostApiOptions.SectionName);
        foreach (var migration in HostApiMigrations.All)
        {
            services.AddSingleton(migration);
        }

        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<GuestLog>();
        services.TryAddSingleton<HostApiMetrics>();
        services.TryAddSingleton<KvStore>();
        services.TryAddSingleton<HostKey>();
        services.AddHostedService(sp => sp.GetRequiredService<HostKey>());
        services.TryAddSingleton<SecretStore>();
        services.TryAddSingleton<EgressPolicy>();
        services.TryAddSingleton<HttpFetcher>();
        services.TryAddSingleton<IHostCalls, HostCalls>();
        return services;
    }

    /// <summary>The admin API for install secrets: <c>/api/admin/installs/{tenant}/{extensionId}/secrets</c>.</summary>
    public static IEndpointRouteBuilder MapHostApiEndpoints(this IEndpointRouteBuilder endpoints)
    {
        SecretEndpoints.Map(endpoints);
        return endpoints;
    }
}
