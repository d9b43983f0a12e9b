using System.CommandLine;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Extensions.Modules.Bundles;

namespace Extensions.Host.Commands;

/// <summary>Verbs that talk to a running instance's admin API, and the local trust bundle editor.</summary>
internal static class AdminVerbs
{
    internal static Option<string> Server() => new("--server") { Description = "Instance URL", DefaultValueFactory = _ => "http://127.0.0.1:5080" };

    internal static Option<string> KeyFile() => new("--key") { Description = "File holding an admin API key", DefaultValueFactory = _ => Path.Combine("data", "admin.key") };

    public static Command Publish()
    {
        var file = new Argument<string>("file") { Description = "Bundle file" };
        var signature = new Option<string?>("--signature") { Description = "Signature file. Default: <file>.sig" };
        var server = Server();
        var key = KeyFile();
        var command = new Command("publish", "Upload a signed bundle to an instance's registry.") { file, signature, server, key };
        command.SetAction((parse, ct) => Verbs.Guard(async () =>
        {
            var path = parse.GetValue(file)!;
            var sigPath = parse.GetValue(signature) ?? path + ".sig";
            if (!File.Exists(sigPath))
            {
                throw new CliException($"no signature at {sigPath}; sign the bundle first (see 'sign')");
            }

            using var http = Client(parse.GetValue(server)!, parse.GetValue(key)!);
            using var form = new MultipartFormDataContent
            {
                { new ByteArrayContent(await File.ReadAllBytesAsync(path, ct)), "bundle", Path.GetFileName(path) },
                { new ByteArrayContent(await File.ReadAllBytesAsync(sigPath, ct)), "signature", Path.GetFileName(sigPath) },
            };
            var body = await SendAsync(http, new HttpRequestMessage(HttpMethod.Post, "/api/admin/bundles") { Content = form }, ct);
            Console.WriteLine($"published {body.GetProperty("extensionId")}@{body.GetProperty("version")} {body.GetProperty("contentHash")}");
            return 0;
        }));
        return command;
    }

    public static Command Install()
    {
        var id = new Argument<string>("id") { Description = "Extension id (publisher.name)" };
        var tenant = new Option<string>("--tenant") { Description = "Tenant to install for", DefaultValueFactory = _ => "default" };
        var version = new Option<string?>("--version") { Description = "Version. Default: the highest published" };
        var accept = new Option<bool>("--accept") { Description = "Consent to the capabilities and egress hosts the extension asks for (they are printed first)" };
        var config = new Option<string[]>("--config") { Description = "A setting K=V (V is JSON, or else a string); repeat for more", AllowMultipleArgumentsPerToken = false };
        var server = Server();
        var key = KeyFile();
        var command = new Command("install", "Install a published extension for a tenant, consenting to its capabilities.") { id, tenant, version, accept, config, server, key };
        command.SetAction((parse, ct) => Verbs.Guard(async () =>
        {
            using var http = Client(parse.GetValue(server)!, parse.GetValue(key)!);
            var extensionId = parse.GetValue(id)!;
            var wanted = parse.GetValue(version);
            if (wanted is null)
            {
                var list = await SendAsync(http, new HttpRequestMessage(HttpMethod.Get, "/api/admin/extensions"), ct);
                wanted = list.EnumerateArray().Where(e => e.GetProperty("id").GetString() == extensionId)
                    .SelectMany(e => e.GetProperty("versions").EnumerateArray()).Select(v => v.GetProperty("version").GetString()).LastOrDefault()
                    ?? throw new CliException($"{extensionId} has no published version on this instance");
            }

            var info = await SendAsync(http, new HttpRequestMessage(HttpMethod.Get, $"/api/admin/extensions/{Uri.EscapeDataString(extensionId)}/versions/{Uri.EscapeDataString(wanted)}"), ct);
            var capabilities = info.GetProperty("capabilities").EnumerateArray().Select(c => c.GetString()!).ToList();
            var egressHosts = info.GetProperty("egressHosts").EnumerateArray().Select(c => c.GetString()!).ToList();
            Console.WriteLine($"{extensionId}@{wanted} ({info.GetProperty("contentHash")}, signed by {info.GetProperty("signerKeyId")}) asks for: {(capabilities.Count == 0 ? "nothing" : string.Join(", ", capabilities))}");
            if (egressHosts.Count > 0)
            {
                Console.WriteLine($"and network access to: {string.Join(", ", egressHosts)}");
            }

            var settings = new System.Text.Json.Nodes.JsonObject(RegistryVerbs.ParseSettings(parse.GetValue(config) ?? []));
            if (!parse.GetValue(accept))
            {
                throw new CliException("re-run with --accept to consent to these capabilities and install");
            }

            var body = await SendAsync(http, new HttpRequestMessage(HttpMethod.Post, "/api/admin/installs")
            {
                Content = JsonContent.Create(new { extensionId, tenant = parse.GetValue(tenant), version = wanted, capabilities, egressHosts, config = settings }),
            }, ct);
            Console.WriteLine($"installed {extensionId}@{body.GetProperty("version")} for tenant {body.GetProperty("tenantId")}: {body.GetProperty("state")}");
            return 0;
        }));
        return command;
    }

