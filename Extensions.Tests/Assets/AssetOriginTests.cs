using System.Security.Cryptography;
using System.Text;
using Extensions.Modules.Assets;
using Extensions.Modules.Bundles;
using Extensions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Extensions.Tests.Assets;

/// <summary>The asset origin over real HTTP: each extension on its own host, files straight from its installed bundle.</summary>
[TestFixture]
[CancelAfter(120_000)]
public sealed class AssetOriginTests
{
    private TestPlatform _platform = null!;
    private PackedBundle _one = null!;
    private PackedBundle _two = null!;
    private string _unInstalledHash = null!;
    private string _oneDir = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _platform = await TestPlatform.StartAsync(new Dictionary<string, string?> { ["Assets:CacheMb"] = "1" });
        _oneDir = GuestFixtures.CreateWithUi("uione");
        _one = await _platform.DeployAsync(_oneDir);
        _two = await _platform.DeployAsync(GuestFixtures.CreateWithUi("uitwo"));

        // Published but never installed: its hash must not be served.
        var v2 = BundlePacker.Pack(GuestFixtures.CreateWithUi("uione", "2.0.0"));
        using var published = await _platform.PublishAsync(v2.ToGzip(), BundleSignature.Create(v2.ContentHash, _platform.Publisher).ToJson());
        await TestPlatform.EnsureSuccessAsync(published);
        _unInstalledHash = v2.ContentHash;
    }

    [OneTimeTearDown]
    public async Task StopAsync() => await _platform.DisposeAsync();

    private string HostOf(string extensionId) => $"{AssetOrigins.Label(extensionId)}.localhost:{_platform.AssetsUrl.Port}";

    private Task<RawResponse> GetAsync(string extensionId, string hash, string path, string? host = null, string method = "GET",
        IEnumerable<(string, string)>? headers = null) =>
        RawTargetHttp.SendAsync(_platform.AssetsUrl, method, $"/ext-ui/{extensionId}/{hash}/{path}", host ?? HostOf(extensionId), headers);

    private static string FileOf(string dir, string path) => File.ReadAllText(Path.Combine(dir, path));

    [Test]
    public async Task Entry_IsServedFromTheBundle_WithImmutableCachingStrongETagNosniffAndCsp()
    {
        var response = await GetAsync("test.uione", _one.ContentHash, "ui/index.html");

        var consolePort = _platform.BaseUrl.Port;
        Assert.Multiple(() =>
        {
            Assert.That(response.Status, Is.EqualTo(200), response.Text);
            Assert.That(response.Text, Is.EqualTo(FileOf(_oneDir, "ui/index.html")));
            Assert.That(response.Header("Content-Type"), Is.EqualTo("text/html; charset=utf-8"));
            Assert.That(response.Header("Cache-Control"), Is.EqualTo("public, max-age=31536000, immutable"));
            Assert.That(response.Header("ETag"), Is.EqualTo($"\"sha256-{Convert.ToHexStringLower(SHA256.HashData(response.Body))}\""));
            Assert.That(response.Header("X-Content-Type-Options"), Is.EqualTo("nosniff"));
            Assert.That(response.Header("Content-Security-Policy"), Does.StartWith("default-src 'self';"));
            Assert.That(response.Header("Content-Security-Policy"),
                Does.EndWith($"frame-ancestors http://127.0.0.1:{consolePort} http://localhost:{consolePort}"));
        });
    }

    [TestCase("ui/app.js", "text/javascript; charset=utf-8")]
    [TestCase("ui/css/site.css", "text/css; charset=utf-8")]
    [TestCase("ui/logo.svg", "image/svg+xml")]
    [TestCase("ui/pixel.png", "image/png")]
    [TestCase("ui/data.bin", "application/octet-stream")]
    [TestCase("static/strings.json", "application/json")]
    public async Task File_HasItsExactContentType(string path, string contentType)
    {
        var response = await GetAsync("test.uione", _one.ContentHash, path);

        Assert.Multiple(() =>
        {
            Assert.That(response.Status, Is.EqualTo(200), response.Text);
            Assert.That(response.Header("Content-Type"), Is.EqualTo(contentType));
            Assert.That(response.Body, Is.EqualTo(File.ReadAllBytes(Path.Combine(_oneDir, path))));
        });
    }

    [Test]
    public async Task IframeSdk_IsServedUnderEveryInstalledBundle_FromTheRepositoryFile_AndRevalidated()
    {
        var one = await GetAsync("test.uione", _one.ContentHash, "_sdk/iframe.js");
        var two = await GetAsync("test.uitwo", _two.ContentHash, "_sdk/iframe.js");
        var notInstalled = await GetAsync("test.uione", _unInstalledHash, "_sdk/iframe.js");

        Assert.Multiple(() =>
        {
            Assert.That(one.Status, Is.EqualTo(200), one.Text);
            Assert.That(one.Text, Is.EqualTo(File.ReadAllText(RepoFiles.PathOf("sdk/iframe/index.js"))));
            Assert.That(one.Header("Content-Type"), Is.EqualTo("text/javascript; charset=utf-8"));
            Assert.That(one.Header("Cache-Control"), Is.EqualTo("no-cache"));
            Assert.That(one.Header("ETag"), Does.StartWith("\"sha256-"));
            Assert.That(two.Body, Is.EqualTo(one.Body));
            Assert.That(notInstalled.Status, Is.EqualTo(404));
        });
    }

    [TestCase("_sdk/ui-kit.css", "sdk/ui-kit/ui-kit.css", "text/css; charset=utf-8")]
    [TestCase("_sdk/ui-kit.js", "sdk/ui-kit/ui-kit.js", "text/javascript; charset=utf-8")]
    public async Task UiKit_IsServedUnderEveryInstalledBundle_FromTheRepositoryFile_WithTheAssetHeaders(string path, string repoFile, string contentType)
    {
        var one = await GetAsync("test.uione", _one.ContentHash, path);
        var two = await GetAsync("test.uitwo", _two.ContentHash, path);
        var revalidated = await GetAsync("test.uione", _one.ContentHash, path, headers: [("If-None-Match", one.Header("ETag") ?? "\"none\"")]);
        var notInstalled = await GetAsync("test.uione", _unInstalledHash, path);
        var otherHost = await GetAsync("test.uione", _one.ContentHash, path, host: HostOf("test.uitwo"));
        var notAKitFile = await GetAsync("test.uione", _one.ContentHash, "_sdk/ui-kit.min.css");

        var consolePort = _platform.BaseUrl.Port;
        Assert.Multiple(() =>
        {
            Assert.That(one.Status, Is.EqualTo(200), one.Text);
            Assert.That(one.Body, Is.EqualTo(File.ReadAllBytes(RepoFiles.PathOf(repoFile))));
            Assert.That(one.Header("Content-Type"), Is.EqualTo(contentType));
            Assert.That(one.Header("Cache-Control"), Is.EqualTo("no-cache"), "the kit changes with the host, so it is revalidated");
            Assert.That(one.Header("ETag"), Is.EqualTo($"\"sha256-{Convert.ToHexStringLower(SHA256.HashData(one.Body))}\""));
            Assert.That(one.Header("X-Content-Type-Options"), Is.EqualTo("nosniff"));
            Assert.That(one.Header("Cross-Origin-Resource-Policy"), Is.EqualTo("same-origin"));
            Assert.That(one.Header("Content-Security-Policy"), Does.StartWith("default-src 'self';"));
            Assert.That(one.Header("Content-Security-Policy"), Does.EndWith($"frame-ancestors http://127.0.0.1:{consolePort} http://localhost:{consolePort}"));
            Assert.That(two.Body, Is.EqualTo(one.Body));
            Assert.That(revalidated.Status, Is.EqualTo(304));
            Assert.That(revalidated.Body, Is.Empty);
            Assert.That(notInstalled.Status, Is.EqualTo(404));
            Assert.That(otherHost.Status, Is.EqualTo(421));
            Assert.That(notAKitFile.Status, Is.EqualTo(404), "only the kit's own files are reserved");
        });
    }

    [Test]
    public async Task IfNoneMatch_WithTheETag_Answers304WithoutBody_AndAnotherTagGetsTheFile()
    {
        var first = await GetAsync("test.uione", _one.ContentHash, "ui/app.js");
        var etag = first.Header("ETag")!;

        var same = await GetAsync("test.uione", _one.ContentHash, "ui/app.js", headers: [("If-None-Match", etag)]);
        var weak = await GetAsync("test.uione", _one.ContentHash, "ui/app.js", headers: [("If-None-Match", "\"other\", W/" + etag)]);
        var other = await GetAsync("test.uione", _one.ContentHash, "ui/app.js", headers: [("If-None-Match", "\"sha256-00\"")]);

        Assert.Multiple(() =>
        {
            Assert.That(same.Status, Is.EqualTo(304));
            Assert.That(same.Body, Is.Empty);
            Assert.That(same.Header("ETag"), Is.EqualTo(etag));
            Assert.That(same.Header("Cache-Control"), Is.EqualTo("public, max-age=31536000, immutable"));
            Assert.That(weak.Status, Is.EqualTo(304));
            Assert.That(other.Status, Is.EqualTo(200));
            Assert.That(other.Body, Is.EqualTo(first.Body));
        });
    }

    [Test]
    public async Task Head_SendsHeadersAndLength_ButNoBody()
    {
        var response = await GetAsync("test.uione", _one.ContentHash, "ui/index.html", method: "HEAD");

        Assert.Multiple(() =>
        {
            Assert.That(response.Status, Is.EqualTo(200));
            Assert.That(response.Header("Content-Length"), Is.EqualTo(Encoding.UTF8.GetByteCount(FileOf(_oneDir, "ui/index.html")).ToString(System.Globalization.CultureInfo.InvariantCulture)));
            Assert.That(response.Header("ETag"), Does.StartWith("\"sha256-"));
            Assert.That(response.Body, Is.Empty);
        });
    }

    [Test]
    public async Task OtherMethods_AreNotServed()
    {
        var response = await GetAsync("test.uione", _one.ContentHash, "ui/index.html", method: "POST");

        Assert.That(response.Status, Is.EqualTo(405));
    }

    [TestCase("ui", 404)]
    [TestCase("ui/css", 404)]
    [TestCase("ui/", 400)]
    [TestCase("manifest.json", 404)]
    [TestCase("main.wasm", 404)]
    [TestCase("notes/private.txt", 404)]
    [TestCase("ui/missing.js", 404)]
    public async Task DirectoriesServerCodeAndUnpackedFiles_AreNotServed(string path, int status)
    {
        var response = await GetAsync("test.uione", _one.ContentHash, path);

        Assert.Multiple(() =>
        {
            Assert.That(response.Status, Is.EqualTo(status));
            Assert.That(response.Header("Content-Type"), Is.EqualTo("application/problem+json"));
            Assert.That(response.Header("X-Content-Type-Options"), Is.EqualTo("nosniff"));
            Assert.That(response.Text, Does.Not.Contain("index.html").And.Not.Contain("manifestVersion"));
        });
    }

    [TestCase("ui/../manifest.json")]
    [TestCase("ui/%2e%2e/manifest.json")]
    [TestCase("ui/%2E%2E/main.wasm")]
    [TestCase("ui/.%2e/manifest.json")]
    [TestCase("ui%2f..%2fmanifest.json")]
    [TestCase("ui%2F..%2Fmanifest.json")]
    [TestCase("ui/..%5cmanifest.json")]
    [TestCase("ui/..%5Cmanifest.json")]
    [TestCase("ui\\..\\manifest.json")]
    [TestCase("ui/%c0%ae%c0%ae/manifest.json")]
    [TestCase("ui/%e0%80%ae%e0%80%ae/manifest.json")]
    [TestCase("ui/index.html%00.png")]
    [TestCase("ui/%00")]
    [TestCase("ui/%zz")]
    [TestCase("ui/./index.html")]
    [TestCase("ui//index.html")]
    [TestCase("%2e%2e/%2e%2e/%2e%2e/etc/passwd", 404)] // the server's decoded path leaves /ext-ui: nothing but assets is served there
    public async Task HostilePath_IsRefused_AndTheBundleStillServes(string path, int status = 400)
    {
        var response = await GetAsync("test.uione", _one.ContentHash, path);
        var after = await GetAsync("test.uione", _one.ContentHash, "ui/index.html");

        Assert.Multiple(() =>
        {
            Assert.That(response.Status, Is.EqualTo(status), response.Text);
            Assert.That(response.Text, Does.Not.Contain("manifestVersion").And.Not.Contain("root:"));
            Assert.That(after.Status, Is.EqualTo(200));
        });
    }

    [Test]
    public async Task OverlongPath_IsRefused()
    {
        var longPath = string.Join('/', Enumerable.Repeat("a", 40)) + "/index.html";
        var longName = new string('a', 2100);

        var deep = await GetAsync("test.uione", _one.ContentHash, longPath);
        var wide = await GetAsync("test.uione", _one.ContentHash, longName);

        Assert.Multiple(() =>
        {
            Assert.That(deep.Status, Is.EqualTo(400), deep.Text);
            Assert.That(deep.Text, Does.Contain("segments"));
            Assert.That(wide.Status, Is.EqualTo(400), wide.Text);
            Assert.That(wide.Text, Does.Contain("longer than"));
        });
    }

    [Test]
    public async Task Host_ThatIsNotTheExtensionsOwnOrigin_IsRefusedWith421()
    {
        var port = _platform.AssetsUrl.Port;
        var bareIp = await GetAsync("test.uione", _one.ContentHash, "ui/index.html", host: $"127.0.0.1:{port}");
        var otherExtension = await GetAsync("test.uione", _one.ContentHash, "ui/index.html", host: HostOf("test.uitwo"));
        var otherDomain = await GetAsync("test.uione", _one.ContentHash, "ui/index.html", host: $"{AssetOrigins.Label("test.uione")}.example.com:{port}");
        var suffixTrick = await GetAsync("test.uione", _one.ContentHash, "ui/index.html", host: $"x.{HostOf("test.uione")}");
        var own = await GetAsync("test.uione", _one.ContentHash, "ui/index.html", host: HostOf("test.uione").ToUpperInvariant());

        Assert.Multiple(() =>
        {
            foreach (var refused in new[] { bareIp, otherExtension, otherDomain, suffixTrick })
            {
                Assert.That(refused.Status, Is.EqualTo(421), refused.Text);
                Assert.That(refused.Text, Does.Contain("\"code\":\"wrong_asset_origin\""));
                Assert.That(refused.Text, Does.Not.Contain("<!doctype"));
            }

            Assert.That(own.Status, Is.EqualTo(200), "host names are case-insensitive");
        });
    }

    [Test]
    public async Task Hash_ThatIsNotAnInstalledVersionOfThatExtension_Is404()
    {
        var published = await GetAsync("test.uione", _unInstalledHash, "ui/index.html");
        var otherExtensions = await GetAsync("test.uione", _two.ContentHash, "ui/index.html");
        var unknown = await GetAsync("test.uione", "sha256:" + new string('0', 64), "ui/index.html");
        var malformed = await GetAsync("test.uione", "sha256:ABC", "ui/index.html");
        var notInstalledExtension = await GetAsync("test.nothere", _one.ContentHash, "ui/index.html");

        Assert.Multiple(() =>
        {
            Assert.That(published.Status, Is.EqualTo(404), published.Text);
            Assert.That(otherExtensions.Status, Is.EqualTo(404), otherExtensions.Text);
            Assert.That(unknown.Status, Is.EqualTo(404), unknown.Text);
            Assert.That(malformed.Status, Is.EqualTo(400), malformed.Text);
            Assert.That(notInstalledExtension.Status, Is.EqualTo(404), notInstalledExtension.Text);
        });
    }

    [Test]
    public async Task DisabledInstall_StopsServingItsUi_UntilEnabledAgain()
    {
        var extension = GuestFixtures.CreateWithUi("uitoggle");
        var packed = await _platform.DeployAsync(extension);
        var before = await GetAsync("test.uitoggle", packed.ContentHash, "ui/index.html");

        using (var disable = await _platform.Admin.PostAsync("/api/admin/installs/default/test.uitoggle/disable", null))
        {
            await TestPlatform.EnsureSuccessAsync(disable);
        }

        var disabled = await GetAsync("test.uitoggle", packed.ContentHash, "ui/index.html");
        using (var enable = await _platform.Admin.PostAsync("/api/admin/installs/default/test.uitoggle/enable", null))
        {
            await TestPlatform.EnsureSuccessAsync(enable);
        }

        var enabled = await GetAsync("test.uitoggle", packed.ContentHash, "ui/index.html");

        Assert.Multiple(() =>
        {
            Assert.That(before.Status, Is.EqualTo(200));
            Assert.That(disabled.Status, Is.EqualTo(404));
            Assert.That(enabled.Status, Is.EqualTo(200));
        });
    }

    [Test]
    public async Task AssetOrigin_ServesNothingElse_AndTheConsoleOriginServesNoAssets()
    {
        var host = HostOf("test.uione");
        var admin = await RawTargetHttp.SendAsync(_platform.AssetsUrl, "GET", "/api/admin/extensions", host, [("Authorization", "Bearer " + _platform.AdminKey)]);
        var gateway = await RawTargetHttp.SendAsync(_platform.AssetsUrl, "GET", "/api/ext/test.uione/run", host, [("Authorization", "Bearer " + _platform.AdminKey)]);
        var health = await RawTargetHttp.SendAsync(_platform.AssetsUrl, "GET", "/healthz", host);
        var onConsole = await RawTargetHttp.SendAsync(_platform.BaseUrl, "GET", $"/ext-ui/test.uione/{_one.ContentHash}/ui/index.html", host);

        Assert.Multiple(() =>
        {
            Assert.That(admin.Status, Is.EqualTo(404));
            Assert.That(gateway.Status, Is.EqualTo(404));
            Assert.That(health.Status, Is.EqualTo(404));
            Assert.That(onConsole.Status, Is.EqualTo(404));
            Assert.That(onConsole.Text, Does.Not.Contain("<!doctype"));
        });
    }

    [Test]
    public async Task Cache_IsBoundedByCacheMb_AndEvictedBundlesAreReloadedOnDemand()
    {
        var big = new Dictionary<string, byte[]> { ["ui/big.bin"] = RandomNumberGenerator.GetBytes(700 * 1024) };
        var first = await _platform.DeployAsync(GuestFixtures.CreateWithUi("uibiga", extraFiles: big));
        var second = await _platform.DeployAsync(GuestFixtures.CreateWithUi("uibigb", extraFiles: big));
        var cache = _platform.App.Services.GetRequiredService<UiBundleCache>();

        var a = await GetAsync("test.uibiga", first.ContentHash, "ui/big.bin");
        var b = await GetAsync("test.uibigb", second.ContentHash, "ui/big.bin");
        var countAfterBoth = cache.Count;
        var again = await GetAsync("test.uibiga", first.ContentHash, "ui/big.bin");

        Assert.Multiple(() =>
        {
            Assert.That(a.Body, Is.EqualTo(big["ui/big.bin"]));
            Assert.That(b.Body, Is.EqualTo(big["ui/big.bin"]));
            Assert.That(countAfterBoth, Is.EqualTo(1), "two 700 KiB bundles do not fit a 1 MiB cache together");
            Assert.That(again.Status, Is.EqualTo(200));
            Assert.That(again.Body, Is.EqualTo(big["ui/big.bin"]));
        });
    }

    [Test]
    public async Task BundleAlteredInTheStore_IsNotServed()
    {
        var packed = await _platform.DeployAsync(GuestFixtures.CreateWithUi("uitamper"));
        var path = Path.Combine(_platform.DataDirectory, "cas", "sha256", packed.ContentHash[7..9], packed.ContentHash[9..]);
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[^600] ^= 0xff;
        File.SetAttributes(path, FileAttributes.Normal);
        await File.WriteAllBytesAsync(path, bytes);

        var response = await GetAsync("test.uitamper", packed.ContentHash, "ui/index.html");

        Assert.Multiple(() =>
        {
            Assert.That(response.Status, Is.EqualTo(503), response.Text);
            Assert.That(response.Text, Does.Contain("\"code\":\"extension_failed\""));
        });
    }

    [Test]
    public void Label_IsDnsSafeStableAndDistinguishesIdsThatSlugAlike()
    {
        var longest = new string('p', 63) + "." + new string('n', 63);
        string[] ids = ["samples.hello", "a-b.c", "a.b-c", "xn--pub.name", longest, "test.uione"];
        var labels = ids.Select(AssetOrigins.Label).ToList();

        Assert.Multiple(() =>
        {
            foreach (var label in labels)
            {
                Assert.That(label, Does.Match("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"), label);
                Assert.That(label, Does.Not.Contain("--"), label);
            }

            Assert.That(labels.Distinct().Count(), Is.EqualTo(ids.Length));
            Assert.That(AssetOrigins.Label("samples.hello"), Does.Match("^samples-hello-[a-z2-7]{16}$"));
            Assert.That(AssetOrigins.Label("samples.hello"), Is.EqualTo("samples-hello-" + Base32Prefix("samples.hello")));
        });
    }

    /// <summary>An independent RFC 4648 base32 of SHA-256, first 16 characters.</summary>
    private static string Base32Prefix(string id)
    {
        var bits = string.Concat(SHA256.HashData(Encoding.UTF8.GetBytes(id)).Select(b => Convert.ToString(b, 2).PadLeft(8, '0')));
        return string.Concat(Enumerable.Range(0, 16).Select(i => "abcdefghijklmnopqrstuvwxyz234567"[Convert.ToInt32(bits.Substring(i * 5, 5), 2)]));
    }
}
