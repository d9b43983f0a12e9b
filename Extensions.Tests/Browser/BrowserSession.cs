using Microsoft.Playwright;

namespace Extensions.Tests.Browser;

/// <summary>Debian's chromium driven by Playwright: never a downloaded browser. Tests that need it skip loudly when it is missing.</summary>
internal static class BrowserSession
{
    public const string ChromiumPath = "/usr/bin/chromium";

    public static async Task<(IPlaywright Playwright, IBrowser Browser)> LaunchAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            Assert.Ignore($"{ChromiumPath} is missing: install it with 'apt-get install -y chromium' (.ci/run does)");
        }

        var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Timeout = 30_000,
            Args =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
            ],
        });
        return (playwright, browser);
    }
}
