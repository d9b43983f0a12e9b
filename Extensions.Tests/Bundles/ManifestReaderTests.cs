using System.Text.Json.Nodes;
using Extensions.Modules.Bundles;
using NUnit.Framework;

namespace Extensions.Tests.Bundles;

public sealed class ManifestReaderTests
{
    [Test]
    public void Parse_ValidManifest_MapsEveryField()
    {
        var result = ManifestReader.Parse(TestManifests.Bytes(TestManifests.Valid()));

        Assert.That(result.Errors, Is.Empty);
        Assert.That(result.IsValid, Is.True);
        var m = result.Manifest!;
        Assert.Multiple(() =>
        {
            Assert.That(m.ManifestVersion, Is.EqualTo(2));
            Assert.That(m.ExtensionId, Is.EqualTo("samples.hello"));
            Assert.That(m.Version, Is.EqualTo("1.2.3-beta.1+build.5"));
            Assert.That(m.DisplayName, Is.EqualTo("Hello"));
            Assert.That(m.Description, Is.EqualTo("Says hello"));
            Assert.That(m.Runtime, Is.EqualTo("ext-v1"));
            Assert.That(m.Main, Is.EqualTo("build/hello.wasm"));
            Assert.That(m.Capabilities, Is.EqualTo(new[] { Capabilities.Log }));
            Assert.That(m.EgressHosts, Is.EqualTo(new[] { "api.example.com", "*.example.org" }));
            Assert.That(m.ConfigSchema?.GetProperty("type").GetString(), Is.EqualTo("object"));
            Assert.That(m.Secrets, Is.EqualTo(new[] { "API_TOKEN", "_other" }));
            Assert.That(m.Endpoints, Is.EqualTo(new[]
            {
                new EndpointSpec("GET", "/hello", null),
                new EndpointSpec("GET", "/hello/:name", new EndpointLimits(5000, null, 250)),
            }));
            Assert.That(m.UiEntry, Is.EqualTo("ui/index.html"));
            Assert.That(m.Limits, Is.EqualTo(new ManifestLimits(10_000_000_000L, 32, 1000)));
        });
    }

    [Test]
    public void Parse_MinimalManifest_DefaultsOptionalFields()
    {
        var json = TestManifests.Valid();
        foreach (var name in new[] { "displayName", "description", "capabilities", "egress", "config", "secrets", "ui", "limits", "precompiled", "$schema" })
            json.Remove(name);

        var m = ManifestReader.Parse(TestManifests.Bytes(json)).Manifest!;

        Assert.That(m, Is.Not.Null);
        Assert.Multiple(() =>
        {
            Assert.That(m.Capabilities, Is.Empty);
            Assert.That(m.EgressHosts, Is.Empty);
            Assert.That(m.ConfigSchema, Is.Null);
            Assert.That(m.UiEntry, Is.Null);
            Assert.That(m.Limits, Is.EqualTo(new ManifestLimits(null, null, null)));
        });
    }

    [Test]
    public void Parse_MalformedJson_ReturnsOneRootErrorWithPosition()
    {
        var result = ManifestReader.Parse("{\n  \"publisher\": \"a\",\n  oops\n}"u8);

        Assert.That(result.IsValid, Is.False);
        Assert.That(result.Manifest, Is.Null);
        Assert.That(result.Errors, Has.Count.EqualTo(1));
        Assert.That(result.Errors[0].Field, Is.EqualTo("$"));
        Assert.That(result.Errors[0].Message, Does.Contain("LineNumber: 2"));
    }

    [Test]
    public void Parse_DuplicateJsonProperty_Refused()
    {
        var result = ManifestReader.Parse("{\"manifestVersion\":2,\"publisher\":\"a\",\"publisher\":\"b\"}"u8);

        Assert.That(result.Errors.Select(e => e.Field), Is.EqualTo(new[] { "$" }));
    }

    [Test]
    public void Parse_RootIsArray_RefusedAtRoot()
    {
        var result = ManifestReader.Parse("[]"u8);

        Assert.That(result.Errors.Select(e => e.ToString()), Is.EqualTo(new[] { "$: must be a JSON object" }));
    }

    [Test]
    public void Parse_EmptyObject_ReportsEveryRequiredField()
    {
        var result = ManifestReader.Parse("{}"u8);

        Assert.That(result.Errors.Select(e => e.ToString()), Is.EquivalentTo(new[]
        {
            "manifestVersion: is required", "publisher: is required", "name: is required", "version: is required",
            "runtime: is required", "main: is required", "api: is required",
        }));
    }

    [Test]
    public void Parse_SeveralViolations_ReportsAllOfThem()
    {
        var json = TestManifests.Valid();
        json["publisher"] = "Bad";
        json["capabilities"] = new JsonArray("cap:log", "cap:nope");
        json["api"]!["endpoints"]![1]!["path"] = "no-slash";

        var fields = ManifestReader.Parse(TestManifests.Bytes(json)).Errors.Select(e => e.Field);

        Assert.That(fields, Is.EquivalentTo(new[] { "publisher", "capabilities[1]", "api.endpoints[1].path" }));
    }

