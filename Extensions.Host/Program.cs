using Extensions.Host.Commands;
using Extensions.Host.Hosting;

// Table of contents. The platform is composed in Platform.Build (modules, middleware, endpoints);
// the verbs of this one binary are listed in Verbs.Create. With no verb, the platform serves.
return await Verbs.InvokeAsync(Verbs.Create().Parse(args.Length == 0 ? ["serve"] : args));

namespace Extensions.Host
{
    using Microsoft.AspNetCore.Builder;

    /// <summary>The platform: every module's services and endpoints, in one ASP.NET Core process.</summary>
    public static class Platform
    {
        public static WebApplication Build(IReadOnlyDictionary<string, string?> settings)
        {
            var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
            builder.Configuration.AddInMemoryCollection(settings);
            var configuration = builder.Configuration;

            builder.Services
                .AddProblemHandling()
                .AddStorageModule(configuration)
                .AddRunnerModule(configuration)     // before Registry: workers are up when first-start seeding publishes
                .AddRegistryModule(configuration)
                .AddHostApiModule(configuration)
                .AddGatewayModule(configuration)
                .AddAssetsModule(configuration)
                .AddConsoleModule()
                .AddTelemetryModule(configuration);
            builder.WebHost.UsePlatformListeners(configuration);

            var app = builder.Build();
            app.UseAssetOriginIsolation();
            app.UseExceptionHandler();
            app.UseCallerAuthentication();   // all but the extension front door, which authenticates its callers itself
            app.UseAuthorization();

            app.MapRegistryEndpoints();
            app.MapGatewayEndpoints();
            app.MapHostApiEndpoints();
            app.MapAssetsEndpoints();
            app.MapConsoleEndpoints();
            return app;
        }
    }
}
