using System.Net;
using System.Net.Http.Json;
using System.Text;
using Dapper;
using Extensions.Modules.HostApi;
using Extensions.Modules.Runner.Contracts;
using Extensions.Modules.Storage;
using Extensions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Extensions.Tests.HostApi;

/// <summary>
/// <c>secret_get</c> and the admin secrets API on the real platform: values round-trip to a granted guest, are encrypted at
/// rest under the host key with the install bound in, and never show up anywhere else.
/// </summary>
[TestFixture]
[CancelAfter(120_000)]
public sealed class SecretTests
{
    private const string Route = "/api/ext/test.secrets/run";
    private TestPlatform _platform = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _platform = await TestPlatform.StartAsync();
        await _platform.DeployAsync(GuestFixtures.Create("secrets", HostApiGuests.SecretEcho, capabilities: ["cap:secrets"],
            endpoints: [("POST", "/run")], secrets: ["api_token", "other_token"]));
    }

    [OneTimeTearDown]
    public async Task StopAsync() => await _platform.DisposeAsync();

    private static string SecretsUrl(string extension = "test.secrets", string tenant = "default") =>
        $"/api/admin/installs/{tenant}/{extension}/secrets";

    private Task<HttpResponseMessage> AskAsync(string name, HttpClient? client = null, string route = Route) =>
        (client ?? _platform.Admin).PostAsync(route, new StringContent(name));

    [Test]
    public async Task SetAsText_GuestReadsTheValue_DeleteMakesItAbsent()
    {
        using (var put = await _platform.Admin.PutAsync($"{SecretsUrl()}/api_token", new StringContent("tok-text-1")))
        {
            await TestPlatform.EnsureSuccessAsync(put);
        }

        using (var read = await AskAsync("api_token"))
        {
            Assert.That(read.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(await read.Content.ReadAsStringAsync(), Is.EqualTo("tok-text-1"));
        }

        using (var delete = await _platform.Admin.DeleteAsync($"{SecretsUrl()}/api_token"))
        {
            Assert.That(delete.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        }

        using (var read = await AskAsync("api_token"))
        {
            Assert.That((int)read.StatusCode, Is.EqualTo(HostApiGuests.StatusFor(AbiCodes.Absent)));
        }

        using var again = await _platform.Admin.DeleteAsync($"{SecretsUrl()}/api_token");
        Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task SetAsJson_StoresTheStringAndRotationReplacesIt()
    {
        using (var put = await _platform.Admin.PutAsJsonAsync($"{SecretsUrl()}/other_token", new { value = "first \"quoted\" ✓" }))
        {
            await TestPlatform.EnsureSuccessAsync(put);
        }

        using (var read = await AskAsync("other_token"))
        {
            Assert.That(await read.Content.ReadAsStringAsync(), Is.EqualTo("first \"quoted\" ✓"));
        }

        using (var put = await _platform.Admin.PutAsJsonAsync($"{SecretsUrl()}/other_token", new { value = "second" }))
        {
            await TestPlatform.EnsureSuccessAsync(put);
        }

        using var reread = await AskAsync("other_token");
        Assert.That(await reread.Content.ReadAsStringAsync(), Is.EqualTo("second"));
    }

    [Test]
    public async Task UndeclaredName_IsRefusedByTheApiAndIsInvalidForTheGuest()
    {
        using var put = await _platform.Admin.PutAsync($"{SecretsUrl()}/not_declared", new StringContent("value-undeclared"));
        Assert.That(put.StatusCode, Is.EqualTo(HttpStatusCode.UnprocessableEntity));
        var problem = await TestPlatform.JsonAsync(put);
        Assert.That(problem.GetProperty("code").GetString(), Is.EqualTo("secret_not_declared"));
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("api_token"));

        using var read = await AskAsync("not_declared");
        Assert.That((int)read.StatusCode, Is.EqualTo(HostApiGuests.StatusFor(AbiCodes.Invalid)));
        await using var connection = await _platform.App.Services.GetRequiredService<IDatabase>().OpenAsync();
        Assert.That(await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM hostapi_secrets WHERE name = 'not_declared'"), Is.Zero);
    }

    [Test]
    public async Task List_ShowsNamesAndTimesOnly()
    {
        using (var put = await _platform.Admin.PutAsync($"{SecretsUrl()}/api_token", new StringContent("listed-value-xyz")))
        {
            await TestPlatform.EnsureSuccessAsync(put);
        }

        using var list = await _platform.Admin.GetAsync(SecretsUrl());
        await TestPlatform.EnsureSuccessAsync(list);
        var text = await list.Content.ReadAsStringAsync();
        Assert.That(text, Does.Not.Contain("listed-value-xyz"));
        var rows = (await TestPlatform.JsonAsync(list)).EnumerateArray().ToDictionary(r => r.GetProperty("name").GetString()!);
        Assert.That(rows.Keys, Is.EquivalentTo(new[] { "api_token", "other_token" }));
        Assert.That(rows["api_token"].GetProperty("declared").GetBoolean(), Is.True);
        Assert.That(rows["api_token"].GetProperty("updatedAt").ValueKind, Is.EqualTo(System.Text.Json.JsonValueKind.String));
        Assert.That(rows["api_token"].EnumerateObject().Select(p => p.Name), Is.EquivalentTo(new[] { "name", "declared", "updatedAt" }));
    }

    [Test]
    public async Task BadBodies_AreRefusedWithoutQuotingThem()
    {
        const string marker = "bad-body-marker-771";
        using var notJson = await _platform.Admin.PutAsync($"{SecretsUrl()}/api_token",
            new StringContent($"{{\"value\": {marker}", Encoding.UTF8, "application/json"));
        Assert.That(notJson.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await notJson.Content.ReadAsStringAsync(), Does.Not.Contain(marker));

        using var notString = await _platform.Admin.PutAsJsonAsync($"{SecretsUrl()}/api_token", new { value = new[] { marker } });
        Assert.That(notString.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await notString.Content.ReadAsStringAsync(), Does.Not.Contain(marker));

        using var empty = await _platform.Admin.PutAsync($"{SecretsUrl()}/api_token", new StringContent(""));
        Assert.That(empty.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));

        using var huge = await _platform.Admin.PutAsync($"{SecretsUrl()}/api_token", new ByteArrayContent(new byte[64 * 1024 + 1]));
        Assert.That(huge.StatusCode, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
        Assert.That((await TestPlatform.JsonAsync(huge)).GetProperty("code").GetString(), Is.EqualTo("payload_too_large"));
    }

    [Test]
    public async Task UnknownInstall_AndTenantKeys_AreRefused()
    {
        using var missing = await _platform.Admin.PutAsync($"{SecretsUrl("test.nothing")}/api_token", new StringContent("v"));
        Assert.That(missing.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));

        using var key = await _platform.Admin.PostAsJsonAsync("/api/admin/tenants/default/keys", new { name = "not an admin" });
        await TestPlatform.EnsureSuccessAsync(key);
        using var tenant = _platform.Client((await TestPlatform.JsonAsync(key)).GetProperty("key").GetString());
        using var put = await tenant.PutAsync($"{SecretsUrl()}/api_token", new StringContent("from-a-tenant"));
        Assert.That(put.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        using var list = await tenant.GetAsync(SecretsUrl());
        Assert.That(list.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
    }

    [Test]
    public async Task DisabledInstall_CanHaveItsSecretsSetBeforeItServes()
    {
        await _platform.DeployAsync(GuestFixtures.Create("secretsoff", HostApiGuests.SecretEcho, capabilities: ["cap:secrets"],
            endpoints: [("POST", "/run")], secrets: ["api_token"]));
        using (var disable = await _platform.Admin.PostAsync("/api/admin/installs/default/test.secretsoff/disable", null))
        {
            await TestPlatform.EnsureSuccessAsync(disable);
        }

        using (var put = await _platform.Admin.PutAsync($"{SecretsUrl("test.secretsoff")}/api_token", new StringContent("set-while-disabled")))
        {
            await TestPlatform.EnsureSuccessAsync(put);
        }

        using (var enable = await _platform.Admin.PostAsync("/api/admin/installs/default/test.secretsoff/enable", null))
        {
            await TestPlatform.EnsureSuccessAsync(enable);
        }

        using var read = await AskAsync("api_token", route: "/api/ext/test.secretsoff/run");
        Assert.That(await read.Content.ReadAsStringAsync(), Is.EqualTo("set-while-disabled"));
    }

    [Test]
    public async Task WithoutTheGrant_GuestIsDenied()
    {
        await _platform.DeployAsync(GuestFixtures.Create("nosecrets", HostApiGuests.SecretEcho, endpoints: [("POST", "/run")], secrets: ["api_token"]));
        using (var put = await _platform.Admin.PutAsync($"{SecretsUrl("test.nosecrets")}/api_token", new StringContent("ungranted-value")))
        {
            await TestPlatform.EnsureSuccessAsync(put);
        }

        using var read = await AskAsync("api_token", route: "/api/ext/test.nosecrets/run");
        Assert.That((int)read.StatusCode, Is.EqualTo(HostApiGuests.StatusFor(AbiCodes.Denied)));
        Assert.That(await read.Content.ReadAsStringAsync(), Does.Not.Contain("ungranted-value"));
    }

    [Test]
    public async Task SecretValue_NeverAppearsInLogsAuditRecordsHeadersErrorsOrFiles()
    {
        var value = $"never-leak-{Guid.NewGuid():N}";
        var seen = new StringBuilder();
        async Task Capture(HttpResponseMessage response, bool bodyMayHoldValue = false)
        {
            seen.AppendLine(response.Headers.ToString()).AppendLine(response.Content.Headers.ToString());
            if (!bodyMayHoldValue)
            {
                seen.AppendLine(await response.Content.ReadAsStringAsync());
            }
        }

        using (var put = await _platform.Admin.PutAsync($"{SecretsUrl()}/api_token", new StringContent(value)))
        {
            await TestPlatform.EnsureSuccessAsync(put);
            await Capture(put);
        }

        // Every path that handles the value, including the failing ones.
        using (var read = await AskAsync("api_token"))
        {
            Assert.That(await read.Content.ReadAsStringAsync(), Is.EqualTo(value), "the guest must get the value, or nothing below proves anything");
            await Capture(read, bodyMayHoldValue: true);
        }

        using (var undeclared = await _platform.Admin.PutAsync($"{SecretsUrl()}/nope", new StringContent(value)))
        {
            await Capture(undeclared);
        }

        using (var badJson = await _platform.Admin.PutAsync($"{SecretsUrl()}/api_token", new StringContent($"{{\"value\":\"{value}", Encoding.UTF8, "application/json")))
        {
            await Capture(badJson);
        }

        using (var list = await _platform.Admin.GetAsync(SecretsUrl()))
        {
            await Capture(list);
        }

        using (var audit = await _platform.Admin.GetAsync("/api/admin/audit?limit=1000"))
        {
            await TestPlatform.EnsureSuccessAsync(audit);
            var text = await audit.Content.ReadAsStringAsync();
            Assert.That(text, Does.Contain("secret.set"), "setting a secret is audited");
            seen.AppendLine(text);
        }

        using (var invocations = await _platform.Admin.GetAsync("/api/admin/invocations?limit=1000"))
        {
            seen.AppendLine(await invocations.Content.ReadAsStringAsync());
        }

        foreach (var (category, _, message) in _platform.Logs.Entries)
        {
            seen.Append(category).Append(' ').AppendLine(message);
        }

        Assert.That(seen.ToString(), Does.Not.Contain(value));

        var needle = Encoding.UTF8.GetBytes(value);
        foreach (var file in Directory.EnumerateFiles(_platform.DataDirectory, "*", SearchOption.AllDirectories))
        {
            byte[] bytes;
            using (var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            using (var copy = new MemoryStream())
            {
                await stream.CopyToAsync(copy);
                bytes = copy.ToArray();
            }

            Assert.That(bytes.AsSpan().IndexOf(needle), Is.EqualTo(-1), $"{file} holds the plaintext");
        }
    }

    [Test]
    public async Task RowCopiedToAnotherInstall_DoesNotDecrypt()
    {
        using (var tenant = await _platform.Admin.PostAsJsonAsync("/api/admin/tenants", new { id = "copycat" }))
        {
            await TestPlatform.EnsureSuccessAsync(tenant);
        }

        using var install = await _platform.Admin.PostAsJsonAsync("/api/admin/installs",
            new { extensionId = "test.secrets", tenant = "copycat", capabilities = new[] { "cap:secrets" } });
        await TestPlatform.EnsureSuccessAsync(install);
        var copyInstall = (await TestPlatform.JsonAsync(install)).GetProperty("installId").GetString();
        using var key = await _platform.Admin.PostAsJsonAsync("/api/admin/tenants/copycat/keys", new { name = "copycat" });
        using var copycat = _platform.Client((await TestPlatform.JsonAsync(key)).GetProperty("key").GetString());

        using (var put = await _platform.Admin.PutAsync($"{SecretsUrl()}/other_token", new StringContent("bound-to-default")))
        {
            await TestPlatform.EnsureSuccessAsync(put);
        }

        await using (var connection = await _platform.App.Services.GetRequiredService<IDatabase>().OpenAsync())
        {
            var copied = await connection.ExecuteAsync("""
                INSERT INTO hostapi_secrets (install_id, name, nonce, ciphertext, tag, updated_at)
                SELECT @copyInstall, s.name, s.nonce, s.ciphertext, s.tag, s.updated_at
                FROM hostapi_secrets s JOIN registry_installs i ON i.id = s.install_id
                WHERE i.tenant_id = 'default' AND i.extension_id = 'test.secrets' AND s.name = 'other_token'
                """, new { copyInstall });
            Assert.That(copied, Is.EqualTo(1));
        }

        using var read = await AskAsync("other_token", copycat);
        Assert.That((int)read.StatusCode, Is.EqualTo(HostApiGuests.StatusFor(AbiCodes.Internal)));
        Assert.That(await read.Content.ReadAsStringAsync(), Does.Not.Contain("bound-to-default"));

        // The original install is unharmed.
        using var original = await AskAsync("other_token");
        Assert.That(await original.Content.ReadAsStringAsync(), Is.EqualTo("bound-to-default"));
    }

    [Test]
    public async Task RemoveInstall_DeletesOnlyThatInstallsSecrets()
    {
        await _platform.DeployAsync(GuestFixtures.Create("secrets2", HostApiGuests.SecretEcho, capabilities: ["cap:secrets"],
            endpoints: [("POST", "/run")], secrets: ["api_token"]));
        using (var put = await _platform.Admin.PutAsync($"{SecretsUrl("test.secrets2")}/api_token", new StringContent("goes-away")))
        {
            await TestPlatform.EnsureSuccessAsync(put);
        }

        using (var put = await _platform.Admin.PutAsync($"{SecretsUrl()}/api_token", new StringContent("stays")))
        {
            await TestPlatform.EnsureSuccessAsync(put);
        }

        using var installs = await _platform.Admin.GetAsync("/api/admin/installs?tenant=default");
        var installId = (await TestPlatform.JsonAsync(installs)).EnumerateArray()
            .Single(i => i.GetProperty("extensionId").GetString() == "test.secrets2").GetProperty("id").GetString()!;
        await _platform.App.Services.GetRequiredService<SecretStore>().RemoveInstallAsync(installId, CancellationToken.None);

        using var gone = await AskAsync("api_token", route: "/api/ext/test.secrets2/run");
        Assert.That((int)gone.StatusCode, Is.EqualTo(HostApiGuests.StatusFor(AbiCodes.Absent)));
        using var kept = await AskAsync("api_token");
        Assert.That(await kept.Content.ReadAsStringAsync(), Is.EqualTo("stays"));
    }

    [Test]
    public void HostKey_IsCreatedOwnerOnlyAndStable()
    {
        var path = Path.Combine(_platform.DataDirectory, HostKey.FileName);
        Assert.That(File.Exists(path), Is.True);
        if (!OperatingSystem.IsWindows())
        {
            Assert.That(File.GetUnixFileMode(path), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
        }

        var key = Convert.FromBase64String(File.ReadAllText(path).Trim());
        Assert.That(key, Has.Length.EqualTo(32));
        Assert.That(HostKey.LoadOrCreate(path, NullLogger.Instance), Is.EqualTo(key), "a second start reads the same key");
    }

    [Test]
    public async Task Uninstall_RemovesTheInstallsSecrets_SoAReinstallHasNone()
    {
        var packed = await _platform.DeployAsync(GuestFixtures.Create("secrets-gone", HostApiGuests.SecretEcho, capabilities: ["cap:secrets"],
            endpoints: [("POST", "/run")], secrets: ["api_token"]));
        using (var put = await _platform.Admin.PutAsync($"{SecretsUrl("test.secrets-gone")}/api_token", new StringContent("tok-before-uninstall")))
        {
            await TestPlatform.EnsureSuccessAsync(put);
        }

        var installId = await Rows.InstallIdAsync(_platform, "test.secrets-gone");
        const string Stored = "SELECT count(*) FROM hostapi_secrets WHERE install_id = @installId";
        Assert.That(await Rows.CountAsync(_platform, Stored, new { installId }), Is.EqualTo(1));

        using (var uninstalled = await _platform.Admin.DeleteAsync("/api/admin/installs/default/test.secrets-gone"))
        {
            await TestPlatform.EnsureSuccessAsync(uninstalled);
        }

        using (var reinstalled = await _platform.Admin.PostAsJsonAsync("/api/admin/installs", new
        {
            extensionId = "test.secrets-gone", tenant = "default", version = packed.Manifest.Version, capabilities = packed.Manifest.Capabilities,
        }))
        {
            await TestPlatform.EnsureSuccessAsync(reinstalled);
        }

        using var read = await AskAsync("api_token", route: "/api/ext/test.secrets-gone/run");
        Assert.That(await read.Content.ReadAsStringAsync(), Does.Not.Contain("tok-before-uninstall"));
        using var list = await _platform.Admin.GetAsync(SecretsUrl("test.secrets-gone"));
        var names = (await TestPlatform.JsonAsync(list)).EnumerateArray().Where(e => e.GetProperty("updatedAt").ValueKind != System.Text.Json.JsonValueKind.Null).ToList();
        Assert.That(names, Is.Empty, "no secret is set on the new install");
        Assert.That(await Rows.CountAsync(_platform, Stored, new { installId }), Is.Zero, "the uninstalled install's secret rows are gone");
    }
}
