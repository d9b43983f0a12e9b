using System.Text.Json;
using System.Text.Json.Nodes;
using Extensions.Modules.Bundles;

namespace Extensions.Tests.Bundles;

/// <summary>The published manifest schema is the one the validator applies; config schemas and install configs are checked with it.</summary>
[TestFixture]
public sealed class ManifestSchemaTests
{
    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Extensions.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("repository root not found above the test directory");
    }

    [Test]
    public void EmbeddedSchema_IsTheFilePublishedInDocs()
    {
        var published = File.ReadAllText(Path.Combine(RepoRoot(), "docs", "manifest.schema.json"));

        Assert.That(ManifestReader.JsonSchema, Is.EqualTo(published));
    }

    [Test]
    public void SampleManifest_ReferencesThePublishedSchema_AndIsValid()
    {
        var sampleDir = Path.Combine(RepoRoot(), "samples", "hello");
        var bytes = File.ReadAllBytes(Path.Combine(sampleDir, "manifest.json"));
        var reference = JsonDocument.Parse(bytes).RootElement.GetProperty("$schema").GetString()!;

        Assert.That(File.Exists(Path.GetFullPath(Path.Combine(sampleDir, reference))), Is.True, reference);
        Assert.That(ManifestReader.Parse(bytes).Errors, Is.Empty);
    }

    [Test]
    public void Schema_ListsEveryCapabilityTheHostImplements()
    {
        // When a capability is implemented, the schema must allow it too (the reader applies both).
        var schema = JsonNode.Parse(ManifestReader.JsonSchema)!;
        var listed = schema["properties"]!["capabilities"]!["items"]!["enum"]!.AsArray().Select(n => n!.GetValue<string>());

        Assert.That(listed, Is.SupersetOf(Capabilities.Known));
    }

    [Test]
    public void MisspeltEndpointLimit_IsRefusedNamingTheFieldAndTheSchemaRule()
    {
        var json = TestManifests.Valid();
        json["api"]!["endpoints"]![1]!["limits"]!["timeoutMS"] = 100;

        var error = ManifestReader.Parse(TestManifests.Bytes(json)).Errors.Single();

        Assert.That(error.Field, Is.EqualTo("api.endpoints[1].limits.timeoutMS"));
        Assert.That(error.Message, Does.Contain("additionalProperties"));
    }

    [TestCase("""{"type":"strin"}""", "config.type", "not a valid JSON schema")]
    [TestCase("""{"properties":{"n":{"minimum":"five"}}}""", "config.properties.n.minimum", "not a valid JSON schema")]
    [TestCase("""{"properties":{"n":{"$ref":"https://attacker.example/schema.json"}}}""", "config.properties.n.$ref", "only references inside it")]
    [TestCase("""{"properties":{"n":{"type":"string","pattern":"(["}}}""", "config", "not a usable JSON schema")]
    [TestCase("""{"$schema":"http://json-schema.org/draft-04/schema#"}""", "config.$schema", "draft 2020-12")]
    public void ConfigThatIsNotAValidSchema_IsRefusedNamingWhere(string config, string field, string expected)
    {
        var json = TestManifests.Valid();
        json["config"] = JsonNode.Parse(config);

        var result = ManifestReader.Parse(TestManifests.Bytes(json));

        Assert.That(result.Manifest, Is.Null);
        Assert.That(result.Errors.Select(e => e.Field), Does.Contain(field), string.Join("\n", result.Errors));
        Assert.That(result.Errors.First(e => e.Field == field).Message, Does.Contain(expected));
    }

    private static ExtensionManifest WithConfigSchema(string schema)
    {
        var json = TestManifests.Valid();
        json["config"] = JsonNode.Parse(schema);
        return ManifestReader.Parse(TestManifests.Bytes(json)).Manifest ?? throw new AssertionException("manifest should be valid");
    }

    private const string Schema = """
        {"type":"object","required":["apiUrl"],"additionalProperties":false,
         "properties":{"apiUrl":{"type":"string","format":"uri"},"retries":{"type":"integer","minimum":0,"maximum":5}}}
        """;

    [TestCase("""{"apiUrl":"https://x.example","retries":2}""", new string[0])]
    [TestCase("""{"retries":2}""", new[] { "config.apiUrl: is required (rule 'required')" })]
    [TestCase("""{"apiUrl":"https://x.example","retries":9}""", new[] { "config.retries: 9 should be at most 5 (rule 'maximum')" })]
    [TestCase("""{"apiUrl":"https://x.example","retries":"2"}""", new[] { "config.retries" })]
    [TestCase("""{"apiUrl":"https://x.example","colour":"red"}""", new[] { "config.colour: is not an allowed property (rule 'additionalProperties')" })]
    [TestCase("""["apiUrl"]""", new[] { "config: must be a JSON object of setting names to values" })]
    public void InstallConfig_IsValidatedAgainstTheManifestSchema(string config, string[] expected)
    {
        var errors = InstallConfig.Validate(WithConfigSchema(Schema), JsonDocument.Parse(config).RootElement).Select(e => e.ToString()).ToList();

        Assert.That(errors, Has.Count.EqualTo(expected.Length), string.Join("\n", errors));
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.That(errors[i], Does.StartWith(expected[i]));
        }
    }

    [Test]
    public void InstallConfig_ForAnExtensionWithoutConfigSchema_AcceptsOnlyNothing()
    {
        var json = TestManifests.Valid();
        json.Remove("config");
        var manifest = ManifestReader.Parse(TestManifests.Bytes(json)).Manifest!;

        Assert.That(InstallConfig.Validate(manifest, JsonDocument.Parse("{}").RootElement), Is.Empty);
        Assert.That(InstallConfig.Validate(manifest, JsonDocument.Parse("""{"a":1}""").RootElement).Single().Message, Does.Contain("declares no configuration"));
    }
}
