using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Extensions.Modules.Runner.Contracts;
using Extensions.Tests.Support;

namespace Extensions.Tests.HostApi;

/// <summary>
/// <c>http_fetch</c> end to end: a guest behind the gateway reaches a real server on 127.0.0.1 only when the operator
/// allows that range, and every refusal (host, address, redirect, size, time, count, envelope) reaches the guest as its code.
/// </summary>
[TestFixture]
[CancelAfter(180_000)]
public sealed class HttpFetchTests
{
    private const string Proxy = "/api/ext/test.fetch/run";
    private const int MaxResponseBytes = 4096;
    private LocalHttpServer _server = null!;
    private TestPlatform _open = null!;
    private TestPlatform _closed = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _server = await LocalHttpServer.StartAsync();
        _open = await TestPlatform.StartAsync(new Dictionary<string, string?>
        {
            ["HostApi:EgressAllowedRanges:0"] = "127.0.0.1/32",
            ["HostApi:HttpFetchTimeoutMs"] = "500",
            ["HostApi:HttpFetchMaxResponseBytes"] = MaxResponseBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        _closed = await TestPlatform.StartAsync();
        foreach (var platform in new[] { _open, _closed })
        {
            await platform.DeployAsync(GuestFixtures.Create("fetch", HostApiGuests.FetchProxy, capabilities: ["cap:http.fetch"],
                endpoints: [("POST", "/run")], egressHosts: ["127.0.0.1", "127.0.0.2", "allowed.example"]));
        }
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _open.DisposeAsync();
        await _closed.DisposeAsync();
        await _server.DisposeAsync();
    }

    private static async Task<(int Status, JsonElement Head, string Body)> FetchAsync(TestPlatform platform, byte[] envelope, string route = Proxy)
    {
        using var response = await platform.Admin.PostAsync(route, new ByteArrayContent(envelope));
        var bytes = await response.Content.ReadAsByteArrayAsync();
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return ((int)response.StatusCode, default, Encoding.UTF8.GetString(bytes));
        }

        var newline = Array.IndexOf(bytes, (byte)'\n');
        Assert.That(newline, Is.GreaterThan(0), "a response envelope has a head line");
        using var head = JsonDocument.Parse(bytes.AsMemory(0, newline));
        return (200, head.RootElement.Clone(), Encoding.UTF8.GetString(bytes, newline + 1, bytes.Length - newline - 1));
    }

    private static Task<(int Status, JsonElement Head, string Body)> GetAsync(TestPlatform platform, string url) =>
        FetchAsync(platform, LocalHttpServer.Envelope("GET", url));

    private static string? Header(JsonElement head, string name) =>
        head.GetProperty("headers").EnumerateArray().Where(h => h[0].GetString() == name).Select(h => h[1].GetString()).FirstOrDefault();

    [Test]
    public async Task LocalServer_WithOperatorRange_ReturnsStatusHeadersAndBody()
    {
        var (status, head, body) = await GetAsync(_open, _server.Url("/hello"));
        Assert.That(status, Is.EqualTo(200));
        Assert.That(head.GetProperty("status").GetInt32(), Is.EqualTo(200));
        Assert.That(Header(head, "x-local"), Is.EqualTo("yes"));
        Assert.That(Header(head, "content-type"), Does.StartWith("text/plain"));
        Assert.That(body, Is.EqualTo("hello from 127.0.0.1"));
    }

    [Test]
    public async Task LocalServer_WithoutOperatorRange_IsEgressDenied_AndNothingArrives()
    {
        var before = _server.Requests.Count;
        var (status, _, _) = await GetAsync(_closed, _server.Url("/hello?closed"));
        Assert.That(status, Is.EqualTo(HostApiGuests.StatusFor(AbiCodes.EgressDenied)));
        Assert.That(_server.Requests.Skip(before), Has.None.Contains("closed"));
        Assert.That(_closed.Logs.Entries.Select(e => e.Message), Has.Some.Contains("127.0.0.1, which is loopback"));
    }