    // Each case breaks exactly one rule of an otherwise valid manifest and names the field that must be blamed.
    private static IEnumerable<TestCaseData> Violations()
    {
        TestCaseData Case(string name, string field, Action<JsonObject> mutate) => new TestCaseData(mutate, field).SetArgDisplayNames(name);
        JsonObject Endpoint(string method, string path) => new() { ["method"] = method, ["path"] = path };
        JsonArray Endpoints(params JsonObject[] endpoints) => new(endpoints);

        yield return Case("version1", "manifestVersion", m => m["manifestVersion"] = 1);
        yield return Case("versionString", "manifestVersion", m => m["manifestVersion"] = "2");
        yield return Case("publisherUpper", "publisher", m => m["publisher"] = "Samples");
        yield return Case("publisherDigitFirst", "publisher", m => m["publisher"] = "1abc");
        yield return Case("publisherTrailingNewline", "publisher", m => m["publisher"] = "abc\n");
        yield return Case("publisherTooLong", "publisher", m => m["publisher"] = "a" + new string('b', 63));
        yield return Case("nameDot", "name", m => m["name"] = "he.llo");
        yield return Case("nameNumber", "name", m => m["name"] = 5);
        yield return Case("versionLeadingZero", "version", m => m["version"] = "01.2.3");
        yield return Case("versionTwoParts", "version", m => m["version"] = "1.2");
        yield return Case("versionVPrefix", "version", m => m["version"] = "v1.2.3");
        yield return Case("runtime", "runtime", m => m["runtime"] = "wasi");
        yield return Case("mainParent", "main", m => m["main"] = "../hello.wasm");
        yield return Case("mainInnerParent", "main", m => m["main"] = "build/../../hello.wasm");
        yield return Case("mainAbsolute", "main", m => m["main"] = "/hello.wasm");
        yield return Case("mainBackslash", "main", m => m["main"] = "build\\hello.wasm");
        yield return Case("mainEmpty", "main", m => m["main"] = "");
        yield return Case("capabilityMisspelt", "capabilities[0]", m => m["capabilities"] = new JsonArray("cap:kvs"));
        yield return Case("capabilityUnknown", "capabilities[1]", m => m["capabilities"] = new JsonArray("cap:log", "cap:root"));
        yield return Case("capabilityDuplicate", "capabilities[1]", m => m["capabilities"] = new JsonArray("cap:log", "cap:log"));
        yield return Case("capabilityNotString", "capabilities[0]", m => m["capabilities"] = new JsonArray(1));
        yield return Case("capabilitiesNotArray", "capabilities", m => m["capabilities"] = "cap:log");
        yield return Case("egressUpper", "egress.allowedHosts[0]", m => m["egress"] = new JsonObject { ["allowedHosts"] = new JsonArray("API.example.com") });
        yield return Case("egressUrl", "egress.allowedHosts[0]", m => m["egress"] = new JsonObject { ["allowedHosts"] = new JsonArray("https://example.com") });
        yield return Case("egressBareWildcard", "egress.allowedHosts[0]", m => m["egress"] = new JsonObject { ["allowedHosts"] = new JsonArray("*") });
        yield return Case("egressTldWildcard", "egress.allowedHosts[0]", m => m["egress"] = new JsonObject { ["allowedHosts"] = new JsonArray("*.com") });
        yield return Case("egressInnerWildcard", "egress.allowedHosts[0]", m => m["egress"] = new JsonObject { ["allowedHosts"] = new JsonArray("a.*.com") });
        yield return Case("egressPort", "egress.allowedHosts[0]", m => m["egress"] = new JsonObject { ["allowedHosts"] = new JsonArray("example.com:443") });
        yield return Case("configNotObject", "config", m => m["config"] = "schema");
        yield return Case("secretDash", "secrets[0]", m => m["secrets"] = new JsonArray("API-TOKEN"));
        yield return Case("secretDigitFirst", "secrets[0]", m => m["secrets"] = new JsonArray("1TOKEN"));
        yield return Case("secretDuplicate", "secrets[1]", m => m["secrets"] = new JsonArray("A", "A"));
        yield return Case("noEndpoints", "api.endpoints", m => m["api"]!["endpoints"] = new JsonArray());
        yield return Case("endpointsMissing", "api.endpoints", m => m["api"] = new JsonObject());
        yield return Case("methodLower", "api.endpoints[0].method", m => m["api"]!["endpoints"] = Endpoints(Endpoint("get", "/a")));
        yield return Case("methodHead", "api.endpoints[0].method", m => m["api"]!["endpoints"] = Endpoints(Endpoint("HEAD", "/a")));
        yield return Case("pathNoSlash", "api.endpoints[0].path", m => m["api"]!["endpoints"] = Endpoints(Endpoint("GET", "a")));
        yield return Case("pathTrailingSlash", "api.endpoints[0].path", m => m["api"]!["endpoints"] = Endpoints(Endpoint("GET", "/a/")));
        yield return Case("pathDoubleSlash", "api.endpoints[0].path", m => m["api"]!["endpoints"] = Endpoints(Endpoint("GET", "/a//b")));
        yield return Case("pathDotDot", "api.endpoints[0].path", m => m["api"]!["endpoints"] = Endpoints(Endpoint("GET", "/a/..")));
        yield return Case("pathSpace", "api.endpoints[0].path", m => m["api"]!["endpoints"] = Endpoints(Endpoint("GET", "/a b")));
        yield return Case("pathWildcard", "api.endpoints[0].path", m => m["api"]!["endpoints"] = Endpoints(Endpoint("GET", "/a/*")));
        yield return Case("paramUpper", "api.endpoints[0].path", m => m["api"]!["endpoints"] = Endpoints(Endpoint("GET", "/a/:Name")));
        yield return Case("paramEmpty", "api.endpoints[0].path", m => m["api"]!["endpoints"] = Endpoints(Endpoint("GET", "/a/:")));
        yield return Case("paramTwice", "api.endpoints[0].path", m => m["api"]!["endpoints"] = Endpoints(Endpoint("GET", "/a/:id/b/:id")));
        yield return Case("duplicateRoute", "api.endpoints[2]", m => m["api"]!["endpoints"] = Endpoints(Endpoint("GET", "/a"), Endpoint("POST", "/a"), Endpoint("GET", "/a")));
        yield return Case("duplicateRouteRenamedParam", "api.endpoints[1]", m => m["api"]!["endpoints"] = Endpoints(Endpoint("GET", "/a/:x"), Endpoint("GET", "/a/:y")));
        yield return Case("endpointNotObject", "api.endpoints[0]", m => m["api"]!["endpoints"] = new JsonArray("GET /a"));
        yield return Case("endpointLimitZero", "api.endpoints[1].limits.timeoutMs", m => m["api"]!["endpoints"]![1]!["limits"]!["timeoutMs"] = 0);
        yield return Case("uiEntryParent", "ui.iframe.entry", m => m["ui"]!["iframe"]!["entry"] = "../index.html");
        yield return Case("uiIframeNotObject", "ui.iframe", m => m["ui"]!["iframe"] = "ui/index.html");
        yield return Case("assetAbsolute", "assets[0]", m => m["assets"] = new JsonArray("/etc/**"));
        yield return Case("limitNegative", "limits.fuelPerRequest", m => m["limits"]!["fuelPerRequest"] = -1);
        yield return Case("limitFraction", "limits.memoryMb", m => m["limits"]!["memoryMb"] = 1.5);
        yield return Case("limitOverflow", "limits.memoryMb", m => m["limits"]!["memoryMb"] = 3_000_000_000L);
        yield return Case("limitString", "limits.timeoutMs", m => m["limits"]!["timeoutMs"] = "1000");
    }

