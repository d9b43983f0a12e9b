using System.Xml.Linq;
using Extensions.Tests.HostApi;
using Extensions.Tests.Support;

namespace Extensions.Tests.Authoring;

/// <summary>
/// <c>invoke --fixtures</c> with an egress stub map: <c>http_fetch</c> answered from the fixtures file through the host's real
/// fetcher (consent, address literals, redirects and time caps still apply), with no network, the stubs that were hit
/// reported per test, and the outgoing requests checked against <c>expect.fetches</c>.
/// </summary>
[TestFixture]
[CancelAfter(120_000)]
public sealed class EgressStubTests
{
    private const string PostEnvelope = """{"method":"POST","url":"https://api.example.com/items","headers":[["content-type","application/json"]]}""";

    private string _work = null!;

    [SetUp]
    public void SetUp() => _work = TestRun.NewDirectory("egress-stubs");

    [Test]
    public async Task HttpFetchSample_Fixtures_PassOnStubs_AndReportWhichStubsWereHit()
    {
        var fixtures = Path.Combine(Samples.PathOf("http-fetch"), "test", "fixtures.json");
        var junit = Path.Combine(_work, "results.xml");

        var (exit, stdout, stderr) = await HostProcess.RunAsync(_work, "invoke", Samples.Copy("http-fetch"), "--fixtures", fixtures, "--junit", junit);

        Assert.That(exit, Is.Zero, stdout + stderr);
        Assert.That(stdout.TrimEnd(), Does.EndWith("4 passed, 0 failed"));
        // 15 bytes is the stub's body: the real example.com page is far bigger, so the network was not reached.
        Assert.That(stdout, Does.Contain("fetch GET https://example.com/ -> stub 'example home' (200)"));
        Assert.That(stdout, Does.Contain("fetch GET https://api.example.com/v1/health?deep=1 -> stub 'api down' (503)"));
        Assert.That(stdout, Does.Contain("fetch GET https://example.com/old -> stub 'moved' (302)"));
        Assert.That(stdout, Does.Not.Contain("elsewhere.test"), "neither the unconsented host nor the redirect to it reached the stubs");
        var cases = XDocument.Load(junit).Root!.Element("testsuite")!.Elements("testcase").ToList();
        Assert.That((string?)cases[0].Element("system-out"), Does.Contain("stub 'example home'"));
    }

    [Test]
    public async Task AFetchNoStubMatches_FailsItsTestClearly_AndNeverReachesTheNetwork()
    {
        await using var server = await LocalHttpServer.StartAsync();
        var guest = GuestFixtures.Create("fetcher", HostApiGuests.FetchProxy, capabilities: ["cap:http.fetch"], endpoints: [("POST", "/run")], egressHosts: ["127.0.0.1"]);
        var envelope = $$"""{"url":"{{server.Url("/secret")}}"}""";
        var fixtures = Write("miss.json", $$"""
            { "stubs": [ { "url": "{{server.Url("/other")}}", "response": { "status": 200 } } ],
              "tests": [ { "name": "unstubbed", "request": { "method": "POST", "path": "/run", "body": {{System.Text.Json.JsonSerializer.Serialize(envelope)}} },
                           "expect": { "status": 200 } } ] }
            """);
        // The operator opened loopback, so without the stub map this fetch would reach the server above.
        var environment = new Dictionary<string, string> { ["HostApi__EgressAllowedRanges__0"] = "127.0.0.0/8" };

        var (exit, stdout, _) = await HostProcess.RunAsync(_work, environment, "invoke", guest, "--fixtures", fixtures);

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(stdout, Does.Contain($"fetch GET {server.Url("/secret")} -> no stub matched"));
        Assert.That(stdout, Does.Contain($"http_fetch GET {server.Url("/secret")} matched no stub"));
        Assert.That(stdout, Does.Contain($"status: expected 200, got {HostApiGuests.StatusFor(-5)}"), "the guest saw a failed fetch (-5)");
        Assert.That(server.Requests, Is.Empty);
    }

