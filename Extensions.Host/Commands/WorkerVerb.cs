using System.CommandLine;

namespace Extensions.Host.Commands;

internal static class WorkerVerb
{
    public static Command Create()
    {
        var command = new Command("worker", "Internal: a worker process of the pool. The host starts these itself.") { Hidden = true };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((parse, ct) => Microsoft.Extensions.DependencyInjection.RunnerModule.RunWorkerAsync(parse.UnmatchedTokens, ct));
        return command;
    }
}
