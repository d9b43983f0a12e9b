using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using System.Diagnostics;
using System.Globalization;
using Extensions.Benchmarks;
using Extensions.Host;
using Extensions.Host.Hosting;
using Extensions.Modules.Registry.Contracts;
using Extensions.Modules.Runner.Contracts;
using Extensions.Modules.Runner.Protocol;
using Extensions.Modules.Runner.Worker;

// Benchmarks of the runner and the full stack, each against a baseline measured in the same run (the machine is noisy).
//   dotnet run -c Release --project Extensions.Benchmarks [-- --seconds 5 --rounds 2 --warmup 120]
// (--warmup is the most seconds to wait for tiered JIT to settle before measuring; on 2 busy cores it takes about a minute.)
// Options: --wrk (load from wrk in a second process), --concurrency N (only that cell), --set Section:Key=value.
// Other modes: --gateway N (N rounds of gateway vs pool API, p50/p99 at c=1 and c=32),
//              --profile N (steady c=32 load for `perf record`, prints host and worker pids),
//              --recorder SECONDS [--rate R] (the database writers' CPU per request: an invocation record and a log line),
//              --hostcalls ROUNDS (capability round trip guest→worker→host→worker→guest vs an in-worker import),
//              --raw ROUNDS (only the pool-vs-direct invocation cost, on idle workers).
var seconds = Arg("--seconds", 5);
var rounds = Arg("--rounds", 2);
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;

var data = Directory.CreateTempSubdirectory("ext-bench-").FullName;
var settings = new Dictionary<string, string?>
{
    ["Storage:DataDirectory"] = data,
    ["Host:Port"] = "0",
    ["Host:AssetPort"] = "0",
    ["Logging:LogLevel:Default"] = "Warning",
    ["Logging:LogLevel:Extensions.Guest"] = "Warning",
    // The limiters stay in the path (their cost is part of what is measured) but never refuse a benchmark call.
    ["Gateway:TenantRequestsPerSecond"] = "1000000",
    ["Gateway:TenantBurst"] = "10000000",
    ["Gateway:InstallRequestsPerSecond"] = "1000000",
    ["Gateway:InstallBurst"] = "10000000",
    ["Gateway:MaxConcurrentPerTenant"] = "100000",
};
// --set Section:Key=value (repeatable): any other setting, e.g. --set Runner:Workers=1 to compare pool shapes.
for (var i = 0; i + 1 < args.Length; i++)
{
    if (args[i] == "--set" && args[i + 1].Split('=', 2) is [var settingKey, var settingValue])
    {
        settings[settingKey] = settingValue;
    }
}

