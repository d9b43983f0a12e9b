using System.Text.Json;
using System.Text.RegularExpressions;
using Extensions.Modules.Console;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Extensions.Tests.Console;

/// <summary>The config form generator over several schemas: what it renders, what it falls back to, and the JSON it reads back.</summary>
[TestFixture]
public sealed class ConfigFormTests
{
    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();

    private static FormCollection Posted(params (string Name, string Value)[] fields) =>
        new(fields.GroupBy(f => f.Name).ToDictionary(g => g.Key, g => new StringValues([.. g.Select(f => f.Value)])));

    private static string FieldHtml(string html, string name) =>
        Regex.Match(html, $"<div class=\"field[^\"]*\" data-field=\"{Regex.Escape(name)}\">.*?</div>", RegexOptions.Singleline).Value;

    private const string Simple = """
        {
          "type": "object",
          "properties": {
            "name": { "type": "string", "title": "Display name", "description": "Shown to users.", "maxLength": 40, "default": "Ada" },
            "ratio": { "type": "number", "minimum": 0, "maximum": 1.5 },
            "count": { "type": "integer", "minimum": 1 },
            "on": { "type": "boolean", "default": true },
            "level": { "enum": ["low", "high", 3] }
          },
          "required": ["count"]
        }
        """;

    [Test]
    public void Render_SimpleSchema_GivesOneLabelledFieldPerProperty_WithHelpDefaultsAndLimits()
    {
        var html = ConfigForm.Render(Json(Simple), null, null);
        var name = FieldHtml(html, "name");
        var ratio = FieldHtml(html, "ratio");
        var count = FieldHtml(html, "count");
        var on = FieldHtml(html, "on");
        var level = FieldHtml(html, "level");

        Assert.Multiple(() =>
        {
            Assert.That(html, Does.StartWith("<fieldset class=\"config-form\"><legend>Settings</legend>"));
            Assert.That(name, Does.Contain("<label for=\"cfg-0\">Display name <code>name</code></label>"));
            Assert.That(name, Does.Contain("<p id=\"cfg-0-help\" class=\"muted\">Shown to users. Default: &quot;Ada&quot;.</p>"));
            Assert.That(name, Does.Contain("type=\"text\" maxlength=\"40\" value=\"Ada\""));
            Assert.That(name, Does.Contain("aria-describedby=\"cfg-0-help\""));
            Assert.That(ratio, Does.Contain("type=\"number\" step=\"any\" inputmode=\"decimal\" min=\"0\" max=\"1.5\""));
            Assert.That(ratio, Does.Contain("From 0 to 1.5."));
            Assert.That(count, Does.Contain("(required)").And.Contain(" required ").And.Contain("step=\"1\"").And.Contain("At least 1."));
            Assert.That(on, Does.Contain("type=\"checkbox\"").And.Contain(" checked"));
            Assert.That(level, Does.Contain("<select").And.Contain("<option value=\"\">(not set)</option>")
                .And.Contain("<option value=\"high\">high</option>").And.Contain("<option value=\"3\">3</option>"));
        });
    }

    [Test]
    public void Render_WithCurrentValues_ShowsThem_NotTheDefaults()
    {
        var html = ConfigForm.Render(Json(Simple), Json("""{"count": 7, "on": false, "level": 3}"""), null);

        Assert.Multiple(() =>
        {
            Assert.That(FieldHtml(html, "name"), Does.Contain("value=\"\""), "an unset optional setting is empty, not its default");
            Assert.That(FieldHtml(html, "count"), Does.Contain("value=\"7\""));
            Assert.That(FieldHtml(html, "on"), Does.Not.Contain(" checked"));
            Assert.That(FieldHtml(html, "level"), Does.Contain("<option value=\"3\" selected>"));
        });
    }

    [Test]
    public void Read_ConvertsInputToJson_WithoutJudgingIt()
    {
        var schema = Json(Simple);

        var good = ConfigForm.Read(schema, Posted(("config.name", "Bo"), ("config.ratio", "0.25"), ("config.count", "12"),
            ("config.on", "false"), ("config.on", "true"), ("config.level", "3")));
        var odd = ConfigForm.Read(schema, Posted(("config.name", ""), ("config.ratio", "lots"), ("config.count", "1.5"), ("config.on", "false"),
            ("config.level", "medium")));

        Assert.Multiple(() =>
        {
            Assert.That(good.Config!.Value.GetRawText(), Is.EqualTo("""{"name":"Bo","ratio":0.25,"count":12,"on":true,"level":3}"""));
            Assert.That(good.InputErrors, Is.Empty);
            Assert.That(odd.Config!.Value.GetRawText(), Is.EqualTo("""{"ratio":"lots","count":"1.5","on":false,"level":"medium"}"""),
                "empty optional fields are left out; what is not a number goes to the registry as typed, for it to refuse");
            Assert.That(odd.InputErrors, Is.Empty);
        });
    }

