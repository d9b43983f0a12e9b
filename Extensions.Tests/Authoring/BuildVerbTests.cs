using System.Text.Json.Nodes;
using Extensions.Tests.Support;

namespace Extensions.Tests.Authoring;

/// <summary>
/// <c>build</c> and <c>pack</c> through the real binary: the project's toolchain, then the manifest and module checks, each
/// failure one <c>error:</c> line that says what to fix, with exit code 1 and nothing written.
/// </summary>
[TestFixture]
[CancelAfter(180_000)]
public sealed class BuildVerbTests
{
    private const string Handle = """(func (export "handle") (result i32) i32.const 0)""";

    private string _work = null!;

    [SetUp]
    public void SetUp() => _work = TestRun.NewDirectory("build");

    [Test]
    public async Task ACTemplateProject_Builds_AndTheModuleIsChecked()
    {
        var project = await NewCProjectAsync();

        var (exit, stdout, stderr) = await HostProcess.RunAsync(project, "build");

        Assert.That(exit, Is.Zero, stderr);
        Assert.That(stdout.Trim(), Does.StartWith("ok: local.greeter@0.1.0, build/greeter.wasm (").And.Contain("built in"));
        Assert.That(File.Exists(Path.Combine(project, "build", "greeter.wasm")), Is.True, "build.sh ran");
    }

    [Test]
    public async Task AMissingToolchain_SaysWhichToolIsMissing()
    {
        var project = await NewCProjectAsync();

        var (exit, _, stderr) = await HostProcess.RunAsync(project, new Dictionary<string, string> { ["CC"] = "clang-not-installed" }, "build");

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(LastLine(stderr), Does.StartWith("error: build.sh failed: a tool it runs is not installed")
            .And.Contain("clang-not-installed").And.Contain("install it"));
    }

    [Test]
    public async Task BrokenSource_ShowsTheCompilerOutput_AndFails()
    {
        var project = await NewCProjectAsync();
        await File.AppendAllTextAsync(Path.Combine(project, "handler.c"), "\nint broken( {\n");

        var (exit, _, stderr) = await HostProcess.RunAsync(project, "build");

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(stderr, Does.Contain("handler.c:"), "the compiler's own diagnostics are shown");
        Assert.That(LastLine(stderr), Does.StartWith("error: build.sh failed with exit code 1"));
        Assert.That(File.Exists(Path.Combine(project, "build", "greeter.wasm")), Is.False);
    }

    [Test]
    public async Task ABadManifest_IsReportedPerField_BeforeTheToolchainRuns()
    {
        var project = await NewCProjectAsync();
        EditManifest(project, m =>
        {
            m["version"] = "one";
            m["capabilities"] = new JsonArray("cap:teleport");
        });

        var (exit, _, stderr) = await HostProcess.RunAsync(project, "build");

        Assert.That(exit, Is.EqualTo(1));
        var errors = Lines(stderr);
        Assert.That(errors, Has.Some.StartsWith("error: manifest.json: version: "));
        Assert.That(errors, Has.Some.StartsWith("error: manifest.json: capabilities[0]: ").And.Contain("cap:teleport"));
        Assert.That(Directory.Exists(Path.Combine(project, "build")), Is.False, "the toolchain did not run");
    }

    [Test]
    public async Task AWrongImportSignature_NamesTheImportAndTheExpectedSignature()
    {
        var project = GuestFixtures.Create("wrong-sig", $$"""
            (module (import "ext" "resp_status" (func (param i64) (result i32)))
              (memory (export "memory") 1) {{Handle}})
            """);

        var (exit, _, stderr) = await HostProcess.RunAsync(project, "build");

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(Lines(stderr), Is.EqualTo(new[] { "error: main.wasm: import ext.resp_status has the wrong signature: expected (i32) -> i32" }));
    }

    [Test]
    public async Task AnImportOutsideExt_IsRefused()
    {
        var project = GuestFixtures.Create("wasi", $$"""
            (module (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
              (memory (export "memory") 1) {{Handle}})
            """);

        var (exit, _, stderr) = await HostProcess.RunAsync(project, "build");

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(LastLine(stderr), Does.StartWith("error: main.wasm: unknown import wasi_snapshot_preview1.fd_write: ext-v1 modules may import only functions of module 'ext'"));
    }

    [Test]
    public async Task MissingExports_AreEachNamed()
    {
        var project = GuestFixtures.Create("no-exports", """(module (func (result i32) i32.const 0))""");

        var (exit, _, stderr) = await HostProcess.RunAsync(project, "build");

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(Lines(stderr), Is.EqualTo(new[]
        {
            "error: main.wasm: the module must export its memory as 'memory'",
            "error: main.wasm: the module must export a function 'handle'",
        }));
    }

    [Test]
    public async Task AnImportWithoutItsCapability_SaysWhatToAdd()
    {
        var wat = $$"""
            (module (import "ext" "kv_get" (func (param i32 i32 i32 i32 i32) (result i32)))
              (memory (export "memory") 1) {{Handle}})
            """;
        var project = GuestFixtures.Create("kv-less", wat, capabilities: ["cap:log"]);

        var (exit, _, stderr) = await HostProcess.RunAsync(project, "build");

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(Lines(stderr), Is.EqualTo(new[]
        {
            "error: main.wasm: imports kv_get but the manifest does not request capability cap:kv: add \"cap:kv\" to capabilities",
        }));

        // With the capability requested the same module passes: the check is about the pair, not the module.
        var fixedProject = GuestFixtures.Create("kv-ful", wat, capabilities: ["cap:kv"]);
        var ok = await HostProcess.RunAsync(fixedProject, "build");
        Assert.That(ok.ExitCode, Is.Zero, ok.Stderr);
        Assert.That(ok.Stdout, Does.Contain("no build.sh: checked as it is"));
    }

    [Test]
    public async Task Pack_RunsTheSameChecks_AndWritesNoBundle()
    {
        var project = GuestFixtures.Create("kv-less-pack", $$"""
            (module (import "ext" "kv_get" (func (param i32 i32 i32 i32 i32) (result i32)))
              (memory (export "memory") 1) {{Handle}})
            """);
        var bundle = Path.Combine(_work, "out.extb");

        var (exit, stdout, stderr) = await HostProcess.RunAsync(project, "pack", ".", "--out", bundle);

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(stdout, Is.Empty);
        Assert.That(LastLine(stderr), Does.Contain("imports kv_get but the manifest does not request capability cap:kv"));
        Assert.That(File.Exists(bundle), Is.False);
    }

    [Test]
    public async Task NotAProject_IsOneLine()
    {
        var (exit, _, stderr) = await HostProcess.RunAsync(_work, "build", "nowhere");

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(Lines(stderr), Is.EqualTo(new[] { "error: nowhere is not a directory" }));
    }

    private async Task<string> NewCProjectAsync()
    {
        var created = await HostProcess.RunAsync(_work, "new", "greeter", "--template", "c");
        Assert.That(created.ExitCode, Is.Zero, created.Stderr);
        return Path.Combine(_work, "greeter");
    }

    private static void EditManifest(string project, Action<JsonObject> edit)
    {
        var path = Path.Combine(project, "manifest.json");
        var manifest = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(manifest);
        File.WriteAllText(path, manifest.ToJsonString());
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string LastLine(string text) => Lines(text).LastOrDefault() ?? "";
}