var app = Platform.Build(settings);
const string Json = """{"message":"Hello, Ada"}""";
app.MapGet("/bench/plain", () => Results.Text(Json, "application/json; charset=utf-8"));
await app.StartAsync();
try
{
    var server = new Uri(app.Services.GetRequiredService<Listeners.Bound>().ConsoleUrl);
    var key = (await File.ReadAllTextAsync(Path.Combine(data, "admin.key"))).Trim();
    const string Full = "/api/ext/samples.hello/hello/Ada";

    // --wrk: the load comes from wrk in a second process (as in ../shared/notes/performance-baselines.md), so the host's
    // CPU per request is the server's alone; without it, from the in-process generator, whose CPU is counted as the host's.
    var useWrk = args.Contains("--wrk");
    if (useWrk && !Wrk.Available)
    {
        Console.Error.WriteLine("--wrk: wrk is not on PATH (apt-get install wrk)");
        Environment.ExitCode = 2;
        return;
    }

    Func<Uri, string, string?, int, TimeSpan, Task<LoadGenerator.Result>> load = useWrk ? Wrk.RunAsync : LoadGenerator.RunAsync;

    if (Arg("--recorder", 0) is var recorderSeconds and > 0)
    {
        await WritersCostAsync(app.Services, recorderSeconds, Arg("--rate", 10_000), rounds);
        return;
    }

    if (Arg("--hostcalls", 0) is var hostCallRounds and > 0)
    {
        await HostCallCostAsync(app.Services, hostCallRounds);
        return;
    }

    if (Arg("--raw", 0) is var rawRounds and > 0)
    {
        await RawWorkerCostAsync(app.Services, rawRounds);
        return;
    }

    if (Arg("--gateway", 0) is var gatewayRounds and > 0)
    {
        await GatewayOverheadAsync(app.Services, server, Full, key, gatewayRounds, TimeSpan.FromSeconds(seconds), TimeSpan.FromSeconds(Arg("--warmup", 8)));
        return;
    }

    if (Arg("--profile", 0) is var profileSeconds and > 0)
    {
        // For `perf record`: a steady c=32 load on the full stack and nothing else.
        Console.WriteLine($"profiling: c=32 full stack for {profileSeconds} s; host pid {Environment.ProcessId}, workers {string.Join(",", ((Extensions.Modules.Runner.Pool.WorkerPool)app.Services.GetRequiredService<IExtensionRunner>()).WorkerProcessIds)}");
        await load(server, Full, key, 32, TimeSpan.FromSeconds(Arg("--warmup", 8)));
        Console.WriteLine("warm");
        var jitted = System.Runtime.JitInfo.GetCompiledMethodCount();
        var jitTime = System.Runtime.JitInfo.GetCompilationTime();
        var r = await load(server, Full, key, 32, TimeSpan.FromSeconds(profileSeconds));
        Console.WriteLine($"{r.Rps:0} rps; methods jitted meanwhile: {System.Runtime.JitInfo.GetCompiledMethodCount() - jitted}, JIT time {(System.Runtime.JitInfo.GetCompilationTime() - jitTime).TotalMilliseconds:0} ms");
        return;
    }

    // --concurrency N: only that concurrency, and no pipe or cold-start measurements after it (for comparing settings).
    var onlyConcurrency = Arg("--concurrency", 0);
    var hostColumn = useWrk ? "host" : "host+load";
    Console.WriteLine($"# HTTP: full stack GET {Full} vs a plain endpoint in the same process ({seconds} s per endpoint and cell in 1-s slices, alternating; {rounds} rounds, {Environment.ProcessorCount} cores, load from {(useWrk ? "wrk" : "this process")}; p50/p99: median of the slices')");
    var pool = (Extensions.Modules.Runner.Pool.WorkerPool)app.Services.GetRequiredService<IExtensionRunner>();
    await WarmAsync(server, Full, key, TimeSpan.FromSeconds(Arg("--warmup", 120)));
    Console.WriteLine($"round  conc  plain rps  full rps   ratio   plain p50  full p50  added p50   plain p99  full p99  errors   CPU µs/req: plain({hostColumn})  full({hostColumn})  full(workers)   KiB alloc/req: plain full   host JIT ms");
    for (var round = 1; round <= rounds; round++)
    {
        foreach (var concurrency in onlyConcurrency > 0 ? [onlyConcurrency] : new[] { 1, 32 })
        {
            var jit = System.Runtime.JitInfo.GetCompilationTime();
            var (plain, plainCpu, _, plainAlloc, full, fullCpu, workerCpu, fullAlloc) = await Interleaved(pool, seconds,
                () => load(server, "/bench/plain", null, concurrency, TimeSpan.FromSeconds(1)), () => load(server, Full, key, concurrency, TimeSpan.FromSeconds(1)));
            Console.WriteLine($"{round,5}  {concurrency,4}  {plain.Rps,9:0}  {full.Rps,8:0}  {full.Rps / plain.Rps,6:0.00}x  {plain.P50Ms,8:0.000}  {full.P50Ms,8:0.000}  {full.P50Ms - plain.P50Ms,9:0.000}  {plain.P99Ms,9:0.000}  {full.P99Ms,8:0.000}  {full.Errors + plain.Errors,6}   {plainCpu / plain.Requests,26:0.0}  {fullCpu / full.Requests,15:0.0}  {workerCpu / full.Requests,13:0.0}   {plainAlloc / plain.Requests / 1024,6:0.0} {fullAlloc / full.Requests / 1024,6:0.0}   {(System.Runtime.JitInfo.GetCompilationTime() - jit).TotalMilliseconds,11:0}");
        }
    }

    var processes = new[] { Environment.ProcessId }.Concat(pool.WorkerProcessIds).ToList();
    Console.WriteLine($"# memory, host then workers: resident {string.Join(" + ", processes.Select(pid => Memory(pid, "Rss")))} MiB; " +
        $"proportional (shared pages split between the processes, so they add up) {string.Join(" + ", processes.Select(pid => Memory(pid, "Pss")))} MiB");
    if (onlyConcurrency == 0)
    {
        await RawWorkerCostAsync(app.Services, rounds);
        ColdStart(app.Services, rounds);
    }
}
finally
{
    await app.StopAsync();
    Directory.Delete(data, recursive: true);
}

