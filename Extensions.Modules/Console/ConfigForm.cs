using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Extensions.Modules.Console;

/// <summary>
/// Install settings as form fields generated from the manifest's <c>config</c> JSON schema: text, number, integer, checkbox
/// and choice fields with their labels, descriptions, defaults, required marks and min/max. A property the generator cannot
/// render gets a JSON textarea of its own; a schema it cannot render at all (combinators, references, settings outside its
/// properties) gets one JSON textarea for the whole config, so nothing is ever dropped on save. The form only turns input
/// into JSON: whether the config is valid is the registry's call, and its <c>invalid_config</c> detail is shown by the fields.
/// </summary>
internal static class ConfigForm
{
    public const string WholeJsonField = "config-json";
    private const string FieldPrefix = "config.";
    private const string JsonFieldPrefix = "config-json.";

    internal enum FieldKind
    {
        Text,
        Number,
        Integer,
        Boolean,
        Choice,
        Json,
    }

    internal sealed record Field(
        string Name, FieldKind Kind, bool Required, JsonElement? Default, string? Title, string? Description,
        decimal? Minimum, decimal? Maximum, int? MinLength, int? MaxLength, IReadOnlyList<JsonElement> Choices);

    /// <summary>What the posted form said: the config to hand to the registry (null: the form had no settings), and input that is not JSON at all.</summary>
    internal sealed record Posted(JsonElement? Config, IReadOnlyDictionary<string, string> InputErrors);

    private static readonly HashSet<string> RootKeywords = new(StringComparer.Ordinal)
    {
        "type", "properties", "required", "additionalProperties", "title", "description", "$schema", "$id", "$comment",
    };

    // Keywords a generated field shows, or that only constrain the value (the registry checks those).
    private static readonly HashSet<string> FieldKeywords = new(StringComparer.Ordinal)
    {
        "type", "title", "description", "default", "enum", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
        "minLength", "maxLength", "pattern", "format", "examples", "$comment", "deprecated",
    };

