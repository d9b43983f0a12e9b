using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;

namespace Extensions.Host.Commands;

/// <summary>
/// One long-lived <c>node</c> process that has loaded the project's own AssemblyScript compiler, for <c>dev</c>: loading
/// asc and Binaryen costs seconds on every <c>npx asc</c>, a compile in a loaded one well under one. The server script is a
/// resource of this binary, written to <see cref="ServerPath"/> in the project so that node resolves
/// <c>assemblyscript/asc</c> from the project's <c>node_modules</c> (which the watcher ignores).
/// </summary>
/// <remarks>
/// Protocol: one JSON line each way per request (see <c>Dev/asc-server.mjs</c>). The server exits when its stdin closes,
/// so it never outlives <c>dev</c>, even when <c>dev</c> is killed.
/// </remarks>
internal sealed class ResidentAsc : IAsyncDisposable
{
    public const string ConfigFile = "asconfig.json";
    public const string Target = "release";
    public const string ServerPath = "node_modules/.extensions-dev/asc-server.mjs";
    private const string WarmUpOutput = "node_modules/.extensions-dev/warm-up.wasm";
    private const string Resource = "Dev/asc-server.mjs";
    private static readonly string[] CompileArgs = ["--config", ConfigFile, "--target", Target];

    private readonly Process? _process;
    private readonly TaskCompletionSource<string?> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<int, TaskCompletionSource<(bool Ok, string Output)>> _pending = new();
    private readonly Queue<string> _stderrTail = new();
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private int _nextId;
    private volatile string? _stopped;

    private ResidentAsc(Process? process, string? startFailure)
    {
        _process = process;
        if (startFailure is not null)
        {
            _ready.TrySetResult(startFailure);
        }
    }

    /// <summary>The process id of the node server, or <c>null</c> when it did not start.</summary>
    public int? ProcessId => _process?.Id;

    /// <summary>True when the project can compile this way: it has an <c>asconfig.json</c> and asc is installed in it.</summary>
    public static bool Applies(string root) => HasConfig(root) && Directory.Exists(Path.Combine(root, "node_modules", "assemblyscript"));

    public static bool HasConfig(string root) => File.Exists(Path.Combine(root, ConfigFile));

