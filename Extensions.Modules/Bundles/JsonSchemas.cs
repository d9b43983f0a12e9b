using System.Text.Json;
using Json.Schema;

namespace Extensions.Modules.Bundles;

/// <summary>
/// JSON Schema (draft 2020-12, JsonSchema.Net) for the manifest itself, for the config schema a manifest declares, and
/// for install configs. Every error names the field (a JSON path like <c>api.endpoints[0].limits</c>) and the rule.
/// </summary>
internal static class JsonSchemas
{
    public const string ManifestResource = "manifest.schema.json";

    private static readonly Lazy<JsonSchema> Manifest = new(LoadManifestSchema);

    private static readonly EvaluationOptions ListOutput = new() { OutputFormat = OutputFormat.List };

    /// <summary>The manifest schema published as <c>docs/manifest.schema.json</c>, as embedded in this assembly.</summary>
    public static string ManifestSchemaText()
    {
        using var stream = typeof(JsonSchemas).Assembly.GetManifestResourceStream(ManifestResource)
            ?? throw new InvalidOperationException($"embedded resource {ManifestResource} is missing");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public static IReadOnlyList<ManifestError> ValidateManifest(JsonElement manifest) => Errors(Manifest.Value, manifest, "$");

    /// <summary>Checks that a manifest's <c>config</c> is a usable draft 2020-12 schema with no references outside itself.</summary>
    public static IReadOnlyList<ManifestError> CheckConfigSchema(JsonElement schema, string field)
    {
        var errors = new List<ManifestError>();
        if (schema.TryGetProperty("$schema", out var dialect)
            && !(dialect.ValueKind == JsonValueKind.String && dialect.GetString() == MetaSchemas.Draft202012Id.OriginalString))
        {
            errors.Add(new ManifestError($"{field}.$schema", $"must be absent or '{MetaSchemas.Draft202012Id}' (only draft 2020-12 is supported)"));
            return errors;
        }

        errors.AddRange(Errors(MetaSchemas.Draft202012, schema, field, "is not a valid JSON schema here: "));
        ForeignReferences(schema, field, errors);
        if (errors.Count > 0)
        {
            return errors;
        }

        try
        {
            Build(schema);
        }
        catch (Exception ex) when (ex is JsonSchemaException or ArgumentException or FormatException or InvalidOperationException)
        {
            errors.Add(new ManifestError(field, $"is not a usable JSON schema: {ex.Message}"));
        }

        return errors;
    }

    /// <summary>Validates install settings against a (checked) config schema; errors are reported under <c>config</c>.</summary>
    public static IReadOnlyList<ManifestError> ValidateConfig(JsonElement? schema, JsonElement config)
    {
        if (config.ValueKind != JsonValueKind.Object)
        {
            return [new ManifestError("config", "must be a JSON object of setting names to values")];
        }

        if (schema is not { } s)
        {
            return config.EnumerateObject().Any()
                ? [new ManifestError("config", "this extension declares no configuration (its manifest has no 'config' schema)")]
                : [];
        }

        return Errors(Build(s), config, "config");
    }

    private static JsonSchema Build(JsonElement schema) =>
        // A registry per build: nothing from an untrusted manifest lands in the library's global registry.
        JsonSchema.Build(schema, new BuildOptions { SchemaRegistry = new SchemaRegistry() });

    private static JsonSchema LoadManifestSchema()
    {
        using var document = JsonDocument.Parse(ManifestSchemaText());
        return Build(document.RootElement.Clone());
    }

    private static List<ManifestError> Errors(JsonSchema schema, JsonElement instance, string root, string prefix = "")
    {
        var results = schema.Evaluate(instance, ListOutput);
        if (results.IsValid)
        {
            return [];
        }

        var errors = new List<ManifestError>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in (IEnumerable<EvaluationResults>)[results, .. results.Details ?? []])
        {
            if (node.Errors is null)
            {
                continue;
            }

            var field = Field(root, instance, node.InstanceLocation.ToString());
            foreach (var (keyword, message) in node.Errors)
            {
                var rule = keyword.Length > 0 ? keyword : LastSegment(node.EvaluationPath.ToString());
                if (rule == "required" && Missing(message) is { Count: > 0 } missing)
                {
                    foreach (var name in missing)
                    {
                        Add(new ManifestError(Join(field, name), $"{prefix}is required (rule 'required')"));
                    }
                }
                else
                {
                    Add(new ManifestError(field, $"{prefix}{Describe(rule, message)} (rule '{rule}')"));
                }
            }
        }

        return errors;

        void Add(ManifestError error)
        {
            if (seen.Add(error.ToString()))
            {
                errors.Add(error);
            }
        }
    }

    private static string Describe(string rule, string message) => rule switch
    {
        "additionalProperties" => "is not an allowed property",
        "false" => "is not allowed",
        _ => message,
    };

    /// <summary>Turns a JSON pointer into the dotted path used elsewhere (<c>api.endpoints[0].path</c>), looking at the instance to tell indexes from names.</summary>
    private static string Field(string root, JsonElement instance, string pointer)
    {
        if (pointer.Length == 0 || pointer == "/")
        {
            return root;
        }

        var path = root == "$" ? "" : root;
        var current = (JsonElement?)instance;
        foreach (var raw in pointer[1..].Split('/'))
        {
            var segment = raw.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            if (current is { ValueKind: JsonValueKind.Array } array && int.TryParse(segment, out var index))
            {
                path += $"[{index}]";
                current = index < array.GetArrayLength() ? array[index] : null;
            }
            else
            {
                path = Join(path, segment);
                current = current is { ValueKind: JsonValueKind.Object } obj && obj.TryGetProperty(segment, out var child) ? child : null;
            }
        }

        return path;
    }

    private static string Join(string parent, string name) => parent is "" or "$" ? name : $"{parent}.{name}";

    private static string LastSegment(string pointer) => pointer[(pointer.LastIndexOf('/') + 1)..];

    /// <summary>The property names in JsonSchema.Net's <c>required</c> message (<c>Required properties ["a","b"] are not present</c>).</summary>
    private static List<string>? Missing(string message)
    {
        var start = message.IndexOf('[', StringComparison.Ordinal);
        var end = message.LastIndexOf(']');
        if (start < 0 || end <= start)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(message[start..(end + 1)], BundlesJsonContext.Default.ListString);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static void ForeignReferences(JsonElement element, string field, List<ManifestError> errors)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    var path = $"{field}.{property.Name}";
                    if (property.Name is "$ref" or "$dynamicRef" && property.Value.ValueKind == JsonValueKind.String
                        && !property.Value.GetString()!.StartsWith('#'))
                    {
                        errors.Add(new ManifestError(path, $"'{property.Value.GetString()}' points outside the schema; only references inside it ('#...') are allowed"));
                    }

                    ForeignReferences(property.Value, path, errors);
                }

                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    ForeignReferences(item, $"{field}[{i++}]", errors);
                }

                break;
        }
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(List<string>))]
internal sealed partial class BundlesJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
