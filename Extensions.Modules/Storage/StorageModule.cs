using Extensions.Modules.Common;
using Extensions.Modules.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

public static class StorageModule
{
    /// <summary>SQLite database with migrations applied at start, and the content-addressed store.</summary>
    public static IServiceCollection AddStorageModule(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddModuleOptions<StorageOptions>(configuration, StorageOptions.SectionName);
        services.TryAddSingleton<IDatabase, SqliteDatabase>();
        services.TryAddSingleton<IContentStore, FileContentStore>();
        // First hosted service: everything after it may assume the schema is current.
        services.Insert(0, ServiceDescriptor.Singleton<IHostedService, MigrationRunner>());
        return services;
    }
}
