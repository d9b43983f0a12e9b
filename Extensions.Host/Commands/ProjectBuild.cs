using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using Extensions.Modules.Bundles;
using Extensions.Modules.Runner.Contracts;

namespace Extensions.Host.Commands;

/// <summary>Problems found in a project, each a line that says what to fix. Empty means the project is fine.</summary>
internal sealed class ProjectProblemsException(IReadOnlyList<string> problems) : Exception(string.Join(Environment.NewLine, problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}

/// <summary>
/// What <c>build</c>, <c>pack</c> and <c>dev</c> share: run the project's toolchain, then check the manifest and the module
/// the way publish will (plus what publish lets through but no author wants), before anything is packed or uploaded.
/// </summary>
/// <remarks>
/// The toolchain is the project's <c>build.sh</c>: every template and sample already has one, CI's reproducibility
/// check runs exactly that file, and a shell script needs no second format of ours to learn or keep in sync. A project
/// without one (a prebuilt module, as in <c>samples/hello-ui</c>) is only checked.
/// </remarks>
internal static class ProjectBuild
{
    public const string BuildScript = "build.sh";

    /// <summary>The result of a toolchain run; <see cref="Output"/> holds stdout and stderr interleaved as they came.</summary>
    public sealed record ToolchainRun(bool Ran, int ExitCode, string Output, TimeSpan Duration);

    /// <summary>Runs <c>bash build.sh</c> in <paramref name="directory"/>; <paramref name="echo"/> receives each output line.</summary>
    /// <exception cref="ProjectProblemsException">bash is missing, or the script failed (the message says which and why).</exception>
    public static async Task<ToolchainRun> RunToolchainAsync(string directory, Action<string>? echo, CancellationToken ct)
    {
        var script = Path.Combine(directory, BuildScript);
        if (!File.Exists(script))
        {
            return new ToolchainRun(false, 0, "", TimeSpan.Zero);
        }

        var started = Stopwatch.GetTimestamp();
        var info = new ProcessStartInfo("bash")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(BuildScript);
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (Win32Exception)
        {
            throw new ProjectProblemsException([$"cannot run {BuildScript}: bash is not installed or not on PATH (install bash, or build the module yourself and run 'pack')"]);
        }

        using (process)
        {
            process.StandardInput.Close();
            var output = new StringBuilder();
            var lastError = "";
            var gate = new Lock();
            void Line(string? line, bool isError)
            {
                if (line is null)
                {
                    return;
                }

                lock (gate)
                {
                    output.AppendLine(line);
                    if (isError && line.Trim().Length > 0)
                    {
                        lastError = line.Trim();
                    }

                    echo?.Invoke(line);
                }
            }

            process.OutputDataReceived += (_, e) => Line(e.Data, false);
            process.ErrorDataReceived += (_, e) => Line(e.Data, true);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            try
            {
                await process.WaitForExitAsync(ct);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            var duration = Stopwatch.GetElapsedTime(started);
            var code = process.ExitCode;
            if (code == 0)
            {
                return new ToolchainRun(true, 0, output.ToString(), duration);
            }

            // 127 is the shell's "command not found": the toolchain (clang-14, npm, ...) is missing, not the source broken.
            var problem = code == 127
                ? $"{BuildScript} failed: a tool it runs is not installed ({(lastError.Length > 0 ? lastError : "command not found")}); install it (see the project's README) and build again"
                : $"{BuildScript} failed with exit code {code}{(lastError.Length > 0 ? $": {lastError}" : "")} (its full output is above)";
            throw new ProjectProblemsException([problem]);
        }
    }

    /// <summary>Checks the project as it stands (no toolchain): its manifest, its module against the ABI and the manifest.</summary>
    /// <exception cref="ProjectProblemsException">Every problem found, each with what to fix.</exception>
    public static (ExtensionManifest Manifest, byte[] Module) Check(string directory)
    {
        var manifest = CheckManifest(directory);
        var root = Path.GetFullPath(directory);
        var modulePath = Path.Combine(root, manifest.Main);
        if (!File.Exists(modulePath))
        {
            throw new ProjectProblemsException([File.Exists(Path.Combine(root, BuildScript))
                ? $"main module {manifest.Main} does not exist after {BuildScript}: make the script write it, or fix 'main' in {BundlePacker.ManifestFile}"
                : $"main module {manifest.Main} does not exist, and there is no {BuildScript} to build it"]);
        }

        var module = File.ReadAllBytes(modulePath);
        var problems = ModuleProblems(manifest, module);
        return problems.Count > 0 ? throw new ProjectProblemsException(problems) : (manifest, module);
    }

    /// <summary>The project's manifest, or every schema error in it.</summary>
    /// <exception cref="ProjectProblemsException">No project there, or the manifest is invalid.</exception>
    public static ExtensionManifest CheckManifest(string directory)
    {
        var root = Path.GetFullPath(directory);
        if (!Directory.Exists(root))
        {
            throw new ProjectProblemsException([$"{directory} is not a directory"]);
        }

        var manifestPath = Path.Combine(root, BundlePacker.ManifestFile);
        if (!File.Exists(manifestPath))
        {
            throw new ProjectProblemsException([$"no {BundlePacker.ManifestFile} in {root}; create a project with 'new NAME --template c|assemblyscript|ui'"]);
        }

        var parsed = ManifestReader.Parse(File.ReadAllBytes(manifestPath));
        return parsed.IsValid ? parsed.Manifest! : throw new ProjectProblemsException([.. parsed.Errors.Select(e => $"{BundlePacker.ManifestFile}: {e}")]);
    }

    /// <summary>The ABI checks publish makes, then the capability check: one line per problem, prefixed with the module's path.</summary>
    public static IReadOnlyList<string> ModuleProblems(ExtensionManifest manifest, ReadOnlySpan<byte> module)
    {
        GuestModule info;
        try
        {
            info = GuestModule.Read(module);
        }
        catch (InvalidDataException ex)
        {
            return [$"{manifest.Main}: {ex.Message}"];
        }

        return [.. info.AbiProblems().Concat(info.CapabilityProblems(manifest.Capabilities)).Select(p => $"{manifest.Main}: {p}")];
    }

    /// <summary>Prints problems one <c>error:</c> line each on stderr; returns the exit code for a failed check.</summary>
    public static int Report(ProjectProblemsException problems)
    {
        foreach (var problem in problems.Problems)
        {
            Console.Error.WriteLine($"error: {problem}");
        }

        return 1;
    }
}
