using Extensions.Modules.Common;
using Extensions.Modules.HostApi;
using Extensions.Modules.HostApi.Contracts;
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
        services.TryAddSingleton<IGuestLogReader>(sp => sp.GetRequiredService<GuestLogStore>());
        services.AddHostedService(sp => sp.GetRequiredService<GuestLogStore>());
        services.TryAddSingleton<GuestLog>();
        services.TryAddSingleton<HostApiMetrics>();
        services.TryAddSingleton<KvStore>();
        services.TryAddSingleton<HostKey>();
        services.AddHostedService(sp => sp.GetRequiredService<HostKey>());
        services.TryAddSingleton<SecretStore>();
        services.TryAddSingleton<InstallSecrets>();
        services.TryAddSingleton<IInstallSecrets>(sp => sp.GetRequiredService<InstallSecrets>());
        services.TryAddSingleton<EgressPolicy>();
        services.TryAddSingleton<HttpFetcher>();
        services.TryAddSingleton<IHostCalls, HostCalls>();
        services.AddSingleton<IInstallDataOwner, InstallData>();
        return services;
    }

    /// <summary>
    /// Puts <paramref name="transport"/> where the network is under <c>http_fetch</c>: the <c>invoke</c> verb's egress stubs.
    /// Consent, address literals, redirects, size and time caps and the call cap are enforced exactly as in production;
    /// only names are not resolved, since nothing is connected to.
    /// </summary>
    public static IServiceCollection AddEgressTransport(this IServiceCollection services, HttpMessageHandler transport)
    {
        services.AddSingleton(new EgressTransport(transport));
        return services;
    }

    /// <summary>
    /// Stores secret values for one install, encrypted like any other: the <c>invoke</c> verb's <c>--secret</c>, which runs
    /// against a throw-away data directory. The caller checks the names against the manifest.
    /// </summary>
    public static async Task SetSecretsAsync(IServiceProvider services, string installId, IEnumerable<KeyValuePair<string, string>> secrets, CancellationToken cancellationToken = default)
    {
        var store = services.GetRequiredService<SecretStore>();
        foreach (var (name, value) in secrets)
        {
            await store.SetAsync(installId, name, System.Text.Encoding.UTF8.GetBytes(value), cancellationToken);
        }
    }

    /// <summary>Admin endpoints of the capabilities: install secrets (<c>/api/admin/installs/{tenant}/{extensionId}/secrets</c>) and guest logs.</summary>
    public static IEndpointRouteBuilder MapHostApiEndpoints(this IEndpointRouteBuilder endpoints)
    {
        SecretEndpoints.Map(endpoints);
        GuestLogEndpoints.Map(endpoints);
        return endpoints;
    }
}
