using System.Diagnostics;
using System.Text;

namespace Extensions.Tests.Support;

/// <summary>Runs the real <c>Extensions.Host</c> program (the one users run) as a child process.</summary>
internal static class HostProcess
{
    public static string Program => Path.Combine(AppContext.BaseDirectory, "Extensions.Host");

    public static ProcessStartInfo StartInfo(string workingDirectory, params string[] args)
    {
        var info = new ProcessStartInfo(Program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return info;
    }

    /// <summary>Runs a verb to completion.</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string workingDirectory, params string[] args) =>
        RunAsync(workingDirectory, new Dictionary<string, string>(), args);

    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string workingDirectory, IDictionary<string, string> environment, params string[] args)
    {
        var info = StartInfo(workingDirectory, args);
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>SIGKILL to the process and its children (no shutdown code runs), then waits until it is gone.</summary>
    public static async Task KillAsync(Process process)
    {
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
    }

    /// <summary>Starts <c>serve</c> and waits for its <c>console:</c> and <c>assets:</c> lines.</summary>
    public static Task<(Process Process, Uri Console, Uri Assets, StringBuilder Output)> ServeAsync(string workingDirectory, params string[] args) =>
        ServeAsync(workingDirectory, new Dictionary<string, string>(), args);

    public static async Task<(Process Process, Uri Console, Uri Assets, StringBuilder Output)> ServeAsync(
        string workingDirectory, IDictionary<string, string> environment, params string[] args)
    {
        var info = StartInfo(workingDirectory, ["serve", .. args]);
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info)!;
        var output = new StringBuilder();
        var stderr = process.StandardError.ReadToEndAsync();
        string? console = null, assets = null;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while ((console is null || assets is null) && await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            output.AppendLine(line);
            if (line.StartsWith("console: ", StringComparison.Ordinal)) console = line["console: ".Length..];
            if (line.StartsWith("assets: ", StringComparison.Ordinal)) assets = line["assets: ".Length..];
        }

        if (console is null || assets is null)
        {
            Assert.Fail($"serve did not print its URLs.\nstdout:\n{output}\nstderr:\n{await stderr}");
        }

        _ = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync() is { } line)
            {
                lock (output) output.AppendLine(line);
            }
        });
        return (process, new Uri(console!), new Uri(assets!), output);
    }
}
