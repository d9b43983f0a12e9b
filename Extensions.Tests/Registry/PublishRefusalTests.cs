using System.Net;
using System.Text.Json.Nodes;
using Extensions.Modules.Bundles;
using Extensions.Tests.Support;

namespace Extensions.Tests.Registry;

/// <summary>Bundles that are tampered, signed by strangers or ask for unknown things are refused at publish, clearly.</summary>
[TestFixture]
[CancelAfter(60_000)]
public sealed class PublishRefusalTests
{
    private TestPlatform _platform = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => _platform = await TestPlatform.StartAsync();

    [OneTimeTearDown]
    public async Task StopAsync() => await _platform.DisposeAsync();

    private static async Task<(HttpStatusCode Status, string Code, string Detail)> ProblemAsync(HttpResponseMessage response)
    {
        var body = await TestPlatform.JsonAsync(response);
        return (response.StatusCode, body.GetProperty("code").GetString()!, body.GetProperty("detail").GetString()!);
    }

    private async Task AssertNotPublishedAsync(string extensionId)
    {
        using var list = await _platform.Admin.GetAsync("/api/admin/extensions");
        Assert.That(await list.Content.ReadAsStringAsync(), Does.Not.Contain(extensionId));
    }

    [Test]
    public async Task BundleWithFlippedByte_IsRefused()
    {
        var packed = BundlePacker.Pack(GuestFixtures.Create("flipped", GuestFixtures.Ok));
        var signature = BundleSignature.Create(packed.ContentHash, _platform.Publisher).ToJson();
        var tar = packed.Tar.ToArray();
        // Flip a byte inside the module's content: the tar still parses, so only the hash can catch it.
        var at = tar.AsSpan().IndexOf("\0asm"u8) + 12;
        Assert.That(at, Is.GreaterThan(12), "the module must be inside the tar");
        tar[at] ^= 0x01;

        using var response = await _platform.PublishAsync(tar, signature);
        var (status, code, detail) = await ProblemAsync(response);

        Assert.That(status, Is.EqualTo(HttpStatusCode.UnprocessableEntity));
        Assert.That(code, Is.EqualTo("signature_rejected"));
        Assert.That(detail, Does.Contain("hash_mismatch"));
        await AssertNotPublishedAsync("test.flipped");
    }

    [Test]
    public async Task BundleSignedByUntrustedKey_IsRefused()
    {
        var packed = BundlePacker.Pack(GuestFixtures.Create("stranger", GuestFixtures.Ok));
        var stranger = PublisherKey.Generate();

        using var response = await _platform.PublishAsync(packed.ToGzip(), BundleSignature.Create(packed.ContentHash, stranger).ToJson());
        var (status, code, detail) = await ProblemAsync(response);

        Assert.That(status, Is.EqualTo(HttpStatusCode.UnprocessableEntity));
        Assert.That(code, Is.EqualTo("signature_rejected"));
        Assert.That(detail, Does.Contain(stranger.KeyId).And.Contain("trust"));
        await AssertNotPublishedAsync("test.stranger");
    }

    [Test]
    public async Task BundleSignedByAnotherPublishersKey_IsRefused()
    {
        // The seeded dev key belongs to publisher 'samples'; our test key must not publish as 'samples'.
        var packed = BundlePacker.Pack(GuestFixtures.Create("impostor", GuestFixtures.Ok, publisher: "samples"));

        using var response = await _platform.PublishAsync(packed.ToGzip(), BundleSignature.Create(packed.ContentHash, _platform.Publisher).ToJson());
        var (_, code, detail) = await ProblemAsync(response);

        Assert.That(code, Is.EqualTo("signature_rejected"));
        Assert.That(detail, Does.Contain("publisher_mismatch"));
        await AssertNotPublishedAsync("samples.impostor");
    }

    [Test]
    public async Task ManifestWithUnknownCapability_IsRefusedNamingTheField()
    {
        var dir = GuestFixtures.Create("greedy", GuestFixtures.Ok);
        var manifestPath = Path.Combine(dir, "manifest.json");
        var manifest = JsonNode.Parse(File.ReadAllText(manifestPath))!;
        manifest["capabilities"] = new JsonArray("cap:log", "cap:root");
        File.WriteAllText(manifestPath, manifest.ToJsonString());
        var tar = TarOf(dir);

        using var response = await _platform.PublishAsync(tar, BundleSignature.Create(Modules.Storage.ContentHash.Of(tar), _platform.Publisher).ToJson());
        var (status, code, detail) = await ProblemAsync(response);

        Assert.That(status, Is.EqualTo(HttpStatusCode.UnprocessableEntity));
        Assert.That(code, Is.EqualTo("invalid_bundle"));
        Assert.That(detail, Does.Contain("capabilities[1]").And.Contain("cap:root"));
        await AssertNotPublishedAsync("test.greedy");
    }

