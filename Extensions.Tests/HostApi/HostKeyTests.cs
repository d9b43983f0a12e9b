using Extensions.Modules.HostApi;
using Microsoft.Extensions.Logging.Abstractions;

namespace Extensions.Tests.HostApi;

/// <summary>The host key file on its own: created owner-only, reused, tightened when too open, refused when damaged.</summary>
[TestFixture]
public sealed class HostKeyTests
{
    [Test]
    public void FirstLoad_CreatesAKey_LaterLoadsReadTheSameOne()
    {
        var path = Path.Combine(TestRun.NewDirectory("hostkey"), "nested", HostKey.FileName);
        var first = HostKey.LoadOrCreate(path, NullLogger.Instance);
        var second = HostKey.LoadOrCreate(path, NullLogger.Instance);
        Assert.That(first, Has.Length.EqualTo(32));
        Assert.That(second, Is.EqualTo(first));
        Assert.That(Directory.GetFiles(Path.GetDirectoryName(path)!), Has.Length.EqualTo(1), "no temp file is left behind");
    }

    [Test]
    public void OpenMode_IsTightenedToOwnerOnly()
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.Ignore("Unix file modes");
        }

        var path = Path.Combine(TestRun.NewDirectory("hostkey"), HostKey.FileName);
        var key = HostKey.LoadOrCreate(path, NullLogger.Instance);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        Assert.That(HostKey.LoadOrCreate(path, NullLogger.Instance), Is.EqualTo(key));
        Assert.That(File.GetUnixFileMode(path), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
    }

    [TestCase("not base64 at all")]
    [TestCase("AAAA")]
    [TestCase("")]
    public void DamagedKey_IsRefusedClearly_AndNotReplaced(string content)
    {
        var path = Path.Combine(TestRun.NewDirectory("hostkey"), HostKey.FileName);
        File.WriteAllText(path, content);
        var error = Assert.Throws<InvalidOperationException>(() => HostKey.LoadOrCreate(path, NullLogger.Instance));
        Assert.That(error!.Message, Does.Contain("is not a host key"));
        Assert.That(File.ReadAllText(path), Is.EqualTo(content), "a damaged key is left for the operator, never overwritten");
    }
}