    [Test]
    public async Task HostNotConsented_IsEgressDenied_EvenInTheAllowedRange()
    {
        var (status, _, _) = await GetAsync(_open, $"http://localhost:{_server.Port}/hello?unconsented");
        Assert.That(status, Is.EqualTo(HostApiGuests.StatusFor(AbiCodes.EgressDenied)));
        Assert.That(_server.Requests, Has.None.Contains("unconsented"));
    }

    [Test]
    public async Task GrantMissing_IsDenied()
    {
        await _open.DeployAsync(GuestFixtures.Create("nofetch", HostApiGuests.FetchProxy, endpoints: [("POST", "/run")], egressHosts: ["127.0.0.1"]));
        var (status, _, _) = await FetchAsync(_open, LocalHttpServer.Envelope("GET", _server.Url("/hello?ungranted")), "/api/ext/test.nofetch/run");
        Assert.That(status, Is.EqualTo(HostApiGuests.StatusFor(AbiCodes.Denied)));
        Assert.That(_server.Requests, Has.None.Contains("ungranted"));
    }

    /// <summary>Refused on the closed platform, served on the open one: so the refusal came from the address check of 127.0.0.1.</summary>
    [TestCase("2130706433")]
    [TestCase("0x7f.1")]
    [TestCase("0x7f000001")]
    [TestCase("0177.0.0.1")]
    [TestCase("127.1")]
    public async Task IPv4LiteralTricks_AreCheckedAsTheAddressTheyMean(string spelled)
    {
        var url = $"http://{spelled}:{_server.Port}/hello";
        Assert.That((await GetAsync(_closed, url)).Status, Is.EqualTo(HostApiGuests.StatusFor(AbiCodes.EgressDenied)));
        Assert.That((await GetAsync(_open, url)).Status, Is.EqualTo(200));
    }

    [TestCase("http://[::1]:{0}/hello")]
    [TestCase("http://[::ffff:127.0.0.1]:{0}/hello")]
    [TestCase("http://169.254.169.254/latest/meta-data/")]
    [TestCase("http://10.0.0.1/")]
    public async Task OtherRefusedForms_AreEgressDenied(string template)
    {
        var (status, _, _) = await GetAsync(_open, string.Format(System.Globalization.CultureInfo.InvariantCulture, template, _server.Port));
        Assert.That(status, Is.EqualTo(HostApiGuests.StatusFor(AbiCodes.EgressDenied)));
    }

    [Test]
    public async Task Redirect_IsFollowedWhenItStaysAllowed()
    {
        var (status, head, body) = await GetAsync(_open, _server.Url("/redirect?to=%2Fhello%3Fafter-redirect"));
        Assert.That(status, Is.EqualTo(200));
        Assert.That(head.GetProperty("status").GetInt32(), Is.EqualTo(200));
        Assert.That(body, Is.EqualTo("hello from 127.0.0.1"));
        Assert.That(_server.Requests, Has.Some.EqualTo("/hello?after-redirect"));
    }

