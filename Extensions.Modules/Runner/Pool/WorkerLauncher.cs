using System.Diagnostics;

namespace Extensions.Modules.Runner.Pool;

/// <summary>Finds how to start a worker: the same program with the <c>worker</c> verb.</summary>
internal static class WorkerLauncher
{
    public static ProcessStartInfo StartInfo(RunnerOptions options, IEnumerable<string> workerArgs)
    {
        var info = new ProcessStartInfo
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        var (file, prefix) = Resolve(options);
        info.FileName = file;
        foreach (var arg in prefix.Concat(["worker"]).Concat(workerArgs))
        {
            info.ArgumentList.Add(arg);
        }

        return info;
    }

    private static (string File, string[] Prefix) Resolve(RunnerOptions options)
    {
        if (!string.IsNullOrEmpty(options.WorkerPath))
        {
            return options.WorkerPath.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)
                ? (DotnetHost(), [options.WorkerPath])
                : (options.WorkerPath, []);
        }

        var processPath = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell which program is running");
        // Not GetFileNameWithoutExtension: on Linux the apphost has no extension, and ".Host" would be taken for one.
        if (Path.GetFileName(processPath) is "Extensions.Host" or "Extensions.Host.exe")
        {
            return (processPath, []);
        }

        // Hosted by another program (dotnet, a test runner): start the host assembly that sits beside us.
        var apphost = Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "Extensions.Host.exe" : "Extensions.Host");
        if (File.Exists(apphost))
        {
            return (apphost, []);
        }

        var dll = Path.Combine(AppContext.BaseDirectory, "Extensions.Host.dll");
        return File.Exists(dll)
            ? (DotnetHost(), [dll])
            : throw new InvalidOperationException($"no worker program found in {AppContext.BaseDirectory}; set Runner:WorkerPath");
    }

    private static string DotnetHost()
    {
        var processPath = Environment.ProcessPath;
        return processPath is not null && Path.GetFileNameWithoutExtension(processPath) == "dotnet" ? processPath : "dotnet";
    }
}
