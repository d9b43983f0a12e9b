using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Extensions.Modules.Bundles;

namespace Extensions.Host.Commands;

/// <summary>
/// <c>dev DIR</c>: watch a project and, on every save, rebuild, check, pack, sign with the local dev key, publish to the
/// local dev instance and move its install there. A failed build changes nothing: the last good version keeps serving.
/// </summary>
internal static class DevVerb
{
    private static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(100);

    public static Command Create()
    {
        var dir = new Argument<string>("dir") { Description = "Extension project directory", DefaultValueFactory = _ => "." };
        var data = new Option<string?>("--data") { Description = "Data directory of the dev instance. Default: <local app data>/extensions/dev" };
        var port = new Option<int>("--port") { Description = "Console/API port of a dev instance started here; 0 picks a free one", DefaultValueFactory = _ => 5180 };
        var assetPort = new Option<int>("--asset-port") { Description = "Asset origin port of a dev instance started here; 0 picks a free one", DefaultValueFactory = _ => 5181 };
        var tenant = new Option<string>("--tenant") { Description = "Tenant whose install follows the project", DefaultValueFactory = _ => "default" };
        var command = new Command("dev",
            "Watch a project: on every save rebuild, check, pack, sign with a local dev key, publish to a local dev instance (started if none is running) and upgrade its install.")
        {
            dir, data, port, assetPort, tenant,
        };
        command.SetAction((parse, ct) => Verbs.Guard(async () =>
        {
            var root = Path.GetFullPath(parse.GetValue(dir)!);
            var manifest = CheckStart(root);
            var key = DevKey();
            var dataDirectory = Path.GetFullPath(parse.GetValue(data)
                ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "extensions", "dev"));

            // The resident compiler (AssemblyScript) loads while the instance starts.
            await using var toolchain = new DevToolchain(root, Say);
            toolchain.Start();
            Say(toolchain.Describe());

            await using var instance = await DevInstance.ConnectOrStartAsync(dataDirectory, parse.GetValue(port), parse.GetValue(assetPort), Say, ct);
            instance.Trust(manifest.Publisher, key);
            Say($"dev key {key.KeyId} is trusted for publisher {manifest.Publisher} by this dev instance only");
            using var http = AdminVerbs.Client(instance.Console.ToString(), instance.AdminKeyFile);
            var session = new Session(root, key, instance, http, parse.GetValue(tenant)!, toolchain);
            using var watcher = new ProjectWatcher(root, Outputs(root, manifest));

            var exited = instance.Exited;
            try
            {
                await RebuildAsync(session, watcher, toolchain, null, Stopwatch.GetTimestamp(), ct);
                Say($"watching {root} (Ctrl+C stops{(instance.Owned ? " and stops the dev instance" : "")})");
                while (true)
                {
                    var next = watcher.NextAsync(Debounce, ct);
                    if (await Task.WhenAny(next, exited) == exited)
                    {
                        throw new CliException($"the dev instance stopped; see {Path.Combine(dataDirectory, "dev-serve.log")}");
                    }

                    var (paths, firstSeen) = await next;
                    Say($"changed: {string.Join(", ", paths.Order(StringComparer.Ordinal).Take(5))}{(paths.Count > 5 ? $" and {paths.Count - 5} more" : "")}");
                    await RebuildAsync(session, watcher, toolchain, paths, firstSeen, ct);
                    if (session.Manifest is { } current)
                    {
                        watcher.SetOutputs(Outputs(root, current));
                    }
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                Say(instance.Owned ? "stopping the dev instance" : "stopped");
                return 0;
            }
        }));
        return command;
    }

    /// <summary>The manifest as it stands, so that a broken one stops <c>dev</c> before any instance starts.</summary>
    private static ExtensionManifest CheckStart(string root)
    {
        try
        {
            return ProjectBuild.CheckManifest(root);
        }
        catch (ProjectProblemsException problems)
        {
            throw new CliException(string.Join(Environment.NewLine + "error: ", problems.Problems));
        }
    }

