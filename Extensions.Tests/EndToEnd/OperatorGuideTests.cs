using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Extensions.Tests.Support;

namespace Extensions.Tests.EndToEnd;

/// <summary>
/// The settings tables of <c>docs/operator-guide.md</c> against the code: one row per property of every module's options
/// class with its real default, a row for every key of <c>appsettings.json</c>, and no row for a setting that does not exist.
/// </summary>
[TestFixture]
public sealed partial class OperatorGuideTests
{
    [GeneratedRegex(@"^\| `(?<key>[A-Za-z]+:[A-Za-z]+)` \| `(?<default>[^`]*)` \|", RegexOptions.Multiline)]
    private static partial Regex Row();

    private static Dictionary<string, string> DocumentedDefaults()
    {
        var rows = Row().Matches(File.ReadAllText(RepoFiles.PathOf("docs/operator-guide.md")));
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match row in rows)
        {
            Assert.That(result.TryAdd(row.Groups["key"].Value, row.Groups["default"].Value), Is.True, $"{row.Groups["key"].Value} has two rows");
        }

        return result;
    }

    /// <summary>Every public settable property of every options class (a public type with a <c>SectionName</c> constant), with its default.</summary>
    private static Dictionary<string, object?> CodeDefaults()
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        var optionTypes = typeof(Modules.Storage.StorageOptions).Assembly.GetExportedTypes()
            .Where(t => t.IsClass && t.GetField("SectionName", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true });
        foreach (var type in optionTypes)
        {
            var section = (string)type.GetField("SectionName")!.GetRawConstantValue()!;
            var instance = Activator.CreateInstance(type);
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite && p.SetMethod!.IsPublic))
            {
                result[$"{section}:{property.Name}"] = property.GetValue(instance);
            }
        }

        return result;
    }

    private static string Render(object? value) => value switch
    {
        null => "null",
        string s => s.Length == 0 ? "\"\"" : s,
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        IEnumerable list => JsonSerializer.Serialize(list),
        _ => value.ToString() ?? "",
    };

    [Test]
    public void EveryOption_IsDocumentedWithItsDefault()
    {
        var documented = DocumentedDefaults();
        var code = CodeDefaults();

        Assert.That(code, Has.Count.GreaterThan(50), "the options classes were found");
        var problems = new List<string>();
        foreach (var (key, value) in code.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            var expected = Render(value);
            if (!documented.TryGetValue(key, out var shown))
            {
                problems.Add($"missing row: | `{key}` | `{expected}` | ... |");
            }
            else if (shown != expected && !(shown == "cores" && Equals(value, Environment.ProcessorCount)))
            {
                problems.Add($"{key}: documented default `{shown}`, the code's is `{expected}`");
            }
        }

        Assert.That(problems, Is.Empty, string.Join(Environment.NewLine, problems));
    }

    [Test]
    public void EveryDocumentedSetting_Exists_AndEveryAppSettingsKeyIsDocumented()
    {
        var documented = DocumentedDefaults();
        var appSettings = new Dictionary<string, string>(StringComparer.Ordinal);
        var root = JsonNode.Parse(File.ReadAllText(RepoFiles.PathOf("appsettings.json")))!.AsObject();
        foreach (var (section, values) in root.Where(s => s.Key != "Logging"))
        {
            foreach (var (key, value) in values!.AsObject())
            {
                appSettings[$"{section}:{key}"] = value is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : value!.ToJsonString();
            }
        }

        var known = CodeDefaults().Keys.Concat(appSettings.Keys).ToHashSet(StringComparer.Ordinal);

        Assert.That(documented.Keys.Where(k => !known.Contains(k)), Is.Empty, "rows for settings that do not exist");
        Assert.That(appSettings.Keys.Where(k => !documented.ContainsKey(k)), Is.Empty, "appsettings.json keys with no row");
        // Host:* has no options class: its defaults are the ones appsettings.json ships.
        foreach (var (key, value) in appSettings.Where(a => a.Key.StartsWith("Host:", StringComparison.Ordinal)))
        {
            Assert.That(documented[key], Is.EqualTo(value), key);
        }
    }
}
