using System.CommandLine;
using System.CommandLine.Parsing;

namespace Extensions.Host.Commands;

/// <summary>Every verb of the binary. Each one has <c>--help</c>; bad input prints one line on stderr and exits non-zero.</summary>
internal static class Verbs
{
    public static RootCommand Create()
    {
        var root = new RootCommand("Extensions: run signed WebAssembly extensions safely, and build them.")
        {
            ServeVerb.Create(),
            WorkerVerb.Create(),
            AuthorVerbs.Keygen(),
            AuthorVerbs.Pack(),
            BuildVerb.Create(),
            DevVerb.Create(),
            AuthorVerbs.Sign(),
            AuthorVerbs.Verify(),
            AdminVerbs.Publish(),
            AdminVerbs.Install(),
            AdminVerbs.Trust(),
            RegistryVerbs.Extensions(),
            RegistryVerbs.Installs(),
            RegistryVerbs.SetState("enable", "Enable an install: its extension serves requests again."),
            RegistryVerbs.SetState("disable", "Disable an install: its extension stops serving until enabled."),
            RegistryVerbs.Uninstall(),
            RegistryVerbs.Upgrade(),
            RegistryVerbs.Rollback(),
            RegistryVerbs.Config(),
            RegistryVerbs.Audit(),
            UserVerbs.Create(),
            InvokeVerb.Create(),
            NewVerb.Create(),
            BackupVerbs.Backup(),
            BackupVerbs.Restore(),
        };
        return root;
    }

    /// <summary>
    /// Ctrl+C and SIGTERM cancel the verb's token; the verb then gets this long to finish before the process is ended
    /// (System.CommandLine's default of 2 s is too short for <c>serve</c> to stop its workers or <c>dev</c> its instance).
    /// </summary>
    public static InvocationConfiguration Invocation() => new() { ProcessTerminationTimeout = TimeSpan.FromSeconds(20) };

    /// <summary>
    /// Runs the parsed command line. A command line that does not parse (a missing argument or required option, an unknown
    /// option) gets the same one <c>error:</c> line and exit code 1 as any other bad input, instead of the parser's help dump.
    /// </summary>
    public static Task<int> InvokeAsync(ParseResult parse)
    {
        if (parse.Errors.Count == 0)
        {
            return parse.InvokeAsync(Invocation());
        }

        var names = new List<string>();
        for (var result = parse.CommandResult; result.Parent is CommandResult parent; result = parent)
        {
            names.Insert(0, result.Command.Name);
        }

        var command = string.Join(' ', names);
        Console.Error.WriteLine($"error: {string.Join("; ", parse.Errors.Select(e => e.Message.TrimEnd('.')).Distinct())} (see '{(command.Length == 0 ? "" : command + " ")}--help')");
        return Task.FromResult(1);
    }

    /// <summary>Runs a verb's body; expected failures become one <c>error:</c> line and exit code 1.</summary>
    public static async Task<int> Guard(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (Exception ex) when (ex is CliException or ProblemException or IOException or UnauthorizedAccessException or HttpRequestException
            or Modules.Bundles.BundleException or ArgumentException or FormatException or InvalidDataException or TaskCanceledException)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Message}");
            return 1;
        }
    }
}

/// <summary>A user-facing failure of a verb; its message is the whole story.</summary>
internal sealed class CliException(string message) : Exception(message);

/// <summary>The server answered with a problem; the message is its code and detail, one line.</summary>
internal sealed class ProblemException(string code, string detail, System.Text.Json.JsonElement body) : Exception($"{code}: {detail}")
{
    public string Code { get; } = code;
    public System.Text.Json.JsonElement Body { get; } = body;
}
