using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Dapper;
using Extensions.Modules.Bundles;
using Extensions.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Extensions.Tests.Registry;

/// <summary>
/// kill -9 of the real binary in the middle of publish or install (frozen at a named point by the test-only
/// <c>EXTENSIONS_TEST_PAUSE_AT</c> hook) leaves the registry in the old state or the new one, never in between.
/// </summary>
[TestFixture]
[CancelAfter(120_000)]
public sealed class CrashSafetyTests
{
    private const string Extension = "test.crash";
    private string _work = null!;
    private PublisherKey _key = null!;

    [SetUp]
    public void SetUp()
    {
        _work = Directory.CreateTempSubdirectory("ext-crash-").FullName;
        _key = PublisherKey.Generate();
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_work, recursive: true);

    private string Data => Path.Combine(_work, "data");

    private async Task<(Process Process, HttpClient Http, StringBuilder Output)> ServeAsync(string? pauseAt)
    {
        var environment = new Dictionary<string, string>();
        if (pauseAt is not null)
        {
            environment["EXTENSIONS_TEST_PAUSE_AT"] = $"{pauseAt}@{Extension}";
        }

        var (process, console, _, output) = await HostProcess.ServeAsync(_work, environment, "--data", "data", "--port", "0", "--asset-port", "0");
        var http = new HttpClient { BaseAddress = console, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (await File.ReadAllTextAsync(Path.Combine(Data, "admin.key"))).Trim());
        var trust = Path.Combine(Data, "trust.json");
        TrustBundle.Load(trust).WithKey(TestPlatform.TestPublisherName, _key.PublicKeyRaw).Save(trust);
        return (process, http, output);
    }

    private static async Task KillWhenPausedAsync(Process process, StringBuilder output, string point, Task pending)
    {
        var deadline = Stopwatch.StartNew();
        while (!Contains(output, $"paused at {point}"))
        {
            Assert.That(deadline.Elapsed, Is.LessThan(TimeSpan.FromSeconds(30)), $"never paused at {point}:\n{output}");
            Assert.That(pending.IsCompleted, Is.False, $"the request finished without pausing at {point}");
            await Task.Delay(50);
        }

        await HostProcess.KillAsync(process);   // SIGKILL: no shutdown code runs
        process.Dispose();
        try
        {
            await pending;
        }
        catch (HttpRequestException)
        {
            // The connection died with the server, as it should.
        }
    }

    private static bool Contains(StringBuilder output, string text)
    {
        lock (output)
        {
            return output.ToString().Contains(text, StringComparison.Ordinal);
        }
    }

    private static MultipartFormDataContent Upload(PackedBundle packed, PublisherKey key) => new()
    {
        { new ByteArrayContent(packed.ToGzip()), "bundle", "b.extb" },
        { new StringContent(BundleSignature.Create(packed.ContentHash, key).ToJson()), "signature", "b.extb.sig" },
    };

    /// <summary>Every registry row that mentions the extension or its content, straight from the SQLite file.</summary>
    private async Task<Dictionary<string, long>> RowsAsync(string contentHash)
    {
        await using var db = new SqliteConnection($"Data Source={Path.Combine(Data, "extensions.db")};Mode=ReadOnly;Pooling=False");
        await db.OpenAsync();
        var rows = new Dictionary<string, long>();
        foreach (var (name, sql) in new[]
        {
            ("extensions", "SELECT COUNT(*) FROM registry_extensions WHERE id = @Extension"),
            ("versions", "SELECT COUNT(*) FROM registry_versions WHERE extension_id = @Extension"),
            ("bundles", "SELECT COUNT(*) FROM registry_bundles WHERE content_hash = @contentHash"),
            ("installs", "SELECT COUNT(*) FROM registry_installs WHERE extension_id = @Extension"),
            ("history", "SELECT COUNT(*) FROM registry_install_history WHERE extension_id = @Extension"),
            ("audit", "SELECT COUNT(*) FROM registry_audit WHERE extension_id = @Extension OR subject LIKE @Extension || '@%'"),
        })
        {
            rows[name] = await db.ExecuteScalarAsync<long>(sql, new { Extension, contentHash });
        }

        return rows;
    }

    private static Dictionary<string, long> Expect(long extensions, long versions, long bundles, long installs, long history, long audit) => new()
    {
        ["extensions"] = extensions, ["versions"] = versions, ["bundles"] = bundles, ["installs"] = installs, ["history"] = history, ["audit"] = audit,
    };

