using System.CommandLine;

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
            AuthorVerbs.Sign(),
            AuthorVerbs.Verify(),
            AdminVerbs.Publish(),
            AdminVerbs.Install(),
            AdminVerbs.Trust(),
            InvokeVerb.Create(),
            NewVerb.Create(),
        };
        return root;
    }

    /// <summary>Runs a verb's body; expected failures become one <c>error:</c> line and exit code 1.</summary>
    public static async Task<int> Guard(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (Exception ex) when (ex is CliException or IOException or UnauthorizedAccessException or HttpRequestException
            or Modules.Bundles.BundleException or ArgumentException or FormatException or InvalidDataException or TaskCanceledException)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Message}");
            return 1;
        }
    }
}

/// <summary>A user-facing failure of a verb; its message is the whole story.</summary>
internal sealed class CliException(string message) : Exception(message);
