using Extensions.Modules.HostApi;
using Extensions.Modules.Runner.Contracts;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

public static class HostApiModule
{
    /// <summary>Capability implementations that guests reach through the worker pipe.</summary>
    public static IServiceCollection AddHostApiModule(this IServiceCollection services)
    {
        services.TryAddSingleton<IHostCalls, GuestLog>();
        return services;
    }
}
