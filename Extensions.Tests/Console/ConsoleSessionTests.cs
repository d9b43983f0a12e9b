using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Extensions.Modules.Assets;
using Extensions.Tests.Support;

namespace Extensions.Tests.Console;

/// <summary>Console sign-in, the session cookie, CSRF on forms and on API calls, and the pages, over real HTTP.</summary>
[TestFixture]
[CancelAfter(120_000)]
public sealed partial class ConsoleSessionTests
{
    private TestPlatform _platform = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _platform = await TestPlatform.StartAsync();
        await _platform.DeployAsync(GuestFixtures.CreateWithUi("pages"));
        var hostile = GuestFixtures.Create("hostile", GuestFixtures.Ok, files: new Dictionary<string, byte[]> { ["ui/index.html"] = "x"u8.ToArray() },
            ui: new JsonObject
            {
                ["iframe"] = new JsonObject { ["entry"] = "ui/index.html" },
                ["hooks"] = new JsonObject { ["nav"] = new JsonObject { ["label"] = "<script>alert(1)</script>" } },
            });
        await _platform.DeployAsync(hostile);
    }

    [OneTimeTearDown]
    public async Task StopAsync() => await _platform.DisposeAsync();

    /// <summary>An HTTP client that keeps cookies and does not follow redirects, like a browser seen from the server.</summary>
    private sealed class Browser : IDisposable
    {
        private readonly Uri _server;

        public Browser(Uri server)
        {
            _server = server;
            Http = new HttpClient(new HttpClientHandler { CookieContainer = Cookies, AllowAutoRedirect = false }) { BaseAddress = server };
        }

        public CookieContainer Cookies { get; } = new();
        public HttpClient Http { get; }

        public void Dispose() => Http.Dispose();
    }

    private Browser NewBrowser() => new(_platform.BaseUrl);

    private static FormUrlEncodedContent Form(params (string, string)[] fields) => new(fields.Select(f => new KeyValuePair<string, string>(f.Item1, f.Item2)));

    private async Task<(Browser Browser, string Csrf)> SignedInAsync(string? key = null)
    {
        var browser = NewBrowser();
        using var signIn = await browser.Http.PostAsync("/console/sign-in", Form(("key", key ?? _platform.AdminKey)));
        Assert.That(signIn.StatusCode, Is.EqualTo(HttpStatusCode.Redirect), await signIn.Content.ReadAsStringAsync());
        var page = await browser.Http.GetStringAsync("/console/extensions");
        return (browser, CsrfMeta().Match(page).Groups[1].Value);
    }

    [GeneratedRegex("<meta name=\"ext-csrf\" content=\"([^\"]+)\">")]
    private static partial Regex CsrfMeta();

    [Test]
    public async Task SignIn_WithTheAdminKey_SetsAnHttpOnlySameSiteStrictCookie_NotSecureOnHttp()
    {
        using var browser = NewBrowser();
        using var response = await browser.Http.PostAsync("/console/sign-in", Form(("key", _platform.AdminKey)));
        var setCookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("ext_session=", StringComparison.Ordinal));

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
            Assert.That(response.Headers.Location?.ToString(), Is.EqualTo("/console/extensions"));
            Assert.That(setCookie, Does.Contain("httponly").IgnoreCase);
            Assert.That(setCookie, Does.Contain("samesite=strict").IgnoreCase);
            Assert.That(setCookie, Does.Not.Contain("secure").IgnoreCase);
            Assert.That(setCookie, Does.Not.Contain(_platform.AdminKey));
        });
    }

    [TestCase("ext_wrong")]
    [TestCase("")]
    [TestCase("not a key at all")]
    public async Task SignIn_WithABadKey_ShowsAnErrorAndSetsNoCookie(string key)
    {
        using var browser = NewBrowser();
        using var response = await browser.Http.PostAsync("/console/sign-in", Form(("key", key)));
        var html = await response.Content.ReadAsStringAsync();

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(html, Does.Contain("That key is unknown or revoked."));
            Assert.That(response.Headers.Contains("Set-Cookie"), Is.False);
        });
    }

    [TestCase("Origin", "http://evil.example")]
    [TestCase("Sec-Fetch-Site", "cross-site")]
    [TestCase("Sec-Fetch-Site", "same-site")]
    public async Task SignIn_PostedFromAnotherOrigin_IsRefused(string header, string value)
    {
        using var browser = NewBrowser();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/console/sign-in") { Content = Form(("key", _platform.AdminKey)) };
        request.Headers.Add(header, value);
        using var response = await browser.Http.SendAsync(request);

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(response.Headers.Contains("Set-Cookie"), Is.False);
        });
    }

    [Test]
    public async Task Session_AuthenticatesExtensionCalls_OnlyWithItsCsrfHeader_AndSurvivesARefusedCall()
    {
        var (browser, csrf) = await SignedInAsync();
        using (browser)
        {
            using var bare = await browser.Http.GetAsync("/api/ext/samples.hello/hello/Ada");
            using var wrong = new HttpRequestMessage(HttpMethod.Get, "/api/ext/samples.hello/hello/Ada");
            wrong.Headers.Add("x-ext-csrf", csrf + "x");
            using var wrongResponse = await browser.Http.SendAsync(wrong);
            using var right = new HttpRequestMessage(HttpMethod.Get, "/api/ext/samples.hello/hello/Ada");
            right.Headers.Add("x-ext-csrf", csrf);
            using var rightResponse = await browser.Http.SendAsync(right);
            using var page = await browser.Http.GetAsync("/console/extensions");

            Assert.Multiple(async () =>
            {
                Assert.That(csrf, Has.Length.GreaterThan(20));
                Assert.That(bare.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
                Assert.That((await TestPlatform.JsonAsync(bare)).GetProperty("code").GetString(), Is.EqualTo("unauthenticated"));
                Assert.That(wrongResponse.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
                Assert.That(rightResponse.StatusCode, Is.EqualTo(HttpStatusCode.OK));
                Assert.That(await rightResponse.Content.ReadAsStringAsync(), Is.EqualTo("{\"message\":\"Hello, Ada\"}"));
                Assert.That(page.StatusCode, Is.EqualTo(HttpStatusCode.OK), "a refused API call does not end the session");
            });
        }
    }

    [Test]
    public async Task SignOut_NeedsTheCsrfToken_AndThenEndsTheSession()
    {
        var (browser, csrf) = await SignedInAsync();
        using (browser)
        {
            using var noToken = await browser.Http.PostAsync("/console/sign-out", Form(("csrf", "")));
            using var stillIn = await browser.Http.GetAsync("/console/extensions");
            using var crossSite = new HttpRequestMessage(HttpMethod.Post, "/console/sign-out") { Content = Form(("csrf", csrf)) };
            crossSite.Headers.Add("Origin", "http://evil.example");
            using var crossSiteResponse = await browser.Http.SendAsync(crossSite);
            using var signOut = await browser.Http.PostAsync("/console/sign-out", Form(("csrf", csrf)));
            using var after = await browser.Http.GetAsync("/console/extensions");

            Assert.Multiple(() =>
            {
                Assert.That(noToken.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
                Assert.That(stillIn.StatusCode, Is.EqualTo(HttpStatusCode.OK));
                Assert.That(crossSiteResponse.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
                Assert.That(signOut.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
                Assert.That(after.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
                Assert.That(after.Headers.Location?.ToString(), Is.EqualTo("/console/sign-in"));
            });
        }
    }

    [Test]
    public async Task RevokedKey_EndsItsSessions()
    {
        using var created = await _platform.Admin.PostAsync("/api/admin/tenants/default/keys", System.Net.Http.Json.JsonContent.Create(new { name = "console user" }));
        var key = await TestPlatform.JsonAsync(created);
        var (browser, _) = await SignedInAsync(key.GetProperty("key").GetString());
        using (browser)
        {
            using var before = await browser.Http.GetAsync("/console/extensions");
            using (var revoke = await _platform.Admin.DeleteAsync($"/api/admin/keys/{key.GetProperty("id").GetString()}"))
            {
                await TestPlatform.EnsureSuccessAsync(revoke);
            }

            using var after = await browser.Http.GetAsync("/console/extensions");

            Assert.Multiple(() =>
            {
                Assert.That(before.StatusCode, Is.EqualTo(HttpStatusCode.OK));
                Assert.That(after.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
                Assert.That(after.Headers.Location?.ToString(), Is.EqualTo("/console/sign-in"));
            });
        }
    }

    [Test]
    public async Task Pages_WithoutASession_RedirectToSignIn()
    {
        using var browser = NewBrowser();
        using var list = await browser.Http.GetAsync("/console/extensions");
        using var page = await browser.Http.GetAsync("/console/ext/test.pages");

        Assert.Multiple(() =>
        {
            Assert.That(list.Headers.Location?.ToString(), Is.EqualTo("/console/sign-in"));
            Assert.That(page.Headers.Location?.ToString(), Is.EqualTo("/console/sign-in"));
        });
    }

    [Test]
    public async Task ExtensionsList_ShowsVersionStateSignerAndHash_AndLinksUiHooks_Encoded()
    {
        var (browser, _) = await SignedInAsync();
        using (browser)
        {
            using var response = await browser.Http.GetAsync("/console/extensions");
            var html = await response.Content.ReadAsStringAsync();
            using var version = await _platform.Admin.GetAsync("/api/admin/extensions/test.pages/versions/1.0.0");
            var published = await TestPlatform.JsonAsync(version);

            Assert.Multiple(() =>
            {
                Assert.That(response.Headers.GetValues("Content-Security-Policy").Single(), Does.Contain("frame-ancestors 'none'").And.Contain("frame-src 'none'"));
                Assert.That(response.Headers.GetValues("X-Frame-Options").Single(), Is.EqualTo("DENY"));
                Assert.That(response.Headers.CacheControl?.NoStore, Is.True);
                Assert.That(html, Does.Contain("<tr data-extension=\"test.pages\"><th scope=\"row\"><a href=\"/console/ext/test.pages\">test.pages</a></th><td>1.0.0</td>"));
                Assert.That(html, Does.Contain($"<code>{published.GetProperty("signerKeyId").GetString()}</code>"));
                Assert.That(html, Does.Contain($"title=\"{published.GetProperty("contentHash").GetString()}\""));
                Assert.That(html, Does.Contain("<tr data-extension=\"samples.hello\"><th scope=\"row\">samples.hello</th>"), "no UI, no link");
                Assert.That(html, Does.Contain("<li><a href=\"/console/ext/test.pages\">pages</a></li>"), "the nav hook's label links the page");
                Assert.That(html, Does.Not.Contain("<script>alert(1)</script>"));
                Assert.That(html, Does.Contain("&lt;script&gt;alert(1)&lt;/script&gt;"));
            });
        }
    }

    [Test]
    public async Task ExtensionPage_FramesOnlyItsOwnAssetOrigin()
    {
        var (browser, _) = await SignedInAsync();
        using (browser)
        {
            using var response = await browser.Http.GetAsync("/console/ext/test.pages");
            var html = await response.Content.ReadAsStringAsync();
            using var noUi = await browser.Http.GetAsync("/console/ext/samples.hello");
            using var missing = await browser.Http.GetAsync("/console/ext/test.nothing");
            var origin = $"http://{AssetOrigins.Label("test.pages")}.localhost:{_platform.AssetsUrl.Port}";

            Assert.Multiple(() =>
            {
                Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
                Assert.That(html, Does.Contain($"data-origin=\"{origin}\""));
                Assert.That(html, Does.Contain("data-entry=\"ui/index.html\""));
                Assert.That(response.Headers.GetValues("Content-Security-Policy").Single(), Does.Contain($"frame-src {origin};"));
                Assert.That(noUi.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
                Assert.That(missing.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            });
        }
    }

    [GeneratedRegex("<output id=\"new-key\"><code>([^<]+)</code></output>")]
    private static partial Regex NewKey();

    [Test]
    public async Task KeysPage_CreatesAKeyShownOnce_ListsItWithoutSecrets_AndRevokesIt_OnlyWithTheFormToken()
    {
        var (browser, csrf) = await SignedInAsync();
        using (browser)
        {
            using var created = await browser.Http.PostAsync("/console/keys", Form(("csrf", csrf), ("name", "ci pipeline")));
            var page = await created.Content.ReadAsStringAsync();
            Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.OK), page);
            var key = NewKey().Match(page).Groups[1].Value;
            Assert.That(key, Does.StartWith("ext_"));
            using (var works = await _platform.Client(key).GetAsync("/api/ext/samples.hello/hello/Ada"))
            {
                Assert.That(works.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the new key is a working tenant key");
            }

            var again = await browser.Http.GetStringAsync("/console/keys");
            Assert.That(again, Does.Not.Contain(key), "the key is shown once, when created");
            using var listed = await _platform.Admin.GetAsync("/api/admin/tenants/default/keys");
            var listText = await listed.Content.ReadAsStringAsync();
            var entry = (await TestPlatform.JsonAsync(listed)).EnumerateArray().Single(k => k.GetProperty("name").GetString() == "ci pipeline");
            Assert.That(listText, Does.Not.Contain(key));
            Assert.That(entry.GetProperty("revokedAt").ValueKind, Is.EqualTo(System.Text.Json.JsonValueKind.Null));
            var id = entry.GetProperty("id").GetString()!;

            using (var forged = await browser.Http.PostAsync($"/console/keys/{id}/revoke", Form(("csrf", "forged"))))
            {
                Assert.That(forged.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
            }

            using (var stillWorks = await _platform.Client(key).GetAsync("/api/ext/samples.hello/hello/Ada"))
            {
                Assert.That(stillWorks.StatusCode, Is.EqualTo(HttpStatusCode.OK), "a forged form revokes nothing");
            }

            using (var revoked = await browser.Http.PostAsync($"/console/keys/{id}/revoke", Form(("csrf", csrf))))
            {
                Assert.That(revoked.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
            }

            using var refused = await _platform.Client(key).GetAsync("/api/ext/samples.hello/hello/Ada");
            Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        }
    }

    [Test]
    public async Task KeysPage_IsForAdminKeysOnly()
    {
        using var created = await _platform.Admin.PostAsJsonAsync("/api/admin/tenants/default/keys", new { name = "plain user" });
        var key = (await TestPlatform.JsonAsync(created)).GetProperty("key").GetString()!;
        var (browser, csrf) = await SignedInAsync(key);
        using (browser)
        {
            using var page = await browser.Http.GetAsync("/console/keys");
            using var create = await browser.Http.PostAsync("/console/keys", Form(("csrf", csrf), ("name", "sneaky")));

            Assert.That(page.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(create.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
            using var listed = await _platform.Admin.GetAsync("/api/admin/tenants/default/keys");
            Assert.That(await listed.Content.ReadAsStringAsync(), Does.Not.Contain("sneaky"));
        }
    }
}