    [TestCaseSource(nameof(Violations))]
    public void Parse_OneRuleBroken_ReportsExactlyThatField(Action<JsonObject> mutate, string field)
    {
        var json = TestManifests.Valid();
        mutate(json);

        var result = ManifestReader.Parse(TestManifests.Bytes(json));

        Assert.That(result.Manifest, Is.Null);
        Assert.That(result.Errors.Select(e => e.Field), Is.EqualTo(new[] { field }), string.Join("\n", result.Errors));
    }

    [Test]
    public void Parse_UnknownCapability_MessageNamesItAndTheKnownOnes()
    {
        var json = TestManifests.Valid();
        json["capabilities"] = new JsonArray("cap:http");

        var error = ManifestReader.Parse(TestManifests.Bytes(json)).Errors.Single();

        Assert.That(error.ToString(), Is.EqualTo("capabilities[0]: unknown capability 'cap:http' (known: cap:http.fetch, cap:kv, cap:log, cap:secrets)"));
    }

    [Test]
    public void Parse_TraversingMain_MessageSaysItEscapes()
    {
        var json = TestManifests.Valid();
        json["main"] = "../x.wasm";

        var error = ManifestReader.Parse(TestManifests.Bytes(json)).Errors.Single();

        Assert.That(error.Message, Does.Contain("'../x.wasm' escapes the bundle root"));
    }

    [Test]
    public void Parse_RootEndpointAndNullOptionals_Accepted()
    {
        var json = TestManifests.Valid();
        json["api"]!["endpoints"] = new JsonArray(new JsonObject { ["method"] = "DELETE", ["path"] = "/" });
        json["description"] = null;
        json["unknownField"] = new JsonObject { ["anything"] = true };

        var result = ManifestReader.Parse(TestManifests.Bytes(json));

        Assert.That(result.Errors, Is.Empty);
        Assert.That(result.Manifest!.Endpoints.Single().Path, Is.EqualTo("/"));
    }

    [Test]
    public void ManifestError_ToString_IsFieldColonMessage()
    {
        Assert.That(new ManifestError("api.endpoints[1].path", "must start with '/'").ToString(),
            Is.EqualTo("api.endpoints[1].path: must start with '/'"));
    }
}
