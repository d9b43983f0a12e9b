using System.Net;
using Extensions.Tests.Support;

namespace Extensions.Tests.Gateway;

/// <summary>What a guest may say about its response: its content headers and its own <c>x-</c> headers, nothing of the host's.</summary>
[TestFixture]
[CancelAfter(60_000)]
public sealed class ResponseHeaderTests
{
    private TestPlatform _platform = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _platform = await TestPlatform.StartAsync();
        await _platform.DeployAsync(GuestFixtures.Create("headers", GatewayGuests.Respond(200, "ok",
            ("content-type", "application/json"),
            ("cache-control", "max-age=60"),
            ("etag", "\"v1\""),
            ("x-custom", "yes"),
            ("set-cookie", "session=stolen; Path=/; HttpOnly"),
            ("Set-Cookie", "admin=1"),
            ("connection", "close"),
            ("transfer-encoding", "chunked"),
            ("content-length", "999"),
            ("keep-alive", "timeout=600"),
            ("upgrade", "websocket"),
            ("trailer", "x-late"),
            ("strict-transport-security", "max-age=0"),
            ("content-security-policy", "default-src *"),
            ("x-frame-options", "ALLOWALL"),
            ("x-content-type-options", "sniff"),
            ("access-control-allow-origin", "*"),
            ("access-control-allow-credentials", "true"),
            ("x-ext-fuel", "0"),
            ("x-request-id", "spoofed"),
            ("idempotent-replayed", "true"),
            ("x-forwarded-for", "10.0.0.1"),
            ("www-authenticate", "Basic"),
            ("server", "evil"),
            ("x-crlf", "a\r\nSet-Cookie: injected=1"),
            ("x-bad name", "v"),
            ("x-after-bad", "still-here"))));
        await _platform.DeployAsync(GuestFixtures.Create("nocontent", GatewayGuests.Respond(204, "a body a 204 must not have")));
        await _platform.DeployAsync(GuestFixtures.Create("notmodified", GatewayGuests.Respond(304, "stale", ("etag", "\"v1\""))));
        await _platform.DeployAsync(GuestFixtures.Create("informational", GatewayGuests.Respond(101, "upgrade me", ("upgrade", "websocket"))));
        await _platform.DeployAsync(GuestFixtures.Create("continue", GatewayGuests.Respond(100, "")));
    }

    [OneTimeTearDown]
    public async Task StopAsync() => await _platform.DisposeAsync();

    [Test]
    public async Task GuestContentHeadersAndOwnXHeaders_PassThrough_EverythingElseIsDropped()
    {
        using var response = await _platform.Admin.GetAsync("/api/ext/test.headers/run");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), "one bad header must not cost the whole response");
        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo("ok"));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"));
        Assert.That(response.Content.Headers.ContentLength, Is.EqualTo(2));
        Assert.That(response.Headers.CacheControl?.MaxAge, Is.EqualTo(TimeSpan.FromSeconds(60)));
        Assert.That(response.Headers.ETag?.Tag, Is.EqualTo("\"v1\""));
        Assert.That(response.Headers.GetValues("x-custom").Single(), Is.EqualTo("yes"));
        Assert.That(response.Headers.GetValues("x-after-bad").Single(), Is.EqualTo("still-here"));

        Assert.That(response.Headers.Contains("Set-Cookie"), Is.False);
        Assert.That(response.Headers.ConnectionClose, Is.Not.True);
        Assert.That(response.Headers.TransferEncodingChunked, Is.Not.True);
        foreach (var name in new[] { "keep-alive", "upgrade", "trailer", "strict-transport-security", "content-security-policy", "x-frame-options",
                     "access-control-allow-origin", "access-control-allow-credentials", "idempotent-replayed", "x-forwarded-for", "www-authenticate",
                     "server", "x-crlf" })
        {
            Assert.That(response.Headers.NonValidated.Contains(name) || response.Content.Headers.NonValidated.Contains(name), Is.False, name);
        }

        // The host's own headers keep the host's values.
        Assert.That(response.Headers.GetValues("x-content-type-options").Single(), Is.EqualTo("nosniff"));
        Assert.That(response.Headers.GetValues("x-request-id").Single(), Is.Not.EqualTo("spoofed"));
        Assert.That(long.Parse(response.Headers.GetValues("x-ext-fuel").Single(), System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThan(0));
    }

    [Test]
    public async Task NoContentAndNotModified_AreSentWithoutABody()
    {
        using var noContent = await _platform.Admin.GetAsync("/api/ext/test.nocontent/run");
        using var notModified = await _platform.Admin.GetAsync("/api/ext/test.notmodified/run");

        Assert.That(noContent.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That(await noContent.Content.ReadAsByteArrayAsync(), Is.Empty);
        Assert.That(notModified.StatusCode, Is.EqualTo(HttpStatusCode.NotModified));
        Assert.That(notModified.Headers.ETag?.Tag, Is.EqualTo("\"v1\""));
    }

    [TestCase("informational")]
    [TestCase("continue")]
    public async Task InformationalStatus_IsABadExtensionResponse(string extension)
    {
        using var response = await _platform.Admin.GetAsync($"/api/ext/test.{extension}/run");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadGateway));
        Assert.That((await TestPlatform.JsonAsync(response)).GetProperty("code").GetString(), Is.EqualTo("bad_extension_response"));
        using var hello = await _platform.Admin.GetAsync("/api/ext/samples.hello/hello/Ada");
        Assert.That(hello.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task HostResponses_CarryNoSniff()
    {
        using var response = await _platform.Admin.GetAsync("/api/ext/samples.hello/hello/Ada");
        Assert.That(response.Headers.GetValues("x-content-type-options").Single(), Is.EqualTo("nosniff"));
    }
}