// What a served request leaves for the database: one invocation record and one guest log line (samples.hello logs a
// line per request), added at a steady rate as requests would add them, for `seconds`. Reports the CPU of the writers'
// own threads per request (Linux: /proc/self/task), and the rows they had to drop.
static async Task WritersCostAsync(IServiceProvider services, int seconds, int rate, int rounds)
{
    var recorder = services.GetRequiredService<Extensions.Modules.Gateway.InvocationRecorder>();
    var logs = services.GetRequiredService<Extensions.Modules.HostApi.GuestLogStore>();
    Console.WriteLine($"# Writers: one invocation record + one guest log line per request, {rate}/s for {seconds} s per round");
    Console.WriteLine("round  requests  writers' CPU µs/request  dropped so far");
    long total = 0;
    for (var round = 1; round <= rounds; round++)
    {
        var before = WriterTicks();
        var clock = Stopwatch.StartNew();
        var added = 0;
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            for (var due = (int)(clock.Elapsed.TotalSeconds * rate); added < due; added++)
            {
                var at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                var requestId = Guid.NewGuid().ToString("N");
                recorder.Add(new(at, "default", "samples.hello", "ins_bench", "1.0.0", requestId, "GET", "/hello/:name", 200, "ok", 0.3, 20000, 65536, 1));
                logs.Add(new(at, "default", "samples.hello", "ins_bench", requestId, "info", "greeting Ada"));
            }

            await Task.Delay(1);
        }

        await recorder.FlushAsync(CancellationToken.None);
        await logs.FlushAsync(CancellationToken.None);
        var ticks = WriterTicks().Sum(t => t.Value - before.GetValueOrDefault(t.Key));
        total += added;
        var dropped = await DroppedAsync(services, 2 * total);
        Console.WriteLine($"{round,5}  {added,8}  {ticks * 10_000.0 / added,23:0.0}  {dropped,7}");
    }

    // Clock ticks (10 ms) of user + system time per writer thread: BatchedWriter runs each on a long-running thread
    // (the kernel keeps 15 characters of a thread's name).
    static Dictionary<string, long> WriterTicks() => Directory.GetDirectories("/proc/self/task")
        .Where(task => File.ReadAllText(Path.Combine(task, "comm")).StartsWith(".NET Long Runni", StringComparison.Ordinal))
        .ToDictionary(task => task, task =>
        {
            var stat = File.ReadAllText(Path.Combine(task, "stat"));
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        });

    static async Task<long> DroppedAsync(IServiceProvider services, long expected)
    {
        await using var connection = await services.GetRequiredService<Extensions.Modules.Storage.IDatabase>().OpenAsync();
        var rows = await Dapper.SqlMapper.ExecuteScalarAsync<long>(connection,
            "SELECT (SELECT COUNT(*) FROM gateway_invocations WHERE install_id = 'ins_bench') + (SELECT COUNT(*) FROM hostapi_guest_logs WHERE install_id = 'ins_bench')");
        return expected - rows;
    }
}

