using Extensions.Modules.Console;
using Microsoft.AspNetCore.Routing;

namespace Microsoft.Extensions.DependencyInjection;

public static class ConsoleModule
{
    /// <summary>The console needs the Registry (sessions, installs) and Assets (origins) modules; it adds no services of its own.</summary>
    public static IServiceCollection AddConsoleModule(this IServiceCollection services) => services;

    /// <summary>The server-rendered console under <c>/console</c>.</summary>
    public static IEndpointRouteBuilder MapConsoleEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ConsolePages.Map(endpoints);
        return endpoints;
    }
}
