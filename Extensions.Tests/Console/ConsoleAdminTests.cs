using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Extensions.Modules.Bundles;
using Extensions.Tests.Support;

namespace Extensions.Tests.Console;

/// <summary>
/// The console's management pages over real HTTP against the real platform: each change is checked in the registry through the
/// admin API, each refusal shows the registry's reason and leaves the registry as it was.
/// </summary>
[TestFixture]
[CancelAfter(240_000)]
public sealed partial class ConsoleAdminTests
{
    private const string SecretValue = "s3cr3t-Value-9f1c-never-shown";

    private TestPlatform _platform = null!;
    private string _tenantKey = null!;

    /// <summary>Settings with every kind of field the generator renders.</summary>
    private static JsonObject ConfigSchema() => new()
    {
        ["type"] = "object",
        ["properties"] = new JsonObject
        {
            ["greeting"] = new JsonObject { ["type"] = "string", ["title"] = "Greeting", ["default"] = "Hello", ["description"] = "Said first." },
            ["port"] = new JsonObject { ["type"] = "integer", ["minimum"] = 1, ["maximum"] = 65535 },
            ["loud"] = new JsonObject { ["type"] = "boolean" },
            ["mode"] = new JsonObject { ["enum"] = new JsonArray("fast", "safe") },
        },
        ["required"] = new JsonArray("port"),
        ["additionalProperties"] = false,
    };

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _platform = await TestPlatform.StartAsync();
        using var tenant = await _platform.Admin.PostAsJsonAsync("/api/admin/tenants", new { id = "acme" });
        await TestPlatform.EnsureSuccessAsync(tenant);
        using var key = await _platform.Admin.PostAsJsonAsync("/api/admin/tenants/acme/keys", new { name = "acme user" });
        await TestPlatform.EnsureSuccessAsync(key);
        _tenantKey = (await TestPlatform.JsonAsync(key)).GetProperty("key").GetString()!;
    }

    [OneTimeTearDown]
    public async Task StopAsync() => await _platform.DisposeAsync();

    // ---- helpers --------------------------------------------------------------------------------------------------------

    private sealed class Browser(Uri server) : IDisposable
    {
        public HttpClient Http { get; } = new(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = server };

        public string Csrf { get; set; } = "";

        public void Dispose() => Http.Dispose();
    }

    private async Task<Browser> SignInAsync(string? key = null)
    {
        var browser = new Browser(_platform.BaseUrl);
        using var signIn = await browser.Http.PostAsync("/console/sign-in", Form(("key", key ?? _platform.AdminKey)));
        Assert.That(signIn.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        browser.Csrf = CsrfMeta().Match(await browser.Http.GetStringAsync("/console/extensions")).Groups[1].Value;
        return browser;
    }

    [GeneratedRegex("<meta name=\"ext-csrf\" content=\"([^\"]+)\">")]
    private static partial Regex CsrfMeta();

    private static FormUrlEncodedContent Form(params (string Name, string Value)[] fields) =>
        new(fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)));

    private static (string, string)[] With(Browser browser, params (string, string)[] fields) => [("csrf", browser.Csrf), .. fields];

    /// <summary>Posts a form, follows the redirect like a browser and returns (status of the post, where it went, the page shown).</summary>
    private static async Task<(HttpStatusCode Status, string? Location, string Html)> PostAsync(Browser browser, string path, HttpContent content)
    {
        using var response = await browser.Http.PostAsync(path, content);
        if (response.StatusCode != HttpStatusCode.Redirect)
        {
            return (response.StatusCode, null, await response.Content.ReadAsStringAsync());
        }

        var location = response.Headers.Location!.ToString();
        return (response.StatusCode, location, await browser.Http.GetStringAsync(location));
    }

    private static string NewName(string prefix) => $"{prefix}{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 8, 40)];

    private static string Fixture(string name, string version = "1.0.0", string[]? capabilities = null, string[]? egress = null, JsonObject? config = null,
        string[]? secrets = null) =>
        GuestFixtures.Create(name, GuestFixtures.Ok, version, capabilities: capabilities, egressHosts: egress, config: config, secrets: secrets);

    private Task<PackedBundle> PublishAsync(string name, string version = "1.0.0", string[]? capabilities = null, string[]? egress = null,
        JsonObject? config = null, string[]? secrets = null) =>
        _platform.PublishOnlyAsync(Fixture(name, version, capabilities, egress, config, secrets));

    /// <summary>Installs through the admin API (for tests about what comes after).</summary>
    private async Task InstallWithApiAsync(string extensionId, string version, string[] capabilities, string[]? egress = null, object? config = null, string tenant = "default")
    {
        using var response = await _platform.Admin.PostAsJsonAsync("/api/admin/installs", new
        {
            extensionId, tenant, version, capabilities, egressHosts = egress ?? [], config,
        });
        await TestPlatform.EnsureSuccessAsync(response);
    }

    private async Task<JsonElement?> InstallAsSeenByApiAsync(string extensionId, string tenant = "default")
    {
        using var response = await _platform.Admin.GetAsync($"/api/admin/installs/{tenant}/{extensionId}");
        return response.StatusCode == HttpStatusCode.NotFound ? null : await TestPlatform.JsonAsync(response);
    }

    private async Task<int> AuditCountAsync() =>
        (await TestPlatform.JsonAsync(await _platform.Admin.GetAsync("/api/admin/audit?limit=1000"))).GetArrayLength();

    private const string TestId = TestPlatform.TestPublisherName;

    // ---- publish --------------------------------------------------------------------------------------------------------

    private static MultipartFormDataContent Upload(Browser browser, byte[]? bundle, string? signature, bool csrf = true)
    {
        var form = new MultipartFormDataContent();
        if (csrf)
        {
            form.Add(new StringContent(browser.Csrf), "csrf");
        }

        if (bundle is not null)
        {
            form.Add(new ByteArrayContent(bundle), "bundle", "bundle.extb");
        }

        if (signature is not null)
        {
            form.Add(new StringContent(signature), "signature", "bundle.extb.sig");
        }

        return form;
    }

    [Test]
    public async Task Publish_ASignedBundleThroughThePage_RecordsTheVersion_AndListsItWithAnInstallLink()
    {
        var name = NewName("pub");
        var packed = BundlePacker.Pack(Fixture(name, capabilities: ["cap:log"]));
        using var browser = await SignInAsync();

        var (status, location, html) = await PostAsync(browser, "/console/publish",
            Upload(browser, packed.ToGzip(), BundleSignature.Create(packed.ContentHash, _platform.Publisher).ToJson()));
        using var version = await _platform.Admin.GetAsync($"/api/admin/extensions/{TestId}.{name}/versions/1.0.0");

        Assert.Multiple(async () =>
        {
            Assert.That(status, Is.EqualTo(HttpStatusCode.Redirect));
            Assert.That(location, Is.EqualTo("/console/publish"));
            Assert.That(html, Does.Contain($"Published {TestId}.{name} 1.0.0 ({packed.ContentHash})"));
            Assert.That(html, Does.Contain($"href=\"/console/install/{TestId}.{name}?version=1.0.0\""));
            Assert.That(version.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That((await TestPlatform.JsonAsync(version)).GetProperty("contentHash").GetString(), Is.EqualTo(packed.ContentHash));
        });
    }

    [Test]
    public async Task Publish_SignedByAnUntrustedKey_ShowsTheRegistrysRefusal_AndPublishesNothing()
    {
        var name = NewName("pubbad");
        var packed = BundlePacker.Pack(Fixture(name));
        using var browser = await SignInAsync();

        var (status, _, html) = await PostAsync(browser, "/console/publish",
            Upload(browser, packed.ToGzip(), BundleSignature.Create(packed.ContentHash, PublisherKey.Generate()).ToJson()));
        using var version = await _platform.Admin.GetAsync($"/api/admin/extensions/{TestId}.{name}/versions/1.0.0");

        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo((HttpStatusCode)422));
            Assert.That(html, Does.Contain("id=\"publish-error\""));
            Assert.That(html, Does.Contain("<code>signature_rejected</code>"));
            Assert.That(html, Does.Contain("The signature was refused."));
            Assert.That(version.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        });
    }

    [Test]
    public async Task Publish_GarbageOrNoSignature_ShowsWhatIsWrong()
    {
        using var browser = await SignInAsync();

        var (garbage, _, garbageHtml) = await PostAsync(browser, "/console/publish", Upload(browser, "not a tar at all"u8.ToArray(), "{}"));
        var (unsigned, _, unsignedHtml) = await PostAsync(browser, "/console/publish", Upload(browser, "x"u8.ToArray(), null));
        var (empty, _, emptyHtml) = await PostAsync(browser, "/console/publish", Upload(browser, null, "{}"));

        Assert.Multiple(() =>
        {
            Assert.That(garbage, Is.EqualTo((HttpStatusCode)422).Or.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(garbageHtml, Does.Contain("<code>invalid_bundle</code>").Or.Contain("<code>signature_rejected</code>"));
            Assert.That(unsigned, Is.EqualTo((HttpStatusCode)422));
            Assert.That(unsignedHtml, Does.Contain("bundles must be signed"));
            Assert.That(empty, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(emptyHtml, Does.Contain("choose the bundle file"));
        });
    }

    [Test]
    public async Task Publish_WithoutTheCsrfToken_IsRefused_AndPublishesNothing()
    {
        var name = NewName("pubcsrf");
        var packed = BundlePacker.Pack(Fixture(name));
        using var browser = await SignInAsync();

        var (status, _, _) = await PostAsync(browser, "/console/publish",
            Upload(browser, packed.ToGzip(), BundleSignature.Create(packed.ContentHash, _platform.Publisher).ToJson(), csrf: false));
        using var version = await _platform.Admin.GetAsync($"/api/admin/extensions/{TestId}.{name}/versions/1.0.0");

        Assert.That(status, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(version.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    // ---- install with consent ------------------------------------------------------------------------------------------

    [Test]
    public async Task Consent_ListsTheGrantsInPlainWords_AndTheConfigForm_AndInstallsNothingByItself()
    {
        var name = NewName("cons");
        await PublishAsync(name, capabilities: ["cap:log", "cap:http.fetch"], egress: ["api.example.com", "*.cdn.example"], config: ConfigSchema());
        using var browser = await SignInAsync();

        var html = await browser.Http.GetStringAsync($"/console/install/{TestId}.{name}?version=1.0.0");

        Assert.Multiple(async () =>
        {
            Assert.That(html, Does.Contain("Write log lines that admins can read. <code>cap:log</code>"));
            Assert.That(html, Does.Contain("Make HTTP requests to the hosts listed under network access. <code>cap:http.fetch</code>"));
            Assert.That(html, Does.Contain("api.example.com <code>api.example.com</code>"));
            Assert.That(html, Does.Contain("cdn.example and any of its subdomains <code>*.cdn.example</code>"));
            Assert.That(html, Does.Contain(">Grant and install</button>"));
            Assert.That(html, Does.Contain("name=\"config.port\" type=\"number\" step=\"1\" inputmode=\"numeric\" min=\"1\" max=\"65535\""));
            Assert.That(html, Does.Contain("name=\"config.greeting\" type=\"text\" value=\"Hello\""), "the default is filled in");
            Assert.That(html, Does.Contain("<option value=\"safe\">safe</option>"));
            Assert.That(await InstallAsSeenByApiAsync($"{TestId}.{name}"), Is.Null, "showing the consent screen installs nothing");
        });
    }

    [Test]
    public async Task Install_ThroughTheConsentForm_InstallsWithExactlyTheListedGrants_AndTheSettings()
    {
        var name = NewName("inst");
        await PublishAsync(name, capabilities: ["cap:log", "cap:http.fetch"], egress: ["api.example.com"], config: ConfigSchema());
        using var browser = await SignInAsync();

        var (status, location, html) = await PostAsync(browser, $"/console/install/{TestId}.{name}", Form(With(browser,
            ("version", "1.0.0"), ("capability", "cap:http.fetch"), ("capability", "cap:log"), ("egress", "api.example.com"),
            ("config.greeting", "Hi"), ("config.port", "8080"), ("config.loud", "false"), ("config.loud", "true"), ("config.mode", "safe"))));
        var install = await InstallAsSeenByApiAsync($"{TestId}.{name}");

        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(HttpStatusCode.Redirect), html);
            Assert.That(location, Is.EqualTo($"/console/installs/{TestId}.{name}"));
            Assert.That(html, Does.Contain($"Installed {TestId}.{name} 1.0.0 for tenant default; it is enabled."));
            Assert.That(install, Is.Not.Null);
            Assert.That(install!.Value.GetProperty("state").GetString(), Is.EqualTo("enabled"));
            Assert.That(install.Value.GetProperty("granted").EnumerateArray().Select(e => e.GetString()), Is.EquivalentTo(new[] { "cap:log", "cap:http.fetch" }));
            Assert.That(install.Value.GetProperty("egressHosts").EnumerateArray().Select(e => e.GetString()), Is.EquivalentTo(new[] { "api.example.com" }));
            Assert.That(install.Value.GetProperty("config").GetRawText(), Is.EqualTo("""{"greeting":"Hi","port":8080,"loud":true,"mode":"safe"}"""));
        });
    }

    [TestCase("70000", "should be at most 65535", TestName = "Install_WithAPortAboveTheMaximum_ShowsTheFieldError_AndInstallsNothing")]
    [TestCase("eighty", "should be &quot;integer&quot;", TestName = "Install_WithAPortThatIsNotANumber_ShowsTheFieldError_AndInstallsNothing")]
    [TestCase("", "is required", TestName = "Install_WithoutTheRequiredPort_ShowsTheFieldError_AndInstallsNothing")]
    public async Task Install_WithBadConfig_ShowsTheFieldError_AndInstallsNothing(string port, string expected)
    {
        var name = NewName("badcfg");
        await PublishAsync(name, capabilities: ["cap:log"], config: ConfigSchema());
        using var browser = await SignInAsync();

        var (status, _, html) = await PostAsync(browser, $"/console/install/{TestId}.{name}", Form(With(browser,
            ("version", "1.0.0"), ("capability", "cap:log"), ("config.greeting", "Kept"), ("config.port", port))));
        var portField = Regex.Match(html, "<div class=\"field\" data-field=\"port\">.*?</div>", RegexOptions.Singleline).Value;

        Assert.Multiple(async () =>
        {
            Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(html, Does.Contain("<code>invalid_config</code>").Or.Contain("id=\"config-error\""));
            Assert.That(html, Does.Contain("config does not match the schema"), "the registry's own detail is shown");
            Assert.That(portField, Does.Contain("class=\"field-error\"").And.Contain(expected), "the error sits by the port field");
            Assert.That(portField, Does.Contain("aria-invalid=\"true\""));
            Assert.That(html, Does.Contain("value=\"Kept\""), "what was typed is kept");
            Assert.That(await InstallAsSeenByApiAsync($"{TestId}.{name}"), Is.Null);
        });
    }

    [Test]
    public async Task Install_WithAConsentThatLeavesOutAGrant_IsRefusedByTheRegistry_AndInstallsNothing()
    {
        var name = NewName("partial");
        await PublishAsync(name, capabilities: ["cap:log", "cap:kv"]);
        using var browser = await SignInAsync();

        var (status, _, html) = await PostAsync(browser, $"/console/install/{TestId}.{name}",
            Form(With(browser, ("version", "1.0.0"), ("capability", "cap:log"))));

        Assert.Multiple(async () =>
        {
            Assert.That(status, Is.EqualTo(HttpStatusCode.Conflict));
            Assert.That(html, Does.Contain("<code>consent_required</code>"));
            Assert.That(await InstallAsSeenByApiAsync($"{TestId}.{name}"), Is.Null);
        });
    }

    // ---- CSRF and who may post, for every change ------------------------------------------------------------------------

    private static IEnumerable<TestCaseData> ChangeForms()
    {
        yield return new TestCaseData("/console/install/{id}", new[] { ("version", "1.0.0"), ("capability", "cap:log"), ("capability", "cap:secrets"), ("config.port", "1") }).SetArgDisplayNames("install");
        yield return new TestCaseData("/console/installs/{id}/state", new[] { ("state", "disabled") }).SetArgDisplayNames("state");
        yield return new TestCaseData("/console/installs/{id}/config", new[] { ("config.port", "2") }).SetArgDisplayNames("config");
        yield return new TestCaseData("/console/installs/{id}/secrets", new[] { ("name", "api_token"), ("value", "v") }).SetArgDisplayNames("secrets");
        yield return new TestCaseData("/console/installs/{id}/change", new[] { ("version", "2.0.0"), ("consent", "yes"), ("capability", "cap:log"), ("capability", "cap:secrets"), ("capability", "cap:kv") }).SetArgDisplayNames("upgrade");
        yield return new TestCaseData("/console/installs/{id}/uninstall", Array.Empty<(string, string)>()).SetArgDisplayNames("uninstall");
    }

    /// <summary>An installed 1.0.0 (config port 1, no secret) with a published 2.0.0 that adds <c>cap:kv</c>.</summary>
    private async Task<string> InstalledWithUpgradeAsync(string prefix, string tenant = "default")
    {
        var name = NewName(prefix);
        await PublishAsync(name, capabilities: ["cap:log", "cap:secrets"], config: ConfigSchema(), secrets: ["api_token"]);
        await PublishAsync(name, "2.0.0", capabilities: ["cap:log", "cap:secrets", "cap:kv"], config: ConfigSchema(), secrets: ["api_token"]);
        await InstallWithApiAsync($"{TestId}.{name}", "1.0.0", ["cap:log", "cap:secrets"], config: new { port = 1 }, tenant: tenant);
        return $"{TestId}.{name}";
    }

    [TestCaseSource(nameof(ChangeForms))]
    public async Task ChangeForm_WithoutTheCsrfToken_IsRefused_AndChangesNothing(string path, (string, string)[] fields)
    {
        var id = await InstalledWithUpgradeAsync("nocsrf");
        using var browser = await SignInAsync();
        var before = (await InstallAsSeenByApiAsync(id))!.Value.GetRawText();
        var audit = await AuditCountAsync();

        var (missing, _, _) = await PostAsync(browser, path.Replace("{id}", id, StringComparison.Ordinal), Form(fields));
        var (wrong, _, _) = await PostAsync(browser, path.Replace("{id}", id, StringComparison.Ordinal), Form([("csrf", browser.Csrf + "x"), .. fields]));

        Assert.Multiple(async () =>
        {
            Assert.That(missing, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(wrong, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That((await InstallAsSeenByApiAsync(id))!.Value.GetRawText(), Is.EqualTo(before));
            Assert.That(await AuditCountAsync(), Is.EqualTo(audit), "no audit row: nothing happened");
        });
    }

    [TestCaseSource(nameof(ChangeForms))]
    public async Task ChangeForm_FromATenantKeySession_CannotReachAnotherTenantsInstall(string path, (string, string)[] fields)
    {
        var id = await InstalledWithUpgradeAsync("cross");
        using var tenant = await SignInAsync(_tenantKey);
        var before = (await InstallAsSeenByApiAsync(id))!.Value.GetRawText();
        var audit = await AuditCountAsync();

        var (status, _, _) = await PostAsync(tenant, path.Replace("{id}", id, StringComparison.Ordinal), Form(With(tenant, fields)));
        using var page = await tenant.Http.GetAsync($"/console/installs/{id}");

        Assert.Multiple(async () =>
        {
            Assert.That(status, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(page.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "acme's session does not see default's install");
            Assert.That(await page.Content.ReadAsStringAsync(), Does.Contain("is not installed for tenant acme"));
            Assert.That((await InstallAsSeenByApiAsync(id))!.Value.GetRawText(), Is.EqualTo(before));
            Assert.That(await AuditCountAsync(), Is.EqualTo(audit));
        });
    }

    [Test]
    public async Task TenantKeySession_SeesItsOwnInstallReadOnly_AndMayNotChangeIt()
    {
        var id = await InstalledWithUpgradeAsync("own", tenant: "acme");
        using var tenant = await SignInAsync(_tenantKey);

        using var page = await tenant.Http.GetAsync($"/console/installs/{id}");
        var html = await page.Content.ReadAsStringAsync();
        var (disable, _, _) = await PostAsync(tenant, $"/console/installs/{id}/state", Form(With(tenant, ("state", "disabled"))));
        using var publish = await tenant.Http.GetAsync("/console/publish");

        Assert.Multiple(async () =>
        {
            Assert.That(page.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(html, Does.Contain("id=\"install-state\""));
            Assert.That(html, Does.Not.Contain("/state\""), "no state form for a tenant key");
            Assert.That(html, Does.Not.Contain("/uninstall\""));
            Assert.That(disable, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That((await InstallAsSeenByApiAsync(id, "acme"))!.Value.GetProperty("state").GetString(), Is.EqualTo("enabled"));
            Assert.That(publish.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        });
    }

    // ---- the install page -----------------------------------------------------------------------------------------------

    [Test]
    public async Task State_DisableThenEnable_ChangesTheInstallsState()
    {
        var id = await InstalledWithUpgradeAsync("state");
        using var browser = await SignInAsync();

        var (disabled, _, disabledHtml) = await PostAsync(browser, $"/console/installs/{id}/state", Form(With(browser, ("state", "disabled"))));
        var afterDisable = (await InstallAsSeenByApiAsync(id))!.Value.GetProperty("state").GetString();
        var (_, _, againHtml) = await PostAsync(browser, $"/console/installs/{id}/state", Form(With(browser, ("state", "disabled"))));
        await PostAsync(browser, $"/console/installs/{id}/state", Form(With(browser, ("state", "enabled"))));
        var afterEnable = (await InstallAsSeenByApiAsync(id))!.Value.GetProperty("state").GetString();

        Assert.Multiple(() =>
        {
            Assert.That(disabled, Is.EqualTo(HttpStatusCode.Redirect));
            Assert.That(disabledHtml, Does.Contain($"{id} is now disabled."));
            Assert.That(afterDisable, Is.EqualTo("disabled"));
            Assert.That(againHtml, Does.Contain("<code>invalid_state</code>"), "disabling twice shows the registry's refusal");
            Assert.That(afterEnable, Is.EqualTo("enabled"));
        });
    }

    [Test]
    public async Task Settings_SavedThroughTheForm_ReachTheInstall_AndBadOnesAreShownAndNotSaved()
    {
        var id = await InstalledWithUpgradeAsync("settings");
        using var browser = await SignInAsync();

        var page = await browser.Http.GetStringAsync($"/console/installs/{id}");
        var (saved, _, savedHtml) = await PostAsync(browser, $"/console/installs/{id}/config",
            Form(With(browser, ("config.port", "443"), ("config.greeting", "Hey"), ("config.mode", ""))));
        var afterSave = (await InstallAsSeenByApiAsync(id))!.Value.GetProperty("config").GetRawText();
        var (bad, _, badHtml) = await PostAsync(browser, $"/console/installs/{id}/config", Form(With(browser, ("config.port", "0"))));
        var afterBad = (await InstallAsSeenByApiAsync(id))!.Value.GetProperty("config").GetRawText();

        Assert.Multiple(() =>
        {
            Assert.That(page, Does.Contain("name=\"config.port\"").And.Contain("value=\"1\""), "the current settings are in the form");
            Assert.That(saved, Is.EqualTo(HttpStatusCode.Redirect));
            Assert.That(savedHtml, Does.Contain($"Settings of {id} saved."));
            Assert.That(afterSave, Is.EqualTo("""{"greeting":"Hey","port":443,"loud":false}"""));
            Assert.That(bad, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(Regex.Match(badHtml, "data-field=\"port\">.*?</div>", RegexOptions.Singleline).Value, Does.Contain("field-error"));
            Assert.That(afterBad, Is.EqualTo(afterSave));
        });
    }

    [Test]
    public async Task Secret_SetAndRotated_IsStored_ButItsValueNeverAppearsInAnyConsoleResponse()
    {
        var id = await InstalledWithUpgradeAsync("secret");
        using var browser = await SignInAsync();
        var responses = new List<string>();

        var before = await browser.Http.GetStringAsync($"/console/installs/{id}");
        using (var set = await browser.Http.PostAsync($"/console/installs/{id}/secrets", Form(With(browser, ("name", "api_token"), ("value", SecretValue)))))
        {
            responses.Add(await set.Content.ReadAsStringAsync());
            responses.Add(string.Join("\n", set.Headers.Select(h => $"{h.Key}: {string.Join(",", h.Value)}")));
        }

        var afterSet = await browser.Http.GetStringAsync($"/console/installs/{id}");
        var (_, _, rotated) = await PostAsync(browser, $"/console/installs/{id}/secrets", Form(With(browser, ("name", "api_token"), ("value", SecretValue + "2"))));
        var (undeclared, _, undeclaredHtml) = await PostAsync(browser, $"/console/installs/{id}/secrets",
            Form(With(browser, ("name", "other"), ("value", SecretValue + "3"))));
        var (empty, _, emptyHtml) = await PostAsync(browser, $"/console/installs/{id}/secrets", Form(With(browser, ("name", "api_token"), ("value", ""))));
        responses.AddRange([afterSet, rotated, undeclaredHtml, emptyHtml]);
        foreach (var path in new[] { "/console/extensions", "/console/publish", $"/console/installs/{id}/uninstall", $"/console/installs/{id}/change?version=2.0.0" })
        {
            responses.Add(await browser.Http.GetStringAsync(path));
        }

        using var listed = await _platform.Admin.GetAsync($"/api/admin/installs/default/{id}/secrets");
        var secrets = await TestPlatform.JsonAsync(listed);

        Assert.Multiple(() =>
        {
            Assert.That(before, Does.Contain("<span class=\"secret-state\">not set</span>"));
            Assert.That(afterSet, Does.Contain("<span class=\"secret-state\">set <time"));
            Assert.That(afterSet, Does.Contain(">Rotate</button>"));
            Assert.That(rotated, Does.Contain($"Secret api_token of {id} set."));
            Assert.That(undeclared, Is.EqualTo((HttpStatusCode)422));
            Assert.That(undeclaredHtml, Does.Contain("<code>secret_not_declared</code>"));
            Assert.That(empty, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(emptyHtml, Does.Contain("the secret value is empty"));
            Assert.That(secrets[0].GetProperty("updatedAt").ValueKind, Is.EqualTo(JsonValueKind.String), "the registry has it");
            foreach (var response in responses)
            {
                Assert.That(response, Does.Not.Contain("s3cr3t"), "no console response carries the value");
                Assert.That(response, Does.Not.Contain(Uri.EscapeDataString(SecretValue)));
            }
        });
    }

    [Test]
    public async Task Upgrade_ShowsTheCapabilityDiff_NeedsTheConsentTick_ThenRollbackReturns()
    {
        var id = await InstalledWithUpgradeAsync("upgrade");
        using var browser = await SignInAsync();

        var installPage = await browser.Http.GetStringAsync($"/console/installs/{id}");
        var review = await browser.Http.GetStringAsync($"/console/installs/{id}/change?version=2.0.0");
        var (unticked, _, untickedHtml) = await PostAsync(browser, $"/console/installs/{id}/change",
            Form(With(browser, ("version", "2.0.0"), ("capability", "cap:kv"), ("capability", "cap:log"), ("capability", "cap:secrets"))));
        var stillOld = (await InstallAsSeenByApiAsync(id))!.Value.GetProperty("version").GetString();
        var (ticked, _, tickedHtml) = await PostAsync(browser, $"/console/installs/{id}/change",
            Form(With(browser, ("version", "2.0.0"), ("consent", "yes"), ("capability", "cap:kv"), ("capability", "cap:log"), ("capability", "cap:secrets"))));
        var upgraded = (await InstallAsSeenByApiAsync(id))!.Value;
        var oldHash = upgraded.GetProperty("history")[0].GetProperty("contentHash").GetString()!;

        var afterPage = await browser.Http.GetStringAsync($"/console/installs/{id}");
        var rollbackReview = await browser.Http.GetStringAsync($"/console/installs/{id}/change?hash={Uri.EscapeDataString(oldHash)}");
        var (rolled, _, _) = await PostAsync(browser, $"/console/installs/{id}/change",
            Form(With(browser, ("hash", oldHash), ("capability", "cap:log"), ("capability", "cap:secrets"))));
        var back = (await InstallAsSeenByApiAsync(id))!.Value;

        Assert.Multiple(() =>
        {
            Assert.That(installPage, Does.Contain("<option value=\"2.0.0\">"));
            Assert.That(review, Does.Contain("Capabilities added"));
            Assert.That(review, Does.Contain("Keep its own data (key-value storage for this install only). <code>cap:kv</code>"));
            Assert.That(review, Does.Contain("id=\"consent\" name=\"consent\" value=\"yes\" required"));
            Assert.That(unticked, Is.EqualTo(HttpStatusCode.Conflict));
            Assert.That(untickedHtml, Does.Contain("<code>consent_required</code>"));
            Assert.That(stillOld, Is.EqualTo("1.0.0"), "without the tick the install keeps running 1.0.0");
            Assert.That(ticked, Is.EqualTo(HttpStatusCode.Redirect));
            Assert.That(tickedHtml, Does.Contain($"{id} now runs 2.0.0"));
            Assert.That(upgraded.GetProperty("version").GetString(), Is.EqualTo("2.0.0"));
            Assert.That(upgraded.GetProperty("granted").EnumerateArray().Select(e => e.GetString()), Does.Contain("cap:kv"));
            Assert.That(afterPage, Does.Contain($"data-hash=\"{oldHash}\""), "the content it ran before is offered for rollback");
            Assert.That(rollbackReview, Does.Contain("Capabilities removed").And.Not.Contain("id=\"consent\""), "narrowing needs no tick");
            Assert.That(rolled, Is.EqualTo(HttpStatusCode.Redirect));
            Assert.That(back.GetProperty("version").GetString(), Is.EqualTo("1.0.0"));
            Assert.That(back.GetProperty("contentHash").GetString(), Is.EqualTo(oldHash));
        });
    }

    [Test]
    public async Task Uninstall_ConfirmationNamesWhatIsDeleted_ThenTheInstallAndItsSecretsAreGone()
    {
        var id = await InstalledWithUpgradeAsync("uninst");
        using var browser = await SignInAsync();
        await PostAsync(browser, $"/console/installs/{id}/secrets", Form(With(browser, ("name", "api_token"), ("value", SecretValue))));

        var confirm = await browser.Http.GetStringAsync($"/console/installs/{id}/uninstall");
        var stillThere = await InstallAsSeenByApiAsync(id);
        var (status, location, html) = await PostAsync(browser, $"/console/installs/{id}/uninstall", Form(With(browser)));
        using var secrets = await _platform.Admin.GetAsync($"/api/admin/installs/default/{id}/secrets");

        Assert.Multiple(async () =>
        {
            Assert.That(confirm, Does.Contain("key-value data (KV)").And.Contain("its secrets: <code>api_token</code>").And.Contain("guest log lines"));
            Assert.That(stillThere, Is.Not.Null, "the confirmation page deletes nothing");
            Assert.That(status, Is.EqualTo(HttpStatusCode.Redirect));
            Assert.That(location, Is.EqualTo("/console/extensions"));
            Assert.That(html, Does.Contain($"{id} was uninstalled for tenant default"));
            Assert.That(await InstallAsSeenByApiAsync(id), Is.Null);
            Assert.That(secrets.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        });
    }

    [Test]
    public async Task Pages_ForAnExtensionThatIsNotInstalled_Answer404()
    {
        using var browser = await SignInAsync();

        using var install = await browser.Http.GetAsync("/console/installs/test.nothing-here");
        using var consent = await browser.Http.GetAsync("/console/install/test.nothing-here?version=1.0.0");
        using var change = await browser.Http.GetAsync("/console/installs/test.nothing-here/change?version=1.0.0");

        Assert.Multiple(() =>
        {
            Assert.That(install.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(consent.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(change.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        });
    }
}
