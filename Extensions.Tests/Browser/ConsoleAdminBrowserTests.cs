using Extensions.Tests.Support;
using Microsoft.Playwright;

namespace Extensions.Tests.Browser;

/// <summary>
/// The whole path an admin takes in a real browser at phone width: sign in, install the hello-ui sample through the consent
/// screen, open its page, and see data its iframe fetched through the bridge.
/// </summary>
[TestFixture]
[NonParallelizable]
[CancelAfter(180_000)]
public sealed class ConsoleAdminBrowserTests
{
    private TestPlatform _platform = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _platform = await TestPlatform.StartAsync();
        await _platform.PublishOnlyAsync(ConsoleBrowserTests.HelloUiAsTestPublisher());
        (_playwright, _browser) = await BrowserSession.LaunchAsync();
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (_browser is not null) await _browser.CloseAsync();
        _playwright?.Dispose();
        await _platform.DisposeAsync();
    }

    private static Task<bool> FitsTheWidthAsync(IPage page) =>
        page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth");

    private static async Task AttachScreenshotAsync(IPage page, string name, string description)
    {
        var path = Path.Combine(TestContext.CurrentContext.WorkDirectory, name);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        TestContext.AddTestAttachment(path, description);
    }

    [Test]
    public async Task SignIn_InstallHelloUiThroughTheConsentScreen_OpenItsPage_TheIframeShowsDataFromTheBridge()
    {
        await using var context = await _browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 390, Height = 844 } });
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();

        await page.GotoAsync(new Uri(_platform.BaseUrl, "/console").ToString());
        await page.GetByLabel("API key").FillAsync(_platform.AdminKey);
        await page.GetByLabel("API key").PressAsync("Enter");
        await page.WaitForURLAsync("**/console/extensions");

        await page.GetByRole(AriaRole.Link, new() { Name = "Publish", Exact = true }).ClickAsync();
        await page.Locator("tr[data-version='test.hello-ui@1.0.0']").GetByRole(AriaRole.Link, new() { Name = "Install 1.0.0…" }).ClickAsync();
        await page.WaitForURLAsync("**/console/install/test.hello-ui?version=1.0.0");
        var consentText = await page.Locator("section.consent").InnerTextAsync();
        var consentFits = await FitsTheWidthAsync(page);
        await AttachScreenshotAsync(page, "consent-screen.png", "the consent screen for hello-ui at 390 px");

        // By keyboard: Tab from the top of the page reaches the button, and Enter submits it.
        var reached = false;
        for (var i = 0; i < 40 && !reached; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            reached = await page.EvaluateAsync<bool>("() => document.activeElement?.id === 'grant-and-install'");
        }

        Assert.That(reached, Is.True, "the Grant and install button is reachable with Tab");
        var outline = await page.EvaluateAsync<string>("() => getComputedStyle(document.activeElement).outlineStyle");
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForURLAsync("**/console/installs/test.hello-ui");
        var flash = await page.Locator("#flash").InnerTextAsync();
        var installFits = await FitsTheWidthAsync(page);
        await page.GetByRole(AriaRole.Button, new() { Name = "Dark theme" }).ClickAsync();
        await AttachScreenshotAsync(page, "install-page-dark.png", "hello-ui's install page after installing, dark theme, 390 px");

        await page.GetByRole(AriaRole.Link, new() { Name = "Hello UI", Exact = true }).ClickAsync();
        await page.WaitForURLAsync("**/console/ext/test.hello-ui");
        var frame = page.FrameLocator("iframe.ext-iframe");
        await Assertions.Expect(frame.Locator("#greeting")).ToHaveTextAsync("Hello, world");

        await AttachScreenshotAsync(page, "hello-ui-installed-through-console.png", "hello-ui after installing it through the console's consent screen, at 390 px");
        using var install = await _platform.Admin.GetAsync("/api/admin/installs/default/test.hello-ui");
        var state = (await TestPlatform.JsonAsync(install)).GetProperty("state").GetString();

        Assert.Multiple(() =>
        {
            Assert.That(consentText, Does.Contain("Write log lines that admins can read."));
            Assert.That(consentText, Does.Contain("None: it may not connect to any host."));
            Assert.That(consentFits, Is.True, "the consent screen fits 390 px without sideways scrolling");
            Assert.That(outline, Is.Not.EqualTo("none"), "the focused button shows its focus");
            Assert.That(flash, Does.Contain("Installed test.hello-ui 1.0.0 for tenant default"));
            Assert.That(installFits, Is.True, "the install page fits 390 px");
            Assert.That(state, Is.EqualTo("enabled"));
        });
    }
}