    public static Command Trust()
    {
        var data = new Option<string>("--data") { Description = "Data directory holding trust.json", DefaultValueFactory = _ => "data" };
        var list = new Command("list", "List trusted publisher keys.") { data };
        list.SetAction((parse, _) => Verbs.Guard(() =>
        {
            foreach (var key in TrustBundle.Load(TrustPath(parse.GetValue(data)!)).Keys)
            {
                Console.WriteLine($"{key.Publisher}\t{key.KeyId}\t{key.State}");
            }

            return Task.FromResult(0);
        }));

        var publisher = new Argument<string>("publisher") { Description = "Publisher name the key may sign for" };
        var pubFile = new Argument<string>("pubkeyfile") { Description = "Public key PEM file (from keygen)" };
        var add = new Command("add", "Trust a publisher's public key.") { publisher, pubFile, data };
        add.SetAction((parse, _) => Verbs.Guard(async () =>
        {
            var path = TrustPath(parse.GetValue(data)!);
            var raw = PublicKeyPem.ReadRaw(await File.ReadAllTextAsync(parse.GetValue(pubFile)!));
            TrustBundle.Load(path).WithKey(parse.GetValue(publisher)!, raw).Save(path);
            Console.WriteLine($"trusted {KeyIds.For(raw)} for publisher {parse.GetValue(publisher)}");
            return 0;
        }));

        var keyId = new Argument<string>("keyid") { Description = "Key id to revoke (ed25519:...)" };
        var revoke = new Command("revoke", "Revoke a key: bundles it signed stop loading.") { keyId, data };
        revoke.SetAction((parse, _) => Verbs.Guard(() =>
        {
            var path = TrustPath(parse.GetValue(data)!);
            var bundle = TrustBundle.Load(path);
            if (bundle.Keys.All(k => k.KeyId != parse.GetValue(keyId)))
            {
                throw new CliException($"key {parse.GetValue(keyId)} is not in {path}");
            }

            bundle.WithRevoked(parse.GetValue(keyId)!).Save(path);
            Console.WriteLine($"revoked {parse.GetValue(keyId)}");
            return Task.FromResult(0);
        }));

        return new Command("trust", "Edit the trust bundle: which publisher keys this instance accepts.") { list, add, revoke };
    }

    private static string TrustPath(string dataDir) => Path.Combine(dataDir, "trust.json");

    internal static HttpClient Client(string server, string keyFile)
    {
        if (!File.Exists(keyFile))
        {
            throw new CliException($"API key file {keyFile} does not exist; pass --key FILE");
        }

        var http = new HttpClient { BaseAddress = new Uri(server), Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", File.ReadAllText(keyFile).Trim());
        return http;
    }

    /// <summary>Sends and returns the JSON body; a problem response becomes one line: its code and detail.</summary>
    internal static async Task<JsonElement> SendAsync(HttpClient http, HttpRequestMessage request, CancellationToken ct)
    {
        using var response = await http.SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        JsonElement body = default;
        if (text.Length > 0)
        {
            try
            {
                body = JsonDocument.Parse(text).RootElement.Clone();
            }
            catch (JsonException)
            {
                throw new CliException($"{(int)response.StatusCode} from {request.RequestUri}: {text[..Math.Min(200, text.Length)]}");
            }
        }

        if (!response.IsSuccessStatusCode)
        {
            var code = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("code", out var c) ? c.GetString() : ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var detail = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("detail", out var d) ? d.GetString() : response.ReasonPhrase;
            throw new ProblemException(code ?? "error", detail ?? "", body);
        }

        return body;
    }
}