    [Test]
    public async Task ModuleWithUnknownImport_IsRefusedNamingTheImport()
    {
        const string wat = """
            (module
              (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
              (memory (export "memory") 1)
              (func (export "handle") (result i32) (i32.const 0)))
            """;
        var packed = BundlePacker.Pack(GuestFixtures.Create("wasi", wat));

        using var response = await _platform.PublishAsync(packed.ToGzip(), BundleSignature.Create(packed.ContentHash, _platform.Publisher).ToJson());
        var (_, code, detail) = await ProblemAsync(response);

        Assert.That(code, Is.EqualTo("invalid_bundle"));
        Assert.That(detail, Does.Contain("wasi_snapshot_preview1.fd_write"));
    }

    [TestCase("""(module (memory (export "memory") 1) (func (export "run") (result i32) (i32.const 0)))""", "must export a function 'handle'")]
    [TestCase("""(module (func (export "handle") (result i32) (i32.const 0)))""", "must export its memory")]
    [TestCase("""(module (memory (export "memory") 1) (func (export "handle") (param i32) (result i32) (i32.const 0)))""", "() -> i32")]
    [TestCase("""(module (import "ext" "spawn_shell" (func (param i32) (result i32))) (memory (export "memory") 1) (func (export "handle") (result i32) (i32.const 0)))""", "unknown import ext.spawn_shell")]
    [TestCase("""(module (import "ext" "log" (func (param i64) (result i32))) (memory (export "memory") 1) (func (export "handle") (result i32) (i32.const 0)))""", "wrong signature")]
    public async Task ModuleOutsideTheAbi_IsRefusedSayingWhatToFix(string wat, string expected)
    {
        var packed = BundlePacker.Pack(GuestFixtures.Create($"abi{Math.Abs(wat.GetHashCode(StringComparison.Ordinal)) % 100000}", wat));

        using var response = await _platform.PublishAsync(packed.ToGzip(), BundleSignature.Create(packed.ContentHash, _platform.Publisher).ToJson());
        var (status, code, detail) = await ProblemAsync(response);

        Assert.That(status, Is.EqualTo(HttpStatusCode.UnprocessableEntity));
        Assert.That(code, Is.EqualTo("invalid_bundle"));
        Assert.That(detail, Does.Contain(expected));
    }

    [Test]
    public async Task SameVersionWithOtherContent_IsAVersionConflict()
    {
        await _platform.DeployAsync(GuestFixtures.Create("immutable", GuestFixtures.Ok));
        var changed = BundlePacker.Pack(GuestFixtures.Create("immutable", GuestFixtures.Trap));

        using var response = await _platform.PublishAsync(changed.ToGzip(), BundleSignature.Create(changed.ContentHash, _platform.Publisher).ToJson());
        var (status, code, _) = await ProblemAsync(response);

        Assert.That(status, Is.EqualTo(HttpStatusCode.Conflict));
        Assert.That(code, Is.EqualTo("version_conflict"));
        using var still = await _platform.Admin.GetAsync("/api/ext/test.immutable/run");
        Assert.That(await still.Content.ReadAsStringAsync(), Is.EqualTo("ok"));
    }

    [Test]
    public async Task Install_WithoutConsentToTheCapabilities_IsRefused()
    {
        var packed = BundlePacker.Pack(GuestFixtures.Create("needslog", GuestFixtures.Ok, capabilities: ["cap:log"]));
        using (var published = await _platform.PublishAsync(packed.ToGzip(), BundleSignature.Create(packed.ContentHash, _platform.Publisher).ToJson()))
        {
            await TestPlatform.EnsureSuccessAsync(published);
        }

        using var response = await _platform.Admin.PostAsync("/api/admin/installs",
            System.Net.Http.Json.JsonContent.Create(new { extensionId = "test.needslog", tenant = "default", capabilities = Array.Empty<string>() }));
        var (status, code, detail) = await ProblemAsync(response);

        Assert.That(status, Is.EqualTo(HttpStatusCode.Conflict));
        Assert.That(code, Is.EqualTo("consent_required"));
        Assert.That(detail, Does.Contain("cap:log"));
    }

    /// <summary>A canonical-enough tar of a directory that skips manifest validation, so the server's own check is what's tested.</summary>
    private static byte[] TarOf(string dir)
    {
        using var buffer = new MemoryStream();
        using (var writer = new System.Formats.Tar.TarWriter(buffer, System.Formats.Tar.TarEntryFormat.Ustar, leaveOpen: true))
        {
            foreach (var file in Directory.GetFiles(dir).Order(StringComparer.Ordinal))
            {
                var entry = new System.Formats.Tar.UstarTarEntry(System.Formats.Tar.TarEntryType.RegularFile, Path.GetFileName(file))
                {
                    DataStream = new MemoryStream(File.ReadAllBytes(file)),
                    ModificationTime = DateTimeOffset.UnixEpoch,
                };
                writer.WriteEntry(entry);
            }
        }

        return buffer.ToArray();
    }
}
