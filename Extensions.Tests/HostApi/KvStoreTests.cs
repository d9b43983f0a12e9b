using Extensions.Modules.HostApi;
using Extensions.Modules.Runner.Contracts;
using Extensions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Extensions.Tests.HostApi;

/// <summary>The install-scoped KV store against the platform's real SQLite file: revisions, TTL, quotas, cursors, isolation.</summary>
[TestFixture]
[CancelAfter(60_000)]
public sealed class KvStoreTests
{
    private TestPlatform _platform = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _platform = await TestPlatform.StartAsync(new Dictionary<string, string?>
        {
            ["HostApi:KvMaxKeysPerInstall"] = "3",
            ["HostApi:KvMaxBytesPerInstall"] = "2048",
            ["HostApi:KvMaxValueBytes"] = "1000",
            ["HostApi:KvListPageSize"] = "2",
            ["Registry:SeedOnFirstStart"] = "false",
        }, requireAdminKey: false);
    }

    // The platform owns the store (and disposes it with the container).
    private KvStore Kv => _platform.App.Services.GetRequiredService<KvStore>();

    [OneTimeTearDown]
    public async Task StopAsync() => await _platform.DisposeAsync();

    private static string NewInstall() => "inst-" + Guid.NewGuid().ToString("N");

    private static byte[] Bytes(string s) => System.Text.Encoding.UTF8.GetBytes(s);

    private Task<HostCallReply> PutAsync(string install, string key, string value, long ifRevision = -1, long ttlMs = 0) =>
        Kv.PutAsync(install, new KvPutCall(key, Bytes(value), ifRevision, ttlMs), CancellationToken.None).AsTask();

    private Task<HostCallReply> GetAsync(string install, string key) => Kv.GetAsync(install, key, CancellationToken.None).AsTask();

    [Test]
    public async Task Put_ThenGet_ReturnsTheValueWithItsRevision_AndEveryWriteGetsANewerRevision()
    {
        var install = NewInstall();
        var first = await PutAsync(install, "a", "one");
        var second = await PutAsync(install, "a", "two");

        var read = await GetAsync(install, "a");

        Assert.That(first.Code, Is.GreaterThan(0));
        Assert.That(second.Code, Is.GreaterThan(first.Code));
        Assert.That(read.Code, Is.EqualTo(second.Code));
        Assert.That(read.Data, Is.EqualTo(Bytes("two")));
        Assert.That((await GetAsync(install, "missing")).Code, Is.EqualTo(AbiCodes.Absent));
    }

    [Test]
    public async Task Put_WithAStaleRevision_IsAConflict_AndLeavesTheValue()
    {
        var install = NewInstall();
        var original = await PutAsync(install, "k", "v1");
        await PutAsync(install, "k", "v2");

        var stale = await PutAsync(install, "k", "lost update", ifRevision: original.Code);
        var mustNotExist = await PutAsync(install, "k", "again", ifRevision: 0);

        Assert.That(stale.Code, Is.EqualTo(AbiCodes.Conflict));
        Assert.That(mustNotExist.Code, Is.EqualTo(AbiCodes.Conflict));
        Assert.That((await GetAsync(install, "k")).Data, Is.EqualTo(Bytes("v2")));
    }

    [Test]
    public async Task Delete_ThenRecreate_NeverReusesARevision()
    {
        var install = NewInstall();
        var before = await PutAsync(install, "k", "v");
        Assert.That((await Kv.DeleteAsync(install, "k", before.Code, CancellationToken.None)).Code, Is.Zero);

        var recreated = await PutAsync(install, "k", "v");
        var staleDelete = await Kv.DeleteAsync(install, "k", before.Code, CancellationToken.None);

        Assert.That(recreated.Code, Is.GreaterThan(before.Code));
        Assert.That(staleDelete.Code, Is.EqualTo(AbiCodes.Conflict));
        Assert.That((await Kv.DeleteAsync(install, "nothing", -1, CancellationToken.None)).Code, Is.EqualTo(AbiCodes.Absent));
    }

    [Test]
    public async Task Ttl_ExpiredKeys_AreAbsent_AndFreeTheirQuota()
    {
        var install = NewInstall();
        await PutAsync(install, "a", "1", ttlMs: 1500);
        await PutAsync(install, "b", "2", ttlMs: 1500);
        await PutAsync(install, "c", "3");
        Assert.That((await PutAsync(install, "d", "4")).Code, Is.EqualTo(AbiCodes.TooManyKeys));

        await Task.Delay(2000);

        Assert.That((await GetAsync(install, "a")).Code, Is.EqualTo(AbiCodes.Absent));
        Assert.That((await PutAsync(install, "d", "4")).Code, Is.GreaterThan(0), "expired keys no longer count against the key quota");
        Assert.That((await PutAsync(install, "e", "5")).Code, Is.GreaterThan(0));
    }

    [Test]
    public async Task Quotas_EachBreach_HasItsOwnCode_AndChangesNothing()
    {
        var install = NewInstall();
        var neighbour = NewInstall();
        await PutAsync(neighbour, "n", "neighbour");

        var tooLarge = await PutAsync(install, "big", new string('x', 1001));
        await PutAsync(install, "a", new string('a', 900));
        await PutAsync(install, "b", new string('b', 900));
        var full = await PutAsync(install, "c", new string('c', 900));
        await PutAsync(install, "c", "small");
        var tooMany = await PutAsync(install, "d", "small");

        Assert.That(tooLarge.Code, Is.EqualTo(AbiCodes.ValueTooLarge));
        Assert.That(full.Code, Is.EqualTo(AbiCodes.StorageFull));
        Assert.That(tooMany.Code, Is.EqualTo(AbiCodes.TooManyKeys));
        Assert.That((await GetAsync(install, "big")).Code, Is.EqualTo(AbiCodes.Absent));
        Assert.That((await GetAsync(install, "d")).Code, Is.EqualTo(AbiCodes.Absent));
        Assert.That((await GetAsync(install, "c")).Data, Is.EqualTo(Bytes("small")));
        Assert.That((await GetAsync(neighbour, "n")).Data, Is.EqualTo(Bytes("neighbour")), "another install's data is untouched");
        Assert.That((await PutAsync(neighbour, "m", "still room")).Code, Is.GreaterThan(0), "quotas are per install");
    }

    [Test]
    public async Task List_WalksEveryKeyUnderThePrefix_PageByPage_AndNothingElse()
    {
        var install = NewInstall();
        foreach (var key in new[] { "user:c", "user:a", "user:b" })
        {
            await PutAsync(install, key, "x");
        }

        await PutAsync(NewInstall(), "user:zz", "another install");
        var seen = new List<string>();
        var cursor = "";
        var pages = 0;
        do
        {
            var reply = await Kv.ListAsync(install, "user:", cursor, CancellationToken.None);
            Assert.That(reply.Code, Is.Zero);
            var page = System.Text.Json.JsonDocument.Parse(reply.Data).RootElement;
            seen.AddRange(page.GetProperty("keys").EnumerateArray().Select(k => k.GetString()!));
            cursor = page.GetProperty("cursor").ValueKind == System.Text.Json.JsonValueKind.Null ? "" : page.GetProperty("cursor").GetString()!;
            pages++;
        }
        while (cursor.Length > 0);

        Assert.That(seen, Is.EqualTo(new[] { "user:a", "user:b", "user:c" }));
        Assert.That(pages, Is.EqualTo(2));
        Assert.That((await Kv.ListAsync(install, "user:", "not base64!", CancellationToken.None)).Code, Is.EqualTo(AbiCodes.Invalid));
    }

    [Test]
    public async Task InvalidKeys_AreRefused()
    {
        var install = NewInstall();

        Assert.That((await PutAsync(install, "", "v")).Code, Is.EqualTo(AbiCodes.Invalid));
        Assert.That((await PutAsync(install, new string('k', 513), "v")).Code, Is.EqualTo(AbiCodes.Invalid));
        Assert.That((await PutAsync(install, "nul\0key", "v")).Code, Is.EqualTo(AbiCodes.Invalid));
        Assert.That((await PutAsync(install, "k", "v", ifRevision: -5)).Code, Is.EqualTo(AbiCodes.Invalid));
    }

    [Test]
    public async Task RemoveInstall_DeletesOnlyThatInstallsData()
    {
        var install = NewInstall();
        var other = NewInstall();
        await PutAsync(install, "k", "v");
        await PutAsync(other, "k", "kept");

        await Kv.RemoveInstallAsync(install, CancellationToken.None);

        Assert.That((await GetAsync(install, "k")).Code, Is.EqualTo(AbiCodes.Absent));
        Assert.That((await GetAsync(other, "k")).Data, Is.EqualTo(Bytes("kept")));
    }
}
