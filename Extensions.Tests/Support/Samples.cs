using System.Text.Json.Nodes;

namespace Extensions.Tests.Support;

/// <summary>The repository's sample extensions (their committed manifests and built modules), for end-to-end tests.</summary>
internal static class Samples
{
    private static readonly Lazy<string> Root = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Extensions.sln")))
            {
                return Path.Combine(dir.FullName, "samples");
            }
        }

        throw new InvalidOperationException("the repository root (Extensions.sln) is not above the test binaries");
    });

    /// <summary>The folder of sample <paramref name="name"/> in the repository.</summary>
    public static string PathOf(string name) => Path.Combine(Root.Value, name);

    /// <summary>
    /// A copy of sample <paramref name="name"/> (manifest + its <c>main</c> module) under the test publisher (whose key the test
    /// platform signs with), optionally with its manifest changed further.
    /// </summary>
    public static string Copy(string name, Action<JsonObject>? editManifest = null)
    {
        var source = Path.Combine(Root.Value, name);
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(source, "manifest.json")))!.AsObject();
        var main = manifest["main"]!.GetValue<string>();
        manifest["publisher"] = TestPlatform.TestPublisherName;
        editManifest?.Invoke(manifest);
        var dir = Tests.TestRun.NewDirectory($"sample-{name}");
        File.WriteAllText(Path.Combine(dir, "manifest.json"), manifest.ToJsonString());
        Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(dir, main))!);
        File.Copy(Path.Combine(source, main), Path.Combine(dir, main));
        return dir;
    }
}

/// <summary>Row counts straight from the platform's SQLite file, for tests that must see what was (not) stored.</summary>
internal static class Rows
{
    public static async Task<long> CountAsync(TestPlatform platform, string sql, object? parameters = null) =>
        await ScalarAsync<long>(platform, sql, parameters);

    public static async Task<string> InstallIdAsync(TestPlatform platform, string extensionId, string tenant = "default") =>
        await ScalarAsync<string>(platform, "SELECT id FROM registry_installs WHERE tenant_id = @tenant AND extension_id = @extensionId", new { tenant, extensionId }) ?? "";

    private static async Task<T?> ScalarAsync<T>(TestPlatform platform, string sql, object? parameters)
    {
        await using var db = await Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions
            .GetRequiredService<Modules.Storage.IDatabase>(platform.App.Services).OpenAsync();
        return await Dapper.SqlMapper.ExecuteScalarAsync<T>(db, sql, parameters);
    }
}
