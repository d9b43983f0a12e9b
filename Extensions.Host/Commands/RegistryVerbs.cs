using System.CommandLine;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Extensions.Host.Commands;

/// <summary>The registry admin API as verbs: list and show, installs, enable/disable/uninstall, upgrade, rollback, config, audit.</summary>
internal static class RegistryVerbs
{
    private static Argument<string> Id() => new("id") { Description = "Extension id (publisher.name)" };

    /// <summary>Every verb that acts on one install defaults to tenant <c>default</c>, as <c>install</c> does; list verbs filter only when given one.</summary>
    private static Option<string> Tenant() => new("--tenant") { Description = "Tenant whose install this is", DefaultValueFactory = _ => "default" };

    private static string Path(string extensionId, string tenant, string? suffix = null) =>
        $"/api/admin/installs/{Uri.EscapeDataString(tenant)}/{Uri.EscapeDataString(extensionId)}{suffix}";

    public static Command Extensions()
    {
        var list = new Command("list", "List published extensions and their versions.") { AdminVerbs.Server(), AdminVerbs.KeyFile() };
        list.SetAction((parse, ct) => Run(parse, list, async http =>
        {
            foreach (var extension in (await AdminVerbs.SendAsync(http, new HttpRequestMessage(HttpMethod.Get, "/api/admin/extensions"), ct)).EnumerateArray())
            {
                var versions = extension.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("version").GetString());
                Console.WriteLine($"{extension.GetProperty("id").GetString()}\t{string.Join(", ", versions)}");
            }
        }));

        var id = Id();
        var show = new Command("show", "Show an extension's versions with provenance (content hash, size, signer, time) and installs.") { id, AdminVerbs.Server(), AdminVerbs.KeyFile() };
        show.SetAction((parse, ct) => Run(parse, show, async http =>
        {
            var body = await AdminVerbs.SendAsync(http, new HttpRequestMessage(HttpMethod.Get, $"/api/admin/extensions/{Uri.EscapeDataString(parse.GetValue(id)!)}"), ct);
            Console.WriteLine(body.GetProperty("id").GetString());
            foreach (var v in body.GetProperty("versions").EnumerateArray())
            {
                Console.WriteLine($"  {v.GetProperty("version").GetString()}\t{v.GetProperty("contentHash").GetString()}\t{v.GetProperty("size")} bytes\tsigned by {v.GetProperty("signerKeyId").GetString()}\t{v.GetProperty("publishedAt").GetString()}");
            }

            foreach (var i in body.GetProperty("installs").EnumerateArray())
            {
                Console.WriteLine($"  installed for {i.GetProperty("tenant").GetString()}: {i.GetProperty("version").GetString()} ({i.GetProperty("state").GetString()})");
            }
        }));