// One invocation host → pipe → worker → Wasmtime, against the same invocation run directly on a sandbox in this process.
static async Task RawWorkerCostAsync(IServiceProvider services, int rounds)
{
    var runner = services.GetRequiredService<IExtensionRunner>();
    var request = await HelloRequestAsync(services, runner);

    using var sandbox = new WasmSandbox(4, 128L * 1024 * 1024, 64L * 1024 * 1024);
    var artifactPath = Path.Combine(Path.GetTempPath(), $"ext-bench-{Guid.NewGuid():N}.cwasm");
    await File.WriteAllBytesAsync(artifactPath, sandbox.Compile(request.ModuleHash, request.ModulePath));
    var artifactHash = Extensions.Modules.Storage.ContentHash.Of(await File.ReadAllBytesAsync(artifactPath));
    var message = Messages.ReadExecute(Messages.Execute(1, request, artifactHash, artifactPath).AsSpan(FrameCodec.HeaderSize));
    const int N = 3000;
    Console.WriteLine();
    Console.WriteLine($"# Worker: one invocation of samples.hello through the pool (pipe) vs directly on a sandbox in this process, {N} sequential calls");
    Console.WriteLine("round  pool p50 µs  direct p50 µs  pipe overhead p50 µs   pool mean µs  direct mean µs");
    for (var round = 1; round <= rounds; round++)
    {
        var pool = new List<double>(N);
        var direct = new List<double>(N);
        for (var i = 0; i < N; i++)
        {
            var t = Stopwatch.GetTimestamp();
            var result = await runner.InvokeAsync(request);
            pool.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds);
            if (result.Outcome != InvocationOutcome.Ok) throw new InvalidOperationException($"pool invocation failed: {result.Outcome} {result.Diagnostic}");
        }

        for (var i = 0; i < N; i++)
        {
            var t = Stopwatch.GetTimestamp();
            var result = sandbox.Execute(1, message, NoChannel.Instance);
            direct.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds);
            if (result.Outcome != InvocationOutcome.Ok) throw new InvalidOperationException($"direct invocation failed: {result.Outcome} {result.Diagnostic}");
        }

        Console.WriteLine($"{round,5}  {Median(pool),11:0.0}  {Median(direct),13:0.0}  {Median(pool) - Median(direct),20:0.0}   {pool.Average(),12:0.0}  {direct.Average(),14:0.0}");
    }

    File.Delete(artifactPath);
}

// First request of a never-seen module: loading its precompiled artifact vs compiling its .wasm (both in a sandbox here).
static void ColdStart(IServiceProvider services, int rounds)
{
    var install = services.GetRequiredService<IInstallResolver>().ResolveAsync("default", "samples.hello").AsTask().Result.Install!;
    var wasm = File.ReadAllBytes(install.ModulePath);
    using var sandbox = new WasmSandbox(4, 128L * 1024 * 1024, 64L * 1024 * 1024);
    var dir = Directory.CreateTempSubdirectory("ext-bench-cold-").FullName;
    const int N = 15;
    Console.WriteLine();
    Console.WriteLine($"# Cold start: first invocation of a new module ({wasm.Length} B), artifact (verify + DeserializeFile) vs compile from .wasm, {N} modules each");
    Console.WriteLine("round  artifact p50 ms  compile p50 ms  speed-up");
    var serial = 0;
    for (var round = 1; round <= rounds; round++)
    {
        var withArtifact = new List<double>();
        var compiled = new List<double>();
        for (var i = 0; i < N; i++)
        {
            // A custom section makes each module new to the cache without changing what it does.
            var (moduleA, hashA) = Unique(dir, wasm, ++serial);
            var artifactPath = Path.Combine(dir, $"{serial}.cwasm");
            File.WriteAllBytes(artifactPath, sandbox.Compile(hashA, moduleA));
            var artifactHash = Extensions.Modules.Storage.ContentHash.Of(File.ReadAllBytes(artifactPath));
            var t = Stopwatch.GetTimestamp();
            Check(sandbox.Execute(1, Message(hashA, moduleA, artifactHash, artifactPath), NoChannel.Instance));
            withArtifact.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);

            var (moduleB, hashB) = Unique(dir, wasm, ++serial);
            t = Stopwatch.GetTimestamp();
            Check(sandbox.Execute(1, Message(hashB, moduleB, "", ""), NoChannel.Instance));
            compiled.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
        }

        Console.WriteLine($"{round,5}  {Median(withArtifact),15:0.000}  {Median(compiled),14:0.000}  {Median(compiled) / Median(withArtifact),7:0.0}x");
    }

    Directory.Delete(dir, recursive: true);

    static ExecuteMessage Message(string hash, string path, string artifactHash, string artifactPath) =>
        new(hash, path, artifactHash, artifactPath, new InvocationLimits(10_000_000, 16L * 1024 * 1024, 2000, 1 << 20, 1 << 16),
            new HashSet<string> { "cap:log" }, new GuestHttpRequest("GET", "/hello/Ada", "", [], [new("name", "Ada")], []), [], []);

    static void Check(InvocationResult result)
    {
        if (result.Outcome != InvocationOutcome.Ok) throw new InvalidOperationException($"{result.Outcome}: {result.Diagnostic}");
    }

    static (string Path, string Hash) Unique(string dir, byte[] wasm, int serial)
    {
        var name = "bench"u8.ToArray();
        var payload = BitConverter.GetBytes(serial);
        var section = new List<byte> { 0, (byte)(1 + name.Length + payload.Length), (byte)name.Length };
        section.AddRange(name);
        section.AddRange(payload);
        var bytes = wasm.Concat(section).ToArray();
        var path = Path.Combine(dir, $"{serial}.wasm");
        File.WriteAllBytes(path, bytes);
        return (path, Extensions.Modules.Storage.ContentHash.Of(bytes));
    }
}

