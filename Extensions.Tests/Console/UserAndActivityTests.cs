using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Extensions.Tests.Support;

namespace Extensions.Tests.Console;

/// <summary>
/// Tenant users over real HTTP on the real platform: the users admin API, password sign-in with throttling, disabled users and
/// new passwords ending sessions, role checks on every console page, and the activity pages (audit, invocations, guest logs)
/// showing only the viewer's own tenant.
/// </summary>
[TestFixture]
[CancelAfter(180_000)]
public sealed partial class UserAndActivityTests
{
    private const int LockoutSeconds = 4;
    private TestPlatform _platform = null!;
    private HttpClient _otherAdmin = null!;
    private string _requestA = null!;
    private string _requestB = null!;
    private readonly Dictionary<string, string> _passwords = [];
    private readonly Dictionary<string, string> _ids = [];

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _platform = await TestPlatform.StartAsync(new Dictionary<string, string?>
        {
            ["Registry:SignInMaxFailures"] = "3",
            ["Registry:SignInMaxFailuresPerAddress"] = "1000",
            ["Registry:SignInLockoutSeconds"] = LockoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        await _platform.DeployAsync(GuestFixtures.CreateWithUi("pages"));

        // Tenant B with samples.hello installed and a key of its own.
        await TestPlatform.EnsureSuccessAsync(await _platform.Admin.PostAsJsonAsync("/api/admin/tenants", new { id = "other", name = "Other" }));
        await TestPlatform.EnsureSuccessAsync(await _platform.Admin.PostAsJsonAsync("/api/admin/installs",
            new { extensionId = "samples.hello", tenant = "other", capabilities = new[] { "cap:log" } }));
        using var key = await _platform.Admin.PostAsJsonAsync("/api/admin/tenants/other/keys", new { name = "b" });
        _otherAdmin = _platform.Client((await TestPlatform.JsonAsync(key)).GetProperty("key").GetString());

        foreach (var (tenant, name, role) in new[]
        {
            ("default", "alice", "admin"), ("default", "bob", "user"), ("default", "dave", "user"), ("default", "erin", "user"),
            ("default", "frank", "user"), ("other", "carol", "admin"),
        })
        {
            using var created = await _platform.Admin.PostAsJsonAsync($"/api/admin/tenants/{tenant}/users", new { name, role });
            Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created), await created.Content.ReadAsStringAsync());
            var body = await TestPlatform.JsonAsync(created);
            _passwords[name] = body.GetProperty("password").GetString()!;
            _ids[name] = body.GetProperty("id").GetString()!;
        }

