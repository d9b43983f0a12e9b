using System.Net;
using System.Net.Http.Json;
using Extensions.Tests.Support;

namespace Extensions.Tests.Gateway;

/// <summary>CORS: off by default, an exact allowlist per install, never <c>*</c>, never credentials, preflight answered by the gateway.</summary>
[TestFixture]
[CancelAfter(60_000)]
public sealed class CorsTests
{
    private const string Allowed = "https://app.example.com";
    private const string Evil = "https://evil.example.com";
    private TestPlatform _platform = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _platform = await TestPlatform.StartAsync();
        await _platform.DeployAsync(GuestFixtures.Create("cors", GatewayGuests.Echo, endpoints: [("GET", "/items"), ("POST", "/items")]));
        await _platform.DeployAsync(GuestFixtures.Create("closed", GatewayGuests.Echo, endpoints: [("GET", "/items")]));
        using var put = await _platform.Admin.PutAsJsonAsync("/api/admin/installs/default/test.cors/cors", new { origins = new[] { Allowed + "/", "http://localhost:3000" } });
        await TestPlatform.EnsureSuccessAsync(put);
    }

    [OneTimeTearDown]
    public async Task StopAsync() => await _platform.DisposeAsync();

    private Task<HttpResponseMessage> GetAsync(string path, string? origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        return _platform.Admin.SendAsync(request);
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(", ", values) : null;

    [Test]
    public async Task AllowedOrigin_GetsItsOwnOriginBack_NeverAStar_NeverCredentials()
    {
        using var response = await GetAsync("/api/ext/test.cors/items", Allowed);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(Header(response, "Access-Control-Allow-Origin"), Is.EqualTo(Allowed));
        Assert.That(Header(response, "Access-Control-Allow-Credentials"), Is.Null);
        Assert.That(Header(response, "Vary"), Does.Contain("Origin"));
        Assert.That(Header(response, "Access-Control-Expose-Headers"), Does.Contain("x-request-id"));
    }

    [Test]
    public async Task AllowedOrigin_CanReadErrors_Too()
    {
        using var response = await GetAsync("/api/ext/test.cors/nothing", Allowed);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(Header(response, "Access-Control-Allow-Origin"), Is.EqualTo(Allowed));
    }

    [TestCase(Evil)]
    [TestCase("https://app.example.com.evil.com")]
    [TestCase("http://app.example.com")]
    [TestCase("null")]
    public async Task DisallowedOrigin_IsRefusedBeforeTheGuestRuns_AndNotReflected(string origin)
    {
        using var response = await GetAsync("/api/ext/test.cors/items", origin);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That((await TestPlatform.JsonAsync(response)).GetProperty("code").GetString(), Is.EqualTo("cors_origin_denied"));
        Assert.That(Header(response, "Access-Control-Allow-Origin"), Is.Null);
        Assert.That(response.Headers.Contains("x-ext-fuel"), Is.False);
    }

    [Test]
    public async Task CorsIsOffByDefault()
    {
        using var response = await GetAsync("/api/ext/test.closed/items", Allowed);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(Header(response, "Access-Control-Allow-Origin"), Is.Null);
    }

    [Test]
    public async Task AbsentOrSameOrigin_IsServedWithoutCorsHeaders()
    {
        using var absent = await GetAsync("/api/ext/test.closed/items", null);
        using var same = await GetAsync("/api/ext/test.closed/items", _platform.BaseUrl.GetLeftPart(UriPartial.Authority));

        foreach (var response in new[] { absent, same })
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(Header(response, "Access-Control-Allow-Origin"), Is.Null);
        }
    }

    [Test]
    public async Task Preflight_FromAnAllowedOrigin_IsAnsweredWithoutAKey()
    {
        var request = new HttpRequestMessage(HttpMethod.Options, "/api/ext/test.cors/items");
        request.Headers.Add("Origin", Allowed);
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "authorization, content-type, idempotency-key, cookie, x-forwarded-for, x-trace");
        using var response = await _platform.Client(null).SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That(Header(response, "Access-Control-Allow-Origin"), Is.EqualTo(Allowed));
        Assert.That(Header(response, "Access-Control-Allow-Methods"), Is.EqualTo("POST"));
        var allowedHeaders = Header(response, "Access-Control-Allow-Headers")!.Split(", ");
        Assert.That(allowedHeaders, Is.EquivalentTo(new[] { "authorization", "content-type", "idempotency-key", "x-trace" }));
        Assert.That(Header(response, "Access-Control-Allow-Credentials"), Is.Null);
        Assert.That(Header(response, "Access-Control-Max-Age"), Is.EqualTo("600"));
    }

    [TestCase(Evil, "/api/ext/test.cors/items")]
    [TestCase(Allowed, "/api/ext/test.closed/items")]
    public async Task Preflight_FromADisallowedOrigin_IsRefused_AndNotReflected(string origin, string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "GET");
        using var response = await _platform.Client(null).SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(Header(response, "Access-Control-Allow-Origin"), Is.Null);
    }

    [Test]
    public async Task AnotherTenantsAllowlist_DoesNotOpenThisTenantsInstall()
    {
        using var created = await _platform.Admin.PostAsJsonAsync("/api/admin/tenants", new { id = "corsb", name = "B" });
        using var installed = await _platform.Admin.PostAsJsonAsync("/api/admin/installs", new { extensionId = "test.cors", tenant = "corsb", version = "1.0.0" });
        await TestPlatform.EnsureSuccessAsync(installed);
        using var keyResponse = await _platform.Admin.PostAsJsonAsync("/api/admin/tenants/corsb/keys", new { name = "k" });
        using var tenantB = _platform.Client((await TestPlatform.JsonAsync(keyResponse)).GetProperty("key").GetString());

        var request = new HttpRequestMessage(HttpMethod.Get, "/api/ext/test.cors/items");
        request.Headers.Add("Origin", Allowed);
        using var response = await tenantB.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden), "tenant default allowed the origin, tenant corsb did not");
        Assert.That(Header(response, "Access-Control-Allow-Origin"), Is.Null);
    }

    [Test]
    public async Task Allowlist_IsStoredNormalised_AndReadBack()
    {
        using var response = await _platform.Admin.GetAsync("/api/admin/installs/default/test.cors/cors");
        var origins = (await TestPlatform.JsonAsync(response)).GetProperty("origins").EnumerateArray().Select(o => o.GetString()).ToList();
        Assert.That(origins, Is.EquivalentTo(new[] { Allowed, "http://localhost:3000" }));
    }

    [TestCase("*")]
    [TestCase("https://*.example.com")]
    [TestCase("null")]
    [TestCase("https://app.example.com/path")]
    [TestCase("https://app.example.com?x=1")]
    [TestCase("ftp://files.example.com")]
    [TestCase("https://user@app.example.com")]
    [TestCase("app.example.com")]
    public async Task InvalidOrigin_IsRefused_AndTheStoredListIsUnchanged(string origin)
    {
        using var put = await _platform.Admin.PutAsJsonAsync("/api/admin/installs/default/test.cors/cors", new { origins = new[] { "https://ok.example.com", origin } });
        Assert.That(put.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), await put.Content.ReadAsStringAsync());
        Assert.That((await TestPlatform.JsonAsync(put)).GetProperty("code").GetString(), Is.EqualTo("invalid_request"));

        using var get = await _platform.Admin.GetAsync("/api/admin/installs/default/test.cors/cors");
        Assert.That((await TestPlatform.JsonAsync(get)).GetProperty("origins").GetArrayLength(), Is.EqualTo(2));
    }

    [Test]
    public async Task Allowlist_ForANotInstalledExtension_IsNotFound_AndTenantKeysMayNotSetIt()
    {
        using var missing = await _platform.Admin.PutAsJsonAsync("/api/admin/installs/default/nobody.nothing/cors", new { origins = new[] { Allowed } });
        Assert.That(missing.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));

        using var keyResponse = await _platform.Admin.PostAsJsonAsync("/api/admin/tenants/default/keys", new { name = "tenant key" });
        using var tenantKey = _platform.Client((await TestPlatform.JsonAsync(keyResponse)).GetProperty("key").GetString());
        using var forbidden = await tenantKey.PutAsJsonAsync("/api/admin/installs/default/test.closed/cors", new { origins = new[] { Evil } });
        Assert.That(forbidden.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
    }

    [Test]
    public async Task EmptyList_TurnsCorsOffAgain()
    {
        await _platform.DeployAsync(GuestFixtures.Create("toggle", GatewayGuests.Echo, endpoints: [("GET", "/items")]));
        using var on = await _platform.Admin.PutAsJsonAsync("/api/admin/installs/default/test.toggle/cors", new { origins = new[] { Allowed } });
        using var allowed = await GetAsync("/api/ext/test.toggle/items", Allowed);
        using var off = await _platform.Admin.PutAsJsonAsync("/api/admin/installs/default/test.toggle/cors", new { origins = Array.Empty<string>() });
        using var refused = await GetAsync("/api/ext/test.toggle/items", Allowed);

        Assert.That(allowed.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
    }
}
