using System.Net;
using Extensions.Tests.Support;

namespace Extensions.Tests.Gateway;

/// <summary>HEAD as GET, OPTIONS answered by the gateway, and paths decoded once, safely, from what the client sent.</summary>
[TestFixture]
[CancelAfter(60_000)]
public sealed class RoutingTests
{
    private TestPlatform _platform = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _platform = await TestPlatform.StartAsync();
        await _platform.DeployAsync(GuestFixtures.Create("echo", GatewayGuests.Echo,
            endpoints: [("GET", "/items/:id"), ("PUT", "/items/:id"), ("DELETE", "/items/:id"), ("POST", "/items")]));
    }

    [OneTimeTearDown]
    public async Task StopAsync() => await _platform.DisposeAsync();

    private Task<RawHttp.Response> RawAsync(string method, string target, string? extraHeaders = null) =>
        RawHttp.SendAsync(_platform.BaseUrl, $"{method} {target} HTTP/1.1\r\nAuthorization: Bearer {_platform.AdminKey}{extraHeaders}");

    [Test]
    public async Task Head_RunsTheGetEndpoint_WithTheSameHeadersAndNoBody()
    {
        using var get = await _platform.Admin.GetAsync("/api/ext/samples.hello/hello/Ada");
        var getBody = await get.Content.ReadAsByteArrayAsync();
        using var head = await _platform.Admin.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/api/ext/samples.hello/hello/Ada"));

        Assert.That(head.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(head.Content.Headers.ContentLength, Is.EqualTo(getBody.Length));
        Assert.That(head.Content.Headers.ContentType?.ToString(), Is.EqualTo(get.Content.Headers.ContentType?.ToString()));
        Assert.That(await head.Content.ReadAsByteArrayAsync(), Is.Empty);
        Assert.That(head.Headers.Contains("x-ext-fuel"), "HEAD runs the guest like GET does");
    }

    [Test]
    public async Task Head_ReachesTheGuestAsGet()
    {
        var raw = await RawAsync("HEAD", "/api/ext/test.echo/items/7");
        var get = await RawAsync("GET", "/api/ext/test.echo/items/7");

        Assert.That(raw.Status, Is.EqualTo(200));
        Assert.That(raw.Body, Is.Empty);
        Assert.That(get.Body, Is.EqualTo("GET /items/7"));
        Assert.That(raw.Headers["Content-Length"], Is.EqualTo(get.Headers["Content-Length"]));
    }

    [Test]
    public async Task Head_OnAPostOnlyPath_IsEndpointNotFound()
    {
        var raw = await RawAsync("HEAD", "/api/ext/test.echo/items");
        Assert.That(raw.Status, Is.EqualTo(404));
    }

    [Test]
    public async Task Options_ListsTheDeclaredMethodsForThePath_WithoutRunningTheGuest()
    {
        using var response = await _platform.Admin.SendAsync(new HttpRequestMessage(HttpMethod.Options, "/api/ext/test.echo/items/7"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        var allow = response.Content.Headers.Allow.ToList();
        Assert.That(allow, Is.EquivalentTo(new[] { "GET", "HEAD", "PUT", "DELETE", "OPTIONS" }));
        Assert.That(response.Headers.Contains("x-ext-fuel"), Is.False, "OPTIONS is the gateway's answer; no guest ran");

        using var collection = await _platform.Admin.SendAsync(new HttpRequestMessage(HttpMethod.Options, "/api/ext/test.echo/items"));
        Assert.That(collection.Content.Headers.Allow, Is.EquivalentTo(new[] { "POST", "OPTIONS" }));
    }

    [Test]
    public async Task Options_OnAnUndeclaredPath_IsEndpointNotFound()
    {
        using var response = await _platform.Admin.SendAsync(new HttpRequestMessage(HttpMethod.Options, "/api/ext/test.echo/nothing/here"));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That((await TestPlatform.JsonAsync(response)).GetProperty("code").GetString(), Is.EqualTo("endpoint_not_found"));
    }

    [Test]
    public async Task Options_WithoutKey_IsUnauthenticated_AndDoesNotRevealTheEndpoints()
    {
        using var response = await _platform.Client(null).SendAsync(new HttpRequestMessage(HttpMethod.Options, "/api/ext/test.echo/items/7"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(response.Content.Headers.Allow, Is.Empty);
    }

    [Test]
    public async Task Options_ForAnotherTenantsExtension_IsNotInstalled()
    {
        var key = await NewTenantKeyAsync("optten");
        using var response = await _platform.Client(key).SendAsync(new HttpRequestMessage(HttpMethod.Options, "/api/ext/test.echo/items/7"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That((await TestPlatform.JsonAsync(response)).GetProperty("code").GetString(), Is.EqualTo("extension_not_installed"));
    }

    [TestCase("/api/ext/test.echo/items/Ad%61", "GET /items/Ada")]
    [TestCase("/api/ext/test.echo/items/a%20b", "GET /items/a b")]
    [TestCase("/api/ext/test.echo/items/%252e%252e", "GET /items/%2e%2e")]
    [TestCase("/api/ext/test.echo/items/%C3%A9", "GET /items/é")]
    [TestCase("/api/ext/test%2eecho/items/7", "GET /items/7")]
    public async Task PercentEncoding_IsDecodedOnce(string target, string echoed)
    {
        var response = await RawAsync("GET", target);

        Assert.That(response.Status, Is.EqualTo(200), response.Body);
        Assert.That(response.Body, Is.EqualTo(echoed));
    }

    [Test]
    public async Task PercentEncodedParameter_ReachesTheGuestDecoded()
    {
        using var response = await _platform.Admin.GetAsync("/api/ext/samples.hello/hello/Ada%20Lovelace");
        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo("""{"message":"Hello, Ada Lovelace"}"""));
    }

    // Each of these would, if decoded and normalised before routing, address a different route or extension.
    [TestCase("/api/ext/test.echo/items/..%2f..%2fsamples.hello")]
    [TestCase("/api/ext/test.echo/items/%2e%2e%2f")]
    [TestCase("/api/ext/test.echo/items/%2e")]
    [TestCase("/api/ext/test.echo/items/.")]
    [TestCase("/api/ext/test.echo/items/%5c..%5csecret")]
    [TestCase("/api/ext/samples.hello/../test.echo/items/7")]
    [TestCase("/api/ext/samples.hello/%2e%2e/test.echo/items/7")]
    [TestCase("/api/ext/test.echo/./items/7")]
    public async Task DotSegmentsAndEncodedSeparators_AreRefused_NotReinterpreted(string target)
    {
        var response = await RawAsync("GET", target);

        Assert.That(response.Status, Is.EqualTo(400), response.Body);
        Assert.That(response.Body, Does.Contain("\"code\":\"invalid_request\""));
        Assert.That(response.Headers.ContainsKey("x-ext-fuel"), Is.False, "no guest ran");
    }

    [Test]
    public async Task RawBackslash_IsRefused()
    {
        var response = await RawAsync("GET", "/api/ext/test.echo/items/..\\..\\x");
        Assert.That(response.Status, Is.EqualTo(400), response.Body);
    }

    [Test]
    public async Task TraversalFromOutsideTheGatewayPrefix_IsRefused()
    {
        // Kestrel normalises this path to /api/ext/test.echo/items/7; the gateway routes on the raw target and refuses it.
        var response = await RawAsync("GET", "/api/admin/../ext/test.echo/items/7");
        Assert.That(response.Status, Is.EqualTo(400), response.Body);
    }

    [Test]
    public async Task QueryString_IsPassedRaw_AndDoesNotAffectRouting()
    {
        var response = await RawAsync("GET", "/api/ext/test.echo/items/7?next=/../../admin&x=%2F");
        Assert.That(response.Status, Is.EqualTo(200));
        Assert.That(response.Body, Is.EqualTo("GET /items/7"));
    }

    private async Task<string> NewTenantKeyAsync(string tenant)
    {
        using var created = await _platform.Admin.PostAsync("/api/admin/tenants",
            System.Net.Http.Json.JsonContent.Create(new { id = tenant, name = tenant }));
        await TestPlatform.EnsureSuccessAsync(created);
        using var keyResponse = await _platform.Admin.PostAsync($"/api/admin/tenants/{tenant}/keys",
            System.Net.Http.Json.JsonContent.Create(new { name = "k" }));
        return (await TestPlatform.JsonAsync(keyResponse)).GetProperty("key").GetString()!;
    }
}
