using System.Net.Http.Json;
using System.Net;
using Extensions.Tests.Support;

namespace Extensions.Tests.Gateway;

/// <summary>Bad requests at the front door each get their own problem code, and harm nothing.</summary>
[TestFixture]
[CancelAfter(60_000)]
public sealed class GatewayErrorTests
{
    private TestPlatform _platform = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => _platform = await TestPlatform.StartAsync();

    [OneTimeTearDown]
    public async Task StopAsync() => await _platform.DisposeAsync();

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(status), text);
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        var body = System.Text.Json.JsonDocument.Parse(text).RootElement;
        Assert.That(body.GetProperty("code").GetString(), Is.EqualTo(code));
        Assert.That(body.GetProperty("requestId").GetString(), Is.Not.Empty);
        Assert.That(body.GetProperty("status").GetInt32(), Is.EqualTo((int)status));
    }

    [Test]
    public async Task Request_WithoutKey_IsUnauthenticated()
    {
        using var response = await _platform.Client(null).GetAsync("/api/ext/samples.hello/hello");
        await AssertProblemAsync(response, HttpStatusCode.Unauthorized, "unauthenticated");
        await AssertChallengeAsync(response, "send 'Authorization: Bearer <api key>'");
    }

    // The front door authenticates its callers itself; its refusals must say the same as the authentication scheme's.
    private static async Task AssertChallengeAsync(HttpResponseMessage response, string detail)
    {
        Assert.That(response.Headers.WwwAuthenticate.ToString(), Is.EqualTo("Bearer"));
        var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.That(body.GetProperty("detail").GetString(), Is.EqualTo(detail));
    }

    [TestCase("ext_not-a-real-key")]
    [TestCase("garbage")]
    public async Task Request_WithUnknownKey_IsUnauthenticated(string key)
    {
        using var response = await _platform.Client(key).GetAsync("/api/ext/samples.hello/hello");
        await AssertProblemAsync(response, HttpStatusCode.Unauthorized, "unauthenticated");
        await AssertChallengeAsync(response, "the API key is unknown or revoked");
    }

    [Test]
    public async Task Request_WithBasicScheme_IsUnauthenticated()
    {
        using var client = _platform.Client(null);
        client.DefaultRequestHeaders.Authorization = new("Basic", "YTpi");
        using var response = await client.GetAsync("/api/ext/samples.hello/hello");
        await AssertProblemAsync(response, HttpStatusCode.Unauthorized, "unauthenticated");
        await AssertChallengeAsync(response, "the Authorization header must be 'Bearer <api key>'");
    }

    [Test]
    public async Task UnknownExtension_IsNotInstalled()
    {
        using var response = await _platform.Admin.GetAsync("/api/ext/nobody.nothing/hello");
        await AssertProblemAsync(response, HttpStatusCode.NotFound, "extension_not_installed");
    }

    [TestCase("GET", "/api/ext/samples.hello/goodbye")]
    [TestCase("GET", "/api/ext/samples.hello/hello/Ada/extra")]
    [TestCase("POST", "/api/ext/samples.hello/hello")]
    public async Task UndeclaredEndpoint_IsEndpointNotFound(string method, string path)
    {
        using var response = await _platform.Admin.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        await AssertProblemAsync(response, HttpStatusCode.NotFound, "endpoint_not_found");
    }

    // Sent over a raw socket: HttpClient would normalise the dot segments away before they leave the process.
    [TestCase("/api/ext/samples.hello/hello/%2e%2e")]
    [TestCase("/api/ext/samples.hello/hello/..")]
    [TestCase("/api/ext/samples.hello/hello/%2E%2e/%2e%2e/admin")]
    [TestCase("/api/ext/samples.hello/hello/a%2Fb")]
    [TestCase("/api/ext/samples.hello/hello/a%5Cb")]
    public async Task EncodedTraversal_IsRefused(string path)
    {
        var (status, body) = await RawGetAsync(path);

        Assert.That(status, Is.EqualTo(400), body);
        Assert.That(body, Does.Contain("\"code\":\"invalid_request\""));
    }

    [Test]
    public async Task NulInPath_IsRefusedBeforeRouting()
    {
        var (status, _) = await RawGetAsync("/api/ext/samples.hello/hello/%00");

        Assert.That(status, Is.EqualTo(400));
    }

    private async Task<(int Status, string Body)> RawGetAsync(string target)
    {
        using var socket = new System.Net.Sockets.TcpClient();
        await socket.ConnectAsync(_platform.BaseUrl.Host, _platform.BaseUrl.Port);
        await using var stream = socket.GetStream();
        var request = $"GET {target} HTTP/1.1\r\nHost: {_platform.BaseUrl.Authority}\r\nAuthorization: Bearer {_platform.AdminKey}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream);
        var response = await reader.ReadToEndAsync();
        var status = int.Parse(response.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        return (status, response);
    }

    [Test]
    public async Task AnotherTenantsKey_CannotReachTheDefaultTenantsInstall()
    {
        using var created = await _platform.Admin.PostAsJsonAsync("/api/admin/tenants", new { id = "acme", name = "Acme" });
        await TestPlatform.EnsureSuccessAsync(created);
        using var keyResponse = await _platform.Admin.PostAsJsonAsync("/api/admin/tenants/acme/keys", new { name = "acme app" });
        var key = (await TestPlatform.JsonAsync(keyResponse)).GetProperty("key").GetString()!;

        using var response = await _platform.Client(key).GetAsync("/api/ext/samples.hello/hello/Ada");
        await AssertProblemAsync(response, HttpStatusCode.NotFound, "extension_not_installed");

        using var admin = await _platform.Client(key).GetAsync("/api/admin/extensions");
        await AssertProblemAsync(admin, HttpStatusCode.Forbidden, "forbidden");
    }

    [Test]
    public async Task RevokedKey_IsRefusedOnTheNextRequest()
    {
        using var keyResponse = await _platform.Admin.PostAsJsonAsync("/api/admin/tenants/default/keys", new { name = "short-lived" });
        var created = await TestPlatform.JsonAsync(keyResponse);
        using var client = _platform.Client(created.GetProperty("key").GetString());
        using (var before = await client.GetAsync("/api/ext/samples.hello/hello/Ada"))
        {
            Assert.That(before.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        using var revoked = await _platform.Admin.DeleteAsync($"/api/admin/keys/{created.GetProperty("id").GetString()}");
        Assert.That(revoked.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));

        using var after = await client.GetAsync("/api/ext/samples.hello/hello/Ada");
        await AssertProblemAsync(after, HttpStatusCode.Unauthorized, "unauthenticated");
    }

    [Test]
    public async Task OversizedBody_IsRefusedWith413()
    {
        var dir = GuestFixtures.Create("echo", GuestFixtures.Ok, endpoints: [("POST", "/run")]);
        await _platform.DeployAsync(dir);

        using var response = await _platform.Admin.PostAsync("/api/ext/test.echo/run", new ByteArrayContent(new byte[2 * 1024 * 1024]));
        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "payload_too_large");

        using var small = await _platform.Admin.PostAsync("/api/ext/test.echo/run", new ByteArrayContent("hi"u8.ToArray()));
        Assert.That(await small.Content.ReadAsStringAsync(), Is.EqualTo("ok"));
    }
}
