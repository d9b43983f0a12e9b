using System.Net.Http.Headers;
using System.Net.Http.Json;
using Extensions.Modules.Bundles;
using Extensions.Tests.Support;

namespace Extensions.Tests.EndToEnd;

/// <summary>
/// <c>backup</c> of a running instance (real binary) with installs, KV data and a secret, <c>restore</c> into a new data
/// directory, and the restored instance answering the same requests the same way; damaged archives refused with nothing written.
/// </summary>
[TestFixture]
[CancelAfter(240_000)]
public sealed class BackupRestoreTests
{
    private const string Token = "whsec-backup-0123456789";

    /// <summary>
    /// These tests start the real binary up to three times on a machine other builds share; a first start whose workers are
    /// starved of CPU for a few seconds must not be mistaken for hung (which would fail its seeding publish).
    /// </summary>
    private static readonly Dictionary<string, string> Patient = new() { ["Runner__HangTimeoutMs"] = "60000", ["Runner__Workers"] = "1" };

    private string _work = null!;

    [SetUp]
    public void SetUp() => _work = TestRun.NewDirectory("backup");

    [Test]
    public async Task ABackupOfARunningInstance_RestoresIntoANewDataDirectory_ThatGivesTheSameAnswers()
    {
        var archive = Path.Combine(_work, "instance.tar.gz");
        string[] before;
        string backupOutput;
        var (server, console, _, _) = await HostProcess.ServeAsync(_work, Patient, "--data", "a", "--port", "0", "--asset-port", "0");
        try
        {
            using var admin = Client(console, Path.Combine(_work, "a"));
            await DeploySampleAsync(admin, Path.Combine(_work, "a"), "kv-counter");
            await DeploySampleAsync(admin, Path.Combine(_work, "a"), "secrets");
            using (var put = await admin.PutAsJsonAsync("/api/admin/installs/default/samples.secrets/secrets/webhook_token", new { value = Token }))
            {
                await TestPlatform.EnsureSuccessAsync(put);
            }

            for (var i = 0; i < 3; i++)
            {
                (await admin.PostAsync("/api/ext/samples.kv-counter/counters/visits", null)).Dispose();
            }

            before = await AnswersAsync(admin);
            Assert.That(before[1], Does.Contain("\"count\":3"), "the state the backup must carry");

            var (exit, stdout, stderr) = await HostProcess.RunAsync(_work, "backup", archive, "--data", "a");
            Assert.That(exit, Is.Zero, stdout + stderr);
            backupOutput = stdout;

            // A write after the backup is not in it: the snapshot is one moment.
            (await admin.PostAsync("/api/ext/samples.kv-counter/counters/visits", null)).Dispose();
            using var after = await admin.GetAsync("/api/ext/samples.kv-counter/counters/visits");
            Assert.That(await after.Content.ReadAsStringAsync(), Does.Contain("\"count\":4"));
        }
        finally
        {
            await HostProcess.KillAsync(server);
        }

        Assert.That(backupOutput, Does.Contain("host key").And.Contain("protect it"));
        Assert.That(File.GetUnixFileMode(archive), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));