    /// <summary>The author's dev signing key, made on first use in the user's config directory (private key 0600).</summary>
    private static PublisherKey DevKey()
    {
        var dir = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData, Environment.SpecialFolderOption.Create), "extensions");
        var path = Path.Combine(dir, "dev-publisher.key");
        if (File.Exists(path))
        {
            return PublisherKey.Load(path);
        }

        Directory.CreateDirectory(dir);
        var key = PublisherKey.Generate();
        key.Save(path, Path.Combine(dir, "dev-publisher.pub"));
        Say($"created the dev signing key {path}");
        return key;
    }

    /// <summary>
    /// What the build writes: the folder holding <c>main</c> (e.g. <c>build</c>), or <c>main</c> itself at the root, and the
    /// same for the files <c>asconfig.json</c> names.
    /// </summary>
    private static IEnumerable<string> Outputs(string root, ExtensionManifest manifest) =>
        ResidentAsc.Outputs(root).Append(manifest.Main).Select(path =>
        {
            var normal = path.Replace('\\', '/');
            normal = normal.StartsWith("./", StringComparison.Ordinal) ? normal[2..] : normal;
            if (normal.StartsWith("../", StringComparison.Ordinal) || Path.IsPathRooted(normal))
            {
                return ""; // outside the project: nothing to ignore in it
            }

            var slash = normal.IndexOf('/', StringComparison.Ordinal);
            return slash > 0 ? normal[..slash] : normal;
        }).Where(o => o.Length > 0).Distinct(StringComparer.Ordinal);

    /// <summary>A rebuild inside the watcher's build window, so that what the build writes does not count as a save.</summary>
    private static async Task RebuildAsync(Session session, ProjectWatcher watcher, DevToolchain toolchain, IReadOnlySet<string>? changed, long started, CancellationToken ct)
    {
        watcher.BuildStarting();
        try
        {
            await session.RebuildAsync(changed, started, ct);
        }
        finally
        {
            watcher.BuildFinished();
        }

        toolchain.RebuildDone();
    }

    private static void Say(string line) => Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] {line}");

    /// <summary>One project followed by one install; remembers the last good version, which keeps serving on failures.</summary>
    private sealed class Session(string root, PublisherKey key, DevInstance instance, HttpClient http, string tenant, DevToolchain toolchain)
    {
        private string? _lastSource;
        private string? _liveVersion;
        private bool _printedUrls;

        public ExtensionManifest? Manifest { get; private set; }

        /// <param name="changed">Changed paths, or <c>null</c> for the first build.</param>
        public async Task RebuildAsync(IReadOnlySet<string>? changed, long started, CancellationToken ct)
        {
            // UI files and the manifest need no compiler: repacking is enough.
            var compile = changed is null || changed.Any(p => p != BundlePacker.ManifestFile && !p.StartsWith("ui/", StringComparison.Ordinal));
            var output = new List<string>();
            DevToolchain.Build? build = null;
            try
            {
                ProjectBuild.CheckManifest(root);
                if (compile)
                {
                    build = await toolchain.BuildAsync(output.Add, ct);
                }

                var (manifest, _) = ProjectBuild.Check(root);
                Manifest = manifest;
                var source = BundlePacker.Pack(root);
                if (source.ContentHash == _lastSource)
                {
                    Say($"unchanged ({Elapsed(started)}); {_liveVersion} keeps serving");
                    return;
                }

                var publishStarted = Stopwatch.GetTimestamp();
                var version = await PublishAsync(manifest, ct);
                _lastSource = source.ContentHash;
                _liveVersion = version;
                Say($"ok: {manifest.ExtensionId} {version} is live, {Elapsed(started)} after the save ({(build is null ? "no build" : $"{build.Way} {Ms(build.Duration)}")}, publish {Ms(Stopwatch.GetElapsedTime(publishStarted))})");
                if (!_printedUrls)
                {
                    PrintUrls(manifest);
                    _printedUrls = true;
                }
            }
            catch (ProjectProblemsException problems)
            {
                foreach (var line in output)
                {
                    Console.WriteLine("  " + line);
                }

                foreach (var problem in problems.Problems)
                {
                    Console.WriteLine($"error: {problem}");
                }

                Say($"failed ({Elapsed(started)}); {(_liveVersion is null ? "nothing is live yet" : $"{_liveVersion} keeps serving")}");
            }
            catch (Exception ex) when (ex is BundleException or ProblemException or CliException or HttpRequestException or IOException)
            {
                Console.WriteLine($"error: {ex.Message}");
                Say($"failed ({Elapsed(started)}); {(_liveVersion is null ? "nothing is live yet" : $"{_liveVersion} keeps serving")}");
            }
        }

        /// <summary>Packs under a version of its own (versions are immutable), signs, publishes, installs or upgrades.</summary>
        private async Task<string> PublishAsync(ExtensionManifest manifest, CancellationToken ct)
        {
            // Unix milliseconds keep dev versions increasing across restarts of dev, as semver pre-releases of the real one.
            var version = $"{manifest.Version}{(manifest.Version.Contains('-', StringComparison.Ordinal) ? "." : "-")}dev.{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}";
            var packed = BundlePacker.Pack(root, bytes =>
            {
                var json = JsonNode.Parse(bytes)!.AsObject();
                json["version"] = version;
                return JsonSerializer.SerializeToUtf8Bytes(json);
            });
            var signature = BundleSignature.Create(packed.ContentHash, key);
            using (var form = new MultipartFormDataContent
            {
                { new ByteArrayContent(packed.ToGzip()), "bundle", $"{manifest.ExtensionId}-{version}.extb" },
                { new StringContent(signature.ToJson()), "signature", $"{manifest.ExtensionId}-{version}.extb.sig" },
            })
            {
                await AdminVerbs.SendAsync(http, new HttpRequestMessage(HttpMethod.Post, "/api/admin/bundles") { Content = form }, ct);
            }

            var id = manifest.ExtensionId;
            var installs = await AdminVerbs.SendAsync(http, new HttpRequestMessage(HttpMethod.Get, $"/api/admin/installs?tenant={Uri.EscapeDataString(tenant)}"), ct);
            if (!installs.EnumerateArray().Any(i => i.GetProperty("extensionId").GetString() == id))
            {
                await AdminVerbs.SendAsync(http, new HttpRequestMessage(HttpMethod.Post, "/api/admin/installs")
                {
                    Content = JsonContent.Create(new { extensionId = id, tenant, version, capabilities = manifest.Capabilities, egressHosts = manifest.EgressHosts, config = new { } }),
                }, ct);
                if (manifest.Capabilities.Count + manifest.EgressHosts.Count > 0)
                {
                    Say($"installed for tenant {tenant}, consenting to {Describe(manifest.Capabilities, manifest.EgressHosts)} (automatic: dev instance only)");
                }

                return version;
            }

            var path = $"/api/admin/installs/{Uri.EscapeDataString(tenant)}/{Uri.EscapeDataString(id)}/upgrade";
            var plan = await AdminVerbs.SendAsync(http, new HttpRequestMessage(HttpMethod.Get, $"{path}?version={Uri.EscapeDataString(version)}"), ct);
            object? accept = null;
            if (plan.GetProperty("consentRequired").GetBoolean())
            {
                var added = Strings(plan.GetProperty("capabilities").GetProperty("added")).Concat(Strings(plan.GetProperty("egressHosts").GetProperty("added")));
                Say($"{version} asks for more: {string.Join(", ", added)}; consenting automatically (dev instance only)");
                accept = new { capabilities = Strings(plan.GetProperty("requiredCapabilities")), egressHosts = Strings(plan.GetProperty("requiredEgressHosts")) };
            }

            await AdminVerbs.SendAsync(http, new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(new { version, accept }) }, ct);
            return version;
        }

        private void PrintUrls(ExtensionManifest manifest)
        {
            foreach (var endpoint in manifest.Endpoints)
            {
                Console.WriteLine($"  {endpoint.Method,-6} {new Uri(instance.Console, $"/api/ext/{manifest.ExtensionId}{endpoint.Path}")}");
            }

            if (manifest.UiEntry is not null)
            {
                Console.WriteLine($"  page   {new Uri(instance.Console, $"/console/ext/{manifest.ExtensionId}")} (sign in with the key in {instance.AdminKeyFile})");
            }

            Console.WriteLine($"  calls need: -H \"Authorization: Bearer $(cat {instance.AdminKeyFile})\"");
        }

        private static string Describe(IReadOnlyList<string> capabilities, IReadOnlyList<string> egressHosts) =>
            string.Join(", ", capabilities.Concat(egressHosts.Select(h => "egress " + h)));

        private static string[] Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];

        private static string Elapsed(long started) => Ms(Stopwatch.GetElapsedTime(started));

        private static string Ms(TimeSpan span) => string.Create(CultureInfo.InvariantCulture, $"{span.TotalMilliseconds:0} ms");
    }
}