    /// <summary>The files <c>asconfig.json</c> tells asc to write (<c>outFile</c>, <c>textFile</c>, of the options and the release target); none when it cannot be read.</summary>
    public static IEnumerable<string> Outputs(string root)
    {
        JsonElement config;
        try
        {
            config = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(root, ConfigFile)), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }).RootElement;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            return [];
        }

        var outputs = new List<string>();
        foreach (var section in new[] { Section(config, "options"), Section(Section(config, "targets"), Target) })
        {
            foreach (var key in new[] { "outFile", "textFile" })
            {
                if (section.ValueKind == JsonValueKind.Object && section.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } path)
                {
                    outputs.Add(path);
                }
            }
        }

        return outputs;

        static JsonElement Section(JsonElement parent, string name) =>
            parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(name, out var child) ? child : default;
    }

    /// <summary>Writes the server script into the project and starts node on it; returns at once, the load goes on in the background.</summary>
    public static ResidentAsc Start(string root)
    {
        var script = Path.Combine(root, ServerPath);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(script)!);
            using var resource = typeof(ResidentAsc).Assembly.GetManifestResourceStream(Resource)!;
            using var reader = new StreamReader(resource);
            var text = reader.ReadToEnd();
            if (!File.Exists(script) || File.ReadAllText(script) != text)
            {
                File.WriteAllText(script, text);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new ResidentAsc(null, $"cannot write {ServerPath}: {ex.Message}");
        }

        var info = new ProcessStartInfo("node")
        {
            WorkingDirectory = root,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(script);
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (Win32Exception)
        {
            return new ResidentAsc(null, "node is not installed or not on PATH");
        }

        var server = new ResidentAsc(process, null);
        process.ErrorDataReceived += (_, e) => server.OnStderr(e.Data);
        process.BeginErrorReadLine();
        _ = Task.Run(server.ReadRepliesAsync);
        return server;
    }

    /// <summary>Completes once asc is loaded (<c>null</c>) or could not be (the reason).</summary>
    public Task<string?> Ready => _ready.Task;

    /// <summary>
    /// A compile whose output goes to a scratch file in <c>node_modules</c>, so that V8 has optimised asc and Binaryen before
    /// the author's next save needs them: a fresh server's first compile takes seconds, and the next few get faster each
    /// time. The server drops it once a real compile has come.
    /// </summary>
    public async Task WarmUpAsync()
    {
        try
        {
            await SendAsync([.. CompileArgs, "--outFile", WarmUpOutput], warmUp: true, CancellationToken.None);
        }
        catch (Exception ex) when (ex is ResidentAscStoppedException or IOException or InvalidOperationException or ObjectDisposedException)
        {
            // Stopped or disposed meanwhile: the next real compile sees the same and says so.
        }
    }

    /// <summary>Runs <c>asc --config asconfig.json --target release</c> in the project; ok, and asc's output (its diagnostics on failure).</summary>
    /// <exception cref="ResidentAscStoppedException">The server is gone (exited, killed, or never started).</exception>
    public Task<(bool Ok, string Output)> CompileAsync(CancellationToken ct) => SendAsync(CompileArgs, warmUp: false, ct);

    private async Task<(bool Ok, string Output)> SendAsync(string[] args, bool warmUp, CancellationToken ct)
    {
        if (await Ready.WaitAsync(ct) is { } failure)
        {
            throw new ResidentAscStoppedException(failure);
        }

        var id = Interlocked.Increment(ref _nextId);
        var reply = new TaskCompletionSource<(bool, string)>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        if (_stopped is { } reason && _pending.TryRemove(id, out _))
        {
            // The reader failed every pending reply before this one was added.
            throw new ResidentAscStoppedException(reason);
        }

        await _writeGate.WaitAsync(ct);
        try
        {
            await _process!.StandardInput.WriteLineAsync(JsonSerializer.Serialize(new { id, args, warmUp }).AsMemory(), ct);
            await _process.StandardInput.FlushAsync(ct);
        }
        catch (IOException)
        {
            _pending.TryRemove(id, out _);
            throw new ResidentAscStoppedException(Stopped());
        }
        finally
        {
            _writeGate.Release();
        }

        return await reply.Task.WaitAsync(ct);
    }

    /// <summary>Closes the server's stdin (it exits by itself) and kills it if it lingers.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_process is null)
        {
            return;
        }

        try
        {
            _process.StandardInput.Close();
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await _process.WaitForExitAsync(grace.Token);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
        {
            try
            {
                _process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
        }

        _process.Dispose();
    }

    private async Task ReadRepliesAsync()
    {
        var output = _process!.StandardOutput;
        try
        {
            while (await output.ReadLineAsync() is { } line)
            {
                HandleLine(line);
            }
        }
        catch (IOException)
        {
            // The pipe broke: handled as an exit below.
        }

        try
        {
            await _process.WaitForExitAsync();
        }
        catch (InvalidOperationException)
        {
            // Disposed while waiting.
        }

        var reason = Stopped();
        _stopped = reason;
        _ready.TrySetResult(reason);
        foreach (var id in _pending.Keys)
        {
            if (_pending.TryRemove(id, out var reply))
            {
                reply.TrySetException(new ResidentAscStoppedException(reason));
            }
        }
    }

    private void HandleLine(string line)
    {
        JsonElement message;
        try
        {
            message = JsonDocument.Parse(line).RootElement;
        }
        catch (JsonException)
        {
            OnStderr(line); // not ours: keep it for the failure reason
            return;
        }

        if (message.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        if (message.TryGetProperty("ready", out var ready))
        {
            _ready.TrySetResult(ready.ValueKind == JsonValueKind.True ? null
                : $"asc did not load: {(message.TryGetProperty("error", out var error) ? error.GetString() : "no reason given")}");
        }
        else if (message.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.Number && _pending.TryRemove(id.GetInt32(), out var reply))
        {
            reply.TrySetResult((message.TryGetProperty("ok", out var ok) && ok.ValueKind == JsonValueKind.True,
                message.TryGetProperty("output", out var text) ? text.GetString() ?? "" : ""));
        }
    }

    private void OnStderr(string? line)
    {
        if (string.IsNullOrWhiteSpace(line))
        {
            return;
        }

        lock (_stderrTail)
        {
            _stderrTail.Enqueue(line.Trim());
            while (_stderrTail.Count > 5)
            {
                _stderrTail.Dequeue();
            }
        }
    }

    /// <summary>Why the server is gone: its exit code and the last thing it said on stderr.</summary>
    private string Stopped()
    {
        string tail;
        lock (_stderrTail)
        {
            tail = _stderrTail.Count > 0 ? $": {_stderrTail.Last()}" : "";
        }

        try
        {
            return _process is { HasExited: true } ? $"node exited with code {_process.ExitCode}{tail}" : $"node closed its output{tail}";
        }
        catch (InvalidOperationException)
        {
            return $"node stopped{tail}"; // disposed meanwhile: dev is ending the session
        }
    }
}

/// <summary>The resident compiler is gone; <see cref="Exception.Message"/> says why.</summary>
internal sealed class ResidentAscStoppedException(string reason) : Exception(reason);
