using Extensions.Modules.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Extensions.Tests.Storage;

[TestFixture]
public sealed class ContentStoreTests
{
    private string _dir = null!;
    private IContentStore _store = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Directory.CreateTempSubdirectory("ext-cas-").FullName;
        _store = new FileContentStore(Options.Create(new StorageOptions { DataDirectory = _dir }));
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public async Task Put_StoresUnderShardedSha256Path_AndReadsBack()
    {
        var hash = await _store.PutAsync("hello"u8.ToArray());

        Assert.That(hash, Is.EqualTo("sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"));
        Assert.That(_store.PathOf(hash), Is.EqualTo(Path.Combine(_dir, "cas", "sha256", "2c", "f24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")));
        Assert.That(await _store.ReadAsync(hash), Is.EqualTo("hello"u8.ToArray()));
    }

    [Test]
    public async Task Read_OfTamperedBlob_ThrowsIntegrityError()
    {
        var hash = await _store.PutAsync("original"u8.ToArray());
        await File.WriteAllBytesAsync(_store.PathOf(hash), "tampered"u8.ToArray());

        var ex = Assert.ThrowsAsync<ContentIntegrityException>(() => _store.ReadAsync(hash));
        Assert.That(ex!.Message, Does.Contain(hash));
    }

    [Test]
    public async Task Put_LeavesNoTempFiles_AndIsIdempotent()
    {
        var first = await _store.PutAsync(new byte[100_000]);
        var second = await _store.PutAsync(new byte[100_000]);

        Assert.That(second, Is.EqualTo(first));
        var files = Directory.GetFiles(Path.Combine(_dir, "cas"), "*", SearchOption.AllDirectories);
        Assert.That(files, Has.Length.EqualTo(1));
        Assert.That(Path.GetFileName(files[0]), Does.Not.StartWith(".tmp"));
    }

    [Test]
    public async Task Read_OfMissingBlob_IsNull()
    {
        Assert.That(await _store.ReadAsync(ContentHash.Of("absent"u8)), Is.Null);
    }

    [TestCase("sha256:../../etc/passwd")]
    [TestCase("md5:abc")]
    [TestCase("sha256:2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824")]
    public void PathOf_MalformedHash_IsRefused(string hash)
    {
        Assert.Throws<ArgumentException>(() => _store.PathOf(hash));
    }
}
