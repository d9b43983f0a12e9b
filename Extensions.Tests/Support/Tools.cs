using System.Diagnostics;

namespace Extensions.Tests.Support;

/// <summary>Outside programs the authoring tests run (npm, node, build scripts).</summary>
internal static class Tools
{
    /// <summary>Runs <paramref name="program"/> in <paramref name="directory"/> and fails the test, with its output, unless it exits 0.</summary>
    public static async Task RunAsync(string directory, string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.That(process.ExitCode, Is.Zero, $"{program} {string.Join(' ', args)} failed:\n{await stdout}\n{await stderr}");
    }

    /// <summary>Whether the npm registry answers (a template without a lock file needs it to install).</summary>
    public static async Task<bool> NpmReachableAsync()
    {
        try
        {
            var info = new ProcessStartInfo("npm", "ping") { RedirectStandardOutput = true, RedirectStandardError = true };
            using var process = Process.Start(info)!;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await process.WaitForExitAsync(timeout.Token);
            return process.ExitCode == 0;
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or OperationCanceledException)
        {
            return false;
        }
    }
}
