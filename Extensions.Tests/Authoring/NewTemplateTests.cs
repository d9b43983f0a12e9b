using System.Diagnostics;
using System.Text.Json;
using Extensions.Tests.Support;

namespace Extensions.Tests.Authoring;

/// <summary>
/// <c>new NAME --template c|assemblyscript</c> through the real binary, then the template's own build script, then
/// <c>invoke --fixtures</c> on its own fixtures file: a new project must build and pass with no edits.
/// </summary>
[TestFixture]
[CancelAfter(300_000)]
public sealed class NewTemplateTests
{
    private string _work = null!;

    [SetUp]
    public void SetUp() => _work = TestRun.NewDirectory("new");

    [Test]
    public async Task CTemplate_BuildsAndPassesItsFixtures_WithNoEdits()
    {
        var created = await HostProcess.RunAsync(_work, "new", "greeter", "--template", "c", "--publisher", "acme");
        Assert.That(created.ExitCode, Is.Zero, created.Stderr);
        var project = Path.Combine(_work, "greeter");
        Assert.That(Directory.GetFiles(project).Select(Path.GetFileName),
            Is.SupersetOf(new[] { "manifest.json", "handler.c", "ext.h", "build.sh", "fixtures.json", "README.md" }));
        // The project carries the SDK this binary was built with, byte for byte.
        Assert.That(await File.ReadAllTextAsync(Path.Combine(project, "ext.h")), Is.EqualTo(await File.ReadAllTextAsync(Path.Combine(Samples.PathOf(".."), "sdk", "c", "ext.h"))));
        using (var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(project, "manifest.json"))))
        {
            Assert.That(manifest.RootElement.GetProperty("publisher").GetString(), Is.EqualTo("acme"));
            Assert.That(manifest.RootElement.GetProperty("name").GetString(), Is.EqualTo("greeter"));
            Assert.That(manifest.RootElement.GetProperty("$schema").GetString(), Does.EndWith("manifest.schema.json"));
        }

        await Tools.RunAsync(project, "bash", "build.sh");
        var junit = Path.Combine(_work, "greeter.xml");
        var (exit, stdout, stderr) = await HostProcess.RunAsync(project, "invoke", ".", "--fixtures", "fixtures.json", "--junit", junit);

        Assert.That(exit, Is.Zero, stdout + stderr);
        Assert.That(stdout.TrimEnd(), Does.EndWith("4 passed, 0 failed"));
        Assert.That(File.Exists(junit), Is.True);

        // And it packs into a bundle as it stands.
        var packed = await HostProcess.RunAsync(project, "pack", ".", "--out", "greeter.extb");
        Assert.That(packed.ExitCode, Is.Zero, packed.Stderr);
        Assert.That(packed.Stdout.Trim(), Does.Match("^sha256:[0-9a-f]{64}$"));
    }

    [Test]
    public async Task UiTemplate_BuildsPassesItsFixtures_AndPacksItsPage_WithNoEdits()
    {
        var created = await HostProcess.RunAsync(_work, "new", "panel", "--template", "ui", "--publisher", "acme");
        Assert.That(created.ExitCode, Is.Zero, created.Stderr);
        var project = Path.Combine(_work, "panel");
        Assert.That(Directory.GetFiles(project).Select(Path.GetFileName),
            Is.SupersetOf(new[] { "manifest.json", "handler.c", "ext.h", "build.sh", "fixtures.json", "README.md" }));
        Assert.That(Directory.GetFiles(Path.Combine(project, "ui")).Select(Path.GetFileName), Is.EquivalentTo(new[] { "index.html", "app.js", "styles.css" }));
        using (var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(project, "manifest.json"))))
        {
            var ui = manifest.RootElement.GetProperty("ui");
            Assert.That(ui.GetProperty("iframe").GetProperty("entry").GetString(), Is.EqualTo("ui/index.html"));
            Assert.That(ui.GetProperty("hooks").GetProperty("nav").GetProperty("label").GetString(), Is.EqualTo("panel"));
        }

        // The page talks to its own endpoint through the bridge, with the host's iframe SDK.
        var app = await File.ReadAllTextAsync(Path.Combine(project, "ui", "app.js"));
        Assert.That(app, Does.Contain("from '../_sdk/iframe.js'").And.Contain("api('/hello/'"));

        var built = await HostProcess.RunAsync(project, "build");
        Assert.That(built.ExitCode, Is.Zero, built.Stdout + built.Stderr);
        Assert.That(built.Stdout, Does.StartWith("ok: acme.panel@0.1.0"));

        var (exit, stdout, stderr) = await HostProcess.RunAsync(project, "invoke", ".", "--fixtures", "fixtures.json");
        Assert.That(exit, Is.Zero, stdout + stderr);
        Assert.That(stdout.TrimEnd(), Does.EndWith("4 passed, 0 failed"));

        var bundlePath = Path.Combine(_work, "panel.extb");
        var packed = await HostProcess.RunAsync(project, "pack", ".", "--out", bundlePath);
        Assert.That(packed.ExitCode, Is.Zero, packed.Stderr);
        var bundle = Modules.Bundles.BundleReader.Read(await File.ReadAllBytesAsync(bundlePath));
        Assert.That(bundle.UiFiles().Select(f => f.Key), Is.EquivalentTo(new[] { "ui/index.html", "ui/app.js", "ui/styles.css" }));
        Assert.That(bundle.Manifest.UiHooks, Is.Not.Empty);
    }

    [Test]
    public async Task AssemblyScriptTemplate_BuildsAndPassesItsFixtures_WithNoEdits()
    {
        if (!await Tools.NpmReachableAsync())
        {
            Assert.Ignore("npm cannot reach its registry here; CI (.ci/run) runs this test");
        }

        var created = await HostProcess.RunAsync(_work, "new", "greeter-as", "--template", "assemblyscript", "--dir", "as-project");
        Assert.That(created.ExitCode, Is.Zero, created.Stderr);
        var project = Path.Combine(_work, "as-project");
        Assert.That(File.Exists(Path.Combine(project, "sdk", "assembly", "index.ts")), Is.True, "the SDK is written into the project");
        using (var package = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(project, "package.json"))))
        {
            Assert.That(package.RootElement.GetProperty("dependencies").GetProperty("@extensions/sdk-assemblyscript").GetString(), Is.EqualTo("file:./sdk"));
        }

        await Tools.RunAsync(project, "bash", "build.sh");
        var (exit, stdout, stderr) = await HostProcess.RunAsync(project, "invoke", ".", "--fixtures", "fixtures.json");

        Assert.That(exit, Is.Zero, stdout + stderr);
        Assert.That(stdout.TrimEnd(), Does.EndWith("4 passed, 0 failed"));
    }

    [TestCase("Bad_Name", "must be lower-case")]
    [TestCase("1st", "must be lower-case")]
    public async Task ABadName_IsRefusedWithOneLine_AndWritesNothing(string name, string expected)
    {
        var (exit, _, stderr) = await HostProcess.RunAsync(_work, "new", name, "--template", "c");

        Assert.That(exit, Is.Not.Zero);
        Assert.That(stderr.Trim(), Does.StartWith("error: ").And.Contain(expected));
        Assert.That(Directory.EnumerateFileSystemEntries(_work), Is.Empty);
    }

    [Test]
    public async Task AnUnknownTemplate_IsRefused()
    {
        var (exit, _, stderr) = await HostProcess.RunAsync(_work, "new", "x", "--template", "rust");

        Assert.That(exit, Is.Not.Zero);
        Assert.That(stderr, Does.Contain("rust"));
        Assert.That(Directory.EnumerateFileSystemEntries(_work), Is.Empty);
    }

    [Test]
    public async Task ANonEmptyDirectory_IsLeftAlone()
    {
        var existing = Directory.CreateDirectory(Path.Combine(_work, "taken")).FullName;
        await File.WriteAllTextAsync(Path.Combine(existing, "handler.c"), "my work");

        var (exit, _, stderr) = await HostProcess.RunAsync(_work, "new", "taken", "--template", "c");

        Assert.That(exit, Is.Not.Zero);
        Assert.That(stderr.Trim(), Does.StartWith("error: ").And.Contain("not empty"));
        Assert.That(Directory.GetFiles(existing).Select(Path.GetFileName), Is.EqualTo(new[] { "handler.c" }));
        Assert.That(await File.ReadAllTextAsync(Path.Combine(existing, "handler.c")), Is.EqualTo("my work"));
    }
}