// A kv_get of a 100-byte value crosses the pipe twice (call and reply) and reads SQLite in the host; ctx_get is answered
// inside the worker. Both run in the same guest shape, so their difference is the round trip.
static async Task HostCallCostAsync(IServiceProvider services, int rounds)
{
    var runner = services.GetRequiredService<IExtensionRunner>();
    var kv = services.GetRequiredService<Extensions.Modules.HostApi.KvStore>();
    const string InstallId = "bench-install";
    await kv.PutAsync(InstallId, new KvPutCall("key", new byte[100], -1, 0), CancellationToken.None);
    var dir = Directory.CreateTempSubdirectory("ext-bench-calls-").FullName;
    const int Loop = 1000;
    const string KvCall = "(call $kv (i32.const 0) (i32.const 3) (i32.const 1024) (i32.const 4096) (i32.const 0))";
    const string NoopCall = "(call $ctx (i32.const 16) (i32.const 6) (i32.const 1024) (i32.const 4096))";
    var kvOnce = Guest(dir, "kv1", KvCall, 1);
    var noopOnce = Guest(dir, "noop1", NoopCall, 1);
    var kvLoop = Guest(dir, "kvN", KvCall, Loop);
    var noopLoop = Guest(dir, "noopN", NoopCall, Loop);

    InvocationRequest Request((string Path, string Hash) module) => new()
    {
        TenantId = "default", ExtensionId = "bench.calls", InstallId = InstallId, Version = "1.0.0", RequestId = "bench",
        ModuleHash = module.Hash, ModulePath = module.Path, Limits = runner.LimitsFor(null, null, null) with { Fuel = 1_000_000_000, TimeoutMs = 30_000 },
        Request = new GuestHttpRequest("GET", "/", "", [], [], []),
        Context = [new("tenant", "default")],
        Grants = new HashSet<string> { "cap:kv" },
    };

    // Wall time of each invocation, and the time its guest waited on host calls (measured in the worker, send to reply).
    async Task<List<double>> Time(InvocationRequest request, int n, List<double>? waits = null)
    {
        var times = new List<double>(n);
        for (var i = 0; i < n; i++)
        {
            var t = Stopwatch.GetTimestamp();
            var result = await runner.InvokeAsync(request);
            times.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds);
            if (result.Outcome != InvocationOutcome.Ok) throw new InvalidOperationException($"{result.Outcome}: {result.Diagnostic}");
            waits?.Add(result.Usage.HostCallWaitMs * 1000 / result.Usage.HostCalls);
        }

        return times;
    }

    foreach (var warm in new[] { kvOnce, noopOnce, kvLoop, noopLoop })
    {
        await Time(Request(warm), 1000);
    }

    const int N = 3000;
    const int LoopRuns = 20;
    Console.WriteLine();
    Console.WriteLine($"# Host call: one kv_get (100-byte value) per invocation vs one ctx_get (answered in the worker), {N} sequential invocations each;");
    Console.WriteLine($"#            then {Loop} calls in one invocation ({LoopRuns} invocations) for calls/s.");
    Console.WriteLine("#            round trip = the guest's wait in the worker from sending the call to reading the reply (guest→worker→host→worker→guest);");
    Console.WriteLine("#            invocation Δ = kv invocation minus noop invocation (adds the first call's per-invocation set-up in the host)");
    Console.WriteLine("round  round trip p50 µs  p99 µs  in a loop p50 µs   noop inv p50 µs  kv inv p50 µs  invocation Δ p50 µs   kv calls/s  noop calls/s  store p50 µs");
    for (var round = 1; round <= rounds; round++)
    {
        var noop = await Time(Request(noopOnce), N);
        var waits = new List<double>(N);
        var kvCalls = await Time(Request(kvOnce), N, waits);
        var loopWaits = new List<double>(LoopRuns);
        var kvMany = await Time(Request(kvLoop), LoopRuns, loopWaits);
        var noopMany = await Time(Request(noopLoop), LoopRuns);
        var store = new List<double>(N);
        for (var i = 0; i < N; i++)
        {
            var t = Stopwatch.GetTimestamp();
            await kv.GetAsync(InstallId, "key", CancellationToken.None);
            store.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds);
        }

        Console.WriteLine($"{round,5}  {Median(waits),17:0.0}  {P99(waits),6:0.0}  {Median(loopWaits),16:0.0}   {Median(noop),15:0.0}  {Median(kvCalls),13:0.0}  {Median(kvCalls) - Median(noop),19:0.0}   {Loop / (Median(kvMany) / 1e6),10:0}  {Loop / (Median(noopMany) / 1e6),12:0}   {Median(store),12:0.0}");
    }

    Directory.Delete(dir, recursive: true);

    static (string Path, string Hash) Guest(string dir, string name, string call, int times)
    {
        var wat = "(module\n"
            + "  (import \"ext\" \"kv_get\" (func $kv (param i32 i32 i32 i32 i32) (result i32)))\n"
            + "  (import \"ext\" \"ctx_get\" (func $ctx (param i32 i32 i32 i32) (result i32)))\n"
            + "  (import \"ext\" \"resp_status\" (func $status (param i32) (result i32)))\n"
            + "  (memory (export \"memory\") 1)\n"
            + "  (data (i32.const 0) \"key\")\n"
            + "  (data (i32.const 16) \"tenant\")\n"
            + "  (func (export \"handle\") (result i32)\n"
            + "    (local $i i32)\n"
            + "    (loop $again\n"
            + $"      (drop {call})\n"
            + "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
            + $"      (br_if $again (i32.lt_u (local.get $i) (i32.const {times}))))\n"
            + "    (drop (call $status (i32.const 200)))\n"
            + "    (i32.const 0)))\n";
        var bytes = Wasmtime.Module.ConvertText(wat);
        var path = Path.Combine(dir, name + ".wasm");
        File.WriteAllBytes(path, bytes);
        return (path, Extensions.Modules.Storage.ContentHash.Of(bytes));
    }

    static double P99(List<double> values) => values.Order().ElementAt((int)(values.Count * 0.99));
}

