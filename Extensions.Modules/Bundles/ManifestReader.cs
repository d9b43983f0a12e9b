using System.Text.Json;
using System.Text.RegularExpressions;
using Semver;

namespace Extensions.Modules.Bundles;

/// <summary>Parses and validates manifest v2, collecting every error rather than stopping at the first.</summary>
public static partial class ManifestReader
{
    public const int SupportedManifestVersion = 2;
    public const string SupportedRuntime = "ext-v1";

    private static readonly string[] Methods = ["GET", "POST", "PUT", "PATCH", "DELETE"];

    // Duplicate keys are refused so that no other JSON parser can read a different manifest from the same signed bytes.
    private static readonly JsonDocumentOptions Options = new() { AllowDuplicateProperties = false };

    public static ManifestResult Parse(ReadOnlySpan<byte> utf8Json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8Json.ToArray(), Options);
        }
        catch (JsonException ex)
        {
            return new ManifestResult(null, [new ManifestError("$", $"malformed JSON: {ex.Message}")]);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                return new ManifestResult(null, [new ManifestError("$", "must be a JSON object")]);
            var reader = new Reader();
            var manifest = reader.Read(document.RootElement);
            var errors = reader.Errors;

            // The published schema is checked too; the semantic reader's message wins where both blame the same field.
            foreach (var error in JsonSchemas.ValidateManifest(document.RootElement))
            {
                if (!errors.Any(e => Related(e.Field, error.Field)))
                    errors.Add(error);
            }
            return errors.Count == 0 ? new ManifestResult(manifest, []) : new ManifestResult(null, errors);
        }
    }

    /// <summary>The JSON schema of manifest v2 (<c>docs/manifest.schema.json</c>), which this reader also applies.</summary>
    public static string JsonSchema => JsonSchemas.ManifestSchemaText();

    private static bool Related(string a, string b) => a == b || Within(a, b) || Within(b, a);

    private static bool Within(string child, string parent) =>
        parent == "$" || (child.StartsWith(parent, StringComparison.Ordinal) && child.Length > parent.Length && child[parent.Length] is '.' or '[');

    /// <summary>The rule for publisher and extension names.</summary>
    internal static bool IsIdentifier(string value) => IdentifierPattern().IsMatch(value);

    [GeneratedRegex(@"^[a-z][a-z0-9-]{0,62}\z")]
    private static partial Regex IdentifierPattern();

    [GeneratedRegex(@"^[A-Za-z0-9._~-]+\z")]
    private static partial Regex LiteralSegmentPattern();

    [GeneratedRegex(@"^[a-z_][a-z0-9_]*\z")]
    private static partial Regex ParamNamePattern();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*\z")]
    private static partial Regex SecretNamePattern();

    [GeneratedRegex(@"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\z")]
    private static partial Regex DnsNamePattern();

    /// <summary>Holds the error list for one parse; property readers return null/defaults after recording an error.</summary>
    private sealed class Reader
    {
        public List<ManifestError> Errors { get; } = [];

        public ExtensionManifest? Read(JsonElement root)
        {
            var manifestVersion = ManifestVersion(root);
            var publisher = Identifier(root, "publisher");
            var name = Identifier(root, "name");
            var version = Version(root);
            var displayName = OptionalString(root, "displayName", "displayName");
            var description = OptionalString(root, "description", "description");
            var runtime = Runtime(root);
            var main = RelativePath(root, "main", "main", required: true);
            var capabilities = Capabilities(root);
            var egress = Egress(root);
            var config = Config(root);
            var secrets = Secrets(root);
            var endpoints = Endpoints(root);
            var uiEntry = UiEntry(root);
            var uiHooks = UiHooks(root, uiEntry);
            var assets = Assets(root);
            var limits = Limits(root, "limits");

            if (Errors.Count > 0) return null;
            return new ExtensionManifest
            {
                ManifestVersion = manifestVersion,
                Publisher = publisher!,
                Name = name!,
                Version = version!,
                DisplayName = displayName,
                Description = description,
                Runtime = runtime!,
                Main = main!,
                Capabilities = capabilities,
                EgressHosts = egress,
                ConfigSchema = config,
                Secrets = secrets,
                Endpoints = endpoints,
                UiEntry = uiEntry,
                UiHooks = uiHooks,
                Assets = assets,
                Limits = limits ?? new ManifestLimits(null, null, null),
            };
        }

        private int ManifestVersion(JsonElement root)
        {
            if (!Get(root, "manifestVersion", "manifestVersion", required: true, out var value)) return 0;
            if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var v) && v == SupportedManifestVersion) return v;
            Error("manifestVersion", $"must be {SupportedManifestVersion}");
            return 0;
        }

        private string? Identifier(JsonElement root, string name)
        {
            var value = RequiredString(root, name, name);
            if (value is not null && !IsIdentifier(value))
                Error(name, "must be 1-63 characters of lower-case letters, digits and '-', starting with a letter");
            return value;
        }

        private string? Version(JsonElement root)
        {
            var value = RequiredString(root, "version", "version");
            if (value is not null && !SemVersion.TryParse(value, SemVersionStyles.Strict, out _))
                Error("version", $"'{value}' is not a valid SemVer 2.0 version (e.g. 1.2.3)");
            return value;
        }

        private string? Runtime(JsonElement root)
        {
            var value = RequiredString(root, "runtime", "runtime");
            if (value is not null && value != SupportedRuntime) Error("runtime", $"must be '{SupportedRuntime}'");
            return value;
        }

        private string? RelativePath(JsonElement obj, string name, string field, bool required)
        {
            var value = required ? RequiredString(obj, name, field) : OptionalString(obj, name, field);
            var problem = value is null ? null : BundlePath.Problem(value);
            if (problem is not null) Error(field, $"{BundlePath.Quote(value!)} {problem}; must be a relative path inside the bundle");
            return value;
        }

        private List<string> Capabilities(JsonElement root)
        {
            var result = new List<string>();
            foreach (var (value, field) in StringArray(root, "capabilities", "capabilities"))
            {
                if (!Bundles.Capabilities.Known.Contains(value))
                    Error(field, $"unknown capability '{value}' (known: {string.Join(", ", Bundles.Capabilities.Known.Order(StringComparer.Ordinal))})");
                else if (result.Contains(value)) Error(field, $"duplicate capability '{value}'");
                else result.Add(value);
            }
            return result;
        }

        private List<string> Egress(JsonElement root)
        {
            var result = new List<string>();
            if (!Get(root, "egress", "egress", required: false, out var egress)) return result;
            if (!IsObject(egress, "egress")) return result;
            foreach (var (value, field) in StringArray(egress, "allowedHosts", "egress.allowedHosts"))
            {
                if (!IsEgressHost(value)) Error(field, $"'{value}' must be a lower-case DNS name or '*.' followed by one with at least two labels");
                else if (result.Contains(value)) Error(field, $"duplicate host '{value}'");
                else result.Add(value);
            }
            return result;
        }

        // A bare "*.com" would open a whole TLD, so wildcards need a suffix of at least two labels.
        private static bool IsEgressHost(string host)
        {
            var name = host.StartsWith("*.", StringComparison.Ordinal) ? host[2..] : host;
            if (name.Length > 253 || !DnsNamePattern().IsMatch(name)) return false;
            return name.Length == host.Length || name.Contains('.', StringComparison.Ordinal);
        }

        private JsonElement? Config(JsonElement root)
        {
            if (!Get(root, "config", "config", required: false, out var config)) return null;
            if (!IsObject(config, "config")) return null;
            var errors = JsonSchemas.CheckConfigSchema(config, "config");
            Errors.AddRange(errors);
            return errors.Count == 0 ? config.Clone() : null;
        }

        private List<string> Secrets(JsonElement root)
        {
            var result = new List<string>();
            foreach (var (value, field) in StringArray(root, "secrets", "secrets"))
            {
                if (!SecretNamePattern().IsMatch(value)) Error(field, $"'{value}' must be letters, digits and '_', not starting with a digit");
                else if (result.Contains(value)) Error(field, $"duplicate secret '{value}'");
                else result.Add(value);
            }
            return result;
        }

        private List<EndpointSpec> Endpoints(JsonElement root)
        {
            var result = new List<EndpointSpec>();
            if (!Get(root, "api", "api", required: true, out var api) || !IsObject(api, "api")) return result;
            if (!Get(api, "endpoints", "api.endpoints", required: true, out var endpoints)) return result;
            if (endpoints.ValueKind != JsonValueKind.Array)
            {
                Error("api.endpoints", "must be an array");
                return result;
            }
            if (endpoints.GetArrayLength() == 0) Error("api.endpoints", "at least one endpoint is required");

            // Parameter names don't distinguish routes: GET /a/:x and GET /a/:y would match the same requests.
            var routes = new Dictionary<string, int>(StringComparer.Ordinal);
            var index = 0;
            foreach (var endpoint in endpoints.EnumerateArray())
            {
                var field = $"api.endpoints[{index}]";
                if (IsObject(endpoint, field))
                {
                    var method = RequiredString(endpoint, "method", $"{field}.method");
                    if (method is not null && !Methods.Contains(method))
                        Error($"{field}.method", $"'{method}' must be one of {string.Join(", ", Methods)}");
                    var path = RequiredString(endpoint, "path", $"{field}.path");
                    var route = path is null ? null : Route(path, $"{field}.path");
                    var limits = Limits(endpoint, $"{field}.limits");
                    var rate = limits is null ? null : RequestsPerSecond(endpoint, $"{field}.limits");
                    if (method is not null && route is not null)
                    {
                        if (routes.TryGetValue($"{method} {route}", out var first))
                            Error(field, $"{method} {path} duplicates the route of api.endpoints[{first}]");
                        else routes[$"{method} {route}"] = index;
                    }
                    if (method is not null && path is not null)
                        result.Add(new EndpointSpec(method, path, limits is null ? null : new EndpointLimits(limits.FuelPerRequest, limits.MemoryMb, limits.TimeoutMs, rate)));
                }
                index++;
            }
            return result;
        }

        /// <summary>Validates an endpoint path; returns its shape with parameter names erased, or null if invalid.</summary>
        private string? Route(string path, string field)
        {
            if (!path.StartsWith('/'))
            {
                Error(field, $"'{path}' must start with '/'");
                return null;
            }
            if (path == "/") return path;

            var valid = true;
            var names = new HashSet<string>(StringComparer.Ordinal);
            var shape = new List<string>();
            foreach (var segment in path[1..].Split('/'))
            {
                if (segment.StartsWith(':'))
                {
                    var name = segment[1..];
                    if (!ParamNamePattern().IsMatch(name))
                        valid = Fail(field, $"parameter '{segment}' must be ':' followed by lower-case letters, digits and '_', not starting with a digit");
                    else if (!names.Add(name)) valid = Fail(field, $"parameter ':{name}' appears twice in '{path}'");
                    shape.Add(":");
                }
                else if (segment.Length == 0) valid = Fail(field, $"'{path}' has an empty segment");
                else if (segment is "." or ".." || !LiteralSegmentPattern().IsMatch(segment))
                    valid = Fail(field, $"segment '{segment}' must be a literal of [A-Za-z0-9._~-] (not '.' or '..') or a ':name' parameter");
                else shape.Add(segment);
            }
            return valid ? "/" + string.Join('/', shape) : null;
        }

        private string? UiEntry(JsonElement root)
        {
            if (!Get(root, "ui", "ui", required: false, out var ui) || !IsObject(ui, "ui")) return null;
            if (!Get(ui, "iframe", "ui.iframe", required: false, out var iframe) || !IsObject(iframe, "ui.iframe")) return null;
            return RelativePath(iframe, "entry", "ui.iframe.entry", required: false);
        }

        /// <summary><c>ui.hooks</c>: <c>{ "nav": { "label": "..." } }</c>; a hook needs an iframe entry to show.</summary>
        private List<UiHook> UiHooks(JsonElement root, string? entry)
        {
            var result = new List<UiHook>();
            if (!root.TryGetProperty("ui", out var ui) || ui.ValueKind != JsonValueKind.Object) return result;
            if (!Get(ui, "hooks", "ui.hooks", required: false, out var hooks) || !IsObject(hooks, "ui.hooks")) return result;
            foreach (var hook in hooks.EnumerateObject())
            {
                var field = $"ui.hooks.{hook.Name}";
                if (!UiHook.Known.Contains(hook.Name))
                {
                    Error(field, $"unknown hook '{hook.Name}' (known: {string.Join(", ", UiHook.Known)})");
                    continue;
                }
                if (!IsObject(hook.Value, field)) continue;
                var label = RequiredString(hook.Value, "label", $"{field}.label");
                if (label is not null && (label.Trim().Length is 0 or > 40 || label.Any(char.IsControl)))
                    Error($"{field}.label", "must be 1-40 characters without control characters");
                else if (label is not null) result.Add(new UiHook(hook.Name, label.Trim()));
            }
            if (result.Count > 0 && entry is null) Error("ui.hooks", "needs ui.iframe.entry: a hook shows the extension's iframe");
            return result;
        }

        private List<string> Assets(JsonElement root)
        {
            var result = new List<string>();
            foreach (var (value, field) in StringArray(root, "assets", "assets"))
            {
                var problem = BundlePath.Problem(value);
                if (problem is not null) Error(field, $"{BundlePath.Quote(value)} {problem}; globs must be relative paths inside the bundle");
                else result.Add(value);
            }
            return result;
        }

        private ManifestLimits? Limits(JsonElement obj, string field)
        {
            if (!Get(obj, "limits", field, required: false, out var limits) || !IsObject(limits, field)) return null;
            var fuel = Positive(limits, "fuelPerRequest", field, long.MaxValue);
            var memory = Positive(limits, "memoryMb", field, int.MaxValue);
            var timeout = Positive(limits, "timeoutMs", field, int.MaxValue);
            return new ManifestLimits(fuel, (int?)memory, (int?)timeout);
        }

        /// <summary>Only endpoints may ask for their own rate; the gateway still caps it by the operator's install rate.</summary>
        private int? RequestsPerSecond(JsonElement endpoint, string field) =>
            Get(endpoint, "limits", field, required: false, out var limits) && limits.ValueKind == JsonValueKind.Object
                ? (int?)Positive(limits, "requestsPerSecond", field, 1_000_000)
                : null;

        private long? Positive(JsonElement obj, string name, string parent, long max)
        {
            var field = $"{parent}.{name}";
            if (!Get(obj, name, field, required: false, out var value)) return null;
            if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var v) && v > 0 && v <= max) return v;
            Error(field, $"must be a positive integer no larger than {max}");
            return null;
        }

        private IEnumerable<(string Value, string Field)> StringArray(JsonElement obj, string name, string field)
        {
            if (!Get(obj, name, field, required: false, out var array)) yield break;
            if (array.ValueKind != JsonValueKind.Array)
            {
                Error(field, "must be an array of strings");
                yield break;
            }
            var index = 0;
            foreach (var item in array.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.String) yield return (item.GetString()!, $"{field}[{index}]");
                else Error($"{field}[{index}]", "must be a string");
                index++;
            }
        }

        private string? RequiredString(JsonElement obj, string name, string field) =>
            Get(obj, name, field, required: true, out var value) ? AsString(value, field) : null;

        private string? OptionalString(JsonElement obj, string name, string field) =>
            Get(obj, name, field, required: false, out var value) ? AsString(value, field) : null;

        private string? AsString(JsonElement value, string field)
        {
            if (value.ValueKind == JsonValueKind.String) return value.GetString();
            Error(field, "must be a string");
            return null;
        }

        private bool IsObject(JsonElement value, string field)
        {
            if (value.ValueKind == JsonValueKind.Object) return true;
            Error(field, "must be an object");
            return false;
        }

        /// <summary>Treats an explicit null like an absent property, so optional fields may be written as null.</summary>
        private bool Get(JsonElement obj, string name, string field, bool required, out JsonElement value)
        {
            if (obj.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null) return true;
            if (required) Error(field, "is required");
            return false;
        }

        private bool Fail(string field, string message)
        {
            Error(field, message);
            return false;
        }

        private void Error(string field, string message) => Errors.Add(new ManifestError(field, message));
    }
}