    [TestCase("publish.before-cas")]
    [TestCase("publish.after-bundle")]
    [TestCase("publish.after-precompile")]
    [TestCase("publish.before-commit")]
    public async Task KilledMidPublish_LeavesNoTraceInTheRegistry_AndPublishingAgainWorks(string point)
    {
        var packed = BundlePacker.Pack(GuestFixtures.Create("crash", GuestFixtures.Says("alive")));
        var (process, http, output) = await ServeAsync(point);
        using (http)
        {
            await KillWhenPausedAsync(process, output, point, http.PostAsync("/api/admin/bundles", Upload(packed, _key)));
        }

        Assert.That(File.Exists(Path.Combine(Data, "extensions.db")), Is.True);
        Assert.That(await RowsAsync(packed.ContentHash), Is.EqualTo(Expect(0, 0, 0, 0, 0, 0)), "the old state: nothing of the publish");

        var (server, again, _) = await ServeAsync(null);
        try
        {
            using var list = await again.GetAsync("/api/admin/extensions");
            Assert.That(await list.Content.ReadAsStringAsync(), Does.Not.Contain(Extension));
            using (var published = await again.PostAsync("/api/admin/bundles", Upload(packed, _key)))
            {
                Assert.That(published.StatusCode, Is.EqualTo(HttpStatusCode.Created), await published.Content.ReadAsStringAsync());
            }

            Assert.That(await InstallAndCallAsync(again), Is.EqualTo("alive"));
        }
        finally
        {
            again.Dispose();
            await HostProcess.KillAsync(server);
        }
    }

    [Test]
    public async Task KilledRightAfterPublishCommits_KeepsTheWholeNewVersion()
    {
        var packed = BundlePacker.Pack(GuestFixtures.Create("crash", GuestFixtures.Says("alive")));
        var (process, http, output) = await ServeAsync("publish.after-commit");
        using (http)
        {
            await KillWhenPausedAsync(process, output, "publish.after-commit", http.PostAsync("/api/admin/bundles", Upload(packed, _key)));
        }

        Assert.That(await RowsAsync(packed.ContentHash), Is.EqualTo(Expect(1, 1, 1, 0, 0, 1)), "the new state: every row of the publish");

        var (server, again, _) = await ServeAsync(null);
        try
        {
            Assert.That(await InstallAndCallAsync(again), Is.EqualTo("alive"), "content and artifact are all there");
        }
        finally
        {
            again.Dispose();
            await HostProcess.KillAsync(server);
        }
    }

    [Test]
    public async Task KilledMidInstall_LeavesNoInstall_AndInstallingAgainWorks()
    {
        var packed = BundlePacker.Pack(GuestFixtures.Create("crash", GuestFixtures.Says("alive")));
        var (process, http, output) = await ServeAsync("install.before-commit");
        using (http)
        {
            using (var published = await http.PostAsync("/api/admin/bundles", Upload(packed, _key)))
            {
                await TestPlatform.EnsureSuccessAsync(published);
            }

            await KillWhenPausedAsync(process, output, "install.before-commit",
                http.PostAsJsonAsync("/api/admin/installs", new { extensionId = Extension, tenant = "default", capabilities = Array.Empty<string>() }));
        }

        Assert.That(await RowsAsync(packed.ContentHash), Is.EqualTo(Expect(1, 1, 1, 0, 0, 1)), "published, and nothing of the install");

        var (server, again, _) = await ServeAsync(null);
        try
        {
            Assert.That(await InstallAndCallAsync(again), Is.EqualTo("alive"));
        }
        finally
        {
            again.Dispose();
            await HostProcess.KillAsync(server);
        }

        Assert.That(await RowsAsync(packed.ContentHash), Is.EqualTo(Expect(1, 1, 1, 1, 1, 2)));
    }

    /// <summary>Installs the crash fixture for tenant <c>default</c> and returns what its endpoint answers.</summary>
    private static async Task<string> InstallAndCallAsync(HttpClient http)
    {
        using (var installed = await http.PostAsJsonAsync("/api/admin/installs", new { extensionId = Extension, tenant = "default", capabilities = Array.Empty<string>() }))
        {
            await TestPlatform.EnsureSuccessAsync(installed);
        }

        using var call = await http.GetAsync($"/api/ext/{Extension}/run");
        return await call.Content.ReadAsStringAsync();
    }
}