// Both endpoints under c=32 load until tiered JIT has settled (its background thread re-compiles hot methods for a
// minute or so on 2 busy cores, and that CPU would otherwise be counted as the full stack's), or until `max`.
static async Task WarmAsync(Uri server, string full, string key, TimeSpan max)
{
    const int SettledMethodsPerSecond = 5;
    var clock = Stopwatch.StartNew();
    while (true)
    {
        var methods = System.Runtime.JitInfo.GetCompiledMethodCount();
        var chunk = Stopwatch.StartNew();
        await LoadGenerator.RunAsync(server, full, key, 32, TimeSpan.FromSeconds(3));
        await LoadGenerator.RunAsync(server, "/bench/plain", null, 32, TimeSpan.FromSeconds(1));
        var rate = (System.Runtime.JitInfo.GetCompiledMethodCount() - methods) / chunk.Elapsed.TotalSeconds;
        if (rate <= SettledMethodsPerSecond || clock.Elapsed >= max)
        {
            Console.WriteLine($"# warm-up: {clock.Elapsed.TotalSeconds:0} s of c=32 load; the host JIT compiled {rate:0} methods/s in the last {chunk.Elapsed.TotalSeconds:0} s{(rate <= SettledMethodsPerSecond ? " (settled)" : " (not settled: raise --warmup)")}");
            return;
        }
    }
}