    /// <summary>The fields for <paramref name="schema"/>, or null when it needs the whole-config JSON textarea.</summary>
    /// <param name="values">The config being edited: a setting outside the schema's properties forces the textarea so it is kept.</param>
    public static IReadOnlyList<Field>? Plan(JsonElement schema, JsonElement? values)
    {
        if (schema.ValueKind != JsonValueKind.Object
            || schema.EnumerateObject().Any(p => !RootKeywords.Contains(p.Name))
            || (schema.TryGetProperty("type", out var type) && !(type.ValueKind == JsonValueKind.String && type.GetString() == "object"))
            || (schema.TryGetProperty("additionalProperties", out var additional) && additional.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            || !schema.TryGetProperty("properties", out var properties) || properties.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var required = schema.TryGetProperty("required", out var r) && r.ValueKind == JsonValueKind.Array
            ? r.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToHashSet(StringComparer.Ordinal)
            : [];
        var fields = properties.EnumerateObject().Select(p => ToField(p.Name, p.Value, required.Contains(p.Name))).ToList();
        if (values is { ValueKind: JsonValueKind.Object } v && v.EnumerateObject().Any(p => fields.All(f => f.Name != p.Name)))
        {
            return null;
        }

        return required.All(name => fields.Any(f => f.Name == name)) ? fields : null;
    }

    private static Field ToField(string name, JsonElement schema, bool required)
    {
        if (schema.ValueKind != JsonValueKind.Object)
        {
            return new Field(name, FieldKind.Json, required, null, null, null, null, null, null, null, []);
        }

        string? Text(string keyword) => schema.TryGetProperty(keyword, out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;
        decimal? Number(string keyword) => schema.TryGetProperty(keyword, out var e) && e.ValueKind == JsonValueKind.Number && e.TryGetDecimal(out var d) ? d : null;
        int? Count(string keyword) => schema.TryGetProperty(keyword, out var e) && e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var i) ? i : null;

        JsonElement? defaultValue = schema.TryGetProperty("default", out var d) ? d.Clone() : null;
        var choices = schema.TryGetProperty("enum", out var en) && en.ValueKind == JsonValueKind.Array ? [.. en.EnumerateArray().Select(e => e.Clone())] : new List<JsonElement>();
        var kind = (Text("type"), choices.Count) switch
        {
            _ when schema.EnumerateObject().Any(p => !FieldKeywords.Contains(p.Name)) => FieldKind.Json,
            (_, > 0) when choices.All(c => c.ValueKind is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False) => FieldKind.Choice,
            (_, > 0) => FieldKind.Json,
            ("string", _) => FieldKind.Text,
            ("number", _) => FieldKind.Number,
            ("integer", _) => FieldKind.Integer,
            ("boolean", _) => FieldKind.Boolean,
            _ => FieldKind.Json,
        };
        return new Field(name, kind, required, defaultValue, Text("title"), Text("description"), Number("minimum"), Number("maximum"),
            Count("minLength"), Count("maxLength"), choices);
    }

    /// <summary>
    /// The form's fields (inside a fieldset; the caller supplies the form and its buttons). <paramref name="values"/> is the config
    /// to show (null: a new install, so defaults are filled in); <paramref name="registryError"/> is the registry's
    /// <c>invalid_config</c> detail, shown above the fields and, where it names one, next to that field.
    /// </summary>
    public static string Render(JsonElement? schema, JsonElement? values, string? registryError, IReadOnlyDictionary<string, string>? inputErrors = null)
    {
        var html = new StringBuilder("<fieldset class=\"config-form\"><legend>Settings</legend>");
        if (schema is not { } s)
        {
            return html.Append("<p class=\"muted\">This extension has no settings.</p></fieldset>").ToString();
        }

        var fields = Plan(s, values);
        var byField = ErrorsByField(registryError, fields?.Select(f => f.Name) ?? []);
        foreach (var (field, message) in inputErrors ?? new Dictionary<string, string>())
        {
            byField[field] = byField.TryGetValue(field, out var existing) ? $"{existing}; {message}" : message;
        }

        if (registryError is not null)
        {
            html.Append("<div class=\"alert\" role=\"alert\" id=\"config-error\"><strong>The registry refused these settings.</strong> ")
                .Append(Html.E(registryError)).Append("</div>");
        }
        else if (byField.Count > 0)
        {
            html.Append("<div class=\"alert\" role=\"alert\" id=\"config-error\">Some settings could not be read; see the fields below.</div>");
        }

        if (fields is null)
        {
            var text = values is { } v ? JsonSerializer.Serialize(v, Indented) : "{}";
            var error = byField.GetValueOrDefault("");
            html.Append("<div class=\"field\"><label for=\"config-json\">Settings as JSON</label>")
                .Append("<p id=\"config-json-help\" class=\"muted\">This extension's settings schema is too rich for a generated form; edit them as a JSON object.</p>")
                .Append("<textarea id=\"config-json\" name=\"").Append(WholeJsonField).Append("\" rows=\"10\" spellcheck=\"false\" aria-describedby=\"config-json-help")
                .Append(error is null ? "\">" : " config-json-error\" aria-invalid=\"true\">").Append(Html.E(text)).Append("</textarea>");
            AppendError(html, "config-json", error);
            html.Append("<details class=\"muted\"><summary>Schema</summary><pre><code>").Append(Html.E(JsonSerializer.Serialize(s, Indented)))
                .Append("</code></pre></details></div>");
            return html.Append("</fieldset>").ToString();
        }

        if (fields.Count == 0)
        {
            html.Append("<p class=\"muted\">This extension has no settings.</p>");
        }

        for (var i = 0; i < fields.Count; i++)
        {
            var field = fields[i];
            JsonElement? value = values is { ValueKind: JsonValueKind.Object } obj
                ? obj.TryGetProperty(field.Name, out var current) ? current : null
                : field.Default;
            AppendField(html, $"cfg-{i}", field, value, byField.GetValueOrDefault(field.Name));
        }

        if (byField.GetValueOrDefault("") is { } general && registryError is null)
        {
            html.Append("<p class=\"field-error\">").Append(Html.E(general)).Append("</p>");
        }

        return html.Append("</fieldset>").ToString();
    }

    private static void AppendField(StringBuilder html, string id, Field field, JsonElement? value, string? error)
    {
        var help = new List<string>();
        if (field.Description is { } description)
        {
            help.Add(description);
        }

        if (field.Minimum is { } min && field.Maximum is { } max)
        {
            help.Add($"From {Invariant(min)} to {Invariant(max)}.");
        }
        else if (field.Minimum is { } atLeast)
        {
            help.Add($"At least {Invariant(atLeast)}.");
        }
        else if (field.Maximum is { } atMost)
        {
            help.Add($"At most {Invariant(atMost)}.");
        }

        if (field.Default is { } d)
        {
            help.Add($"Default: {d.GetRawText()}.");
        }

        if (field.Kind == FieldKind.Json)
        {
            help.Add("Enter a JSON value.");
        }

        var describedBy = string.Join(' ', new[] { help.Count > 0 ? id + "-help" : null, error is null ? null : id + "-error" }.OfType<string>());
        var aria = (describedBy.Length > 0 ? $" aria-describedby=\"{describedBy}\"" : "") + (error is null ? "" : " aria-invalid=\"true\"");
        var name = Html.E(FieldPrefix + field.Name);
        var label = new StringBuilder("<label for=\"").Append(id).Append("\">").Append(Html.E(field.Title ?? field.Name));
        if (field.Title is not null && field.Title != field.Name)
        {
            label.Append(" <code>").Append(Html.E(field.Name)).Append("</code>");
        }

        label.Append(field.Required ? " <span class=\"req\">(required)</span>" : "").Append("</label>");
        var helpHtml = help.Count > 0 ? $"<p id=\"{id}-help\" class=\"muted\">{Html.E(string.Join(" ", help))}</p>" : "";

        if (field.Kind == FieldKind.Boolean)
        {
            html.Append("<div class=\"field check\" data-field=\"").Append(Html.E(field.Name)).Append("\">")
                .Append("<input type=\"hidden\" name=\"").Append(name).Append("\" value=\"false\">")
                .Append("<input type=\"checkbox\" id=\"").Append(id).Append("\" name=\"").Append(name).Append("\" value=\"true\"")
                .Append(value is { ValueKind: JsonValueKind.True } ? " checked" : "").Append(aria).Append('>')
                .Append(label).Append(helpHtml);
            AppendError(html, id, error);
            html.Append("</div>");
            return;
        }

        html.Append("<div class=\"field\" data-field=\"").Append(Html.E(field.Name)).Append("\">").Append(label).Append(helpHtml);
        var required = field.Required ? " required" : "";
        switch (field.Kind)
        {
            case FieldKind.Choice:
                var selected = value is { } sv ? OptionValue(sv) : null;
                html.Append("<select id=\"").Append(id).Append("\" name=\"").Append(name).Append('"').Append(required).Append(aria).Append('>');
                if (!field.Required || selected is null)
                {
                    html.Append("<option value=\"\">").Append(field.Required ? "Choose…" : "(not set)").Append("</option>");
                }

                foreach (var choice in field.Choices)
                {
                    var option = OptionValue(choice);
                    html.Append("<option value=\"").Append(Html.E(option)).Append('"').Append(option == selected ? " selected" : "").Append('>')
                        .Append(Html.E(option)).Append("</option>");
                }

                html.Append("</select>");
                break;
            case FieldKind.Json:
                html.Append("<textarea id=\"").Append(id).Append("\" name=\"").Append(Html.E(JsonFieldPrefix + field.Name)).Append("\" rows=\"4\" spellcheck=\"false\"")
                    .Append(required).Append(aria).Append('>').Append(value is { } jv ? Html.E(JsonSerializer.Serialize(jv, Indented)) : "").Append("</textarea>");
                break;
            default:
                var (type, extra) = field.Kind switch
                {
                    FieldKind.Number => ("number", " step=\"any\" inputmode=\"decimal\""),
                    FieldKind.Integer => ("number", " step=\"1\" inputmode=\"numeric\""),
                    _ => ("text", ""),
                };
                html.Append("<input id=\"").Append(id).Append("\" name=\"").Append(name).Append("\" type=\"").Append(type).Append('"').Append(extra)
                    .Append(field.Minimum is { } lo && type == "number" ? $" min=\"{Invariant(lo)}\"" : "")
                    .Append(field.Maximum is { } hi && type == "number" ? $" max=\"{Invariant(hi)}\"" : "")
                    .Append(field.MaxLength is { } ml && type == "text" ? $" maxlength=\"{ml}\"" : "")
                    .Append(" value=\"").Append(value is { } v ? Html.E(ScalarText(v)) : "").Append('"')
                    .Append(required).Append(aria).Append(" autocomplete=\"off\">");
                break;
        }

        AppendError(html, id, error);
        html.Append("</div>");
    }

    private static void AppendError(StringBuilder html, string id, string? error)
    {
        if (error is not null)
        {
            html.Append("<p id=\"").Append(id).Append("-error\" class=\"field-error\">").Append(Html.E(error)).Append("</p>");
        }
    }

    /// <summary>Turns the posted form into the config JSON. Input is converted, never judged: a number field holding "abc" goes to the registry as a string and the registry says why it is wrong.</summary>
    public static Posted Read(JsonElement? schema, IFormCollection form)
    {
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        if (schema is not { } s)
        {
            return new Posted(null, errors);
        }

        if (form.ContainsKey(WholeJsonField))
        {
            var parsed = ParseJson(form[WholeJsonField].ToString());
            if (parsed is null)
            {
                errors[""] = "is not valid JSON";
            }

            return new Posted(parsed?.Clone(), errors);
        }

        var config = new JsonObject();
        foreach (var field in Plan(s, null) ?? [])
        {
            if (field.Kind == FieldKind.Json)
            {
                var text = form[JsonFieldPrefix + field.Name].ToString();
                if (text.Trim().Length == 0)
                {
                    continue;
                }

                if (ParseJson(text) is { } json)
                {
                    config[field.Name] = JsonNode.Parse(json.GetRawText());
                }
                else
                {
                    errors[field.Name] = "is not valid JSON";
                }

                continue;
            }

            var values = form[FieldPrefix + field.Name];
            if (field.Kind == FieldKind.Boolean)
            {
                config[field.Name] = values.Contains("true");
                continue;
            }

            var raw = values.LastOrDefault() ?? "";
            if (raw.Length == 0)
            {
                continue;
            }

            config[field.Name] = field.Kind switch
            {
                FieldKind.Integer when long.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) => JsonValue.Create(l),
                FieldKind.Number when decimal.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var m) => JsonValue.Create(m),
                FieldKind.Choice when field.Choices.FirstOrDefault(c => OptionValue(c) == raw) is { ValueKind: not JsonValueKind.Undefined } choice =>
                    JsonNode.Parse(choice.GetRawText()),
                _ => JsonValue.Create(raw),
            };
        }

        return new Posted(JsonSerializer.SerializeToElement(config), errors);
    }