        return new Command("extensions", "Published extensions on an instance.") { list, show };
    }

    public static Command Installs()
    {
        var tenant = new Option<string?>("--tenant") { Description = "Only this tenant's installs" };
        var list = new Command("list", "List installs: tenant, extension, version, state, grants.") { tenant, AdminVerbs.Server(), AdminVerbs.KeyFile() };
        list.SetAction((parse, ct) => Run(parse, list, async http =>
        {
            var query = parse.GetValue(tenant) is { } t ? $"?tenant={Uri.EscapeDataString(t)}" : "";
            foreach (var i in (await AdminVerbs.SendAsync(http, new HttpRequestMessage(HttpMethod.Get, "/api/admin/installs" + query), ct)).EnumerateArray())
            {
                Console.WriteLine(string.Join('\t', i.GetProperty("tenant").GetString(), i.GetProperty("extensionId").GetString(), i.GetProperty("version").GetString(),
                    i.GetProperty("state").GetString(), "[" + string.Join(", ", Strings(i.GetProperty("granted"))) + "]",
                    "egress [" + string.Join(", ", Strings(i.GetProperty("egressHosts"))) + "]"));
            }
        }));
        return new Command("installs", "Installs on an instance.") { list };
    }

    public static Command SetState(string verb, string description)
    {
        var id = Id();
        var tenant = Tenant();
        var command = new Command(verb, description) { id, tenant, AdminVerbs.Server(), AdminVerbs.KeyFile() };
        command.SetAction((parse, ct) => Run(parse, command, async http =>
        {
            var body = await AdminVerbs.SendAsync(http, new HttpRequestMessage(HttpMethod.Post, Path(parse.GetValue(id)!, parse.GetValue(tenant)!, "/" + verb)), ct);
            Console.WriteLine($"{body.GetProperty("extensionId").GetString()} for tenant {body.GetProperty("tenantId").GetString()}: {body.GetProperty("state").GetString()}");
        }));
        return command;
    }

    public static Command Uninstall()
    {
        var id = Id();
        var tenant = Tenant();
        var command = new Command("uninstall", "Remove an install with its configuration and data.") { id, tenant, AdminVerbs.Server(), AdminVerbs.KeyFile() };
        command.SetAction((parse, ct) => Run(parse, command, async http =>
        {
            await AdminVerbs.SendAsync(http, new HttpRequestMessage(HttpMethod.Delete, Path(parse.GetValue(id)!, parse.GetValue(tenant)!)), ct);
            Console.WriteLine($"uninstalled {parse.GetValue(id)} for tenant {parse.GetValue(tenant)}");
        }));
        return command;
    }

    public static Command Upgrade()
    {
        var id = Id();
        var tenant = Tenant();
        var version = new Option<string>("--version") { Description = "Version to move to", Required = true };
        var accept = new Option<bool>("--accept") { Description = "Consent to the new version's capabilities and egress hosts (the diff is printed first)" };
        var command = new Command("upgrade", "Move an install to another version; prints the capability and egress diff, and widening needs --accept.")
        {
            id, tenant, version, accept, AdminVerbs.Server(), AdminVerbs.KeyFile(),
        };
        command.SetAction((parse, ct) => Run(parse, command, async http =>
        {
            var path = Path(parse.GetValue(id)!, parse.GetValue(tenant)!, "/upgrade");
            var plan = await AdminVerbs.SendAsync(http, new HttpRequestMessage(HttpMethod.Get, $"{path}?version={Uri.EscapeDataString(parse.GetValue(version)!)}"), ct);
            PrintPlan(plan);
            var widens = plan.GetProperty("consentRequired").GetBoolean();
            if (widens && !parse.GetValue(accept))
            {
                throw new CliException($"{plan.GetProperty("toVersion").GetString()} asks for more than the install has; nothing changed. Re-run with --accept to consent");
            }

            var body = await AdminVerbs.SendAsync(http, new HttpRequestMessage(HttpMethod.Post, path)
            {
                Content = JsonContent.Create(new { version = parse.GetValue(version), accept = parse.GetValue(accept) ? Accept(plan) : null }),
            }, ct);
            Console.WriteLine($"{body.GetProperty("extensionId").GetString()} for tenant {body.GetProperty("tenantId").GetString()} now runs {body.GetProperty("version").GetString()} ({body.GetProperty("contentHash").GetString()})");
        }));
        return command;
    }

    public static Command Rollback()
    {
        var id = Id();
        var tenant = Tenant();
        var hash = new Option<string>("--hash") { Description = "Content hash (sha256:...) the install ran before", Required = true };
        var accept = new Option<bool>("--accept") { Description = "Consent to what that content asks for if it is more than the install has now" };
        var command = new Command("rollback", "Move an install back to content it ran before.") { id, tenant, hash, accept, AdminVerbs.Server(), AdminVerbs.KeyFile() };
        command.SetAction((parse, ct) => Run(parse, command, async http =>
        {
            var path = Path(parse.GetValue(id)!, parse.GetValue(tenant)!, "/rollback");
            JsonElement body;
            try
            {
                body = await AdminVerbs.SendAsync(http, new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(new { contentHash = parse.GetValue(hash) }) }, ct);
            }
            catch (ProblemException problem) when (problem.Code == "consent_required" && problem.Body.TryGetProperty("diff", out var diff))
            {
                PrintPlan(diff);
                if (!parse.GetValue(accept))
                {
                    throw new CliException("that content asks for more than the install has now; nothing changed. Re-run with --accept to consent");
                }

                body = await AdminVerbs.SendAsync(http, new HttpRequestMessage(HttpMethod.Post, path)
                {
                    Content = JsonContent.Create(new { contentHash = parse.GetValue(hash), accept = Accept(diff) }),
                }, ct);
            }

            Console.WriteLine($"{body.GetProperty("extensionId").GetString()} for tenant {body.GetProperty("tenantId").GetString()} now runs {body.GetProperty("version").GetString()} ({body.GetProperty("contentHash").GetString()})");
        }));
        return command;
    }

    public static Command Config()
    {
        var id = Id();
        var tenant = Tenant();
        var settings = new Argument<string[]>("settings") { Description = "K=V pairs (V is JSON, or else a string)", Arity = ArgumentArity.OneOrMore };
        var set = new Command("set", "Change settings of an install; the result must match the extension's config schema.") { id, tenant, settings, AdminVerbs.Server(), AdminVerbs.KeyFile() };
        set.SetAction((parse, ct) => Run(parse, set, async http =>
        {
            var changes = ParseSettings(parse.GetValue(settings)!);
            var path = Path(parse.GetValue(id)!, parse.GetValue(tenant)!);
            var install = await AdminVerbs.SendAsync(http, new HttpRequestMessage(HttpMethod.Get, path), ct);
            var config = JsonNode.Parse(install.GetProperty("config").GetRawText())!.AsObject();
            foreach (var (key, value) in changes)
            {
                config[key] = value?.DeepClone();
            }

            await AdminVerbs.SendAsync(http, new HttpRequestMessage(HttpMethod.Put, path + "/config") { Content = JsonContent.Create(config) }, ct);
            Console.WriteLine($"set {string.Join(", ", changes.Select(c => c.Key))} for {parse.GetValue(id)} (tenant {parse.GetValue(tenant)})");
        }));
        return new Command("config", "An install's settings.") { set };
    }

    public static Command Audit()
    {
        var tenant = new Option<string?>("--tenant") { Description = "Only this tenant's entries" };
        var extension = new Option<string?>("--extension") { Description = "Only this extension's entries" };
        var limit = new Option<int>("--limit") { Description = "How many, newest first", DefaultValueFactory = _ => 50 };
        var command = new Command("audit", "Who changed what, when; before and after.") { tenant, extension, limit, AdminVerbs.Server(), AdminVerbs.KeyFile() };
        command.SetAction((parse, ct) => Run(parse, command, async http =>
        {
            var query = $"?limit={parse.GetValue(limit)}"
                + (parse.GetValue(tenant) is { } t ? $"&tenant={Uri.EscapeDataString(t)}" : "")
                + (parse.GetValue(extension) is { } e ? $"&extension={Uri.EscapeDataString(e)}" : "");
            foreach (var row in (await AdminVerbs.SendAsync(http, new HttpRequestMessage(HttpMethod.Get, "/api/admin/audit" + query), ct)).EnumerateArray())
            {
                var line = string.Join('\t', row.GetProperty("at").GetString(), row.GetProperty("who").GetString(), row.GetProperty("tenant").ToString(),
                    row.GetProperty("action").GetString(), row.GetProperty("subject").GetString(), row.GetProperty("detail").GetString());
                Console.WriteLine(line);
                if (row.GetProperty("before").ValueKind != JsonValueKind.Null || row.GetProperty("after").ValueKind != JsonValueKind.Null)
                {
                    Console.WriteLine($"\tbefore: {row.GetProperty("before").GetRawText()}");
                    Console.WriteLine($"\tafter:  {row.GetProperty("after").GetRawText()}");
                }
            }
        }));
        return command;
    }

    /// <summary><c>K=V</c> pairs; V is taken as JSON when it parses (numbers, booleans, objects), else as a string.</summary>
    public static List<KeyValuePair<string, JsonNode?>> ParseSettings(IEnumerable<string> pairs)
    {
        var result = new List<KeyValuePair<string, JsonNode?>>();
        foreach (var pair in pairs)
        {
            var at = pair.IndexOf('=', StringComparison.Ordinal);
            if (at <= 0)
            {
                throw new CliException($"'{pair}' is not a setting; write KEY=VALUE");
            }

            var text = pair[(at + 1)..];
            JsonNode? value;
            try
            {
                value = JsonNode.Parse(text);
            }
            catch (JsonException)
            {
                value = JsonValue.Create(text);
            }

            result.Add(new(pair[..at], value));
        }

        return result;
    }

    private static void PrintPlan(JsonElement plan)
    {
        Console.WriteLine($"{plan.GetProperty("extensionId").GetString()} for tenant {plan.GetProperty("tenantId").GetString()}: " +
            $"{plan.GetProperty("fromVersion").GetString()} ({plan.GetProperty("fromContentHash").GetString()}) -> {plan.GetProperty("toVersion").GetString()} ({plan.GetProperty("toContentHash").GetString()})");
        foreach (var (label, name) in new[] { ("capabilities", "capabilities"), ("egress hosts", "egressHosts") })
        {
            var diff = plan.GetProperty(name);
            foreach (var added in Strings(diff.GetProperty("added")))
            {
                Console.WriteLine($"  + {label}: {added}");
            }

            foreach (var removed in Strings(diff.GetProperty("removed")))
            {
                Console.WriteLine($"  - {label}: {removed}");
            }
        }
    }

    private static object Accept(JsonElement plan) => new
    {
        capabilities = Strings(plan.GetProperty("requiredCapabilities")),
        egressHosts = Strings(plan.GetProperty("requiredEgressHosts")),
    };

    private static string[] Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];

    internal static Task<int> Run(ParseResult parse, Command command, Func<HttpClient, Task> body) => Verbs.Guard(async () =>
    {
        var server = command.Options.OfType<Option<string>>().First(o => o.Name == "--server");
        var key = command.Options.OfType<Option<string>>().First(o => o.Name == "--key");
        using var http = AdminVerbs.Client(parse.GetValue(server)!, parse.GetValue(key)!);
        await body(http);
        return 0;
    });
}