// A cell: `slices` one-second runs of the plain endpoint and of the full stack, alternating, so that both see the same
// phases of a machine whose speed drifts by 15-30% over tens of seconds. Requests, CPU and allocations are summed; the
// latency percentiles are the median of the slices' own.
static async Task<(LoadGenerator.Result Plain, double PlainCpuUs, double PlainWorkerCpuUs, double PlainAllocated,
    LoadGenerator.Result Full, double FullCpuUs, double FullWorkerCpuUs, double FullAllocated)> Interleaved(
    Extensions.Modules.Runner.Pool.WorkerPool pool, int slices, Func<Task<LoadGenerator.Result>> plain, Func<Task<LoadGenerator.Result>> full)
{
    var plainRuns = new List<(LoadGenerator.Result Result, double HostCpuUs, double WorkerCpuUs, double AllocatedBytes)>();
    var fullRuns = new List<(LoadGenerator.Result Result, double HostCpuUs, double WorkerCpuUs, double AllocatedBytes)>();
    for (var i = 0; i < slices; i++)
    {
        plainRuns.Add(await Measured(pool, plain));
        fullRuns.Add(await Measured(pool, full));
    }

    var p = Sum(plainRuns);
    var f = Sum(fullRuns);
    return (p.Result, p.HostCpuUs, p.WorkerCpuUs, p.AllocatedBytes, f.Result, f.HostCpuUs, f.WorkerCpuUs, f.AllocatedBytes);

    static (LoadGenerator.Result Result, double HostCpuUs, double WorkerCpuUs, double AllocatedBytes) Sum(
        List<(LoadGenerator.Result Result, double HostCpuUs, double WorkerCpuUs, double AllocatedBytes)> runs) =>
        (new LoadGenerator.Result(runs[0].Result.Connections, runs.Sum(r => r.Result.Requests), runs.Sum(r => r.Result.Errors), runs.Sum(r => r.Result.Seconds),
                Median([.. runs.Select(r => r.Result.P50Ms)]), Median([.. runs.Select(r => r.Result.P99Ms)])),
            runs.Sum(r => r.HostCpuUs), runs.Sum(r => r.WorkerCpuUs), runs.Sum(r => r.AllocatedBytes));
}

// CPU microseconds spent by this process (host + load generator) and by the workers while the run lasted.
static async Task<(LoadGenerator.Result Result, double HostCpuUs, double WorkerCpuUs, double AllocatedBytes)> Measured(
    Extensions.Modules.Runner.Pool.WorkerPool pool, Func<Task<LoadGenerator.Result>> run)
{
    static double WorkersCpu(Extensions.Modules.Runner.Pool.WorkerPool pool) =>
        pool.WorkerProcessIds.Sum(pid => { try { return Process.GetProcessById(pid).TotalProcessorTime.TotalMicroseconds; } catch (ArgumentException) { return 0; } });
    var self = Process.GetCurrentProcess();
    var host = self.TotalProcessorTime;
    var workers = WorkersCpu(pool);
    var allocated = GC.GetTotalAllocatedBytes();
    var result = await run();
    self.Refresh();
    return (result, (self.TotalProcessorTime - host).TotalMicroseconds, WorkersCpu(pool) - workers, GC.GetTotalAllocatedBytes() - allocated);
}

