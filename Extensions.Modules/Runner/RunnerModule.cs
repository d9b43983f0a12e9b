using Extensions.Modules.Common;
using System.Globalization;
using Extensions.Modules.Runner;
using Extensions.Modules.Runner.Contracts;
using Extensions.Modules.Runner.Pool;
using Extensions.Modules.Runner.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

public static class RunnerModule
{
    /// <summary>The worker pool: child processes of this same program, reached over Unix domain sockets.</summary>
    public static IServiceCollection AddRunnerModule(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddModuleOptions<RunnerOptions>(configuration, RunnerOptions.SectionName);
        services.AddSingleton(ArtifactStore.Migration);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ArtifactStore>();
        services.TryAddSingleton<WorkerPool>();
        services.TryAddSingleton<IExtensionRunner>(sp => sp.GetRequiredService<WorkerPool>());
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<WorkerPool>());
        return services;
    }

    /// <summary>
    /// Entry point of the <c>worker</c> verb: <c>worker --socket PATH [--concurrency N] [--max-memory-mb N] [--module-cache-mb N] [--max-frame-bytes N]</c>,
    /// with the host's secret as the first line of standard input.
    /// </summary>
    public static async Task<int> RunWorkerAsync(IReadOnlyList<string> args, CancellationToken cancellationToken = default)
    {
        string? socket = null;
        int concurrency = 4, maxMemoryMb = 128, moduleCacheMb = 256, maxFrameBytes = 64 * 1024 * 1024;
        for (var i = 0; i + 1 < args.Count; i += 2)
        {
            var value = args[i + 1];
            switch (args[i])
            {
                case "--socket": socket = value; break;
                case "--concurrency": concurrency = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--max-memory-mb": maxMemoryMb = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--module-cache-mb": moduleCacheMb = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--max-frame-bytes": maxFrameBytes = int.Parse(value, CultureInfo.InvariantCulture); break;
                default:
                    await System.Console.Error.WriteLineAsync($"worker: unknown option {args[i]}");
                    return 2;
            }
        }

        var secretLine = await System.Console.In.ReadLineAsync(cancellationToken);
        if (socket is null || secretLine is null)
        {
            await System.Console.Error.WriteLineAsync("worker: started by hand? It needs --socket and the host's secret on stdin; the host starts workers itself.");
            return 2;
        }

        var host = new WorkerHost(socket, Convert.FromHexString(secretLine.Trim()), concurrency, maxMemoryMb * 1024L * 1024L,
            moduleCacheMb * 1024L * 1024L, maxFrameBytes);
        return await host.RunAsync(cancellationToken);
    }
}
