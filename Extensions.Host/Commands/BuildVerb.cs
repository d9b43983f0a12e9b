using System.CommandLine;
using System.Globalization;

namespace Extensions.Host.Commands;

/// <summary><c>build [DIR]</c>: the project's toolchain, then the checks publish makes, with errors that say what to fix.</summary>
internal static class BuildVerb
{
    public static Command Create()
    {
        var dir = new Argument<string>("dir") { Description = "Extension project directory", DefaultValueFactory = _ => "." };
        var command = new Command("build",
            "Build a project (runs its build.sh) and check its manifest and module against the ext-v1 ABI; exit code 1 on any problem.") { dir };
        command.SetAction((parse, ct) => Verbs.Guard(async () =>
        {
            var directory = parse.GetValue(dir)!;
            try
            {
                // Manifest first: a broken manifest is reported without waiting for a compiler.
                ProjectBuild.CheckManifest(directory);
                var run = await ProjectBuild.RunToolchainAsync(directory, line => Console.Error.WriteLine(line), ct);
                var (manifest, module) = ProjectBuild.Check(directory);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"ok: {manifest.ExtensionId}@{manifest.Version}, {manifest.Main} ({module.Length} bytes){(run.Ran ? $", built in {run.Duration.TotalSeconds:0.0} s" : $", no {ProjectBuild.BuildScript}: checked as it is")}"));
                return 0;
            }
            catch (ProjectProblemsException problems)
            {
                return ProjectBuild.Report(problems);
            }
        }));
        return command;
    }
}
