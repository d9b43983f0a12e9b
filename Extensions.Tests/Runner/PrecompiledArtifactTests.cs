using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Extensions.Modules.Runner.Contracts;
using Extensions.Modules.Runner.Pool;
using Extensions.Modules.Storage;
using Extensions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Extensions.Tests.Runner;

/// <summary>Modules are compiled once, at publish, in a worker; requests load the verified artifact and never compile.</summary>
[TestFixture]
[CancelAfter(120_000)]
public sealed class PrecompiledArtifactTests
{
    private TestPlatform _platform = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => _platform = await TestPlatform.StartAsync();

    [OneTimeTearDown]
    public async Task StopAsync() => await _platform.DisposeAsync();

    private WorkerPool Pool => (WorkerPool)_platform.App.Services.GetRequiredService<IExtensionRunner>();

    private async Task<IReadOnlyList<WorkerInfo>> FreshStatsAsync()
    {
        // Stats arrive with each Pong (every second): wait for a round newer than now.
        await Task.Delay(TimeSpan.FromMilliseconds(1500));
        return Pool.Workers;
    }

    [Test]
    public async Task Publish_RecordsAnArtifactForTheWorkersEngine_InTheCas()
    {
        var packed = await _platform.DeployAsync(GuestFixtures.Create("compiled", GuestFixtures.Ok));
        var moduleHash = ContentHash.Of(Wasmtime.Module.ConvertText(GuestFixtures.Ok));

        await using var connection = await _platform.App.Services.GetRequiredService<IDatabase>().OpenAsync();
        var rows = (await connection.QueryAsync<(string Fingerprint, string ArtifactHash, long Size)>(
            "SELECT fingerprint, artifact_hash, size FROM runner_artifacts WHERE module_hash = @moduleHash", new { moduleHash })).ToList();

        Assert.That(rows, Has.Count.EqualTo(1), packed.ContentHash);
        Assert.That(rows[0].Fingerprint, Does.StartWith("wasmtime-50.0.1"));
        var cas = _platform.App.Services.GetRequiredService<IContentStore>();
        var artifact = await cas.ReadAsync(rows[0].ArtifactHash);
        Assert.That(artifact, Is.Not.Null);
        Assert.That(artifact!.Length, Is.EqualTo(rows[0].Size));
        Assert.That(artifact[..4], Is.EqualTo("\u007fELF"u8.ToArray()), "a serialized Wasmtime artifact is an ELF image");
    }

    [Test]
    public async Task FirstRequestAfterInstall_LoadsTheArtifact_WithoutCompiling()
    {
        await _platform.DeployAsync(GuestFixtures.Create("nocompile", GuestFixtures.Ok.Replace("\"ok\"", "\"ok2\"").Replace("(i32.const 2)", "(i32.const 3)")));
        var before = await FreshStatsAsync();

        using var response = await _platform.Admin.GetAsync("/api/ext/test.nocompile/run");
        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo("ok2"));

        var after = await FreshStatsAsync();
        Assert.That(after.Sum(w => w.Stats.Compiles), Is.EqualTo(before.Sum(w => w.Stats.Compiles)), "no worker compiled for the request");
        Assert.That(after.Sum(w => w.Stats.ArtifactLoads), Is.EqualTo(before.Sum(w => w.Stats.ArtifactLoads) + 1));
    }

    [Test]
    public async Task TamperedArtifact_IsRefusedByTheWorker_AndNeverRun()
    {
        await _platform.DeployAsync(GuestFixtures.Create("tampered", GuestFixtures.Ok.Replace("\"ok\"", "\"ab\"")));
        var moduleHash = ContentHash.Of(Wasmtime.Module.ConvertText(GuestFixtures.Ok.Replace("\"ok\"", "\"ab\"")));
        await using (var connection = await _platform.App.Services.GetRequiredService<IDatabase>().OpenAsync())
        {
            var artifactHash = await connection.QuerySingleAsync<string>("SELECT artifact_hash FROM runner_artifacts WHERE module_hash = @moduleHash", new { moduleHash });
            var path = _platform.App.Services.GetRequiredService<IContentStore>().PathOf(artifactHash);
            var bytes = await File.ReadAllBytesAsync(path);
            bytes[^100] ^= 0xff;
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            await File.WriteAllBytesAsync(path, bytes);
        }

        using var response = await _platform.Admin.GetAsync("/api/ext/test.tampered/run");
        var body = await TestPlatform.JsonAsync(response);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadGateway));
        Assert.That(body.GetProperty("code").GetString(), Is.EqualTo("bad_extension_response"));
        Assert.That(_platform.Logs.Entries.Any(e => e.Message.Contains("hashes to", StringComparison.Ordinal) && e.Message.Contains("test.tampered", StringComparison.Ordinal)), Is.True);
    }

    [Test]
    public async Task PublisherSuppliedPrecompiledCode_IsNeverLoaded()
    {
        // A genuine artifact of another module ("evil"), shipped in the bundle and named by the manifest.
        using var engine = new Wasmtime.Engine(new Wasmtime.Config().WithFuelConsumption(true).WithEpochInterruption(true));
        using var evil = Wasmtime.Module.FromText(engine, "evil", GuestFixtures.Ok.Replace("\"ok\"", "\"EV\""));
        var dir = GuestFixtures.Create("honest", GuestFixtures.Ok);
        Directory.CreateDirectory(Path.Combine(dir, "precompiled"));
        await File.WriteAllBytesAsync(Path.Combine(dir, "precompiled", "main.cwasm"), evil.Serialize());
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(dir, "manifest.json")))!;
        manifest["precompiled"] = new JsonObject { ["x86_64"] = "precompiled/main.cwasm" };
        manifest["assets"] = new JsonArray("precompiled/*");
        await File.WriteAllTextAsync(Path.Combine(dir, "manifest.json"), manifest.ToJsonString());

        var packed = await _platform.DeployAsync(dir);
        Assert.That(Modules.Bundles.BundleReader.Read(packed.Tar).Files.Keys, Does.Contain("precompiled/main.cwasm"));

        using var response = await _platform.Admin.GetAsync("/api/ext/test.honest/run");
        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo("ok"));
    }

    [Test]
    public async Task ModuleThatDoesNotCompile_IsRefusedAtPublish()
    {
        // Right imports and exports for the publish-time ABI check, but the body does not type-check (i32.add on one operand).
        var dir = GuestFixtures.Create("invalid", """
            (module
              (memory (export "memory") 1)
              (func (export "handle") (result i32) (i32.add (i32.const 1))))
            """);
        var packed = Modules.Bundles.BundlePacker.Pack(dir);

        using var response = await _platform.PublishAsync(packed.ToGzip(), Modules.Bundles.BundleSignature.Create(packed.ContentHash, _platform.Publisher).ToJson());
        var body = await TestPlatform.JsonAsync(response);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.UnprocessableEntity), body.ToString());
        Assert.That(body.GetProperty("code").GetString(), Is.EqualTo("invalid_bundle"));
        Assert.That(body.GetProperty("detail").GetString(), Does.Contain("does not compile"));
    }
}
