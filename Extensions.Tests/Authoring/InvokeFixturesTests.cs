using System.Xml.Linq;
using Extensions.Tests.Support;

namespace Extensions.Tests.Authoring;

/// <summary>
/// <c>invoke DIR --fixtures FILE [--junit OUT]</c> through the real binary: a table of results with usage, exit code 1 when
/// any request fails, JUnit XML, KV seeding, and clear refusals of bad fixtures files.
/// </summary>
[TestFixture]
[CancelAfter(120_000)]
public sealed class InvokeFixturesTests
{
    private string _work = null!;

    [SetUp]
    public void SetUp() => _work = TestRun.NewDirectory("invoke-fixtures");

    [Test]
    public async Task PassingFixtures_PrintATableWithUsage_AndExitZero()
    {
        var fixtures = Write("ok.json", """
            { "tests": [
              { "name": "world", "request": { "path": "/hello" },
                "expect": { "status": 200, "body": { "message": "Hello, world" }, "headers": { "content-type": "application/json; charset=utf-8" } } },
              { "name": "exact text", "request": { "method": "GET", "path": "/hello/Ada" }, "expect": { "body": "{\"message\":\"Hello, Ada\"}" } },
              { "request": { "method": "DELETE", "path": "/hello" }, "expect": { "status": 404 } }
            ] }
            """);
        var junit = Path.Combine(_work, "results.xml");

        var (exit, stdout, stderr) = await HostProcess.RunAsync(_work, "invoke", Samples.Copy("hello-c"), "--fixtures", fixtures, "--junit", junit);

        Assert.That(exit, Is.Zero, stdout + stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[0], Does.StartWith("RESULT").And.Contain("FUEL").And.Contain("MS").And.Contain("MEM KiB"));
        Assert.That(lines.Count(l => l.StartsWith("PASS", StringComparison.Ordinal)), Is.EqualTo(3));
        Assert.That(lines.Single(l => l.Contains("world", StringComparison.Ordinal)), Does.Match(@"PASS\s+world\s+GET /hello\s+200\s+[1-9][\d,]*\s+\d+\.\d\d\s+\d+"));
        Assert.That(lines.Any(l => l.Contains("DELETE /hello", StringComparison.Ordinal)), Is.True, "an unnamed test is named after its request");
        Assert.That(lines[^1], Is.EqualTo("3 passed, 0 failed"));

        var suite = XDocument.Load(junit).Root!.Element("testsuite")!;
        Assert.That((string?)suite.Attribute("tests"), Is.EqualTo("3"));
        Assert.That((string?)suite.Attribute("failures"), Is.EqualTo("0"));
        Assert.That(suite.Elements("testcase").Select(t => (string?)t.Attribute("name")), Is.EqualTo(new[] { "world", "exact text", "DELETE /hello" }));
    }

    [Test]
    public async Task AFailingFixture_IsExplained_TheOthersStillRun_AndTheExitCodeIsOne()
    {
        var fixtures = Write("mixed.json", """
            { "tests": [
              { "name": "first", "request": { "path": "/hello/Ada" }, "expect": { "status": 200 } },
              { "name": "wrong", "request": { "path": "/hello/Bob" },
                "expect": { "status": 201, "body": { "message": "Hello, Alice" }, "headers": { "x-missing": "1" }, "bodyContains": "Carol" } },
              { "name": "after", "request": { "path": "/hello/Eve" }, "expect": { "body": { "message": "Hello, Eve" } } }
            ] }
            """);
        var junit = Path.Combine(_work, "results.xml");

        var (exit, stdout, _) = await HostProcess.RunAsync(_work, "invoke", Samples.Copy("hello-c"), "--fixtures", fixtures, "--junit", junit);

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(stdout, Does.Contain("status: expected 201, got 200"));
        Assert.That(stdout, Does.Contain("""body: expected JSON {"message":"Hello, Alice"}, got '{"message":"Hello, Bob"}'"""));
        Assert.That(stdout, Does.Contain("header x-missing: expected '1', missing"));
        Assert.That(stdout, Does.Contain("body: expected to contain 'Carol'"));
        Assert.That(stdout, Does.Match(@"PASS\s+after"));
        Assert.That(stdout.TrimEnd(), Does.EndWith("2 passed, 1 failed"));

        var cases = XDocument.Load(junit).Root!.Element("testsuite")!.Elements("testcase").ToList();
        Assert.That(cases.Select(c => c.Element("failure") is not null), Is.EqualTo(new[] { false, true, false }));
        Assert.That((string?)cases[1].Element("failure")!.Attribute("message"), Is.EqualTo("status: expected 201, got 200"));
    }

