using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using Extensions.Modules.Bundles;
using NUnit.Framework;

namespace Extensions.Tests.Bundles;

public sealed class BundlePackerTests
{
    private TempDirectory _temp = null!;

    [SetUp]
    public void SetUp() => _temp = new TempDirectory();

    [TearDown]
    public void TearDown() => _temp.Dispose();

    [Test]
    public void Pack_SameTreeWithDifferentMetadata_IdenticalTarAndHash()
    {
        var a = TestExtension.Create(_temp.Combine("a"));
        var b = TestExtension.Create(_temp.Combine("b", "nested"), reverseOrder: true);
        foreach (var file in Directory.EnumerateFiles(a, "*", SearchOption.AllDirectories))
        {
            File.SetLastWriteTimeUtc(file, new DateTime(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc));
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(Path.Combine(b, "build", "hello.wasm"), (UnixFileMode)0b111_101_101);

        var packedA = BundlePacker.Pack(a);
        var packedB = BundlePacker.Pack(b);

        Assert.That(packedB.Tar, Is.EqualTo(packedA.Tar));
        Assert.That(packedB.ContentHash, Is.EqualTo(packedA.ContentHash));
        Assert.That(packedB.ToGzip(), Is.EqualTo(packedA.ToGzip()));
    }

    [Test]
    public void Pack_OneByteChanged_HashChanges()
    {
        var a = TestExtension.Create(_temp.Combine("a"));
        var b = TestExtension.Create(_temp.Combine("b"));
        File.AppendAllText(Path.Combine(b, "ui", "app.js"), ";");

        Assert.That(BundlePacker.Pack(b).ContentHash, Is.Not.EqualTo(BundlePacker.Pack(a).ContentHash));
    }

    [Test]
    public void Pack_ContentHash_IsSha256OfUncompressedTar()
    {
        var packed = BundlePacker.Pack(TestExtension.Create(_temp.Path));

        Assert.That(packed.ContentHash, Is.EqualTo("sha256:" + Convert.ToHexStringLower(SHA256.HashData(packed.Tar))));
    }

    [Test]
    public void Pack_Tar_HasOnlySortedCanonicalRegularFiles()
    {
        var packed = BundlePacker.Pack(TestExtension.Create(_temp.Path, reverseOrder: true));

        var entries = new List<TarEntry>();
        using (var reader = new TarReader(new MemoryStream(packed.Tar)))
            while (reader.GetNextEntry() is { } entry) entries.Add(entry);

        Assert.That(entries.Select(e => e.Name), Is.EqualTo(TestExtension.PackedPaths));
        foreach (var entry in entries.Cast<PosixTarEntry>())
            Assert.Multiple(() =>
            {
                Assert.That(entry.EntryType, Is.EqualTo(TarEntryType.RegularFile), entry.Name);
                Assert.That((int)entry.Mode, Is.EqualTo(0b110_100_100), entry.Name);
                Assert.That(entry.Uid, Is.Zero, entry.Name);
                Assert.That(entry.Gid, Is.Zero, entry.Name);
                Assert.That(entry.UserName, Is.Empty, entry.Name);
                Assert.That(entry.GroupName, Is.Empty, entry.Name);
                Assert.That(entry.ModificationTime, Is.EqualTo(DateTimeOffset.UnixEpoch), entry.Name);
            });
    }

    [Test]
    public void Pack_ManifestBytes_StoredExactlyAsOnDisk()
    {
        var dir = TestExtension.Create(_temp.Path);
        var onDisk = "\n\n  "u8.ToArray().Concat(File.ReadAllBytes(Path.Combine(dir, "manifest.json"))).ToArray();
        File.WriteAllBytes(Path.Combine(dir, "manifest.json"), onDisk);

        var bundle = BundleReader.Read(BundlePacker.Pack(dir).Tar);

        Assert.That(bundle.ManifestBytes, Is.EqualTo(onDisk));
    }

    [Test]
    public void Pack_AssetGlobs_AddMatchingFilesOnly()
    {
        var manifest = TestManifests.Valid();
        manifest["assets"] = new System.Text.Json.Nodes.JsonArray("docs/*.md", "static/**");
        var dir = TestExtension.Create(_temp.Path, manifest);
        foreach (var path in new[] { "docs/a.md", "docs/b.txt", "docs/deep/c.md", "static/x/y/z.png", "staticfile" })
            TestExtension.Write(dir, path, [1]);

        var paths = BundleReader.Read(BundlePacker.Pack(dir).Tar).Files.Keys;

        Assert.That(paths, Is.EquivalentTo(TestExtension.PackedPaths.Concat(["docs/a.md", "static/x/y/z.png"])));
    }

    [Test]
    public void Pack_InvalidManifest_ThrowsWithEveryErrorOnItsOwnLine()
    {
        var manifest = TestManifests.Valid();
        manifest["publisher"] = "Bad";
        manifest["runtime"] = "wasi";

        var ex = Assert.Throws<BundleException>(() => BundlePacker.Pack(TestExtension.Create(_temp.Path, manifest)));

        var lines = ex.Message.Split(Environment.NewLine);
        Assert.That(lines, Has.Some.StartsWith("publisher: "));
        Assert.That(lines, Has.Some.StartsWith("runtime: "));
    }

    [Test]
    public void Pack_NoManifest_Throws()
    {
        var ex = Assert.Throws<BundleException>(() => BundlePacker.Pack(_temp.Path));

        Assert.That(ex.Message, Does.Contain("no manifest.json"));
    }

    [Test]
    public void Pack_MainMissing_Throws()
    {
        var dir = TestExtension.Create(_temp.Path);
        File.Delete(Path.Combine(dir, "build", "hello.wasm"));

        var ex = Assert.Throws<BundleException>(() => BundlePacker.Pack(dir));

        Assert.That(ex.Message, Does.Contain("main module 'build/hello.wasm' not found"));
    }

    [Test]
    public void Pack_MainIsNotWasm_Throws()
    {
        var dir = TestExtension.Create(_temp.Path);
        File.WriteAllText(Path.Combine(dir, "build", "hello.wasm"), "(module)");

        var ex = Assert.Throws<BundleException>(() => BundlePacker.Pack(dir));

        Assert.That(ex.Message, Does.Contain("is not a WebAssembly core module"));
    }

    [Test]
    public void Pack_SymlinkUnderUi_Throws()
    {
        var dir = TestExtension.Create(_temp.Path);
        File.CreateSymbolicLink(Path.Combine(dir, "ui", "passwd"), "/etc/passwd");

        var ex = Assert.Throws<BundleException>(() => BundlePacker.Pack(dir));

        Assert.That(ex.Message, Does.Contain("'ui/passwd' is a symbolic link"));
    }

    [Test]
    public void Pack_UiEntryNotPacked_Throws()
    {
        var dir = TestExtension.Create(_temp.Path);
        File.Delete(Path.Combine(dir, "ui", "index.html"));

        var ex = Assert.Throws<BundleException>(() => BundlePacker.Pack(dir));

        Assert.That(ex.Message, Does.Contain("ui.iframe.entry 'ui/index.html'"));
    }

    [Test]
    public void Pack_FileOverReaderLimit_Refused()
    {
        var dir = TestExtension.Create(_temp.Path);
        using (var big = File.Create(Path.Combine(dir, "ui", "big.bin")))
            big.SetLength(BundleReadLimits.Default.MaxFileBytes + 1);

        var ex = Assert.Throws<BundleException>(() => BundlePacker.Pack(dir));

        Assert.That(ex.Message, Does.StartWith("'ui/big.bin' is 33554433 bytes"));
    }

    [Test]
    public void Pack_LongAndNonAsciiPaths_RoundTrip()
    {
        var dir = TestExtension.Create(_temp.Path);
        var longPath = "ui/" + string.Join('/', Enumerable.Repeat(new string('d', 40), 4)) + "/file.js";
        TestExtension.Write(dir, longPath, [1]);
        TestExtension.Write(dir, "ui/grüße.txt", [2]);

        var files = BundleReader.Read(BundlePacker.Pack(dir).ToGzip()).Files;

        Assert.That(files[longPath], Is.EqualTo(new byte[] { 1 }));
        Assert.That(files["ui/grüße.txt"], Is.EqualTo(new byte[] { 2 }));
    }

    [Test]
    public void ToGzip_Header_HasZeroMtimeAndDecompressesToTar()
    {
        var packed = BundlePacker.Pack(TestExtension.Create(_temp.Path));

        var gz = packed.ToGzip();

        Assert.That(gz[..4], Is.EqualTo(new byte[] { 0x1f, 0x8b, 8, 0 }));
        Assert.That(gz[4..8], Is.EqualTo(new byte[4]));
        Assert.That(gz[9], Is.EqualTo(0xff));
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(new MemoryStream(gz), CompressionMode.Decompress)) gzip.CopyTo(output);
        Assert.That(output.ToArray(), Is.EqualTo(packed.Tar));
    }
}