    /// <summary>
    /// Splits the registry's <c>invalid_config</c> detail (<c>... : config.port: must be ...; config: ...</c>) into messages per
    /// property; <c>""</c> holds what names no property. Display only: the detail itself is always shown too.
    /// </summary>
    public static Dictionary<string, string> ErrorsByField(string? detail, IEnumerable<string> names)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var start = detail?.IndexOf(": config", StringComparison.Ordinal) ?? -1;
        if (detail is null || start < 0)
        {
            return result;
        }

        var known = names.OrderByDescending(n => n.Length).ToList();
        foreach (var part in detail[(start + 2)..].Split("; ", StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = part.IndexOf(": ", StringComparison.Ordinal);
            if (colon < 0)
            {
                continue;
            }

            var path = part[..colon];
            var message = part[(colon + 2)..];
            var name = known.FirstOrDefault(n => path == FieldPrefix + n || path.StartsWith(FieldPrefix + n + ".", StringComparison.Ordinal)
                || path.StartsWith(FieldPrefix + n + "[", StringComparison.Ordinal)) ?? "";
            result[name] = result.TryGetValue(name, out var existing) ? $"{existing}; {message}" : message;
        }

        return result;
    }

    private static JsonElement? ParseJson(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string OptionValue(JsonElement value) => value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();

    private static string ScalarText(JsonElement value) => value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();

    private static string Invariant(decimal value) => value.ToString(CultureInfo.InvariantCulture);

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
}
