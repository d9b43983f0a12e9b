using System.Net;
using Extensions.Modules.Storage;
using Extensions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Extensions.Tests.Registry;

/// <summary>Installs move only between allowed states; each move is audited and takes effect on the next request.</summary>
[TestFixture]
[CancelAfter(60_000)]
public sealed class InstallLifecycleTests
{
    private TestPlatform _platform = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => _platform = await TestPlatform.StartAsync();

    [OneTimeTearDown]
    public async Task StopAsync() => await _platform.DisposeAsync();

    private async Task<(HttpStatusCode Status, string? Code)> CallAsync(string extension)
    {
        using var response = await _platform.Admin.GetAsync($"/api/ext/{extension}/run");
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, response.IsSuccessStatusCode ? null : System.Text.Json.JsonDocument.Parse(text).RootElement.GetProperty("code").GetString());
    }

    private async Task<string?> StateAsync(string extension)
    {
        using var response = await _platform.Admin.GetAsync("/api/admin/installs?tenant=default");
        return (await TestPlatform.JsonAsync(response)).EnumerateArray()
            .Where(i => i.GetProperty("extensionId").GetString() == extension).Select(i => i.GetProperty("state").GetString()).SingleOrDefault();
    }

    [Test]
    public async Task DisableEnableUninstall_ChangeWhatTheGatewayServes_AndAreAudited()
    {
        await _platform.DeployAsync(GuestFixtures.Create("lifecycle", GuestFixtures.Ok));
        Assert.That(await CallAsync("test.lifecycle"), Is.EqualTo((HttpStatusCode.OK, (string?)null)));

        using (var disabled = await _platform.Admin.PostAsync("/api/admin/installs/default/test.lifecycle/disable", null))
        {
            Assert.That(disabled.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        Assert.That(await CallAsync("test.lifecycle"), Is.EqualTo((HttpStatusCode.Forbidden, "extension_disabled")));

        using (var again = await _platform.Admin.PostAsync("/api/admin/installs/default/test.lifecycle/disable", null))
        {
            Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.Conflict));
            Assert.That((await TestPlatform.JsonAsync(again)).GetProperty("code").GetString(), Is.EqualTo("invalid_state"));
        }

        using (var enabled = await _platform.Admin.PostAsync("/api/admin/installs/default/test.lifecycle/enable", null))
        {
            Assert.That(enabled.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        Assert.That(await CallAsync("test.lifecycle"), Is.EqualTo((HttpStatusCode.OK, (string?)null)));

        using (var removed = await _platform.Admin.DeleteAsync("/api/admin/installs/default/test.lifecycle"))
        {
            Assert.That(removed.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        }

        Assert.That(await CallAsync("test.lifecycle"), Is.EqualTo((HttpStatusCode.NotFound, "extension_not_installed")));
        Assert.That(await StateAsync("test.lifecycle"), Is.Null);
        using (var twice = await _platform.Admin.DeleteAsync("/api/admin/installs/default/test.lifecycle"))
        {
            Assert.That(twice.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        }

        using var audit = await _platform.Admin.GetAsync("/api/admin/audit?subject=test.lifecycle");
        var actions = (await TestPlatform.JsonAsync(audit)).EnumerateArray().Select(a => a.GetProperty("action").GetString()).ToList();
        Assert.That(actions, Is.EqualTo(new[] { "uninstall", "install.enabled", "install.disabled", "install" }));
    }

    [Test]
    public async Task BundleTamperedOnDiskAfterPublish_IsRefusedAtLoad_AndTheInstallMarkedFailed()
    {
        var packed = await _platform.DeployAsync(GuestFixtures.Create("tamperdisk", GuestFixtures.Ok));
        Assert.That(await CallAsync("test.tamperdisk"), Is.EqualTo((HttpStatusCode.OK, (string?)null)));

        var path = _platform.App.Services.GetRequiredService<IContentStore>().PathOf(packed.ContentHash);
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[600] ^= 0x20;
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await File.WriteAllBytesAsync(path, bytes);
        // Any registry change makes the gateway load installs again (as a restart would).
        using (var _ = await _platform.Admin.PostAsync("/api/admin/installs/default/test.tamperdisk/disable", null))
        using (var __ = await _platform.Admin.PostAsync("/api/admin/installs/default/test.tamperdisk/enable", null))
        {
        }

        Assert.That(await CallAsync("test.tamperdisk"), Is.EqualTo((HttpStatusCode.ServiceUnavailable, "extension_failed")));
        Assert.That(await StateAsync("test.tamperdisk"), Is.EqualTo("failed"));
        using var audit = await _platform.Admin.GetAsync("/api/admin/audit?subject=test.tamperdisk");
        var failed = (await TestPlatform.JsonAsync(audit)).EnumerateArray().First(a => a.GetProperty("action").GetString() == "install.failed");
        Assert.That(failed.GetProperty("detail").GetString(), Does.Contain(packed.ContentHash));
    }
}