        var restore = await HostProcess.RunAsync(_work, "restore", archive, "--data", "b");
        Assert.That(restore.ExitCode, Is.Zero, restore.Stdout + restore.Stderr);
        Assert.That(File.GetUnixFileMode(Path.Combine(_work, "b", "host.key")), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));

        Assert.That(await File.ReadAllTextAsync(Path.Combine(_work, "b", "admin.key")), Is.EqualTo(await File.ReadAllTextAsync(Path.Combine(_work, "a", "admin.key"))));
        var (restored, restoredConsole, _, _) = await HostProcess.ServeAsync(_work, Patient, "--data", "b", "--port", "0", "--asset-port", "0");
        try
        {
            // The same admin key file, the same installs, the same KV value, and a secret only the restored host key decrypts.
            using var admin = Client(restoredConsole, Path.Combine(_work, "b"));
            Assert.That(await AnswersAsync(admin), Is.EqualTo(before));
        }
        finally
        {
            await HostProcess.KillAsync(restored);
        }
    }

    [Test]
    public async Task ATruncatedOrTamperedArchive_IsRefused_AndNothingIsWritten()
    {
        var archive = await BackupOfAStoppedInstanceAsync();
        var bytes = await File.ReadAllBytesAsync(archive);

        var truncated = Path.Combine(_work, "truncated.tar.gz");
        await File.WriteAllBytesAsync(truncated, bytes[..(bytes.Length * 2 / 3)]);
        var (exit, stdout, stderr) = await HostProcess.RunAsync(_work, "restore", truncated, "--data", "c");

        Assert.That(exit, Is.Not.Zero, stdout);
        Assert.That(stderr.Trim(), Does.StartWith("error: ").And.Contain("corrupt or incomplete").And.Contain("nothing was restored"));
        Assert.That(Directory.Exists(Path.Combine(_work, "c")), Is.False);
        Assert.That(Directory.EnumerateFileSystemEntries(_work).Select(Path.GetFileName), Has.None.Contains("restoring"));

        // Whole gzip stream, one byte changed inside a file: caught by its checksum, not by luck.
        var tampered = Path.Combine(_work, "tampered.tar.gz");
        await File.WriteAllBytesAsync(tampered, await TamperAsync(archive, "host.key"));
        (exit, _, stderr) = await HostProcess.RunAsync(_work, "restore", tampered, "--data", "c");

        Assert.That(exit, Is.Not.Zero);
        Assert.That(stderr, Does.Contain("'host.key' does not match its checksum"));
        Assert.That(Directory.Exists(Path.Combine(_work, "c")), Is.False);
    }

    [Test]
    public async Task RestoreIntoADataDirectoryInUse_IsRefused_AndLeavesItAlone()
    {
        var archive = await BackupOfAStoppedInstanceAsync();
        var existing = Path.Combine(_work, "in-use");
        Directory.CreateDirectory(existing);
        await File.WriteAllTextAsync(Path.Combine(existing, "extensions.db"), "precious");

        var (exit, _, stderr) = await HostProcess.RunAsync(_work, "restore", archive, "--data", "in-use");

        Assert.That(exit, Is.Not.Zero);
        Assert.That(stderr, Does.StartWith("error: ").And.Contain("is not empty"));
        Assert.That(Directory.GetFileSystemEntries(existing), Has.Length.EqualTo(1));
        Assert.That(await File.ReadAllTextAsync(Path.Combine(existing, "extensions.db")), Is.EqualTo("precious"));
    }

    [Test]
    public async Task BackupRefusesToOverwrite_AndToBackUpSomethingThatIsNotADataDirectory()
    {
        var existing = Path.Combine(_work, "existing.tar.gz");
        await File.WriteAllTextAsync(existing, "keep");
        Directory.CreateDirectory(Path.Combine(_work, "empty"));

        var overwrite = await HostProcess.RunAsync(_work, "backup", existing, "--data", "empty");
        var notData = await HostProcess.RunAsync(_work, "backup", Path.Combine(_work, "new.tar.gz"), "--data", "empty");

        Assert.That(notData.ExitCode, Is.Not.Zero);
        Assert.That(notData.Stderr, Does.StartWith("error: ").And.Contain("holds no database"));
        Assert.That(File.Exists(Path.Combine(_work, "new.tar.gz")), Is.False);
        Assert.That(overwrite.ExitCode, Is.Not.Zero);
        Assert.That(await File.ReadAllTextAsync(existing), Is.EqualTo("keep"));
    }

    /// <summary>Seeded instance (hello installed), started and stopped, then backed up.</summary>
    private async Task<string> BackupOfAStoppedInstanceAsync()
    {
        var (server, _, _, _) = await HostProcess.ServeAsync(_work, Patient, "--data", "src", "--port", "0", "--asset-port", "0");
        await HostProcess.KillAsync(server);
        var archive = Path.Combine(_work, "src.tar.gz");
        var (exit, stdout, stderr) = await HostProcess.RunAsync(_work, "backup", archive, "--data", "src");
        Assert.That(exit, Is.Zero, stdout + stderr);
        return archive;
    }

    /// <summary>Rewrites the archive with one byte of <paramref name="entryName"/> flipped, as a valid gzip'd tar.</summary>
    private static async Task<byte[]> TamperAsync(string archive, string entryName)
    {
        using var output = new MemoryStream();
        await using (var reader = new System.Formats.Tar.TarReader(new System.IO.Compression.GZipStream(File.OpenRead(archive), System.IO.Compression.CompressionMode.Decompress)))
        await using (var gzip = new System.IO.Compression.GZipStream(output, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        await using (var writer = new System.Formats.Tar.TarWriter(gzip, System.Formats.Tar.TarEntryFormat.Pax))
        {
            while (await reader.GetNextEntryAsync(copyData: true) is { } entry)
            {
                if (entry.Name == entryName)
                {
                    var data = new MemoryStream();
                    await entry.DataStream!.CopyToAsync(data);
                    var content = data.ToArray();
                    content[0] ^= 0x01;
                    entry.DataStream = new MemoryStream(content);
                }

                await writer.WriteEntryAsync(entry);
            }
        }

        return output.ToArray();
    }

    /// <summary>The requests compared before and after: hello, a KV counter, the secret check (right and wrong token), installs.</summary>
    private static async Task<string[]> AnswersAsync(HttpClient admin)
    {
        async Task<string> Answer(HttpRequestMessage request)
        {
            using var response = await admin.SendAsync(request);
            return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
        }

        HttpRequestMessage Verify(string token)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/ext/samples.secrets/verify");
            request.Headers.Add("x-webhook-token", token);
            return request;
        }

        using var installs = await admin.GetAsync("/api/admin/installs?tenant=default");
        var installList = (await TestPlatform.JsonAsync(installs)).EnumerateArray()
            .Select(i => $"{i.GetProperty("extensionId")} {i.GetProperty("state")} {i.GetProperty("contentHash")}").Order(StringComparer.Ordinal);
        return
        [
            await Answer(new HttpRequestMessage(HttpMethod.Get, "/api/ext/samples.hello/hello/Ada")),
            await Answer(new HttpRequestMessage(HttpMethod.Get, "/api/ext/samples.kv-counter/counters/visits")),
            await Answer(Verify(Token)),
            await Answer(Verify("whsec-wrong")),
            string.Join("; ", installList),
        ];
    }

    private static HttpClient Client(Uri console, string data)
    {
        var client = new HttpClient { BaseAddress = console, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", File.ReadAllText(Path.Combine(data, "admin.key")).Trim());
        return client;
    }

    /// <summary>Publishes a committed sample signed with the instance's dev publisher key and installs it for <c>default</c>.</summary>
    private static async Task DeploySampleAsync(HttpClient admin, string data, string name)
    {
        var packed = BundlePacker.Pack(Samples.PathOf(name));
        var devKey = PublisherKey.Load(Path.Combine(data, "keys", "dev-publisher.key"));
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(packed.ToGzip()), "bundle", "bundle.extb" },
            { new StringContent(BundleSignature.Create(packed.ContentHash, devKey).ToJson()), "signature", "bundle.extb.sig" },
        };
        using (var published = await admin.PostAsync("/api/admin/bundles", form))
        {
            await TestPlatform.EnsureSuccessAsync(published);
        }

        using var installed = await admin.PostAsJsonAsync("/api/admin/installs", new
        {
            extensionId = packed.Manifest.ExtensionId,
            tenant = "default",
            capabilities = packed.Manifest.Capabilities,
            egressHosts = packed.Manifest.EgressHosts,
        });
        await TestPlatform.EnsureSuccessAsync(installed);
    }
}