    [Test]
    public async Task ExpectedFetches_CheckMethodUrlHeadersAndBody()
    {
        var guest = GuestFixtures.Create("poster", HostApiGuests.FetchProxy, capabilities: ["cap:http.fetch"], endpoints: [("POST", "/run")], egressHosts: ["api.example.com"]);
        var body = System.Text.Json.JsonSerializer.Serialize(PostEnvelope + "\n{\"a\":1}");
        var fixtures = Write("post.json", $$"""
            { "stubs": [ { "method": "POST", "url": "https://api.example.com/items", "response": { "status": 201, "body": "made" } } ],
              "tests": [
                { "name": "right", "request": { "method": "POST", "path": "/run", "body": {{body}} },
                  "expect": { "status": 200, "bodyContains": "made",
                              "fetches": [ { "method": "POST", "url": "https://api.example.com/items", "body": { "a": 1 }, "headers": { "content-type": "application/json" } } ] } },
                { "name": "wrong", "request": { "method": "POST", "path": "/run", "body": {{body}} },
                  "expect": { "fetches": [ { "method": "PUT", "url": "https://api.example.com/items", "body": { "a": 2 }, "headers": { "x-trace": "1" } },
                                           { "url": "https://api.example.com/more" } ] } }
              ] }
            """);

        var (exit, stdout, stderr) = await HostProcess.RunAsync(_work, "invoke", guest, "--fixtures", fixtures);

        Assert.That(exit, Is.EqualTo(1), stdout + stderr);
        Assert.That(stdout, Does.Match(@"PASS\s+right"));
        Assert.That(stdout, Does.Match(@"FAIL\s+wrong"));
        Assert.That(stdout, Does.Contain("fetch 1: expected PUT https://api.example.com/items, got POST https://api.example.com/items"));
        Assert.That(stdout, Does.Contain("fetch 1: header x-trace: expected '1', missing"));
        Assert.That(stdout, Does.Contain("""fetch 1: body: expected JSON {"a":2}, got '{"a":1}'"""));
        Assert.That(stdout, Does.Contain("fetches: expected 2 request(s) past the egress policy, got 1"));
        Assert.That(stdout.TrimEnd(), Does.EndWith("1 passed, 1 failed"));
    }

    [Test]
    public async Task StubDelays_CountAgainstTheFetchTimeout_AndAddressLiteralsAreRefusedAsInProduction()
    {
        var guest = GuestFixtures.Create("slow", HostApiGuests.FetchProxy, capabilities: ["cap:http.fetch"], endpoints: [("POST", "/run")],
            egressHosts: ["slow.example.com", "10.1.2.3"]);
        string Body(string url) => System.Text.Json.JsonSerializer.Serialize($$"""{"url":"{{url}}"}""");
        var fixtures = Write("slow.json", $$"""
            { "stubs": [ { "urlPrefix": "https://slow.example.com/", "delayMs": 3000, "response": { "status": 200 } },
                         { "urlPrefix": "http://10.1.2.3/", "response": { "status": 200 } } ],
              "tests": [
                { "name": "slow", "request": { "method": "POST", "path": "/run", "body": {{Body("https://slow.example.com/a")}} },
                  "expect": { "status": {{HostApiGuests.StatusFor(-6)}} } },
                { "name": "private literal", "request": { "method": "POST", "path": "/run", "body": {{Body("http://10.1.2.3/")}} },
                  "expect": { "status": {{HostApiGuests.StatusFor(-11)}}, "fetches": [] } }
              ] }
            """);
        var environment = new Dictionary<string, string> { ["HostApi__HttpFetchTimeoutMs"] = "300" };

        var (exit, stdout, stderr) = await HostProcess.RunAsync(_work, environment, "invoke", guest, "--fixtures", fixtures);

        Assert.That(exit, Is.Zero, stdout + stderr);
        Assert.That(stdout.TrimEnd(), Does.EndWith("2 passed, 0 failed"));
        var slowMs = double.Parse(System.Text.RegularExpressions.Regex.Match(stdout, @"PASS\s+slow\s+POST /run\s+\d+\s+[\d,]+\s+(\d+\.\d\d)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(slowMs, Is.InRange(250, 2500), "cut off by the 300 ms fetch timeout, not the 3 s stub delay");
    }

    [TestCase("""{ "stubs": {}, "tests": [ { "request": { "path": "/run" } } ] }""", "stubs must be an array")]
    [TestCase("""{ "stubs": [ { "response": {} } ], "tests": [ { "request": { "path": "/run" } } ] }""", "stubs[0] needs exactly one of \"url\" and \"urlPrefix\"")]
    [TestCase("""{ "stubs": [ { "url": "ftp://x/" } ], "tests": [ { "request": { "path": "/run" } } ] }""", "stubs[0].url must be an absolute http or https URL")]
    [TestCase("""{ "tests": [ { "request": { "path": "/run" }, "stubs": [ { "url": "https://a.test/", "delayMs": -1 } ] } ] }""", "tests[0].stubs[0].delayMs must be")]
    [TestCase("""{ "tests": [ { "request": { "path": "/run" }, "expect": { "fetches": {} } } ] }""", "tests[0].expect.fetches must be an array")]
    [TestCase("""{ "tests": [ { "request": { "path": "/run" }, "expect": { "fetches": [ { "method": "GET" } ] } } ] }""", "tests[0].expect.fetches[0].url is required")]
    public async Task ABadStubOrExpectedFetch_GivesOneClearLine(string content, string expected)
    {
        var fixtures = Write("bad.json", content);

        var (exit, stdout, stderr) = await HostProcess.RunAsync(_work, "invoke", GuestFixtures.Create("bad", HostApiGuests.FetchProxy, capabilities: ["cap:http.fetch"]), "--fixtures", fixtures);

        Assert.That(exit, Is.Not.Zero);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), stderr);
        Assert.That(lines[0], Does.StartWith("error: ").And.Contain(expected));
        Assert.That(stdout, Does.Not.Contain("passed"));
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_work, name);
        File.WriteAllText(path, content);
        return path;
    }
}
