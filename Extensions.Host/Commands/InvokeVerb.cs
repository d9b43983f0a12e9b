using System.CommandLine;
using System.Globalization;
using System.Text;
using Extensions.Modules.Runner.Contracts;

namespace Extensions.Host.Commands;

/// <summary><c>invoke</c>: requests against a directory or bundle through a real worker process, with no server.</summary>
internal static class InvokeVerb
{
    public static Command Create()
    {
        var source = new Argument<string>("source") { Description = "Extension directory or bundle file" };
        var method = new Argument<string?>("method") { Description = "HTTP method, e.g. GET (single-request form)", Arity = ArgumentArity.ZeroOrOne };
        var path = new Argument<string?>("path") { Description = "Path after /api/ext/{id}, e.g. /hello/Ada (single-request form)", Arity = ArgumentArity.ZeroOrOne };
        var body = new Option<string?>("--body") { Description = "File whose bytes are the request body" };
        var headers = new Option<string[]>("--header") { Description = "Request header K:V (repeatable)", AllowMultipleArgumentsPerToken = false };
        var config = new Option<string[]>("--config") { Description = "Install configuration K=V, V as JSON or plain text (repeatable)" };
        var fixtures = new Option<string?>("--fixtures") { Description = "Run every request of this fixtures file (JSON) and check the responses; exit code 1 if any fails" };
        var junit = new Option<string?>("--junit") { Description = "With --fixtures: also write the results as JUnit XML to this file" };
        var secrets = new Option<string[]>("--secret") { Description = "Install secret K=V for a name the manifest declares (repeatable); stored encrypted in the run's scratch directory" };
        var command = new Command("invoke",
            "Run requests through the real worker path with no server: one request (exit code 0 on 2xx), or a fixtures file as a test suite.")
        {
            source, method, path, body, headers, config, secrets, fixtures, junit,
        };
        command.SetAction((parse, ct) => Verbs.Guard(async () =>
        {
            var fixturesFile = parse.GetValue(fixtures);
            var (m, p) = (parse.GetValue(method), parse.GetValue(path));
            if (fixturesFile is not null)
            {
                if (m is not null)
                {
                    throw new CliException("give either METHOD PATH or --fixtures FILE, not both");
                }

                return await FixtureRun.RunAsync(parse.GetValue(source)!, fixturesFile, parse.GetValue(junit), ct);
            }

            if (m is null || p is null)
            {
                throw new CliException("give METHOD and PATH (e.g. invoke . GET /hello), or --fixtures FILE");
            }

            if (parse.GetValue(junit) is not null)
            {
                throw new CliException("--junit needs --fixtures");
            }

            var requestHeaders = (parse.GetValue(headers) ?? []).Select(h => Split(h, ':', "--header")).ToList();
            var configPairs = (parse.GetValue(config) ?? []).Select(c => Split(c, '=', "--config")).Select(pair => new KeyValuePair<string, string>(pair.Key, AsJson(pair.Value))).ToList();
            var requestBody = parse.GetValue(body) is { } bodyFile ? await File.ReadAllBytesAsync(bodyFile, ct) : [];
            var secretPairs = (parse.GetValue(secrets) ?? []).Select(c => Split(c, '=', "--secret")).ToList();
            await using var runtime = await LocalRuntime.StartAsync(parse.GetValue(source)!, verboseGuestLog: true, ct);
            await runtime.SetSecretsAsync(secretPairs, ct);
            var result = await runtime.InvokeAsync(m, p, requestHeaders, requestBody, configPairs, ct)
                ?? throw new CliException($"{runtime.Manifest.ExtensionId} declares no endpoint {m.ToUpperInvariant()} {p}");
            return Print(result);
        }));
        return command;
    }

    private static int Print(InvocationResult result)
    {
        var usage = string.Create(CultureInfo.InvariantCulture,
            $"fuel {result.Usage.Fuel}, {result.Usage.WallMs:0.###} ms, memory {result.Usage.PeakMemoryBytes / 1024} KiB, host calls {result.Usage.HostCalls}");
        if (result.Outcome != InvocationOutcome.Ok)
        {
            Console.Error.WriteLine($"error: {result.Outcome}: {result.Diagnostic} ({usage})");
            return 1;
        }

        Console.WriteLine(result.Status.ToString(CultureInfo.InvariantCulture));
        foreach (var (name, value) in result.Headers)
        {
            Console.WriteLine($"{name}: {value}");
        }

        Console.WriteLine();
        Console.WriteLine(Encoding.UTF8.GetString(result.Body));
        Console.Error.WriteLine(usage);
        return result.Status is >= 200 and < 300 ? 0 : 1;
    }

    private static KeyValuePair<string, string> Split(string value, char separator, string option)
    {
        var i = value.IndexOf(separator, StringComparison.Ordinal);
        // A malformed --secret may be the value itself: never echo it.
        var shown = option == "--secret" ? "" : $" '{value}'";
        return i <= 0 ? throw new CliException($"{option}{shown} must look like KEY{separator}VALUE") : new(value[..i].Trim(), value[(i + 1)..].Trim());
    }

    /// <summary>Config values are JSON; a bare word is taken as a string for convenience.</summary>
    private static string AsJson(string value)
    {
        try
        {
            using var _ = System.Text.Json.JsonDocument.Parse(value);
            return value;
        }
        catch (System.Text.Json.JsonException)
        {
            return System.Text.Json.JsonSerializer.Serialize(value);
        }
    }
}
