using Extensions.Modules.Common;
using Extensions.Modules.HostApi;
using Extensions.Modules.Registry.Contracts;
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
        services.TryAddSingleton<GuestLogStore>();
        services.AddHostedService(sp => sp.GetRequiredService<GuestLogStore>());
        services.TryAddSingleton<GuestLog>();
        services.TryAddSingleton<HostApiMetrics>();
        services.TryAddSingleton<KvStore>();
        services.TryAddSingleton<IHostCalls, HostCalls>();
        services.AddSingleton<IInstallDataOwner, InstallData>();
        return services;
    }

    /// <summary>Admin endpoints of the capabilities: guest logs.</summary>
    public static IEndpointRouteBuilder MapHostApiEndpoints(this IEndpointRouteBuilder endpoints)
    {
        GuestLogEndpoints.Map(endpoints);
        return endpoints;
    }
}
