using Extensions.Modules.Common;
using Extensions.Modules.Registry;
using Extensions.Modules.Registry.Auth;
using Extensions.Modules.Registry.Contracts;
using Extensions.Modules.Registry.Data;
using Extensions.Modules.Registry.Endpoints;
using Extensions.Modules.Registry.Installs;
using Extensions.Modules.Registry.Publishing;
using Extensions.Modules.Registry.Seeding;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

public static class RegistryModule
{
    /// <summary>Tenants, API keys, publish, installs, trust and audit; the <c>ApiKey</c> authentication scheme.</summary>
    public static IServiceCollection AddRegistryModule(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddModuleOptions<RegistryOptions>(configuration, RegistryOptions.SectionName);
        foreach (var migration in RegistryMigrations.All)
        {
            services.AddSingleton(migration);
        }

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<CrashPoints>();
        services.TryAddSingleton<RegistryStore>();
        services.TryAddSingleton<TrustStore>();
        services.TryAddSingleton<ApiKeys>();
        services.TryAddSingleton<ICallerAuthenticator, CallerAuthenticator>();
        services.TryAddSingleton<PublishService>();
        services.TryAddSingleton<InstallService>();
        services.TryAddSingleton<IInstallResolver, InstallResolver>();
        services.TryAddSingleton<IInstallDirectory, InstallDirectory>();
        services.TryAddSingleton<IInstalledBundles, InstalledBundles>();
        services.TryAddSingleton<ITenantKeys, TenantKeys>();
        services.TryAddSingleton<IAuditTrail, AuditTrail>();
        services.TryAddSingleton<IRegistryAdmin, RegistryAdmin>();
        services.AddHostedService<FirstStartSeeder>();

        var authentication = services.AddAuthentication(CallerIdentity.DefaultScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(CallerIdentity.Scheme, null);
        ConsoleSessions.Register(services, authentication);
        services.TryAddSingleton<IInstallCatalog, InstallCatalog>();
        services.AddAuthorizationBuilder()
            .AddPolicy(CallerIdentity.AdminPolicy, p => p.RequireAuthenticatedUser().RequireClaim("kind", CallerIdentity.AdminKind));
        return services;
    }

    public static IEndpointRouteBuilder MapRegistryEndpoints(this IEndpointRouteBuilder endpoints)
    {
        AdminEndpoints.Map(endpoints);
        UserEndpoints.Map(endpoints);
        return endpoints;
    }
}
