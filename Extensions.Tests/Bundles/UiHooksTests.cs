using System.Text.Json.Nodes;
using Extensions.Modules.Bundles;

namespace Extensions.Tests.Bundles;

/// <summary><c>ui.hooks</c>: known places only, a short label, and an iframe entry to show.</summary>
public sealed class UiHooksTests
{
    private static ManifestResult Parse(JsonNode? hooks, bool withEntry = true)
    {
        var manifest = TestManifests.Valid();
        var ui = new JsonObject { ["hooks"] = hooks };
        if (withEntry) ui["iframe"] = new JsonObject { ["entry"] = "ui/index.html" };
        manifest["ui"] = ui;
        return ManifestReader.Parse(TestManifests.Bytes(manifest));
    }

    [Test]
    public void NavHook_IsRead()
    {
        var result = Parse(new JsonObject { ["nav"] = new JsonObject { ["label"] = " Hello UI " } });

        Assert.That(result.Manifest?.UiHooks, Is.EqualTo(new[] { new UiHook("nav", "Hello UI") }), string.Join("; ", result.Errors));
    }

    [Test]
    public void NoHooks_MeansNotShown()
    {
        var result = ManifestReader.Parse(TestManifests.Bytes(TestManifests.Valid()));

        Assert.That(result.Manifest!.UiHooks, Is.Empty);
    }

    [TestCase("{\"sidebar\":{\"label\":\"x\"}}", "ui.hooks.sidebar: unknown hook 'sidebar' (known: nav)")]
    [TestCase("{\"nav\":{}}", "ui.hooks.nav.label: is required")]
    [TestCase("{\"nav\":{\"label\":\"\"}}", "ui.hooks.nav.label: must be 1-40 characters without control characters")]
    [TestCase("{\"nav\":{\"label\":\"a\\u0000b\"}}", "ui.hooks.nav.label: must be 1-40 characters without control characters")]
    [TestCase("{\"nav\":{\"label\":\"12345678901234567890123456789012345678901\"}}", "ui.hooks.nav.label: must be 1-40 characters without control characters")]
    [TestCase("[]", "ui.hooks: must be an object")]
    [TestCase("{\"nav\":\"Hello\"}", "ui.hooks.nav: must be an object")]
    public void BadHooks_AreRefused(string hooks, string error)
    {
        var result = Parse(JsonNode.Parse(hooks));

        Assert.That(result.Errors.Select(e => e.ToString()), Is.EqualTo(new[] { error }));
    }

    [Test]
    public void Hook_WithoutAnIframeEntry_IsRefused()
    {
        var result = Parse(new JsonObject { ["nav"] = new JsonObject { ["label"] = "Hello" } }, withEntry: false);

        Assert.That(result.Errors.Select(e => e.ToString()), Is.EqualTo(new[] { "ui.hooks: needs ui.iframe.entry: a hook shows the extension's iframe" }));
    }
}
