using System.Net;
using Extensions.Tests.Support;

namespace Extensions.Tests.Authoring;

/// <summary>
/// The committed <c>samples/hello-c</c> module (C, <c>sdk/c/ext.h</c>) through the real gateway and workers: it must answer
/// exactly like the AssemblyScript <c>samples/hello</c>, byte for byte, including names that need JSON escaping.
/// </summary>
[TestFixture]
[CancelAfter(120_000)]
public sealed class HelloCSampleTests
{
    private TestPlatform _platform = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _platform = await TestPlatform.StartAsync();
        await _platform.DeployAsync(Samples.Copy("hello-c"));
        await _platform.DeployAsync(Samples.Copy("hello"));
    }

    [OneTimeTearDown]
    public async Task StopAsync() => await _platform.DisposeAsync();

    [Test]
    public async Task Hello_WithoutAName_GreetsTheWorld()
    {
        using var response = await _platform.Admin.GetAsync("/api/ext/test.hello-c/hello");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType?.ToString(), Is.EqualTo("application/json; charset=utf-8"));
        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo("""{"message":"Hello, world"}"""));
    }

    [Test]
    public async Task Hello_WithAName_GreetsItAndLogsIt()
    {
        using var response = await _platform.Admin.GetAsync("/api/ext/test.hello-c/hello/Ada");

        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo("""{"message":"Hello, Ada"}"""));
        Assert.That(_platform.Logs.Entries.Any(e => e.Message.Contains("[default/test.hello-c] greeting Ada", StringComparison.Ordinal)), Is.True,
            "the guest's info line reaches the host log through ext.log");
    }

    [TestCase("Ada")]
    [TestCase("quote%22mark")]
    [TestCase("tab%09and%01control%1F")]
    [TestCase("%C3%A9t%C3%A9%20%F0%9F%98%80")]
    [TestCase("%3Cscript%3E")]
    public async Task Answers_ExactlyLikeTheAssemblyScriptSample(string encodedName)
    {
        using var c = await _platform.Admin.GetAsync($"/api/ext/test.hello-c/hello/{encodedName}");
        using var assemblyScript = await _platform.Admin.GetAsync($"/api/ext/test.hello/hello/{encodedName}");

        Assert.That(c.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(assemblyScript.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var body = await c.Content.ReadAsByteArrayAsync();
        Assert.That(body, Is.EqualTo(await assemblyScript.Content.ReadAsByteArrayAsync()));
        // And it is valid JSON that decodes back to the name the caller sent.
        using var json = System.Text.Json.JsonDocument.Parse(body);
        Assert.That(json.RootElement.GetProperty("message").GetString(), Is.EqualTo("Hello, " + Uri.UnescapeDataString(encodedName)));
    }

    [Test]
    public async Task FirstRequest_FuelAndSize_AreRecordedForBothLanguages()
    {
        // Fresh names so neither module has served this exact request yet; fuel does not depend on warm caches anyway.
        using var c = await _platform.Admin.GetAsync("/api/ext/test.hello-c/hello/Measure");
        using var assemblyScript = await _platform.Admin.GetAsync("/api/ext/test.hello/hello/Measure");
        var cFuel = long.Parse(c.Headers.GetValues("x-ext-fuel").Single(), System.Globalization.CultureInfo.InvariantCulture);
        var asFuel = long.Parse(assemblyScript.Headers.GetValues("x-ext-fuel").Single(), System.Globalization.CultureInfo.InvariantCulture);
        var cSize = new FileInfo(Path.Combine(Samples.PathOf("hello-c"), "build", "hello-c.wasm")).Length;
        var asSize = new FileInfo(Path.Combine(Samples.PathOf("hello"), "build", "hello.wasm")).Length;
        TestContext.Out.WriteLine($"hello (AssemblyScript): {asSize} bytes, {asFuel} fuel; hello-c: {cSize} bytes, {cFuel} fuel");

        // The point of a freestanding C build: smaller and cheaper than the AssemblyScript one (GC, UTF-16 strings).
        Assert.That(cFuel, Is.GreaterThan(0).And.LessThan(asFuel));
        Assert.That(cSize, Is.LessThan(asSize));
    }
}
