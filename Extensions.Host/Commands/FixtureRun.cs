using System.Globalization;
using System.Text;
using System.Xml;
using Extensions.Modules.Runner.Contracts;

namespace Extensions.Host.Commands;

/// <summary><c>invoke --fixtures</c>: every request of a fixtures file through one local runtime, a results table, JUnit XML.</summary>
internal static class FixtureRun
{
    private sealed record Outcome(Fixture Fixture, InvocationResult? Result, List<string> Problems, IReadOnlyList<StubbedFetch> Fetches)
    {
        public bool Passed => Problems.Count == 0;
    }

    public static async Task<int> RunAsync(string source, string fixturesPath, string? junitPath, CancellationToken ct)
    {
        var fixtures = FixtureFile.Load(fixturesPath);
        if (fixtures.Count == 0)
        {
            throw new CliException($"{fixturesPath} has no tests");
        }

        // A fixtures run never reaches the network: http_fetch gets the stubs (none declared: every fetch fails, and says so).
        using var egress = new EgressStubHandler();
        await using var runtime = await LocalRuntime.StartAsync(source, verboseGuestLog: false, ct, egress);
        var outcomes = new List<Outcome>();
        foreach (var fixture in fixtures)
        {
            egress.Reset(fixture.Stubs);
            foreach (var (key, value) in fixture.Kv)
            {
                await runtime.SeedKvAsync(key, value, ct);
            }

            var result = await runtime.InvokeAsync(fixture.Method, fixture.Path, fixture.Headers, fixture.Body, fixture.Config, ct);
            var problems = result switch
            {
                // What the gateway answers for an undeclared endpoint, so a fixture can assert that a route does not exist.
                null when fixture.ExpectStatus == 404 => FixtureFile.Check(fixture, 404, [], []),
                null => [$"{runtime.Manifest.ExtensionId} declares no endpoint {fixture.Method} {fixture.Path} (the gateway answers 404)"],
                { Outcome: not InvocationOutcome.Ok } broken => [$"{broken.Outcome}: {broken.Diagnostic}"],
                _ => FixtureFile.Check(fixture, result.Status, result.Headers, result.Body),
            };
            var fetches = egress.Seen;
            problems.AddRange(FixtureFile.CheckFetches(fixture, fetches));
            outcomes.Add(new Outcome(fixture, result, problems, fetches));
        }

        PrintTable(outcomes);
        if (junitPath is not null)
        {
            WriteJUnit(junitPath, runtime.Manifest.ExtensionId, outcomes);
        }

        var failed = outcomes.Count(o => !o.Passed);
        Console.WriteLine($"{outcomes.Count - failed} passed, {failed} failed");
        return failed == 0 ? 0 : 1;
    }

    private static void PrintTable(List<Outcome> outcomes)
    {
        var rows = outcomes.Select(o => new[]
        {
            o.Passed ? "PASS" : "FAIL",
            o.Fixture.Name,
            $"{o.Fixture.Method} {o.Fixture.Path}",
            o.Result is { Outcome: InvocationOutcome.Ok } ok ? ok.Status.ToString(CultureInfo.InvariantCulture) : o.Result?.Outcome.ToString() ?? "404",
            (o.Result?.Usage.Fuel ?? 0).ToString("N0", CultureInfo.InvariantCulture),
            (o.Result?.Usage.WallMs ?? 0).ToString("0.00", CultureInfo.InvariantCulture),
            ((o.Result?.Usage.PeakMemoryBytes ?? 0) / 1024).ToString(CultureInfo.InvariantCulture),
        }).ToList();
        string[] head = ["RESULT", "TEST", "REQUEST", "STATUS", "FUEL", "MS", "MEM KiB"];
        var widths = head.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        string Line(string[] cells) => string.Join("  ", cells.Select((c, i) => i >= 4 ? c.PadLeft(widths[i]) : c.PadRight(widths[i]))).TrimEnd();

        Console.WriteLine(Line(head));
        for (var i = 0; i < rows.Count; i++)
        {
            Console.WriteLine(Line(rows[i]));
            foreach (var fetch in outcomes[i].Fetches)
            {
                Console.WriteLine($"      {StubReport.Describe(fetch)}");
            }

            foreach (var problem in outcomes[i].Problems)
            {
                Console.WriteLine($"      {problem}");
            }
        }
    }

    private static void WriteJUnit(string path, string suite, List<Outcome> outcomes)
    {
        var settings = new XmlWriterSettings { Indent = true, Encoding = new UTF8Encoding(false) };
        using var xml = XmlWriter.Create(path, settings);
        var seconds = (double ms) => (ms / 1000).ToString("0.000", CultureInfo.InvariantCulture);
        var failures = outcomes.Count(o => !o.Passed).ToString(CultureInfo.InvariantCulture);
        var total = outcomes.Sum(o => o.Result?.Usage.WallMs ?? 0);
        xml.WriteStartElement("testsuites");
        xml.WriteAttributeString("tests", outcomes.Count.ToString(CultureInfo.InvariantCulture));
        xml.WriteAttributeString("failures", failures);
        xml.WriteAttributeString("time", seconds(total));
        xml.WriteStartElement("testsuite");
        xml.WriteAttributeString("name", suite);
        xml.WriteAttributeString("tests", outcomes.Count.ToString(CultureInfo.InvariantCulture));
        xml.WriteAttributeString("failures", failures);
        xml.WriteAttributeString("errors", "0");
        xml.WriteAttributeString("time", seconds(total));
        foreach (var outcome in outcomes)
        {
            xml.WriteStartElement("testcase");
            xml.WriteAttributeString("classname", suite);
            xml.WriteAttributeString("name", outcome.Fixture.Name);
            xml.WriteAttributeString("time", seconds(outcome.Result?.Usage.WallMs ?? 0));
            if (!outcome.Passed)
            {
                xml.WriteStartElement("failure");
                xml.WriteAttributeString("message", XmlSafe(outcome.Problems[0]));
                xml.WriteString(XmlSafe(string.Join("\n", outcome.Problems)));
                xml.WriteEndElement();
            }

            if (outcome.Result is { } result)
            {
                var usage = string.Create(CultureInfo.InvariantCulture,
                    $"{outcome.Fixture.Method} {outcome.Fixture.Path}: fuel {result.Usage.Fuel}, {result.Usage.WallMs:0.###} ms, memory {result.Usage.PeakMemoryBytes / 1024} KiB, host calls {result.Usage.HostCalls}");
                xml.WriteElementString("system-out", XmlSafe(string.Join("\n", outcome.Fetches.Select(StubReport.Describe).Prepend(usage))));
            }

            xml.WriteEndElement();
        }

        xml.WriteEndElement();
        xml.WriteEndElement();
    }

    /// <summary>A guest's body can hold characters XML 1.0 cannot carry; they become U+FFFD in the report.</summary>
    private static string XmlSafe(string value) =>
        string.Concat(value.Select(c => XmlConvert.IsXmlChar(c) || char.IsSurrogate(c) ? c : '\uFFFD'));
}