    [Test]
    public async Task ARunawayGuest_FailsItsFixtureWithTheReason()
    {
        var fixtures = Write("loop.json", """{ "tests": [ { "name": "spins", "request": { "path": "/run" }, "expect": { "status": 200 } } ] }""");

        var (exit, stdout, _) = await HostProcess.RunAsync(_work, "invoke", GuestFixtures.Create("loop", GuestFixtures.InfiniteLoop), "--fixtures", fixtures);

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(stdout, Does.Match(@"FAIL\s+spins\s+GET /run\s+FuelExhausted"));
        Assert.That(stdout.TrimEnd(), Does.EndWith("0 passed, 1 failed"));
    }

    [Test]
    public async Task KvSeeds_AreWrittenBeforeTheirTest_AndLaterTestsSeeTheWrites()
    {
        var fixtures = Write("kv.json", """
            { "kv": { "counter:visits": "41" },
              "tests": [
                { "name": "seeded value is read", "request": { "path": "/counters/visits" }, "expect": { "status": 200, "bodyContains": "\"count\":41" } },
                { "name": "increment", "request": { "method": "POST", "path": "/counters/visits" }, "expect": { "status": 200, "bodyContains": "\"count\":42" } },
                { "name": "per-test seed", "request": { "path": "/counters/other", "kv": { "counter:other": "7" } }, "expect": { "bodyContains": "\"count\":7" } },
                { "name": "the increment stuck", "request": { "path": "/counters/visits" }, "expect": { "bodyContains": "\"count\":42" } }
              ] }
            """);

        var (exit, stdout, stderr) = await HostProcess.RunAsync(_work, "invoke", Samples.Copy("kv-counter"), "--fixtures", fixtures);

        Assert.That(exit, Is.Zero, stdout + stderr);
        Assert.That(stdout.TrimEnd(), Does.EndWith("4 passed, 0 failed"));
    }

    [TestCase("{ not json", "is not valid JSON")]
    [TestCase("""{ "cases": [] }""", "must be an object with a \"tests\" array")]
    [TestCase("""{ "tests": [] }""", "has no tests")]
    [TestCase("""{ "tests": [ { "request": { "path": "hello" } } ] }""", "must start with '/'")]
    [TestCase("""{ "tests": [ { "request": { "path": "/hello" }, "expect": { "status": 42 } } ] }""", "tests[0].expect.status must be an HTTP status")]
    [TestCase("""{ "tests": [ { "request": { "path": "/hello", "headers": ["a"] } } ] }""", "tests[0].request.headers must be an object")]
    public async Task ABadFixturesFile_GivesOneClearLine(string content, string expected)
    {
        var fixtures = Write("bad.json", content);

        var (exit, stdout, stderr) = await HostProcess.RunAsync(_work, "invoke", Samples.Copy("hello-c"), "--fixtures", fixtures);

        Assert.That(exit, Is.Not.Zero);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), stderr);
        Assert.That(lines[0], Does.StartWith("error: ").And.Contain(expected));
        Assert.That(stdout, Does.Not.Contain("passed"));
    }

    [Test]
    public async Task FixturesAndASingleRequest_AreNotMixed()
    {
        var fixtures = Write("ok.json", """{ "tests": [ { "request": { "path": "/hello" } } ] }""");

        var both = await HostProcess.RunAsync(_work, "invoke", Samples.Copy("hello-c"), "GET", "/hello", "--fixtures", fixtures);
        var neither = await HostProcess.RunAsync(_work, "invoke", Samples.Copy("hello-c"));

        Assert.That(both.ExitCode, Is.Not.Zero);
        Assert.That(both.Stderr, Does.Contain("not both"));
        Assert.That(neither.ExitCode, Is.Not.Zero);
        Assert.That(neither.Stderr, Does.Contain("--fixtures FILE"));
    }

    [Test]
    public async Task SingleRequest_KeepsTheResponseOnStdout_AndTheGuestLogOnStderr()
    {
        var (exit, stdout, stderr) = await HostProcess.RunAsync(_work, "invoke", Samples.Copy("hello-c"), "GET", "/hello/Ada");

        Assert.That(exit, Is.Zero, stderr);
        Assert.That(stdout, Does.StartWith("200\n"));
        Assert.That(stdout.TrimEnd(), Does.EndWith("""{"message":"Hello, Ada"}"""));
        Assert.That(stdout, Does.Not.Contain("greeting"));
        Assert.That(stderr, Does.Contain("greeting Ada").And.Contain("fuel"));
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_work, name);
        File.WriteAllText(path, content);
        return path;
    }
}
