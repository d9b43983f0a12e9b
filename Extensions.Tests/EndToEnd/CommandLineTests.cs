using System.Net;
using System.Net.Http.Headers;
using Extensions.Tests.Support;

namespace Extensions.Tests.EndToEnd;

/// <summary>The binary as users run it: serve, then keygen → trust → pack → sign → publish → install → call.</summary>
[TestFixture]
[CancelAfter(180_000)]
public sealed class CommandLineTests
{
    private string _work = null!;

    [SetUp]
    public void SetUp() => _work = Directory.CreateTempSubdirectory("ext-cli-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_work, recursive: true);

    [Test]
    public async Task AuthorToTenant_ThroughTheVerbs_ServesTheNewExtension()
    {
        var (server, console, _, output) = await HostProcess.ServeAsync(_work, "--data", "data", "--port", "0", "--asset-port", "0");
        try
        {
            var adminKey = (await File.ReadAllTextAsync(Path.Combine(_work, "data", "admin.key"))).Trim();
            var extension = GuestFixtures.Create("cli", GuestFixtures.Ok, version: "0.1.0", publisher: "acme");

            await Verb("keygen", "--out", "keys");
            await Verb("trust", "add", "acme", Path.Combine("keys", "publisher.pub"), "--data", "data");
            var (_, hash, _) = await Verb("pack", extension, "--out", "cli.extb");
            Assert.That(hash.Trim(), Does.Match("^sha256:[0-9a-f]{64}$"));
            await Verb("sign", "cli.extb", "--key", Path.Combine("keys", "publisher.key"));
            var (_, verified, _) = await Verb("verify", "cli.extb", "--trust", Path.Combine("data", "trust.json"));
            Assert.That(verified, Does.Contain("signature: ok"));
            await Verb("publish", "cli.extb", "--server", console.ToString(), "--key", Path.Combine("data", "admin.key"));

            var refused = await HostProcess.RunAsync(_work, "install", "acme.cli", "--server", console.ToString(), "--key", Path.Combine("data", "admin.key"));
            Assert.That(refused.ExitCode, Is.Not.Zero, "install without --accept must not consent on the admin's behalf");
            await Verb("install", "acme.cli", "--accept", "--server", console.ToString(), "--key", Path.Combine("data", "admin.key"));

            using var http = new HttpClient { BaseAddress = console };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
            using var response = await http.GetAsync("/api/ext/acme.cli/run");
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo("ok"));

            using var hello = await http.GetAsync("/api/ext/samples.hello/hello/Ada");
            Assert.That(await hello.Content.ReadAsStringAsync(), Is.EqualTo("""{"message":"Hello, Ada"}"""));
        }
        finally
        {
            await HostProcess.KillAsync(server);
        }

        Assert.That(output.ToString(), Does.Contain("assets: http://127.0.0.1:"));
    }

    [Test]
    public async Task Invoke_RunsOneRequestWithNoServer()
    {
        var extension = GuestFixtures.Create("local", GuestFixtures.Ok);

        var (exit, stdout, stderr) = await HostProcess.RunAsync(_work, "invoke", extension, "GET", "/run");

        Assert.That(exit, Is.Zero, stderr);
        Assert.That(stdout, Does.StartWith("200"));
        Assert.That(stdout.TrimEnd(), Does.EndWith("ok"));
        Assert.That(stderr, Does.Contain("fuel"));
        Assert.That(Directory.Exists(Path.Combine(_work, "data")), Is.False, "invoke must not create a server data directory");
    }