        // One greeting per tenant: each leaves an invocation and a guest log line in its own tenant only.
        using var a = await _platform.Admin.GetAsync("/api/ext/samples.hello/hello/from-tenant-a");
        _requestA = a.Headers.GetValues("x-request-id").Single();
        using var b = await _otherAdmin.GetAsync("/api/ext/samples.hello/hello/secret-of-tenant-b");
        _requestB = b.Headers.GetValues("x-request-id").Single();
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        _otherAdmin?.Dispose();
        await _platform.DisposeAsync();
    }

    private sealed class Browser : IDisposable
    {
        public Browser(Uri server) => Http = new HttpClient(new HttpClientHandler { CookieContainer = Cookies, AllowAutoRedirect = false }) { BaseAddress = server };

        public CookieContainer Cookies { get; } = new();
        public HttpClient Http { get; }
        public string Csrf { get; set; } = "";

        public void Dispose() => Http.Dispose();
    }

    private static FormUrlEncodedContent Form(params (string, string)[] fields) => new(fields.Select(f => new KeyValuePair<string, string>(f.Item1, f.Item2)));

    private async Task<(Browser Browser, HttpResponseMessage Response)> SignInAsync(string tenant, string user, string password)
    {
        var browser = new Browser(_platform.BaseUrl);
        var response = await browser.Http.PostAsync("/console/sign-in", Form(("tenant", tenant), ("user", user), ("password", password)));
        return (browser, response);
    }

    private async Task<Browser> SignedInAsync(string tenant, string user, string? password = null)
    {
        var (browser, response) = await SignInAsync(tenant, user, password ?? _passwords[user]);
        using (response)
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Redirect), await response.Content.ReadAsStringAsync());
        }

        var page = await browser.Http.GetStringAsync("/console/extensions");
        browser.Csrf = CsrfMeta().Match(page).Groups[1].Value;
        return browser;
    }

    private async Task<JsonElement> AuditAsync(string tenant) =>
        await TestPlatform.JsonAsync(await _platform.Admin.GetAsync($"/api/admin/audit?tenant={tenant}&limit=1000"));

    [GeneratedRegex("<meta name=\"ext-csrf\" content=\"([^\"]+)\">")]
    private static partial Regex CsrfMeta();

    [GeneratedRegex("data-invocation=\"([^\"]+)\"")]
    private static partial Regex InvocationRow();

    [GeneratedRegex("href=\"/console/invocations\\?before=(\\d+)")]
    private static partial Regex OlderLink();

    // ---- the users admin API ----

    [Test]
    public async Task UsersApi_CreatesWithAGeneratedPasswordShownOnce_ListsWithoutHashes_AndRefusesBadInput()
    {
        using var given = await _platform.Admin.PostAsJsonAsync("/api/admin/tenants/default/users", new { name = "Grace", role = "user", password = "a long enough password" });
        using var list = await _platform.Admin.GetAsync("/api/admin/tenants/default/users");
        var listText = await list.Content.ReadAsStringAsync();
        using var duplicate = await _platform.Admin.PostAsJsonAsync("/api/admin/tenants/default/users", new { name = "grace" });
        using var badRole = await _platform.Admin.PostAsJsonAsync("/api/admin/tenants/default/users", new { name = "henry", role = "root" });
        using var shortPassword = await _platform.Admin.PostAsJsonAsync("/api/admin/tenants/default/users", new { name = "henry", password = "short" });
        using var badName = await _platform.Admin.PostAsJsonAsync("/api/admin/tenants/default/users", new { name = "../henry" });
        using var noTenant = await _platform.Admin.PostAsJsonAsync("/api/admin/tenants/nowhere/users", new { name = "henry" });
        using var tenantKey = await _otherAdmin.PostAsJsonAsync("/api/admin/tenants/other/users", new { name = "mallory", role = "admin" });
        using var afterRefusals = await _platform.Admin.GetAsync("/api/admin/tenants/default/users");

        var givenBody = await TestPlatform.JsonAsync(given);
        Assert.Multiple(async () =>
        {
            Assert.That(given.StatusCode, Is.EqualTo(HttpStatusCode.Created));
            Assert.That(givenBody.GetProperty("name").GetString(), Is.EqualTo("grace"), "names are stored lower-case");
            Assert.That(givenBody.GetProperty("password").ValueKind, Is.EqualTo(JsonValueKind.Null), "a given password is never echoed");
            Assert.That(_passwords["alice"], Has.Length.GreaterThanOrEqualTo(20), "a generated password is long");
            Assert.That(listText, Does.Contain("\"alice\"").And.Contain("\"grace\""));
            Assert.That(listText, Does.Not.Contain("AQAAAA").And.Not.Contain("hash").IgnoreCase, "no password hashes");
            Assert.That(listText, Does.Not.Contain("carol"), "another tenant's users are not listed");
            Assert.That(duplicate.StatusCode, Is.EqualTo(HttpStatusCode.Conflict));
            Assert.That((await TestPlatform.JsonAsync(duplicate)).GetProperty("code").GetString(), Is.EqualTo("version_conflict"));
            Assert.That(badRole.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That((await TestPlatform.JsonAsync(badRole)).GetProperty("detail").GetString(), Does.Contain("role"));
            Assert.That(shortPassword.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(badName.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(noTenant.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(tenantKey.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden), "a tenant key is not an operator");
            Assert.That(await afterRefusals.Content.ReadAsStringAsync(), Does.Not.Contain("henry").And.Not.Contain("mallory"));
        });
    }

    // ---- sign-in ----

    [Test]
    public async Task SignIn_AsAUser_StartsASessionCarryingTenantUserAndRole_IntoTheIframeContext_AndIsAudited()
    {
        using var browser = await SignedInAsync("default", "alice");
        var list = await browser.Http.GetStringAsync("/console/extensions");
        var page = await browser.Http.GetStringAsync("/console/ext/test.pages");
        using var call = new HttpRequestMessage(HttpMethod.Get, "/api/ext/samples.hello/hello/Alice");
        call.Headers.Add("x-ext-csrf", browser.Csrf);
        using var called = await browser.Http.SendAsync(call);
        var audit = await AuditAsync("default");

        Assert.Multiple(async () =>
        {
            Assert.That(list, Does.Contain("alice · default"));
            Assert.That(page, Does.Contain($"data-user-id=\"{_ids["alice"]}\""));
            Assert.That(page, Does.Contain("data-user-name=\"alice\""));
            Assert.That(page, Does.Contain("data-user-kind=\"user\""));
            Assert.That(page, Does.Contain("data-user-role=\"admin\""));
            Assert.That(page, Does.Contain("data-tenant=\"default\""));
            Assert.That(called.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(await called.Content.ReadAsStringAsync(), Is.EqualTo("{\"message\":\"Hello, Alice\"}"));
            Assert.That(audit.EnumerateArray().Any(r => r.GetProperty("action").GetString() == "console.signin" && r.GetProperty("who").GetString() == _ids["alice"]), Is.True);
        });
    }

    [TestCase("default", "bob", "wrong password 123")]
    [TestCase("default", "nobody", "wrong password 123")]
    [TestCase("nowhere", "bob", "wrong password 123")]
    [TestCase("other", "bob", "BOB-PASSWORD")]
    public async Task SignIn_WithAWrongUserPasswordOrTenant_SaysOnlyThatItIsWrong_AndSetsNoCookie(string tenant, string user, string password)
    {
        // The last case is bob's real password in a tenant he is not in: users are per tenant.
        var (browser, response) = await SignInAsync(tenant, user, password == "BOB-PASSWORD" ? _passwords["bob"] : password);
        using (browser)
        using (response)
        {
            var html = await response.Content.ReadAsStringAsync();
            Assert.Multiple(() =>
            {
                Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
                Assert.That(html, Does.Contain("That user name or password is wrong."));
                Assert.That(response.Headers.Contains("Set-Cookie"), Is.False);
            });
        }
    }

    [Test]
    public async Task SignIn_AfterTooManyFailures_IsThrottledEvenWithTheRightPassword_Audited_AndOpensAgainAfterTheWindow()
    {
        var outcomes = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            var (b, r) = await SignInAsync("default", "dave", $"not daves password {i}");
            outcomes.Add(r.StatusCode);
            b.Dispose();
            r.Dispose();
        }

        var (browser, throttled) = await SignInAsync("default", "dave", _passwords["dave"]);
        var html = await throttled.Content.ReadAsStringAsync();
        var retryAfter = throttled.Headers.RetryAfter?.Delta;
        var hasCookie = throttled.Headers.Contains("Set-Cookie");
        browser.Dispose();
        throttled.Dispose();

        // Another user from the same address is not held back by dave's failures.
        using var bob = await SignedInAsync("default", "bob");
        var audit = await AuditAsync("default");

        await Task.Delay(TimeSpan.FromSeconds(LockoutSeconds + 1));
        using var later = await SignedInAsync("default", "dave");

        Assert.Multiple(() =>
        {
            Assert.That(outcomes, Is.EqualTo(new[] { HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, (HttpStatusCode)429 }));
            Assert.That((int)throttled.StatusCode, Is.EqualTo(429));
            Assert.That(html, Does.Contain("Too many failed sign-ins for this user name from your address."));
            Assert.That(retryAfter, Is.Not.Null.And.GreaterThan(TimeSpan.Zero).And.LessThanOrEqualTo(TimeSpan.FromSeconds(LockoutSeconds)));
            Assert.That(hasCookie, Is.False);
            Assert.That(audit.EnumerateArray().Count(r => r.GetProperty("action").GetString() == "console.signin.failed" && r.GetProperty("subject").GetString() == "dave"),
                Is.EqualTo(3));
            Assert.That(audit.EnumerateArray().Count(r => r.GetProperty("action").GetString() == "console.signin.throttled" && r.GetProperty("subject").GetString() == "dave"),
                Is.EqualTo(1));
        });
    }

    [Test]
    public async Task DisabledUser_LosesTheSession_AndCannotSignInAgain_WhileAWrongPasswordStillSaysOnlyWrong()
    {
        using var browser = await SignedInAsync("default", "erin");
        using var before = await browser.Http.GetAsync("/console/extensions");
        using (var disabled = await _platform.Admin.PostAsync("/api/admin/tenants/default/users/erin/disable", null))
        {
            await TestPlatform.EnsureSuccessAsync(disabled);
        }

        using var after = await browser.Http.GetAsync("/console/extensions");
        using var api = new HttpRequestMessage(HttpMethod.Get, "/api/ext/samples.hello/hello/Erin");
        api.Headers.Add("x-ext-csrf", browser.Csrf);
        using var apiAfter = await browser.Http.SendAsync(api);
        var (b1, right) = await SignInAsync("default", "erin", _passwords["erin"]);
        var (b2, wrong) = await SignInAsync("default", "erin", "not erins password");
        using var again = await _platform.Admin.PostAsync("/api/admin/tenants/default/users/erin/disable", null);

        Assert.Multiple(async () =>
        {
            Assert.That(before.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(after.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
            Assert.That(after.Headers.Location?.ToString(), Is.EqualTo("/console/sign-in"));
            Assert.That(apiAfter.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(right.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(await right.Content.ReadAsStringAsync(), Does.Contain("This user is disabled."));
            Assert.That(right.Headers.Contains("Set-Cookie"), Is.False);
            Assert.That(wrong.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "without the password nobody learns the user is disabled");
            Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        });
        b1.Dispose();
        b2.Dispose();
        right.Dispose();
        wrong.Dispose();
    }

    [Test]
    public async Task NewPassword_EndsTheUsersSessions_TheOldOneStopsWorking_AndTheNewOneWorks()
    {
        using var browser = await SignedInAsync("default", "frank");
        using var reset = await _platform.Admin.PutAsJsonAsync("/api/admin/tenants/default/users/frank/password", new { password = "franks brand new password" });
        using var after = await browser.Http.GetAsync("/console/extensions");
        var (b1, old) = await SignInAsync("default", "frank", _passwords["frank"]);
        using var fresh = await SignedInAsync("default", "frank", "franks brand new password");
        using var generated = await _platform.Admin.PutAsync("/api/admin/tenants/default/users/frank/password", null);
        var newPassword = (await TestPlatform.JsonAsync(generated)).GetProperty("password").GetString()!;
        using var withGenerated = await SignedInAsync("default", "frank", newPassword);
        using var unknown = await _platform.Admin.PutAsJsonAsync("/api/admin/tenants/default/users/nobody/password", new { password = "whatever whatever" });

        Assert.Multiple(() =>
        {
            Assert.That(reset.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(after.StatusCode, Is.EqualTo(HttpStatusCode.Redirect), "the old session ended");
            Assert.That(old.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(newPassword, Has.Length.GreaterThanOrEqualTo(20));
            Assert.That(unknown.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        });
        b1.Dispose();
        old.Dispose();
    }

    // ---- roles ----

    [Test]
    public async Task UserRole_OpensExtensionPagesAndCallsExtensions_ButNoAdminPageFormOrApi()
    {
        using var bob = await SignedInAsync("default", "bob");
        var list = await bob.Http.GetStringAsync("/console/extensions");
        var page = await bob.Http.GetStringAsync("/console/ext/test.pages");
        var statuses = new Dictionary<string, HttpStatusCode>();
        foreach (var path in new[] { "/console/keys", "/console/audit", "/console/invocations", "/console/logs" })
        {
            using var response = await bob.Http.GetAsync(path);
            statuses[path] = response.StatusCode;
        }

        using var createKey = await bob.Http.PostAsync("/console/keys", Form(("csrf", bob.Csrf), ("name", "bobs key")));
        using var adminApi = new HttpRequestMessage(HttpMethod.Get, "/api/admin/audit");
        adminApi.Headers.Add("x-ext-csrf", bob.Csrf);
        using var adminApiResponse = await bob.Http.SendAsync(adminApi);
        using var usersApi = new HttpRequestMessage(HttpMethod.Post, "/api/admin/tenants/default/users") { Content = JsonContent.Create(new { name = "bobs-friend", role = "admin" }) };
        usersApi.Headers.Add("x-ext-csrf", bob.Csrf);
        using var usersApiResponse = await bob.Http.SendAsync(usersApi);
        using var call = new HttpRequestMessage(HttpMethod.Get, "/api/ext/samples.hello/hello/Bob");
        call.Headers.Add("x-ext-csrf", bob.Csrf);
        using var called = await bob.Http.SendAsync(call);
        using var keys = await _platform.Admin.GetAsync("/api/admin/tenants/default/keys");
        using var users = await _platform.Admin.GetAsync("/api/admin/tenants/default/users");

        Assert.Multiple(async () =>
        {
            Assert.That(list, Does.Not.Contain("href=\"/console/audit\"").And.Not.Contain("href=\"/console/keys\""), "no admin entries in bob's navigation");
            Assert.That(page, Does.Contain("data-user-role=\"user\"").And.Contain($"data-user-id=\"{_ids["bob"]}\""));
            Assert.That(statuses.Values, Is.All.EqualTo(HttpStatusCode.Forbidden), string.Join(", ", statuses));
            Assert.That(createKey.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(await keys.Content.ReadAsStringAsync(), Does.Not.Contain("bobs key"));
            Assert.That(adminApiResponse.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(usersApiResponse.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(await users.Content.ReadAsStringAsync(), Does.Not.Contain("bobs-friend"));
            Assert.That(called.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        });
    }

    [Test]
    public async Task AdminRole_ManagesTheTenantsKeys_ButIsNoOperator()
    {
        using var alice = await SignedInAsync("default", "alice");
        using var keysPage = await alice.Http.GetAsync("/console/keys");
        using var created = await alice.Http.PostAsync("/console/keys", Form(("csrf", alice.Csrf), ("name", "made by alice")));
        using var operatorApi = new HttpRequestMessage(HttpMethod.Get, "/api/admin/installs");
        operatorApi.Headers.Add("x-ext-csrf", alice.Csrf);
        using var operatorResponse = await alice.Http.SendAsync(operatorApi);
        using var keys = await _platform.Admin.GetAsync("/api/admin/tenants/default/keys");

        Assert.Multiple(async () =>
        {
            Assert.That(keysPage.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(await keys.Content.ReadAsStringAsync(), Does.Contain("made by alice"));
            Assert.That(operatorResponse.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden), "the admin API across tenants stays the operator's");
        });
    }

    [Test]
    public async Task InstallPages_LetATenantAdminUserManage_ButNotAUser_AndPublishingStaysTheOperators()
    {
        using var alice = await SignedInAsync("default", "alice");
        using var bob = await SignedInAsync("default", "bob");
        var aliceNav = await alice.Http.GetStringAsync("/console/extensions");
        var bobPage = await bob.Http.GetStringAsync("/console/installs/samples.hello");
        using var bobDisable = await bob.Http.PostAsync("/console/installs/samples.hello/state", Form(("csrf", bob.Csrf), ("state", "disabled")));
        var afterBob = await StateAsync();
        using var alicePublish = await alice.Http.GetAsync("/console/publish");
        using var aliceDisable = await alice.Http.PostAsync("/console/installs/samples.hello/state", Form(("csrf", alice.Csrf), ("state", "disabled")));
        var afterAlice = await StateAsync();
        using var aliceEnable = await alice.Http.PostAsync("/console/installs/samples.hello/state", Form(("csrf", alice.Csrf), ("state", "enabled")));

        Assert.Multiple(async () =>
        {
            Assert.That(bobPage, Does.Contain("id=\"install-state\"").And.Not.Contain("/state\""), "a user sees the install read-only");
            Assert.That(bobDisable.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(afterBob, Is.EqualTo("enabled"), "a user's post changes nothing");
            Assert.That(aliceDisable.StatusCode, Is.EqualTo(HttpStatusCode.Redirect), await aliceDisable.Content.ReadAsStringAsync());
            Assert.That(afterAlice, Is.EqualTo("disabled"), "a tenant admin user manages the tenant's installs");
            Assert.That(await StateAsync(), Is.EqualTo("enabled"));
            Assert.That(alicePublish.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden), "a published version reaches every tenant: the operator's key only");
            Assert.That(aliceNav, Does.Not.Contain("href=\"/console/publish\""));
        });

        async Task<string?> StateAsync() =>
            (await TestPlatform.JsonAsync(await _platform.Admin.GetAsync("/api/admin/installs/default/samples.hello"))).GetProperty("state").GetString();
    }

    // ---- activity ----

    [Test]
    public async Task ActivityPages_ShowTheViewersOwnTenantOnly()
    {
        using var alice = await SignedInAsync("default", "alice");
        using var carol = await SignedInAsync("other", "carol");
        var aliceAudit = await alice.Http.GetStringAsync("/console/audit");
        var aliceInvocations = await alice.Http.GetStringAsync("/console/invocations");
        var aliceLogs = await alice.Http.GetStringAsync("/console/logs");
        var carolAudit = await carol.Http.GetStringAsync("/console/audit");
        var carolInvocations = await carol.Http.GetStringAsync("/console/invocations");
        var carolLogs = await carol.Http.GetStringAsync("/console/logs");

        // A tenant B id smuggled into tenant A's filters still shows nothing of tenant B.
        var installB = (await TestPlatform.JsonAsync(await _otherAdmin.GetAsync($"/api/admin/invocations?limit=1"))).EnumerateArray().First().GetProperty("installId").GetString()!;
        var smuggledInvocations = await alice.Http.GetStringAsync($"/console/invocations?install={installB}");
        var smuggledLogs = await alice.Http.GetStringAsync($"/console/logs?install={installB}&extension=samples.hello");
        var smuggledAudit = await alice.Http.GetStringAsync($"/console/audit?subject={_ids["carol"]}");

        Assert.Multiple(() =>
        {
            Assert.That(aliceAudit, Does.Contain("user.create").And.Contain(_ids["bob"]));
            Assert.That(aliceAudit, Does.Not.Contain(_ids["carol"]), "tenant B's audit entries");
            Assert.That(aliceInvocations, Does.Contain(_requestA));
            Assert.That(aliceInvocations, Does.Not.Contain(_requestB));
            Assert.That(aliceLogs, Does.Contain("greeting from-tenant-a"));
            Assert.That(aliceLogs, Does.Not.Contain("secret-of-tenant-b"), "a guest log line of tenant B never on tenant A's page");
            Assert.That(carolAudit, Does.Contain(_ids["carol"]).And.Not.Contain(_ids["bob"]));
            Assert.That(carolInvocations, Does.Contain(_requestB).And.Not.Contain(_requestA));
            Assert.That(carolLogs, Does.Contain("greeting secret-of-tenant-b").And.Not.Contain("from-tenant-a"));
            Assert.That(smuggledInvocations, Does.Contain("No invocations match.").And.Not.Contain(_requestB));
            Assert.That(smuggledLogs, Does.Contain("No log lines match.").And.Not.Contain("secret-of-tenant-b"));
            Assert.That(smuggledAudit, Does.Contain("No audit entries match."));
        });
    }

    [Test]
    public async Task InvocationsPage_ShowsUsage_FiltersByExtensionAndInstall_AndPagesWithoutOverlap()
    {
        for (var i = 0; i < 55; i++)
        {
            using var r = await _platform.Admin.GetAsync($"/api/ext/samples.hello/hello/page-{i}");
            await TestPlatform.EnsureSuccessAsync(r);
        }

        using var alice = await SignedInAsync("default", "alice");
        var first = await alice.Http.GetStringAsync("/console/invocations?extension=samples.hello");
        var older = OlderLink().Match(first);
        var second = older.Success ? await alice.Http.GetStringAsync($"/console/invocations?before={older.Groups[1].Value}&extension=samples.hello") : "";
        var firstIds = InvocationRow().Matches(first).Select(m => m.Groups[1].Value).ToList();
        var secondIds = InvocationRow().Matches(second).Select(m => m.Groups[1].Value).ToList();
        var api = (await TestPlatform.JsonAsync(await _platform.Admin.GetAsync($"/api/admin/invocations?tenant=default&extension=samples.hello&limit=1"))).EnumerateArray().First();
        var byInstall = await alice.Http.GetStringAsync($"/console/invocations?install={api.GetProperty("installId").GetString()}");
        var otherExtension = await alice.Http.GetStringAsync("/console/invocations?extension=test.pages");
        var errors = await alice.Http.GetStringAsync("/console/logs?level=error");
        using var badLevel = await alice.Http.GetAsync("/console/logs?level=loud");

        Assert.Multiple(async () =>
        {
            Assert.That(firstIds, Has.Count.EqualTo(50));
            Assert.That(older.Success, Is.True, "an Older link when there is more");
            Assert.That(secondIds, Is.Not.Empty);
            Assert.That(secondIds.Intersect(firstIds), Is.Empty, "pages do not overlap");
            Assert.That(first, Does.Contain(api.GetProperty("requestId").GetString()), "the newest invocation is on the first page");
            Assert.That(first, Does.Contain("/hello/:name").And.Contain(" ms</td>").And.Contain("<code>ok</code>"));
            Assert.That(first, Does.Contain(api.GetProperty("fuel").GetInt64().ToString("N0", System.Globalization.CultureInfo.InvariantCulture)));
            Assert.That(second, Does.Contain(">Newest</a>"));
            Assert.That(InvocationRow().Count(byInstall), Is.GreaterThan(0));
            Assert.That(otherExtension, Does.Contain("No invocations match."));
            Assert.That(errors, Does.Contain("No log lines match."));
            Assert.That(badLevel.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(await badLevel.Content.ReadAsStringAsync(), Does.Contain("Unknown level"));
        });
    }

    [Test]
    public async Task ActivityPages_AreServerRendered_KeyboardReachable_WithTheConsoleHeaders()
    {
        using var alice = await SignedInAsync("default", "alice");
        using var response = await alice.Http.GetAsync("/console/audit?extension=samples.hello");
        var html = await response.Content.ReadAsStringAsync();
        using var signedOut = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = _platform.BaseUrl };
        using var anonymous = await signedOut.GetAsync("/console/logs");

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(response.Headers.CacheControl?.NoStore, Is.True);
            Assert.That(response.Headers.GetValues("Content-Security-Policy").Single(), Does.Contain("frame-src 'none'"));
            Assert.That(html, Does.Contain("<a class=\"skip\" href=\"#main\">"));
            Assert.That(html, Does.Contain("<label for=\"f-extension\">Extension</label>"));
            Assert.That(html, Does.Contain("<option selected value=\"samples.hello\">"));
            Assert.That(html, Does.Contain("tabindex=\"0\" role=\"region\" aria-label=\"Audit entries\"").Or.Contain("No audit entries match."));
            Assert.That(html, Does.Contain("href=\"/console/audit\" aria-current=\"page\""));
            Assert.That(html, Does.Contain("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"));
            Assert.That(anonymous.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
            Assert.That(anonymous.Headers.Location?.ToString(), Is.EqualTo("/console/sign-in"));
        });
    }

    // ---- the console and the UI kit share tokens ----

    [Test]
    public async Task ConsoleStyles_ComeFromTheUiKitsTokens()
    {
        using var http = new HttpClient { BaseAddress = _platform.BaseUrl };
        var signIn = await http.GetStringAsync("/console/sign-in");
        var kit = await http.GetByteArrayAsync("/console/static/ui-kit.css");
        var console = await http.GetStringAsync("/console/static/console.css");

        Assert.Multiple(() =>
        {
            Assert.That(kit, Is.EqualTo(File.ReadAllBytes(RepoFiles.PathOf("sdk/ui-kit/ui-kit.css"))), "the same stylesheet extension pages get");
            Assert.That(signIn.IndexOf("/console/static/ui-kit.css", StringComparison.Ordinal), Is.GreaterThan(0)
                .And.LessThan(signIn.IndexOf("/console/static/console.css", StringComparison.Ordinal)), "tokens load before the console's layout");
            Assert.That(Regex.Count(console, "#[0-9a-fA-F]{3,8}\\b"), Is.Zero, "no colour of its own: only the kit's tokens");
            Assert.That(console, Does.Contain("var(--ext-bg)").And.Contain("var(--ext-accent)"));
            Assert.That(signIn, Does.Contain("<label for=\"user\">User name</label>").And.Contain("<label for=\"key\">API key</label>"));
        });
    }
}
