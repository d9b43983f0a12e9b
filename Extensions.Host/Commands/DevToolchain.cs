using System.Diagnostics;

namespace Extensions.Host.Commands;

/// <summary>
/// How <c>dev</c> builds on a save. An AssemblyScript project (an <c>asconfig.json</c> and asc in <c>node_modules</c>)
/// compiles in a <see cref="ResidentAsc"/> kept for the session, with <c>asconfig.json</c>'s release target; every other
/// project, and an AssemblyScript one whose compiler cannot run, runs <c>build.sh</c> as <c>build</c> and <c>pack</c> do.
/// </summary>
/// <remarks>
/// A server that dies is said once and replaced in the background, so the rebuild it failed runs <c>build.sh</c> and the
/// next one is fast again; after <see cref="MaxStops"/> stops, or one that never loaded, the session stays on <c>build.sh</c>.
/// </remarks>
internal sealed class DevToolchain(string root, Action<string> say) : IAsyncDisposable
{
    private const int MaxStops = 3;
    private const int WarmUps = 3;
    private ResidentAsc? _server;
    private ResidentAsc? _warmed;
    private bool _announced;
    private bool _givenUp;
    private int _stops;

    /// <summary>How a build was made, for the log line: <c>asc</c> (resident) or <c>build.sh</c>.</summary>
    public sealed record Build(string Way, TimeSpan Duration);

    /// <summary>Starts the resident compiler when the project can use one, so its load overlaps the instance's start.</summary>
    public void Start()
    {
        if (ResidentAsc.Applies(root))
        {
            _server = ResidentAsc.Start(root);
        }
    }

    /// <summary>One line that says which way <c>dev</c> builds this project.</summary>
    public string Describe()
    {
        const string Resident = $"compiling in a resident asc ({ResidentAsc.ConfigFile}, target {ResidentAsc.Target}); build/pack run {ProjectBuild.BuildScript}";
        if (_server is not null)
        {
            return $"AssemblyScript: {Resident}";
        }

        if (ResidentAsc.HasConfig(root))
        {
            return $"AssemblyScript: node_modules/assemblyscript is not installed yet, so rebuilds run {ProjectBuild.BuildScript} until it is; then {Resident}";
        }

        return File.Exists(Path.Combine(root, ProjectBuild.BuildScript))
            ? $"building with {ProjectBuild.BuildScript} on every save"
            : $"no {ProjectBuild.BuildScript}: the module is packed as it is";
    }

    /// <summary>Builds the module; <paramref name="echo"/> receives the compiler's output lines.</summary>
    /// <exception cref="ProjectProblemsException">The build failed; the message says what failed.</exception>
    public async Task<Build> BuildAsync(Action<string> echo, CancellationToken ct)
    {
        if (_server is null || _givenUp)
        {
            return await ScriptAsync(echo, ct);
        }

        var started = Stopwatch.GetTimestamp();
        try
        {
            if (await _server.Ready.WaitAsync(ct) is { } failure)
            {
                await GiveUpAsync($"the resident asc could not start ({failure}); every rebuild runs {ProjectBuild.BuildScript}");
                return await ScriptAsync(echo, ct);
            }

            var first = !_announced;
            if (first)
            {
                say($"resident asc loaded (node pid {_server.ProcessId}, {Ms(Stopwatch.GetElapsedTime(started))} wait)");
                _announced = true;
            }

            started = Stopwatch.GetTimestamp();
            var (ok, output) = await _server.CompileAsync(ct);
            if (first)
            {
                WarmUp(_server);
            }

            var lines = output.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
            while (lines.Count > 0 && lines[^1].Length == 0)
            {
                lines.RemoveAt(lines.Count - 1);
            }

            foreach (var line in lines)
            {
                echo(line);
            }

            if (ok)
            {
                return new Build("asc", Stopwatch.GetElapsedTime(started));
            }

            var summary = lines.LastOrDefault(l => l.StartsWith("FAILURE", StringComparison.Ordinal)) ?? lines.LastOrDefault(l => l.Trim().Length > 0) ?? "no output";
            throw new ProjectProblemsException([$"asc ({ResidentAsc.ConfigFile}, target {ResidentAsc.Target}) failed: {summary.Trim()} (its diagnostics are above)"]);
        }
        catch (ResidentAscStoppedException stopped)
        {
            await _server.DisposeAsync();
            _server = null;
            if (++_stops >= MaxStops)
            {
                await GiveUpAsync($"the resident asc stopped ({stopped.Message}), {_stops} times now; every rebuild runs {ProjectBuild.BuildScript} from now on");
            }
            else
            {
                _server = ResidentAsc.Start(root);
                WarmUp(_server);
                _announced = false;
                say($"the resident asc stopped ({stopped.Message}); this rebuild runs {ProjectBuild.BuildScript}, and a new asc is loading for the next one");
            }

            return await ScriptAsync(echo, ct);
        }
    }

    /// <summary>
    /// Called once a rebuild is published (or failed): the first <c>build.sh</c> of a fresh project runs npm install, and
    /// from then on the project compiles resident. Starting the server only now keeps its load off that first publish.
    /// </summary>
    public void RebuildDone()
    {
        if (!_givenUp && _server is null && ResidentAsc.Applies(root))
        {
            _server = ResidentAsc.Start(root);
            WarmUp(_server);
            say("AssemblyScript: node_modules/assemblyscript is installed now; a resident asc is loading for the next rebuilds");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
            _server = null;
        }
    }

    /// <summary>Compiles that only warm the server up (see <see cref="ResidentAsc.WarmUpAsync"/>); a save that comes meanwhile goes first.</summary>
    private void WarmUp(ResidentAsc server)
    {
        if (ReferenceEquals(_warmed, server))
        {
            return;
        }

        _warmed = server;
        for (var i = 0; i < WarmUps; i++)
        {
            _ = server.WarmUpAsync();
        }
    }

    private async Task GiveUpAsync(string message)
    {
        say(message);
        _givenUp = true;
        if (_server is not null)
        {
            await _server.DisposeAsync();
            _server = null;
        }
    }

    private async Task<Build> ScriptAsync(Action<string> echo, CancellationToken ct) =>
        new(ProjectBuild.BuildScript, (await ProjectBuild.RunToolchainAsync(root, echo, ct)).Duration);

    private static string Ms(TimeSpan span) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{span.TotalMilliseconds:0} ms");
}