    [Test]
    public void Render_PropertyTheGeneratorCannotDraw_GetsItsOwnJsonTextarea_ReadBackAsJson()
    {
        var schema = Json("""
            {"type":"object","properties":{
              "tags":{"type":"array","items":{"type":"string"}},
              "limits":{"type":"object","properties":{"max":{"type":"integer"}}},
              "either":{"type":["string","null"]},
              "plain":{"type":"string"}}}
            """);

        var html = ConfigForm.Render(schema, Json("""{"tags":["a","b"]}"""), null);
        var read = ConfigForm.Read(schema, Posted(("config-json.tags", "[\"x\"]"), ("config-json.limits", "{\"max\": 3}"), ("config-json.either", ""),
            ("config.plain", "p")));
        var broken = ConfigForm.Read(schema, Posted(("config-json.tags", "[\"x\""), ("config.plain", "p")));

        Assert.Multiple(() =>
        {
            Assert.That(FieldHtml(html, "tags"), Does.Contain("<textarea").And.Contain("name=\"config-json.tags\"").And.Contain("&quot;a&quot;"));
            Assert.That(FieldHtml(html, "limits"), Does.Contain("<textarea"));
            Assert.That(FieldHtml(html, "either"), Does.Contain("<textarea"));
            Assert.That(FieldHtml(html, "plain"), Does.Contain("type=\"text\""));
            Assert.That(read.Config!.Value.GetRawText(), Is.EqualTo("""{"tags":["x"],"limits":{"max":3},"plain":"p"}"""));
            Assert.That(broken.InputErrors, Is.EqualTo(new Dictionary<string, string> { ["tags"] = "is not valid JSON" }));
        });
    }

    [TestCase("""{"oneOf":[{"type":"object"},{"type":"string"}]}""", TestName = "Render_RootCombinator_FallsBackToOneJsonTextarea")]
    [TestCase("""{"type":"object","patternProperties":{"^x":{"type":"string"}}}""", TestName = "Render_PatternProperties_FallsBackToOneJsonTextarea")]
    [TestCase("""{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":{"type":"integer"}}""", TestName = "Render_AdditionalPropertiesSchema_FallsBackToOneJsonTextarea")]
    [TestCase("""{"$ref":"#/$defs/x","$defs":{"x":{"type":"object"}}}""", TestName = "Render_Reference_FallsBackToOneJsonTextarea")]
    public void Render_SchemaBeyondTheGenerator_FallsBackToOneJsonTextarea(string schemaText)
    {
        var schema = Json(schemaText);

        var html = ConfigForm.Render(schema, Json("""{"x1":"kept"}"""), null);
        var read = ConfigForm.Read(schema, Posted((ConfigForm.WholeJsonField, """{"x1": "new"}""")));
        var broken = ConfigForm.Read(schema, Posted((ConfigForm.WholeJsonField, "{nope")));

        Assert.Multiple(() =>
        {
            Assert.That(html, Does.Contain("<textarea id=\"config-json\" name=\"config-json\""));
            Assert.That(html, Does.Contain("&quot;x1&quot;: &quot;kept&quot;"));
            Assert.That(html, Does.Not.Contain("name=\"config."));
            Assert.That(read.Config!.Value.GetRawText(), Is.EqualTo("""{"x1": "new"}"""));
            Assert.That(broken.InputErrors.Keys, Is.EqualTo(new[] { "" }));
        });
    }

    [Test]
    public void Render_CurrentConfigWithASettingOutsideTheProperties_UsesTheTextarea_SoSavingDropsNothing()
    {
        var schema = Json("""{"type":"object","properties":{"a":{"type":"string"}}}""");

        var fields = ConfigForm.Render(schema, Json("""{"a":"x"}"""), null);
        var whole = ConfigForm.Render(schema, Json("""{"a":"x","legacy":1}"""), null);

        Assert.Multiple(() =>
        {
            Assert.That(fields, Does.Contain("name=\"config.a\""));
            Assert.That(whole, Does.Contain("name=\"config-json\"").And.Contain("&quot;legacy&quot;: 1"));
        });
    }

    [Test]
    public void Render_NoSchema_SaysThereAreNoSettings_AndReadGivesNoConfig()
    {
        Assert.Multiple(() =>
        {
            Assert.That(ConfigForm.Render(null, null, null), Does.Contain("This extension has no settings."));
            Assert.That(ConfigForm.Read(null, Posted(("config.x", "1"))).Config, Is.Null);
        });
    }

    [Test]
    public void Render_RegistryDetail_IsShownAboveTheForm_AndEachMessageByItsField()
    {
        const string detail = "config does not match the schema of test.x@1.0.0: config.count: is required (rule 'required'); "
            + "config.ratio: Value should be at most 1.5 (rule 'maximum'); config: something general (rule 'x')";

        var html = ConfigForm.Render(Json(Simple), Json("""{"ratio": 9}"""), detail);

        Assert.Multiple(() =>
        {
            Assert.That(html, Does.Contain("<div class=\"alert\" role=\"alert\" id=\"config-error\">"));
            Assert.That(html, Does.Contain(detail.Replace("'", "&#x27;", StringComparison.Ordinal)));
            Assert.That(FieldHtml(html, "count"), Does.Contain("<p id=\"cfg-2-error\" class=\"field-error\">is required (rule &#x27;required&#x27;)</p>")
                .And.Contain("aria-invalid=\"true\"").And.Contain("aria-describedby=\"cfg-2-help cfg-2-error\""));
            Assert.That(FieldHtml(html, "ratio"), Does.Contain("Value should be at most 1.5"));
            Assert.That(FieldHtml(html, "name"), Does.Not.Contain("field-error"));
        });
    }

    [Test]
    public void Render_HostileNamesAndDescriptions_AreEncoded()
    {
        var schema = Json("""
            {"type":"object","properties":{"<img src=x onerror=alert(1)>":{"type":"string","description":"</p><script>alert(2)</script>",
              "default":"\"><script>alert(3)</script>"}}}
            """);

        var html = ConfigForm.Render(schema, null, "config.<b>: <script>alert(4)</script>");

        Assert.That(html, Does.Not.Contain("<script").And.Not.Contain("<img").And.Not.Contain("<b>"));
    }
}