// The same guest call through the gateway (HTTP, auth, limiters, CORS check, records) and straight into the pool API.
static async Task GatewayOverheadAsync(IServiceProvider services, Uri server, string path, string key, int rounds, TimeSpan duration, TimeSpan warmup)
{
    var runner = services.GetRequiredService<IExtensionRunner>();
    var request = await HelloRequestAsync(services, runner);

    await LoadGenerator.RunAsync(server, path, key, 32, warmup);
    await PoolLoadAsync(runner, request, 32, warmup / 2);
    Console.WriteLine($"# Gateway overhead: GET {path} through the gateway vs the same invocation on the pool API ({duration.TotalSeconds} s per cell, {Environment.ProcessorCount} cores)");
    Console.WriteLine("round  conc  gateway rps  pool rps   gateway p50  pool p50  added p50   gateway p99  pool p99  added p99  errors");
    for (var round = 1; round <= rounds; round++)
    {
        foreach (var concurrency in new[] { 1, 32 })
        {
            var http = await LoadGenerator.RunAsync(server, path, key, concurrency, duration);
            var pool = await PoolLoadAsync(runner, request, concurrency, duration);
            Console.WriteLine($"{round,5}  {concurrency,4}  {http.Rps,11:0}  {pool.Rps,8:0}  {http.P50Ms,11:0.000}  {pool.P50Ms,8:0.000}  {http.P50Ms - pool.P50Ms,9:0.000}  {http.P99Ms,11:0.000}  {pool.P99Ms,8:0.000}  {http.P99Ms - pool.P99Ms,9:0.000}  {http.Errors + pool.Errors,6}");
        }
    }
}

static async Task<LoadGenerator.Result> PoolLoadAsync(IExtensionRunner runner, InvocationRequest request, int concurrency, TimeSpan duration)
{
    var clock = Stopwatch.StartNew();
    var lanes = await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
    {
        var latencies = new List<double>();
        long errors = 0;
        while (clock.Elapsed < duration)
        {
            var t = Stopwatch.GetTimestamp();
            var result = await runner.InvokeAsync(request);
            latencies.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            errors += result.Outcome == InvocationOutcome.Ok ? 0 : 1;
        }

        return (latencies, errors);
    })));
    var all = lanes.SelectMany(l => l.latencies).Order().ToList();
    return new LoadGenerator.Result(concurrency, all.Count, lanes.Sum(l => l.errors), clock.Elapsed.TotalSeconds,
        all[all.Count / 2], all[Math.Min(all.Count - 1, (int)(all.Count * 0.99))]);
}

// GET /hello/Ada for the seeded samples.hello install, as the gateway would hand it to the pool.
static async Task<InvocationRequest> HelloRequestAsync(IServiceProvider services, IExtensionRunner runner)
{
    var install = (await services.GetRequiredService<IInstallResolver>().ResolveAsync("default", "samples.hello")).Install!;
    return new InvocationRequest
    {
        TenantId = "default", ExtensionId = install.ExtensionId, InstallId = install.InstallId, Version = install.Version, RequestId = "bench",
        ModuleHash = install.ModuleHash, ModulePath = install.ModulePath, Limits = runner.LimitsFor(null, null, null),
        Request = new GuestHttpRequest("GET", "/hello/Ada", "", [], [new("name", "Ada")], []),
        Grants = install.Grants,
    };
}

// A process's resident (Rss) or proportional (Pss) set in MiB, from /proc/PID/smaps_rollup (Linux).
static string Memory(int pid, string field)
{
    try
    {
        var line = File.ReadLines($"/proc/{pid}/smaps_rollup").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        var kib = long.Parse(line.AsSpan(field.Length + 1).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
        return (kib / 1024.0).ToString("0", CultureInfo.InvariantCulture);
    }
    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
    {
        return "?";
    }
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted[sorted.Count / 2];
}

int Arg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}
