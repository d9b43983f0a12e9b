using Dapper;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Extensions.Modules.Storage;

/// <summary>Applies every module's pending migrations before anything else starts; a failure stops the host.</summary>
internal sealed partial class MigrationRunner(IDatabase database, IEnumerable<Migration> migrations, ILogger<MigrationRunner> logger)
    : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        // WAL is a property of the database file: set once, it persists.
        await connection.ExecuteAsync("PRAGMA journal_mode = WAL;");
        await connection.ExecuteAsync("""
            CREATE TABLE IF NOT EXISTS storage_migrations (
                module TEXT NOT NULL,
                version INTEGER NOT NULL,
                applied_at INTEGER NOT NULL,
                PRIMARY KEY (module, version));
            """);

        var applied = (await connection.QueryAsync<(string Module, long Version)>(
            "SELECT module, version FROM storage_migrations")).ToHashSet();

        foreach (var migration in migrations.OrderBy(m => m.Module, StringComparer.Ordinal).ThenBy(m => m.Version))
        {
            if (applied.Contains((migration.Module, migration.Version)))
            {
                continue;
            }

            await using var tx = await connection.BeginTransactionAsync(cancellationToken);
            await connection.ExecuteAsync(new CommandDefinition(migration.Sql, transaction: tx, cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO storage_migrations (module, version, applied_at) VALUES (@Module, @Version, @At)",
                new { migration.Module, migration.Version, At = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() },
                tx, cancellationToken: cancellationToken));
            await tx.CommitAsync(cancellationToken);
            Log.MigrationApplied(logger, migration.Module, migration.Version);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(EventId = 500, Level = LogLevel.Information, Message = "Applied migration {Module} v{Version}")]
        public static partial void MigrationApplied(ILogger logger, string module, int version);
    }
}
