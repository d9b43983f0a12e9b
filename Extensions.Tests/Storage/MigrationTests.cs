using Dapper;
using Extensions.Modules.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Extensions.Tests.Storage;

[TestFixture]
public sealed class MigrationTests
{
    [Test]
    public async Task Start_TwiceOnTheSameFile_AppliesEachMigrationOnce_InWalMode()
    {
        var dir = Directory.CreateTempSubdirectory("ext-db-").FullName;
        try
        {
            for (var run = 0; run < 2; run++)
            {
                await using var services = Services(dir, new Migration("probe", 1, "CREATE TABLE probe_items (id TEXT PRIMARY KEY);"),
                    new Migration("probe", 2, "INSERT INTO probe_items (id) VALUES ('a');"));
                foreach (var hosted in services.GetServices<IHostedService>())
                {
                    await hosted.StartAsync(CancellationToken.None);
                }

                await using var connection = await services.GetRequiredService<IDatabase>().OpenAsync();
                Assert.That(await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM probe_items"), Is.EqualTo(1), $"run {run}");
                Assert.That(await connection.ExecuteScalarAsync<string>("PRAGMA journal_mode"), Is.EqualTo("wal"));
                Assert.That(await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM storage_migrations WHERE module = 'probe'"), Is.EqualTo(2));
            }

            Assert.That(File.Exists(Path.Combine(dir, "extensions.db")), Is.True);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public async Task FailingMigration_StopsStart_AndLeavesNoPartialStep()
    {
        var dir = Directory.CreateTempSubdirectory("ext-db-").FullName;
        try
        {
            await using var services = Services(dir, new Migration("broken", 1, "CREATE TABLE broken_a (id TEXT); THIS IS NOT SQL;"));
            var runner = services.GetServices<IHostedService>().First();

            Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() => runner.StartAsync(CancellationToken.None));

            await using var connection = await services.GetRequiredService<IDatabase>().OpenAsync();
            Assert.That(await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM sqlite_master WHERE name = 'broken_a'"), Is.Zero);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public async Task EveryOpenedConnection_HasThePlatformsPragmas_FreshOrFromThePool()
    {
        var dir = Directory.CreateTempSubdirectory("ext-db-").FullName;
        try
        {
            await using var services = Services(dir);
            var database = services.GetRequiredService<IDatabase>();
            await using (var held = await database.OpenAsync())
            {
                // Two at once: the second is a new physical connection, not the pooled first one.
                await using var second = await database.OpenAsync();
                Assert.That(await second.ExecuteScalarAsync<long>("PRAGMA synchronous"), Is.EqualTo(1), "NORMAL on a second physical connection");
            }

            for (var i = 0; i < 3; i++)
            {
                await using var reused = await database.OpenAsync();
                Assert.That(await reused.ExecuteScalarAsync<long>("PRAGMA synchronous"), Is.EqualTo(1), "NORMAL on a pooled connection");
                Assert.That(await reused.ExecuteScalarAsync<long>("PRAGMA busy_timeout"), Is.GreaterThan(0));
                Assert.That(await reused.ExecuteScalarAsync<long>("PRAGMA foreign_keys"), Is.EqualTo(1));
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }

    private static ServiceProvider Services(string dir, params Migration[] migrations)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Storage:DataDirectory"] = dir }).Build();
        var services = new ServiceCollection().AddLogging().AddStorageModule(configuration);
        foreach (var migration in migrations)
        {
            services.AddSingleton(migration);
        }

        return services.BuildServiceProvider();
    }
}
