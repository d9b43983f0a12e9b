using System.Text.Json.Nodes;
using Extensions.Modules.Assets;
using Extensions.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Playwright;

namespace Extensions.Tests.Browser;

/// <summary>
/// The console and an extension's UI in a real browser: the iframe comes from the extension's own asset origin, the handshake
/// works only for that frame with that load's nonce, the bridge calls only the extension's own routes, and the frame can't
/// reach into the console.
/// </summary>
[TestFixture]
[NonParallelizable]
[CancelAfter(180_000)]
public sealed class ConsoleBrowserTests
{
    private TestPlatform _platform = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;
    private IBrowserContext _context = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _platform = await TestPlatform.StartAsync();
        await _platform.DeployAsync(HelloUiAsTestPublisher());
        await _platform.DeployAsync(GuestFixtures.Create("other", GuestFixtures.Ok));
        await _platform.DeployAsync(ProbeExtension());
        (_playwright, _browser) = await BrowserSession.LaunchAsync();
        _context = await _browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 390, Height = 844 } });
        _context.SetDefaultTimeout(30_000);

        // Signed in once, by keyboard, for every test in this fixture (they share the browser context and its cookie).
        var page = await _context.NewPageAsync();
        var responses = new System.Collections.Concurrent.ConcurrentQueue<string>();
        page.Response += (_, r) => responses.Enqueue($"{r.Request.Method} {r.Url} -> {r.Status}");
        await page.GotoAsync(new Uri(_platform.BaseUrl, "/console").ToString());
        await page.GetByLabel("API key").FillAsync(_platform.AdminKey);
        await page.GetByLabel("API key").PressAsync("Enter");
        try
        {
            await page.WaitForURLAsync("**/console/extensions");
        }
        catch (TimeoutException)
        {
            Assert.Fail($"sign-in did not reach the extensions page; at {page.Url}:{Environment.NewLine}{string.Join(Environment.NewLine, responses)}"
                + $"{Environment.NewLine}{await page.ContentAsync()}");
        }

        await page.CloseAsync();
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (_context is not null) await _context.CloseAsync();
        if (_browser is not null) await _browser.CloseAsync();
        _playwright?.Dispose();
        await _platform.DisposeAsync();
    }

    /// <summary>The hello-ui sample as it ships, re-published under the test publisher (whose key this platform trusts).</summary>
    internal static string HelloUiAsTestPublisher()
    {
        var dir = TestRun.NewDirectory("hello-ui");
        foreach (var file in Directory.EnumerateFiles(RepoFiles.PathOf("samples/hello-ui"), "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(dir, Path.GetRelativePath(RepoFiles.PathOf("samples/hello-ui"), file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "manifest.json")))!;
        manifest["publisher"] = TestPlatform.TestPublisherName;
        File.WriteAllText(Path.Combine(dir, "manifest.json"), manifest.ToJsonString());
        return dir;
    }

    /// <summary>A UI that does not use the SDK: it sends `ready` messages on command and records every bootstrap it receives.</summary>
    private static string ProbeExtension() => GuestFixtures.Create("probe", GuestFixtures.Ok, files: new Dictionary<string, byte[]>
    {
        ["ui/probe.html"] = "<!doctype html><title>probe</title><p>probe</p><script type=module src=probe.js></script>"u8.ToArray(),
        ["ui/probe.js"] = """
            window.realNonce = new URLSearchParams(location.hash.slice(1)).get('ext-nonce');
            window.boots = [];
            window.addEventListener('message', e => {
              if (e.data && e.data.type === 'bootstrap') window.boots.push({ nonce: e.data.nonce, origin: e.origin, ports: e.ports.length });
            });
            window.sendReady = n => parent.postMessage({ protocol: 'ext-bridge-1', type: 'ready', nonce: n }, location.ancestorOrigins[0]);
            document.body.dataset.loaded = 'yes';
            """u8.ToArray(),
    }, ui: new JsonObject { ["iframe"] = new JsonObject { ["entry"] = "ui/probe.html" } });

    private string AssetOrigin(string extensionId) => $"http://{AssetOrigins.Label(extensionId)}.localhost:{_platform.AssetsUrl.Port}";

    private async Task<(IPage Page, IFrame Frame)> OpenAsync(string extensionId, List<string>? consoleLog = null)
    {
        var page = await _context.NewPageAsync();
        if (consoleLog is not null) page.Console += (_, message) => consoleLog.Add(message.Text);
        await page.GotoAsync(new Uri(_platform.BaseUrl, $"/console/ext/{extensionId}").ToString());
        await page.Locator("iframe.ext-iframe").WaitForAsync();
        var origin = AssetOrigin(extensionId);
        IFrame? frame = null;
        for (var i = 0; i < 100 && frame is null; i++)
        {
            frame = page.Frames.FirstOrDefault(f => f.Url.StartsWith(origin + "/ext-ui/", StringComparison.Ordinal));
            if (frame is null) await Task.Delay(100);
        }

        Assert.That(frame, Is.Not.Null, $"no frame from {origin}; frames: {string.Join(", ", page.Frames.Select(f => f.Url))}");
        await frame!.WaitForLoadStateAsync(LoadState.DOMContentLoaded);
        return (page, frame);
    }

    [Test]
    public async Task HelloUi_RendersFromItsOwnOrigin_GreetsThroughTheBridge_FollowsTheThemeAndResizes()
    {
        var (page, frame) = await OpenAsync("test.hello-ui");

        await Assertions.Expect(frame.Locator("#greeting")).ToHaveTextAsync("Hello, world");
        await Assertions.Expect(frame.Locator("#who")).ToContainTextAsync("(tenant default)");
        await frame.Locator("#name").FillAsync("Ada");
        await frame.Locator("#name").PressAsync("Enter");
        await Assertions.Expect(frame.Locator("#greeting")).ToHaveTextAsync("Hello, Ada");

        var iframe = page.Locator("iframe.ext-iframe");
        await Assertions.Expect(iframe).ToHaveAttributeAsync("sandbox", "allow-scripts allow-forms allow-same-origin");
        var height = await iframe.EvaluateAsync<string>("f => f.style.height");
        var contentHeight = await frame.EvaluateAsync<int>("() => document.documentElement.scrollHeight");

        await page.GetByRole(AriaRole.Button, new() { Name = "Dark theme" }).ClickAsync();
        await Assertions.Expect(frame.Locator("#theme")).ToHaveTextAsync("dark");
        var frameTheme = await frame.EvaluateAsync<string>("() => document.documentElement.dataset.theme");

        var screenshot = Path.Combine(TestContext.CurrentContext.WorkDirectory, "hello-ui-console.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
        TestContext.AddTestAttachment(screenshot, "the console showing hello-ui at phone width, dark theme");
        await page.CloseAsync();

        Assert.Multiple(() =>
        {
            Assert.That(new Uri(frame.Url).GetLeftPart(UriPartial.Authority), Is.EqualTo(AssetOrigin("test.hello-ui")));
            Assert.That(height, Is.EqualTo($"{Math.Max(contentHeight, 80)}px"), "the frame takes the height its content reported");
            Assert.That(frameTheme, Is.EqualTo("dark"));
        });
    }

    [Test]
    public async Task ThemeSwitch_ChangesTheUiKitsColoursInsideTheIframe_AndTheFrameGrowsWithItsContent()
    {
        var (page, frame) = await OpenAsync("test.hello-ui");
        await Assertions.Expect(frame.Locator("#greeting")).ToHaveTextAsync("Hello, world");
        const string Background = "() => getComputedStyle(document.body).backgroundColor";
        const string Light = "rgb(255, 255, 255)";
        const string Dark = "rgb(13, 17, 23)";

        // The fixture's browser keeps the console's theme in localStorage; start from light whatever an earlier test chose.
        if (await frame.EvaluateAsync<string>(Background) != Light)
        {
            await page.Locator("#theme-toggle").ClickAsync();
            await frame.WaitForFunctionAsync($"() => getComputedStyle(document.body).backgroundColor === '{Light}'");
        }

        var lightButton = await frame.EvaluateAsync<string>("() => getComputedStyle(document.querySelector('button.ui-btn-primary')).backgroundColor");
        await page.GetByRole(AriaRole.Button, new() { Name = "Dark theme" }).ClickAsync();
        await frame.WaitForFunctionAsync($"() => getComputedStyle(document.body).backgroundColor === '{Dark}'");
        var darkButton = await frame.EvaluateAsync<string>("() => getComputedStyle(document.querySelector('button.ui-btn-primary')).backgroundColor");
        var consoleBackground = await page.EvaluateAsync<string>(Background);

        var iframe = page.Locator("iframe.ext-iframe");
        var before = await iframe.EvaluateAsync<double>("f => f.getBoundingClientRect().height");
        for (var i = 0; i < 6; i++)
        {
            await frame.Locator("#name").FillAsync($"Row {i}");
            await frame.Locator("#name").PressAsync("Enter");
            await Assertions.Expect(frame.Locator("#history tr")).ToHaveCountAsync(i + 2);
        }

        await page.WaitForFunctionAsync("h => document.querySelector('iframe.ext-iframe').getBoundingClientRect().height > h + 100", before);
        var after = await iframe.EvaluateAsync<double>("f => f.getBoundingClientRect().height");
        var content = await frame.EvaluateAsync<double>("() => document.documentElement.scrollHeight");
        await page.CloseAsync();

        Assert.Multiple(() =>
        {
            Assert.That(consoleBackground, Is.EqualTo(Dark), "the console itself uses the same tokens");
            Assert.That(lightButton, Is.EqualTo("rgb(9, 105, 218)"), "the kit's light accent");
            Assert.That(darkButton, Is.EqualTo("rgb(68, 147, 248)"), "the kit's dark accent");
            Assert.That(after, Is.GreaterThan(before + 100));
            Assert.That(after, Is.EqualTo(content).Within(1), "the frame is as tall as its content");
        });
    }

    [Test]
    public async Task ApiProxy_ReachesOnlyTheExtensionsOwnRoutes()
    {
        var (page, frame) = await OpenAsync("test.hello-ui");
        await Assertions.Expect(frame.Locator("#greeting")).ToHaveTextAsync("Hello, world");

        var results = JsonNode.Parse(await frame.EvaluateAsync<string>("""
            async () => {
              const sdk = await import(new URL('../_sdk/iframe.js', location.href).href);
              const attempt = async (path, init) => {
                try { const r = await sdk.api(path, init); return { status: r.status, body: r.text(), type: r.headers['content-type'] ?? null }; }
                catch (e) { return { error: e.message }; }
              };
              return JSON.stringify({
                own: await attempt('/hello/Grace'),
                missing: await attempt('/nope'),
                dotdot: await attempt('/../../test.other/run'),
                encoded: await attempt('/%2e%2e/%2e%2e/test.other/run'),
                encodedSlash: await attempt('/..%2f..%2ftest.other%2frun'),
                backslash: await attempt('/..\\..\\test.other\\run'),
                admin: await attempt('/../../../api/admin/extensions'),
                protocolRelative: await attempt('//evil.example/x'),
                absolute: await attempt('https://evil.example/'),
                method: await attempt('/hello', { method: 'TRACE' }),
              });
            }
            """))!;
        await page.CloseAsync();

        Assert.Multiple(() =>
        {
            Assert.That(results["own"]!["status"]!.GetValue<int>(), Is.EqualTo(200));
            Assert.That(JsonNode.Parse(results["own"]!["body"]!.GetValue<string>())!["message"]!.GetValue<string>(), Is.EqualTo("Hello, Grace"));
            Assert.That(results["own"]!["type"]!.GetValue<string>(), Does.StartWith("application/json"));
            Assert.That(results["missing"]!["status"]!.GetValue<int>(), Is.EqualTo(404), "the gateway's status comes back as is");
            foreach (var name in new[] { "dotdot", "encoded", "encodedSlash", "backslash", "admin", "protocolRelative", "absolute", "method" })
            {
                Assert.That(results[name]!["error"]?.GetValue<string>(), Does.StartWith("refused"), $"{name}: {results[name]}");
            }
        });
    }

    [Test]
    public async Task Navigate_ReloadsAPageOfTheSameBundleWithAFreshNonce_AndIgnoresPathsOutsideIt()
    {
        var log = new List<string>();
        var (page, frame) = await OpenAsync("test.hello-ui", log);
        await Assertions.Expect(frame.Locator("#greeting")).ToHaveTextAsync("Hello, world");
        var first = frame.Url;
        const string Navigate = "async p => (await import(new URL('../_sdk/iframe.js', location.href).href)).navigate(p)";

        await frame.EvaluateAsync(Navigate, "../manifest.json");
        await Task.Delay(500);
        var afterRefused = frame.Url;
        await frame.EvaluateAsync(Navigate, "ui/index.html");
        IFrame? reloaded = null;
        for (var n = 0; n < 100 && reloaded is null; n++)
        {
            reloaded = page.Frames.FirstOrDefault(f => f.Url.StartsWith(AssetOrigin("test.hello-ui"), StringComparison.Ordinal) && f.Url != first);
            if (reloaded is null) await Task.Delay(100);
        }

        Assert.That(reloaded, Is.Not.Null, "the frame was not reloaded");
        await Assertions.Expect(reloaded!.Locator("#greeting")).ToHaveTextAsync("Hello, world");
        var second = reloaded.Url;
        await page.CloseAsync();

        Assert.Multiple(() =>
        {
            Assert.That(afterRefused, Is.EqualTo(first));
            Assert.That(log, Has.Some.Contains("ignored navigation to ../manifest.json"));
            Assert.That(second.Split('#')[0], Is.EqualTo(first.Split('#')[0]));
            Assert.That(second.Split('#')[1], Is.Not.EqualTo(first.Split('#')[1]), "every load gets its own nonce");
        });
    }

    [Test]
    public async Task Iframe_CannotReachTheConsolesDomStorageOrCookies()
    {
        var (page, frame) = await OpenAsync("test.hello-ui");
        await Assertions.Expect(frame.Locator("#greeting")).ToHaveTextAsync("Hello, world");

        var reach = JsonNode.Parse(await frame.EvaluateAsync<string>("""
            () => {
              const attempt = f => { try { return 'read: ' + String(f()); } catch (e) { return e.name; } };
              return JSON.stringify({
                dom: attempt(() => parent.document.title),
                storage: attempt(() => parent.localStorage.length),
                cookie: attempt(() => parent.document.cookie),
                ownCookies: document.cookie,
                origin: location.origin,
              });
            }
            """))!;
        var consoleCookies = await _context.CookiesAsync([_platform.BaseUrl.ToString()]);
        await page.CloseAsync();

        Assert.Multiple(() =>
        {
            Assert.That(reach["dom"]!.GetValue<string>(), Is.EqualTo("SecurityError"));
            Assert.That(reach["storage"]!.GetValue<string>(), Is.EqualTo("SecurityError"));
            Assert.That(reach["cookie"]!.GetValue<string>(), Is.EqualTo("SecurityError"));
            Assert.That(reach["ownCookies"]!.GetValue<string>(), Is.Empty);
            Assert.That(consoleCookies.Single(c => c.Name == "ext_session").HttpOnly, Is.True);
            Assert.That(consoleCookies.Single(c => c.Name == "ext_session").SameSite, Is.EqualTo(SameSiteAttribute.Strict));
        });
    }

    [Test]
    public async Task Handshake_IgnoresAForgedSourceAndAWrongNonce_AndAnswersTheRightNonceOnce()
    {
        var log = new List<string>();
        var (page, frame) = await OpenAsync("test.probe", log);
        await Assertions.Expect(frame.Locator("body[data-loaded=yes]")).ToBeAttachedAsync();
        var nonce = await frame.EvaluateAsync<string>("() => window.realNonce");

        // The console window posting the right nonce to itself: wrong source, wrong origin.
        await page.EvaluateAsync("n => window.postMessage({ protocol: 'ext-bridge-1', type: 'ready', nonce: n }, '*')", nonce);
        await frame.EvaluateAsync("() => window.sendReady('a-wrong-nonce-0123456789')");
        await Task.Delay(500);
        var afterForgeries = await frame.EvaluateAsync<int>("() => window.boots.length");

        await frame.EvaluateAsync("n => window.sendReady(n)", nonce);
        await frame.WaitForFunctionAsync("() => window.boots.length > 0");
        await frame.EvaluateAsync("n => window.sendReady(n)", nonce);
        await Task.Delay(500);
        var boots = JsonNode.Parse(await frame.EvaluateAsync<string>("() => JSON.stringify(window.boots)"))!.AsArray();
        await page.CloseAsync();

        Assert.Multiple(() =>
        {
            Assert.That(nonce, Has.Length.GreaterThanOrEqualTo(16));
            Assert.That(afterForgeries, Is.Zero, "no bootstrap for a forged or wrong-nonce ready");
            Assert.That(log, Has.Some.Contains("ignored a message: not from the extension frame"));
            Assert.That(log, Has.Some.Contains("ignored a message: wrong nonce"));
            Assert.That(boots, Has.Count.EqualTo(1), "one bootstrap, even when ready is repeated");
            Assert.That(boots[0]!["nonce"]!.GetValue<string>(), Is.EqualTo(nonce));
            Assert.That(boots[0]!["origin"]!.GetValue<string>(), Is.EqualTo(_platform.BaseUrl.GetLeftPart(UriPartial.Authority)));
            Assert.That(boots[0]!["ports"]!.GetValue<int>(), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task AssetOrigin_FramedByAnotherOrigin_IsBlockedByCsp()
    {
        var (consolePage, frame) = await OpenAsync("test.hello-ui");
        var assetUrl = frame.Url.Split('#')[0];
        var loadedInConsole = await frame.EvaluateAsync<string>("() => document.title");
        await consolePage.CloseAsync();

        // Another origin on this machine (a real loopback server, so the browser's local-network rules don't decide instead of CSP).
        await using var elsewhere = WebApplication.CreateSlimBuilder().Build();
        elsewhere.Urls.Add("http://127.0.0.1:0");
        elsewhere.MapGet("/framer.html", () => Results.Content($"<!doctype html><title>framer</title><iframe src=\"{assetUrl}\"></iframe>", "text/html"));
        await elsewhere.StartAsync();

        var page = await _context.NewPageAsync();
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        page.Console += (_, message) => log.Enqueue(message.Text);
        await page.GotoAsync(elsewhere.Urls.Single() + "/framer.html");
        await page.WaitForLoadStateAsync(LoadState.Load);
        for (var i = 0; i < 50 && !log.Any(l => l.Contains("frame-ancestors", StringComparison.Ordinal)); i++) await Task.Delay(100);
        var child = page.Frames.Single(f => f != page.MainFrame);
        var childUrl = child.Url;
        await page.CloseAsync();

        Assert.Multiple(() =>
        {
            Assert.That(loadedInConsole, Is.EqualTo("Hello UI"), "control: the console's origin may frame it");
            Assert.That(childUrl, Does.StartWith("chrome-error:"), "the frame did not load");
            Assert.That(log, Has.Some.Contains("frame-ancestors"), string.Join(Environment.NewLine, log));
        });
    }
}
