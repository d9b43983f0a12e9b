using Extensions.Modules.Common;

namespace Microsoft.Extensions.DependencyInjection;

public static class CommonModule
{
    /// <summary>Problem details for every error, through one exception handler.</summary>
    public static IServiceCollection AddProblemHandling(this IServiceCollection services)
    {
        services.AddProblemDetails();
        services.AddExceptionHandler<ProblemExceptionHandler>();
        return services;
    }
}
