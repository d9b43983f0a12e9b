using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Extensions.Tests.Support;

namespace Extensions.Tests.Bundles;

/// <summary><c>docs/manifest.md</c> has one row per property of <c>docs/manifest.schema.json</c>, and no row the schema lacks.</summary>
[TestFixture]
public sealed partial class ManifestDocTests
{
    [GeneratedRegex(@"^\| `(?<field>[^`]+)` \|", RegexOptions.Multiline)]
    private static partial Regex Row();

    [Test]
    public void EverySchemaProperty_HasARow_AndEveryRowIsASchemaProperty()
    {
        var schema = JsonNode.Parse(File.ReadAllText(RepoFiles.PathOf("docs/manifest.schema.json")))!.AsObject();
        var properties = new SortedSet<string>(StringComparer.Ordinal);
        Walk(schema, schema, "", properties);
        var rows = Row().Matches(File.ReadAllText(RepoFiles.PathOf("docs/manifest.md"))).Select(m => m.Groups["field"].Value).ToList();

        Assert.That(properties, Has.Count.GreaterThan(30), "the walk found the schema's properties");
        Assert.That(properties.Except(rows), Is.Empty, "schema properties with no row in docs/manifest.md");
        Assert.That(rows.Except(properties), Is.Empty, "rows in docs/manifest.md that are not schema properties");
        Assert.That(rows, Is.Unique);
    }

    /// <summary>Dotted paths of every property, <c>[]</c> for array items, following <c>$ref</c>s into <c>$defs</c>.</summary>
    private static void Walk(JsonObject root, JsonNode? node, string prefix, ISet<string> paths)
    {
        if (node is not JsonObject schema)
        {
            return;
        }

        if (schema["$ref"]?.GetValue<string>() is { } reference)
        {
            Walk(root, root["$defs"]![reference["#/$defs/".Length..]], prefix, paths);
        }

        foreach (var (name, child) in schema["properties"]?.AsObject() ?? [])
        {
            var path = prefix.Length == 0 ? name : $"{prefix}.{name}";
            paths.Add(path);
            Walk(root, child, path, paths);
        }

        Walk(root, schema["items"], prefix + "[]", paths);
    }
}