    [Test]
    public async Task RedirectToUnconsentedHost_IsEgressDenied()
    {
        var (status, _, _) = await GetAsync(_open, _server.Url($"/redirect?to={Uri.EscapeDataString($"http://localhost:{_server.Port}/hello?via-redirect")}"));
        Assert.That(status, Is.EqualTo(HostApiGuests.StatusFor(AbiCodes.EgressDenied)));
        Assert.That(_server.Requests, Has.None.EqualTo("/hello?via-redirect"));
    }

    [Test]
    public async Task RedirectToRefusedAddress_IsEgressDenied()
    {
        // 127.0.0.2 is a consented host, but outside the operator's 127.0.0.1/32.
        var (status, _, _) = await GetAsync(_open, _server.Url($"/redirect?to={Uri.EscapeDataString($"http://127.0.0.2:{_server.Port}/hello")}"));
        Assert.That(status, Is.EqualTo(HostApiGuests.StatusFor(AbiCodes.EgressDenied)));
        Assert.That(_open.Logs.Entries.Select(e => e.Message), Has.Some.Contains("127.0.0.2, which is loopback"));
    }

    [Test]
    public async Task RedirectToAnotherScheme_IsEgressDenied()
    {
        var (status, _, _) = await GetAsync(_open, _server.Url($"/redirect?to={Uri.EscapeDataString("file:///etc/passwd")}"));
        Assert.That(status, Is.EqualTo(HostApiGuests.StatusFor(AbiCodes.EgressDenied)));
    }

    [Test]
    public async Task Redirect_KeepsTheGuestsCredentialsOnItsOrigin_AndDropsThemElsewhere()
    {
        await using var other = await LocalHttpServer.StartAsync();
        var credentials = new[] { ("authorization", "Bearer guest-own-token"), ("cookie", "session=guest"), ("x-custom", "kept") };

        var (sameStatus, _, sameBody) = await FetchAsync(_open, LocalHttpServer.Envelope("GET", _server.Url("/redirect?to=%2Fecho"), credentials));
        Assert.That(sameStatus, Is.EqualTo(200));
        var same = JsonDocument.Parse(sameBody).RootElement.GetProperty("headers");
        Assert.That(same.GetProperty("authorization").GetString(), Is.EqualTo("Bearer guest-own-token"));
        Assert.That(same.GetProperty("cookie").GetString(), Is.EqualTo("session=guest"));

        // Another port is another origin, though the same consented host.
        var (crossStatus, _, crossBody) = await FetchAsync(_open, LocalHttpServer.Envelope("GET",
            _server.Url($"/redirect?to={Uri.EscapeDataString(other.Url("/echo"))}"), credentials));
        Assert.That(crossStatus, Is.EqualTo(200));
        var cross = JsonDocument.Parse(crossBody).RootElement.GetProperty("headers");
        Assert.That(cross.TryGetProperty("authorization", out _), Is.False);
        Assert.That(cross.TryGetProperty("cookie", out _), Is.False);
        Assert.That(cross.GetProperty("x-custom").GetString(), Is.EqualTo("kept"));
    }

    [Test]
    public async Task RedirectLoop_StopsAfterFiveHops()
    {
        var before = _server.Requests.Count(r => r == "/loop");
        var (status, _, _) = await GetAsync(_open, _server.Url("/loop"));
        Assert.That(status, Is.EqualTo(HostApiGuests.StatusFor(AbiCodes.Limit)));
        Assert.That(_server.Requests.Count(r => r == "/loop") - before, Is.EqualTo(6), "the first request and five redirects");
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task OversizeResponse_IsLimit(bool chunked)
    {
        var (status, _, _) = await GetAsync(_open, _server.Url($"/big?n={MaxResponseBytes + 1}&chunked={chunked}"));
        Assert.That(status, Is.EqualTo(HostApiGuests.StatusFor(AbiCodes.Limit)));

        var (fits, _, body) = await GetAsync(_open, _server.Url($"/big?n={MaxResponseBytes}&chunked={chunked}"));
        Assert.That(fits, Is.EqualTo(200));
        Assert.That(body, Has.Length.EqualTo(MaxResponseBytes));
    }

    [Test]
    public async Task SlowServer_IsTimeout_WellInsideTheDeadline()
    {
        var clock = Stopwatch.StartNew();
        var (status, _, _) = await GetAsync(_open, _server.Url("/slow"));
        Assert.That(status, Is.EqualTo(HostApiGuests.StatusFor(AbiCodes.Timeout)), "the guest got -6 and answered itself");
        Assert.That(clock.ElapsedMilliseconds, Is.LessThan(1900), "the per-call timeout (500 ms) fired before the invocation's 2 s deadline");
    }

    [Test]
    public async Task AfterAFetchTimeout_TheGuestCanStillCallTheHost()
    {
        await _open.DeployAsync(GuestFixtures.Create("fetchtwice", HostApiGuests.FetchTwice, capabilities: ["cap:http.fetch"],
            endpoints: [("POST", "/run")], egressHosts: ["127.0.0.1"]));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/ext/test.fetchtwice/run")
        {
            Content = new ByteArrayContent(LocalHttpServer.Envelope("GET", _server.Url("/slow"))),
        };
        request.Headers.Add("x-second", Encoding.UTF8.GetString(LocalHttpServer.Envelope("GET", _server.Url("/hello?second"))).TrimEnd('\n'));
        using var response = await _open.Admin.SendAsync(request);
        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo("6P"), "-6 for the slow call, then a response");
        Assert.That(_server.Requests, Has.Some.EqualTo("/hello?second"));
    }

    [Test]
    public async Task RequestHeaders_GuestsOwnAreSent_ConnectionAndHostAreNot_CallersCredentialNever()
    {
        var envelope = LocalHttpServer.Envelope("POST", _server.Url("/echo"),
        [
            ("x-custom", "one"), ("authorization", "Bearer guest-own-token"), ("host", "evil.example"), ("connection", "close"),
            ("transfer-encoding", "chunked"), ("proxy-authorization", "Basic eA=="), ("content-type", "text/plain"),
        ], body: "payload");
        var (status, _, body) = await FetchAsync(_open, envelope);
        Assert.That(status, Is.EqualTo(200));
        var echo = JsonDocument.Parse(body).RootElement;
        Assert.That(echo.GetProperty("method").GetString(), Is.EqualTo("POST"));
        Assert.That(echo.GetProperty("body").GetString(), Is.EqualTo("payload"));
        var headers = echo.GetProperty("headers");
        Assert.That(headers.GetProperty("x-custom").GetString(), Is.EqualTo("one"));
        Assert.That(headers.GetProperty("authorization").GetString(), Is.EqualTo("Bearer guest-own-token"));
        Assert.That(headers.GetProperty("host").GetString(), Is.EqualTo($"127.0.0.1:{_server.Port}"));
        Assert.That(headers.GetProperty("content-type").GetString(), Is.EqualTo("text/plain"));
        Assert.That(headers.TryGetProperty("transfer-encoding", out _), Is.False);
        Assert.That(headers.TryGetProperty("proxy-authorization", out _), Is.False);
        Assert.That(_server.Headers.SelectMany(h => h.Values), Has.None.Contains(_open.AdminKey), "the caller's key never leaves the host");
    }

    [TestCase("not json\n")]
    [TestCase("{\"method\":\"GET\"}\n")]
    [TestCase("{\"method\":\"TRACE\",\"url\":\"http://127.0.0.1/\"}\n")]
    [TestCase("{\"method\":\"GET\",\"url\":\"ftp://127.0.0.1/\"}\n")]
    [TestCase("{\"method\":\"GET\",\"url\":\"http://user:pw@127.0.0.1/\"}\n")]
    [TestCase("{\"method\":\"GET\",\"url\":\"/relative\"}\n")]
    [TestCase("{\"method\":\"GET\",\"url\":\"http://127.0.0.1/\",\"headers\":[[\"bad name\",\"v\"]]}\n")]
    [TestCase("{\"method\":\"GET\",\"url\":\"http://127.0.0.1/\",\"headers\":[[\"x-a\",\"v\\r\\nx-b: injected\"]]}\n")]
    [TestCase("{\"method\":\"GET\",\"url\":\"http://127.0.0.1/\",\"headers\":{\"x-a\":\"v\"}}\n")]
    public async Task MalformedEnvelope_IsInvalid(string envelope)
    {
        var (status, _, _) = await FetchAsync(_open, Encoding.UTF8.GetBytes(envelope));
        Assert.That(status, Is.EqualTo(HostApiGuests.StatusFor(AbiCodes.Invalid)));
    }

    [Test]
    public async Task CallsPerInvocation_AreCapped_AndTheCountStartsAfreshEachInvocation()
    {
        await _open.DeployAsync(GuestFixtures.Create("fetchloop", HostApiGuests.FetchLoop, capabilities: ["cap:http.fetch"], egressHosts: ["127.0.0.1"]));
        for (var i = 0; i < 2; i++)
        {
            using var response = await _open.Admin.GetAsync("/api/ext/test.fetchloop/run");
            Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo(new string('3', 16) + new string('4', 4)),
                "16 calls reach the envelope check (-3), the rest hit the cap (-4)");
        }
    }
}
