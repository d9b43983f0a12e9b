using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Extensions.Modules.Bundles;
using Extensions.Tests.Support;

namespace Extensions.Tests.EndToEnd;

/// <summary>The registry admin verbs against a real <c>serve</c>: list, show, installs, config, upgrade with a diff, rollback, state, audit.</summary>
[TestFixture]
[CancelAfter(240_000)]
public sealed class RegistryVerbTests
{
    private string _work = null!;
    private Process _server = null!;
    private Uri _console = null!;
    private HttpClient _http = null!;
    private PublisherKey _key = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _work = Directory.CreateTempSubdirectory("ext-verbs-").FullName;
        (_server, _console, _, _) = await HostProcess.ServeAsync(_work, "--data", "data", "--port", "0", "--asset-port", "0");
        _http = new HttpClient { BaseAddress = _console };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (await File.ReadAllTextAsync(Path.Combine(_work, "data", "admin.key"))).Trim());
        _key = PublisherKey.Generate();
        var trust = Path.Combine(_work, "data", "trust.json");
        TrustBundle.Load(trust).WithKey(TestPlatform.TestPublisherName, _key.PublicKeyRaw).Save(trust);
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        _http.Dispose();
        await HostProcess.KillAsync(_server);
        _server.Dispose();
        Directory.Delete(_work, recursive: true);
    }

    private async Task<PackedBundle> PublishAsync(string dir)
    {
        var packed = BundlePacker.Pack(dir);
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(packed.ToGzip()), "bundle", "b.extb" },
            { new StringContent(BundleSignature.Create(packed.ContentHash, _key).ToJson()), "signature", "b.extb.sig" },
        };
        using var response = await _http.PostAsync("/api/admin/bundles", form);
        await TestPlatform.EnsureSuccessAsync(response);
        return packed;
    }

    private Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args) =>
        HostProcess.RunAsync(_work, [.. args, "--server", _console.ToString(), "--key", Path.Combine("data", "admin.key")]);

    private async Task<string> OkAsync(params string[] args)
    {
        var (exit, stdout, stderr) = await RunAsync(args);
        Assert.That(exit, Is.Zero, $"{string.Join(' ', args)}\nstdout: {stdout}\nstderr: {stderr}");
        return stdout;
    }

    private async Task<string> FailsAsync(params string[] args)
    {
        var (exit, _, stderr) = await RunAsync(args);
        Assert.That(exit, Is.EqualTo(1), string.Join(' ', args));
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), stderr);
        Assert.That(lines[0], Does.StartWith("error: "));
        return lines[0];
    }

    private async Task<string> CallAsync(string extension)
    {
        using var response = await _http.GetAsync($"/api/ext/{extension}/run");
        return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
    }

    [Test]
    public async Task AdminVerbs_DriveTheWholeLifecycle()
    {
        var schema = new JsonObject
        {
            ["type"] = "object",
            ["properties"] = new JsonObject { ["greeting"] = new JsonObject { ["type"] = "string" } },
        };
        var v1 = await PublishAsync(GuestFixtures.Create("flow", GuestFixtures.EchoGreeting, config: schema));
        var v2 = await PublishAsync(GuestFixtures.Create("flow", GuestFixtures.EchoGreeting, version: "2.0.0", config: schema,
            capabilities: [Capabilities.Log], egressHosts: ["api.example.com"]));

        await OkAsync("install", "test.flow", "--version", "1.0.0", "--accept", "--config", "greeting=hi");
        Assert.That(await CallAsync("test.flow"), Is.EqualTo("200 \"hi\""));

        Assert.That(await OkAsync("extensions", "list"), Does.Contain("test.flow\t1.0.0, 2.0.0"));
        var shown = await OkAsync("extensions", "show", "test.flow");
        Assert.That(shown, Does.Contain(v1.ContentHash).And.Contain(v2.ContentHash).And.Contain($"signed by {_key.KeyId}").And.Contain("installed for default: 1.0.0"));
        Assert.That(await OkAsync("installs", "list", "--tenant", "default"), Does.Contain("default\ttest.flow\t1.0.0\tenabled"));

        await OkAsync("config", "set", "test.flow", "--tenant", "default", "greeting=howdy");
        Assert.That(await CallAsync("test.flow"), Is.EqualTo("200 \"howdy\""));
        Assert.That(await FailsAsync("config", "set", "test.flow", "--tenant", "default", "greeting=5"), Does.Contain("invalid_config").And.Contain("config.greeting"));
        Assert.That(await CallAsync("test.flow"), Is.EqualTo("200 \"howdy\""));

        var (exit, stdout, stderr) = await RunAsync("upgrade", "test.flow", "--tenant", "default", "--version", "2.0.0");
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(stdout, Does.Contain("+ capabilities: cap:log").And.Contain("+ egress hosts: api.example.com"));
        Assert.That(stderr, Does.StartWith("error: ").And.Contain("--accept").And.Contain("nothing changed"));
        Assert.That(await OkAsync("installs", "list"), Does.Contain("test.flow\t1.0.0"));

        Assert.That(await OkAsync("upgrade", "test.flow", "--tenant", "default", "--version", "2.0.0", "--accept"), Does.Contain("now runs 2.0.0"));
        Assert.That(await OkAsync("installs", "list"), Does.Contain("test.flow\t2.0.0\tenabled\t[cap:log]\tegress [api.example.com]"));
        Assert.That(await CallAsync("test.flow"), Is.EqualTo("200 \"howdy\""), "config survives the upgrade");

        Assert.That(await OkAsync("rollback", "test.flow", "--tenant", "default", "--hash", v1.ContentHash), Does.Contain("now runs 1.0.0"));
        var widening = await RunAsync("rollback", "test.flow", "--tenant", "default", "--hash", v2.ContentHash);
        Assert.That(widening.ExitCode, Is.EqualTo(1));
        Assert.That(widening.Stdout, Does.Contain("+ capabilities: cap:log"));
        Assert.That(await OkAsync("rollback", "test.flow", "--tenant", "default", "--hash", v2.ContentHash, "--accept"), Does.Contain("now runs 2.0.0"));

        await OkAsync("disable", "test.flow"); // --tenant defaults to default, as for install
        Assert.That(await CallAsync("test.flow"), Does.StartWith("403"));
        Assert.That(await FailsAsync("disable", "test.flow", "--tenant", "default"), Does.Contain("invalid_state"));
        await OkAsync("enable", "test.flow", "--tenant", "default");
        Assert.That(await CallAsync("test.flow"), Does.StartWith("200"));

        var audit = await OkAsync("audit", "--tenant", "default", "--extension", "test.flow");
        Assert.That(audit, Does.Contain("install.upgrade").And.Contain("install.rollback").And.Contain("install.config").And.Contain("before: {"));

        await OkAsync("uninstall", "test.flow", "--tenant", "default");
        Assert.That(await OkAsync("installs", "list"), Does.Not.Contain("test.flow"));
        Assert.That(await CallAsync("test.flow"), Does.StartWith("404"));
        Assert.That(await FailsAsync("uninstall", "test.flow", "--tenant", "default"), Does.Contain("not_found"));
    }

    [TestCase("rollback", "test.none", "--tenant", "default", "--hash", "sha256:00")]
    [TestCase("upgrade", "test.none", "--tenant", "default", "--version", "1.0.0")]
    [TestCase("extensions", "show", "test.none")]
    [TestCase("config", "set", "test.none", "--tenant", "default", "novalue")]
    public async Task BadInput_GivesOneErrorLine(params string[] args) => await FailsAsync(args);

    [TestCase("install", "Required argument missing", "install --help")]
    [TestCase("rollback", "Required argument missing", "rollback --help")]
    [TestCase("installs list --bogus", "Unrecognized command or argument '--bogus'", "installs list --help")]
    public async Task ACommandLineThatDoesNotParse_GivesOneErrorLine_NotAHelpDump(string line, string message, string hint)
    {
        var error = await FailsAsync(line.Split(' '));

        Assert.That(error, Does.Contain(message).And.EndWith($"(see '{hint}')"));
    }

    [TestCase("extensions")]
    [TestCase("extensions", "list")]
    [TestCase("extensions", "show")]
    [TestCase("installs", "list")]
    [TestCase("enable")]
    [TestCase("disable")]
    [TestCase("uninstall")]
    [TestCase("upgrade")]
    [TestCase("rollback")]
    [TestCase("config", "set")]
    [TestCase("audit")]
    public async Task EveryRegistryVerb_HasHelp(params string[] verb)
    {
        var (exit, stdout, _) = await HostProcess.RunAsync(_work, [.. verb, "--help"]);

        Assert.That(exit, Is.Zero);
        Assert.That(stdout, Does.Contain("Usage:").And.Contain(string.Join(' ', verb)));
    }
}