    [Test]
    public async Task Invoke_WithSecret_GivesTheGuestTheValue_AndRefusesUndeclaredOnes()
    {
        var extension = GuestFixtures.Create("localsecret", Extensions.Tests.HostApi.HostApiGuests.SecretEcho, capabilities: ["cap:secrets"],
            endpoints: [("POST", "/run")], secrets: ["api_token"]);
        var bodyFile = Path.Combine(_work, "secret-name.txt");
        await File.WriteAllTextAsync(bodyFile, "api_token");

        var (exit, stdout, stderr) = await HostProcess.RunAsync(_work, "invoke", extension, "POST", "/run", "--body", bodyFile, "--secret", "api_token=local-value-42");
        Assert.That(exit, Is.Zero, stderr);
        Assert.That(stdout.TrimEnd(), Does.EndWith("local-value-42"));

        var (refused, _, error) = await HostProcess.RunAsync(_work, "invoke", extension, "POST", "/run", "--secret", "other=zzz-hidden");
        Assert.That(refused, Is.EqualTo(1));
        Assert.That(error, Does.Contain("declares no such secret").And.Not.Contain("zzz-hidden"));

        var (malformed, _, why) = await HostProcess.RunAsync(_work, "invoke", extension, "POST", "/run", "--secret", "just-the-value-hidden");
        Assert.That(malformed, Is.EqualTo(1));
        Assert.That(why, Does.Not.Contain("just-the-value-hidden"));
    }

    [Test]
    public async Task Invoke_OfARunawayGuest_ExitsNonZeroWithTheReason()
    {
        var extension = GuestFixtures.Create("loop", GuestFixtures.InfiniteLoop);

        var (exit, _, stderr) = await HostProcess.RunAsync(_work, "invoke", extension, "GET", "/run");

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(stderr, Does.Contain("FuelExhausted"));
    }

    [TestCase("serve")]
    [TestCase("keygen")]
    [TestCase("pack")]
    [TestCase("sign")]
    [TestCase("verify")]
    [TestCase("publish")]
    [TestCase("install")]
    [TestCase("invoke")]
    [TestCase("trust")]
    [TestCase("new")]
    public async Task EveryVerb_HasHelp(string verb)
    {
        var (exit, stdout, _) = await HostProcess.RunAsync(_work, verb, "--help");

        Assert.That(exit, Is.Zero);
        Assert.That(stdout, Does.Contain("Usage:").And.Contain(verb));
    }

    [TestCase("pack", "does-not-exist")]
    [TestCase("sign", "missing.extb", "--key", "missing.key")]
    [TestCase("verify", "missing.extb")]
    [TestCase("publish", "missing.extb", "--key", "missing.key")]
    public async Task BadInput_GivesOneClearLineAndNonZeroExit(params string[] args)
    {
        var (exit, _, stderr) = await HostProcess.RunAsync(_work, args);

        Assert.That(exit, Is.Not.Zero);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), stderr);
        Assert.That(lines[0], Does.StartWith("error: "));
    }

    [TestCase("Runner__Wrokers", "3", "unknown setting Runner:Wrokers")]
    [TestCase("Runner__DefaultFuel", "5000000000", "DefaultFuel must not exceed MaxFuel")]
    [TestCase("Gateway__MaxRequestBodyBytes", "-1", "MaxRequestBodyBytes")]
    public async Task Serve_WithBadConfiguration_RefusesToStartWithOneClearLine(string variable, string value, string expected)
    {
        var (exit, _, stderr) = await HostProcess.RunAsync(_work, new Dictionary<string, string> { [variable] = value },
            "serve", "--data", "data", "--port", "0", "--asset-port", "0");

        Assert.That(exit, Is.EqualTo(1));
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), stderr);
        Assert.That(lines[0], Does.StartWith("error: invalid configuration").And.Contain(expected));
    }

    [Test]
    public async Task Serve_OnAPortInUse_RefusesWithOneClearLine()
    {
        using var occupant = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        occupant.Start();
        var port = ((System.Net.IPEndPoint)occupant.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var (exit, _, stderr) = await HostProcess.RunAsync(_work, "serve", "--data", "data", "--port", port, "--asset-port", "0");

        Assert.That(exit, Is.EqualTo(1));
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), stderr);
        Assert.That(lines[0], Does.StartWith("error: cannot listen").And.Contain(port));
    }

    private async Task<(int, string, string)> Verb(params string[] args)
    {
        var result = await HostProcess.RunAsync(_work, args);
        Assert.That(result.ExitCode, Is.Zero, $"{string.Join(' ', args)}\nstdout: {result.Stdout}\nstderr: {result.Stderr}");
        return result;
    }
}
