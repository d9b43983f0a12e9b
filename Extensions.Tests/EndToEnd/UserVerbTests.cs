using System.Diagnostics;
using System.Net;
using Extensions.Tests.Support;

namespace Extensions.Tests.EndToEnd;

/// <summary><c>users add|list|disable|passwd</c> against a real <c>serve</c>, checked by signing in to its console.</summary>
[TestFixture]
[CancelAfter(240_000)]
public sealed class UserVerbTests
{
    private string _work = null!;
    private Process _server = null!;
    private Uri _console = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _work = Directory.CreateTempSubdirectory("ext-users-").FullName;
        (_server, _console, _, _) = await HostProcess.ServeAsync(_work, "--data", "data", "--port", "0", "--asset-port", "0");
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await HostProcess.KillAsync(_server);
        _server.Dispose();
        Directory.Delete(_work, recursive: true);
    }

    private Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args) =>
        HostProcess.RunAsync(_work, [.. args, "--server", _console.ToString(), "--key", Path.Combine("data", "admin.key")]);

    private async Task<string> OkAsync(params string[] args)
    {
        var (exit, stdout, stderr) = await RunAsync(args);
        Assert.That(exit, Is.Zero, $"{string.Join(' ', args)}\nstdout: {stdout}\nstderr: {stderr}");
        return stdout;
    }

    private async Task<HttpStatusCode> SignInAsync(string user, string password)
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = _console };
        using var response = await http.PostAsync("/console/sign-in", new FormUrlEncodedContent(
            [new("tenant", "default"), new("user", user), new("password", password)]));
        return response.StatusCode;
    }

    [Test]
    public async Task Users_AddListPasswdDisable_DriveConsoleSignIn_AndBadInputIsOneLine()
    {
        await File.WriteAllTextAsync(Path.Combine(_work, "pw.txt"), "ada's long password\n");
        var added = await OkAsync("users", "add", "ada", "--tenant", "default", "--role", "admin", "--password-file", "pw.txt");
        var generated = await OkAsync("users", "add", "ben", "--tenant", "default");
        var benPassword = generated.Split('\n').Single(l => l.StartsWith("password: ", StringComparison.Ordinal))["password: ".Length..].Trim();
        var adaIn = await SignInAsync("ada", "ada's long password");
        var benIn = await SignInAsync("ben", benPassword);

        var reset = await OkAsync("users", "passwd", "ben", "--tenant", "default");
        var newPassword = reset.Split('\n').Single(l => l.StartsWith("password: ", StringComparison.Ordinal))["password: ".Length..].Trim();
        var benOld = await SignInAsync("ben", benPassword);
        var benNew = await SignInAsync("ben", newPassword);
        await OkAsync("users", "disable", "ben", "--tenant", "default");
        var benDisabled = await SignInAsync("ben", newPassword);
        var list = await OkAsync("users", "list", "--tenant", "default");

        var (badRoleExit, _, badRoleErr) = await RunAsync("users", "add", "cid", "--tenant", "default", "--role", "root");
        var (dupExit, _, dupErr) = await RunAsync("users", "add", "ada", "--tenant", "default");
        var (shortExit, _, shortErr) = await RunAsync("users", "passwd", "ada", "--tenant", "default", "--password-file", "missing.txt");

        Assert.Multiple(() =>
        {
            Assert.That(added, Does.Contain("created user ada (role admin, id usr_"));
            Assert.That(added, Does.Not.Contain("password:"), "a password from a file is never printed");
            Assert.That(benPassword, Has.Length.GreaterThanOrEqualTo(20));
            Assert.That(adaIn, Is.EqualTo(HttpStatusCode.Redirect));
            Assert.That(benIn, Is.EqualTo(HttpStatusCode.Redirect));
            Assert.That(benOld, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(benNew, Is.EqualTo(HttpStatusCode.Redirect));
            Assert.That(benDisabled, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(list, Does.Contain("ada\tadmin\tenabled").And.Contain("ben\tuser\tdisabled"));
            Assert.That(list, Does.Not.Contain(newPassword));
            Assert.That(badRoleExit, Is.Not.Zero);
            Assert.That(badRoleErr, Does.Contain("root"));
            Assert.That(dupExit, Is.EqualTo(1));
            Assert.That(dupErr.Trim(), Does.StartWith("error: version_conflict:"));
            Assert.That(shortExit, Is.EqualTo(1));
            Assert.That(shortErr.Trim(), Is.EqualTo("error: password file missing.txt does not exist"));
        });
    }
}
