using System.Formats.Tar;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using Extensions.Modules.Bundles;
using Extensions.Tests.Bundles;
using Extensions.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Extensions.Tests.Registry;

/// <summary>
/// Every bad input the registry promises to refuse, through the real admin API: each gets a clear error, and nothing else
/// changes: every registry row and every file in the content store is as before; only the refusal is audited.
/// </summary>
[TestFixture]
[CancelAfter(120_000)]
public sealed class BadInputTests
{
    private TestPlatform _platform = null!;
    private PublisherKey _revoked = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _platform = await TestPlatform.StartAsync();
        _revoked = PublisherKey.Generate();
        var trust = Path.Combine(_platform.DataDirectory, "trust.json");
        TrustBundle.Load(trust).WithKey(TestPlatform.TestPublisherName, _revoked.PublicKeyRaw).WithRevoked(_revoked.KeyId).Save(trust);

        var schema = new JsonObject
        {
            ["type"] = "object",
            ["properties"] = new JsonObject { ["limit"] = new JsonObject { ["type"] = "integer", ["maximum"] = 10 } },
        };
        await _platform.DeployAsync(GuestFixtures.Create("existing", GuestFixtures.Says("original"), config: schema));
    }

    [OneTimeTearDown]
    public async Task StopAsync() => await _platform.DisposeAsync();

    /// <summary>Every registry table (audit apart) row by row, the artifact table, and every file under the CAS.</summary>
    private async Task<string> SnapshotAsync()
    {
        var text = new StringBuilder();
        await using (var db = new SqliteConnection($"Data Source={Path.Combine(_platform.DataDirectory, "extensions.db")};Mode=ReadOnly;Pooling=False"))
        {
            await db.OpenAsync();
            var tables = await db.QueryAsync<string>(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND (name LIKE 'registry_%' OR name = 'runner_artifacts') AND name <> 'registry_audit' ORDER BY name");
            foreach (var table in tables)
            {
                text.AppendLine(table);
                foreach (IDictionary<string, object?> row in await db.QueryAsync($"SELECT * FROM {table} ORDER BY 1"))
                {
                    text.AppendLine(string.Join('|', row.Values));
                }
            }
        }

        var cas = Path.Combine(_platform.DataDirectory, "cas");
        foreach (var file in Directory.GetFiles(cas, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            text.AppendLine($"{Path.GetRelativePath(cas, file)} {new FileInfo(file).Length}");
        }

        return text.ToString();
    }

    private async Task<long> AuditCountAsync()
    {
        await using var db = new SqliteConnection($"Data Source={Path.Combine(_platform.DataDirectory, "extensions.db")};Mode=ReadOnly;Pooling=False");
        return await db.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM registry_audit");
    }

    private static string Dir(string name, Action<JsonObject>? edit = null, string version = "1.0.0")
    {
        var dir = GuestFixtures.Create(name, GuestFixtures.Says("bad"), version: version);
        if (edit is not null)
        {
            var path = Path.Combine(dir, "manifest.json");
            var manifest = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            edit(manifest);
            File.WriteAllText(path, manifest.ToJsonString());
        }

        return dir;
    }

    /// <summary>A tar of the guest's two files plus whatever <paramref name="extra"/> adds, written without any validation.</summary>
    private static byte[] HostileTar(string name, Action<TarBuilder> extra)
    {
        var dir = Dir(name);
        var builder = new TarBuilder()
            .File("main.wasm", File.ReadAllBytes(Path.Combine(dir, "main.wasm")))
            .File("manifest.json", File.ReadAllBytes(Path.Combine(dir, "manifest.json")));
        extra(builder);
        return builder.Build();
    }

    private sealed record Case(string Name, Func<TestPlatform, PublisherKey, (byte[] File, string Signature)> Build, HttpStatusCode Status, string Code, string Detail)
    {
        public override string ToString() => Name;
    }

    private static (byte[], string) Signed(byte[] file, string hashOf, PublisherKey key) => (file, BundleSignature.Create(hashOf, key).ToJson());

    private static (byte[], string) SignedTar(byte[] tar, PublisherKey key) => Signed(tar, Modules.Storage.ContentHash.Of(tar), key);

    private static IEnumerable<Case> Cases()
    {
        yield return new("truncated gzip", (_, key) =>
        {
            var packed = BundlePacker.Pack(Dir("trunc1"));
            var gz = packed.ToGzip();
            return Signed(gz[..(gz.Length / 2)], packed.ContentHash, key);
        }, HttpStatusCode.UnprocessableEntity, "invalid_bundle", "bundle is not a valid");
        yield return new("truncated tar", (_, key) =>
        {
            var packed = BundlePacker.Pack(Dir("trunc2"));
            return Signed(packed.Tar.ToArray()[..(packed.Tar.Length / 2 + 100)], packed.ContentHash, key);
        }, HttpStatusCode.UnprocessableEntity, "invalid_bundle", "not a valid tar archive");
        yield return new("dot-dot entry", (_, key) => SignedTar(HostileTar("dotdot", b => b.File("../evil.js", [1])), key),
            HttpStatusCode.UnprocessableEntity, "invalid_bundle", "'../evil.js' escapes the bundle root");
        yield return new("absolute entry", (_, key) => SignedTar(HostileTar("absolute", b => b.File("/etc/cron.d/evil", [1])), key),
            HttpStatusCode.UnprocessableEntity, "invalid_bundle", "is an absolute path");
        yield return new("symlink entry", (_, key) => SignedTar(HostileTar("symlink", b => b.Entry(new UstarTarEntry(TarEntryType.SymbolicLink, "ui/link") { LinkName = "/etc/passwd" })), key),
            HttpStatusCode.UnprocessableEntity, "invalid_bundle", "is a symbolic link");
        yield return new("duplicate path", (_, key) => SignedTar(HostileTar("duplicate", b => b.File("main.wasm", [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0])), key),
            HttpStatusCode.UnprocessableEntity, "invalid_bundle", "'main.wasm' appears more than once");
        yield return new("2 GB declared size", (_, key) => SignedTar(TarBuilder.DeclareSize(HostileTar("huge", b => b.File("ui/huge.bin", new byte[512])), "ui/huge.bin", 2L << 30), key),
            HttpStatusCode.UnprocessableEntity, "invalid_bundle", "declares more data than the archive holds");
        yield return new("manifest missing fields", (_, key) => SignedTar(RewriteManifest(HostileTar("missing", _ => { }), m => { m.Remove("version"); m.Remove("api"); }), key),
            HttpStatusCode.UnprocessableEntity, "invalid_bundle", "version: is required");
        yield return new("unknown capability", (_, key) => SignedTar(RewriteManifest(HostileTar("cap", _ => { }), m => m["capabilities"] = new JsonArray("cap:log", "cap:root")), key),
            HttpStatusCode.UnprocessableEntity, "invalid_bundle", "capabilities[1]: unknown capability 'cap:root'");
        yield return new("invalid semver", (_, key) => SignedTar(RewriteManifest(HostileTar("semver", _ => { }), m => m["version"] = "1.0"), key),
            HttpStatusCode.UnprocessableEntity, "invalid_bundle", "'1.0' is not a valid SemVer 2.0 version");
        yield return new("unknown signer", (_, _) =>
        {
            var packed = BundlePacker.Pack(Dir("stranger"));
            return Signed(packed.ToGzip(), packed.ContentHash, PublisherKey.Generate());
        }, HttpStatusCode.UnprocessableEntity, "signature_rejected", "unknown_key");
        yield return new("revoked signer", (_, _) => default, HttpStatusCode.UnprocessableEntity, "signature_rejected", "revoked_key");
        yield return new("hash mismatch", (_, key) =>
        {
            var packed = BundlePacker.Pack(Dir("mismatch"));
            var other = BundlePacker.Pack(Dir("mismatch", version: "1.0.1"));
            return Signed(packed.ToGzip(), other.ContentHash, key);
        }, HttpStatusCode.UnprocessableEntity, "signature_rejected", "hash_mismatch");
        yield return new("publisher not the signer's", (_, key) =>
        {
            var packed = BundlePacker.Pack(Dir("impostor", m => m["publisher"] = "samples"));
            return Signed(packed.ToGzip(), packed.ContentHash, key);
        }, HttpStatusCode.UnprocessableEntity, "signature_rejected", "publisher_mismatch");
        yield return new("re-publish with other content", (_, key) =>
        {
            var packed = BundlePacker.Pack(GuestFixtures.Create("existing", GuestFixtures.Says("changed")));
            return Signed(packed.ToGzip(), packed.ContentHash, key);
        }, HttpStatusCode.Conflict, "version_conflict", "test.existing@1.0.0 is already published");
    }

    private static byte[] RewriteManifest(byte[] tar, Action<JsonObject> edit)
    {
        var builder = new TarBuilder();
        using var reader = new TarReader(new MemoryStream(tar));
        while (reader.GetNextEntry(copyData: true) is { } entry)
        {
            using var data = new MemoryStream();
            entry.DataStream?.CopyTo(data);
            var bytes = data.ToArray();
            if (entry.Name == "manifest.json")
            {
                var manifest = JsonNode.Parse(bytes)!.AsObject();
                edit(manifest);
                bytes = Encoding.UTF8.GetBytes(manifest.ToJsonString());
            }

            builder.File(entry.Name, bytes);
        }

        return builder.Build();
    }

    [TestCaseSource(nameof(Cases))]
    public async Task Publish_OfBadInput_IsRefusedClearly_AndChangesNothing(object testCase)
    {
        var c = (Case)testCase;
        var (file, signature) = c.Name == "revoked signer"
            ? Revoked()
            : c.Build(_platform, _platform.Publisher);
        var before = await SnapshotAsync();
        var audited = await AuditCountAsync();

        using var response = await _platform.PublishAsync(file, signature);
        var body = await TestPlatform.JsonAsync(response);

        Assert.That(response.StatusCode, Is.EqualTo(c.Status), body.GetRawText());
        Assert.That(body.GetProperty("code").GetString(), Is.EqualTo(c.Code));
        Assert.That(body.GetProperty("detail").GetString(), Does.Contain(c.Detail));
        Assert.That(await SnapshotAsync(), Is.EqualTo(before), "registry rows and content store files must be untouched");
        Assert.That(await AuditCountAsync(), Is.EqualTo(audited + 1), "the refusal, and only it, is audited");
        using var still = await _platform.Admin.GetAsync("/api/ext/test.existing/run");
        Assert.That(await still.Content.ReadAsStringAsync(), Is.EqualTo("original"));
    }

    private (byte[], string) Revoked()
    {
        var packed = BundlePacker.Pack(Dir("revokedsigner"));
        return Signed(packed.ToGzip(), packed.ContentHash, _revoked);
    }

    [Test]
    public async Task Install_OfANonexistentVersion_IsNotFound_AndChangesNothing()
    {
        var before = await SnapshotAsync();
        var audited = await AuditCountAsync();

        using var response = await _platform.Admin.PostAsJsonAsync("/api/admin/installs",
            new { extensionId = "test.existing", tenant = "default", version = "2.0.0", capabilities = Array.Empty<string>() });
        var body = await TestPlatform.JsonAsync(response);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(body.GetProperty("code").GetString(), Is.EqualTo("not_found"));
        Assert.That(body.GetProperty("detail").GetString(), Does.Contain("test.existing@2.0.0 is not published"));
        Assert.That(await SnapshotAsync(), Is.EqualTo(before));
        Assert.That(await AuditCountAsync(), Is.EqualTo(audited));
    }

    [TestCase("""{"limit":11}""", "config.limit: 11 should be at most 10")]
    [TestCase("""{"limit":"ten"}""", "config.limit")]
    [TestCase("""[1,2]""", "config: must be a JSON object")]
    public async Task Install_WithConfigViolatingItsSchema_IsInvalidConfig_AndChangesNothing(string config, string expected)
    {
        var before = await SnapshotAsync();
        var audited = await AuditCountAsync();

        using var install = await _platform.Admin.PostAsync("/api/admin/installs", new StringContent(
            $$"""{"extensionId":"test.existing","tenant":"default","version":"1.0.0","capabilities":[],"config":{{config}}}""", Encoding.UTF8, "application/json"));
        using var put = await _platform.Admin.PutAsync("/api/admin/installs/default/test.existing/config", new StringContent(config, Encoding.UTF8, "application/json"));

        foreach (var response in new[] { install, put })
        {
            var body = await TestPlatform.JsonAsync(response);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), body.GetRawText());
            Assert.That(body.GetProperty("code").GetString(), Is.EqualTo("invalid_config"));
            Assert.That(body.GetProperty("detail").GetString(), Does.Contain(expected));
        }

        Assert.That(await SnapshotAsync(), Is.EqualTo(before));
        Assert.That(await AuditCountAsync(), Is.EqualTo(audited));
    }
}
