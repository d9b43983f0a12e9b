using Extensions.Modules.Storage;
using System.Formats.Tar;
using System.IO.Compression;
using Extensions.Modules.Bundles;
using NUnit.Framework;

namespace Extensions.Tests.Bundles;

public sealed class BundleReaderTests
{
    private TempDirectory _temp = null!;

    [SetUp]
    public void SetUp() => _temp = new TempDirectory();

    [TearDown]
    public void TearDown() => _temp.Dispose();

    [Test]
    public void Read_PackedGzip_RoundTrips()
    {
        var dir = TestExtension.Create(_temp.Path);
        var packed = BundlePacker.Pack(dir);

        var bundle = BundleReader.Read(packed.ToGzip());

        Assert.Multiple(() =>
        {
            Assert.That(bundle.ContentHash, Is.EqualTo(packed.ContentHash));
            Assert.That(bundle.Tar, Is.EqualTo(packed.Tar));
            Assert.That(bundle.Manifest.ExtensionId, Is.EqualTo("samples.hello"));
            Assert.That(bundle.MainModule, Is.EqualTo(TestExtension.Wasm));
            Assert.That(bundle.ManifestBytes, Is.EqualTo(File.ReadAllBytes(Path.Combine(dir, "manifest.json"))));
            Assert.That(bundle.Files.Keys, Is.EquivalentTo(TestExtension.PackedPaths));
            Assert.That(bundle.Files["ui/app.js"], Is.EqualTo(File.ReadAllBytes(Path.Combine(dir, "ui", "app.js"))));
        });
    }

    [Test]
    public void Read_RawTar_RoundTrips()
    {
        var packed = BundlePacker.Pack(TestExtension.Create(_temp.Path));

        var bundle = BundleReader.Read(packed.Tar);

        Assert.That(bundle.ContentHash, Is.EqualTo(packed.ContentHash));
        Assert.That(bundle.Files.Keys, Is.EquivalentTo(TestExtension.PackedPaths));
    }

    [Test]
    public void Read_NonCanonicalTar_HashesBytesAsReceived()
    {
        // Same files, but PAX format and a real mtime: a different tar, so it must not claim the canonical hash.
        var canonical = BundlePacker.Pack(TestExtension.Create(_temp.Path));
        var builder = new TarBuilder();
        foreach (var (path, content) in BundleReader.Read(canonical.Tar).Files) builder.File(path, content, TarEntryFormat.Pax);

        var bundle = BundleReader.Read(builder.Build());

        Assert.That(bundle.ContentHash, Is.Not.EqualTo(canonical.ContentHash));
        Assert.That(bundle.ContentHash, Is.EqualTo(ContentHash.Of(bundle.Tar)));
    }

    [Test]
    public void Read_AnyByteOfGzipBodyFlipped_RefusedOrHashDiffers()
    {
        var packed = BundlePacker.Pack(TestExtension.Create(_temp.Path));
        var gz = packed.ToGzip();

        // Bytes 4-9 (mtime, flags, OS) are metadata outside the CRC; the hash is over the tar, so they are irrelevant.
        foreach (var i in Enumerable.Range(0, 4).Concat(Enumerable.Range(10, gz.Length - 10)))
        {
            var tampered = gz.ToArray();
            tampered[i] ^= 0xff;
            string? hash = null;
            try { hash = BundleReader.Read(tampered).ContentHash; }
            catch (BundleException) { }
            Assert.That(hash, Is.Null.Or.Not.EqualTo(packed.ContentHash), $"byte {i}");
        }
    }

    [Test]
    public void Read_FlippedByteInFileData_HashDiffers()
    {
        var packed = BundlePacker.Pack(TestExtension.Create(_temp.Path));
        var tar = packed.Tar.ToArray();
        var at = tar.AsSpan().IndexOf("console.log"u8);
        tar[at] ^= 0x20;

        Assert.That(BundleReader.Read(tar).ContentHash, Is.Not.EqualTo(packed.ContentHash));
    }

    [TestCase("../evil", "'../evil' escapes the bundle root")]
    [TestCase("ui/../../evil", "escapes the bundle root")]
    [TestCase("/etc/passwd", "is an absolute path")]
    [TestCase("ui\\evil.js", "contains a backslash")]
    [TestCase("ui//evil.js", "has an empty or '.' segment")]
    [TestCase("./manifest2.json", "has an empty or '.' segment")]
    [TestCase("ui/a\0b", "contains a NUL character")]
    public void Read_EntryNameOutsideRules_Refused(string name, string expected)
    {
        var tar = new TarBuilder().ValidExtension().File(name, [1], TarEntryFormat.Pax).Build();

        var ex = Assert.Throws<BundleException>(() => BundleReader.Read(tar));

        Assert.That(ex.Message, Does.StartWith("bundle entry '").And.Contain(expected));
    }

    private static IEnumerable<TestCaseData> NonRegularEntries()
    {
        yield return new TestCaseData(new UstarTarEntry(TarEntryType.SymbolicLink, "ui/link") { LinkName = "/etc/passwd" }, "is a symbolic link");
        yield return new TestCaseData(new UstarTarEntry(TarEntryType.HardLink, "ui/hard") { LinkName = "manifest.json" }, "is a hard link");
        yield return new TestCaseData(new UstarTarEntry(TarEntryType.Directory, "ui"), "is a directory");
        yield return new TestCaseData(new UstarTarEntry(TarEntryType.CharacterDevice, "ui/null"), "is a device");
        yield return new TestCaseData(new UstarTarEntry(TarEntryType.Fifo, "ui/fifo"), "is a FIFO");
    }

    [TestCaseSource(nameof(NonRegularEntries))]
    public void Read_NonRegularEntry_Refused(TarEntry entry, string expected)
    {
        var tar = new TarBuilder().ValidExtension().Entry(entry).Build();

        var ex = Assert.Throws<BundleException>(() => BundleReader.Read(tar));

        Assert.That(ex.Message, Does.Contain(expected).And.Contain("only regular files are allowed"));
    }

    [Test]
    public void Read_GzipBomb_RefusedWithoutExpandingIt()
    {
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            var zeros = new byte[1024 * 1024];
            for (var i = 0; i < 200; i++) gzip.Write(zeros);
        }
        var before = GC.GetTotalAllocatedBytes();

        var ex = Assert.Throws<BundleException>(() => BundleReader.Read(compressed.ToArray()));

        Assert.That(ex.Message, Does.Contain("expands beyond the 67108864 byte limit"));
        Assert.That(GC.GetTotalAllocatedBytes() - before, Is.LessThan(200L * 1024 * 1024), "decompression was not stopped at the cap");
    }

    [Test]
    public void Read_RawTarOverTotalLimit_Refused()
    {
        var tar = new TarBuilder().ValidExtension().File("ui/big", new byte[4096]).Build();

        var ex = Assert.Throws<BundleException>(() => BundleReader.Read(tar, new BundleReadLimits { MaxTotalBytes = 4096 }));

        Assert.That(ex.Message, Does.Contain("larger than the 4096 byte limit"));
    }

    [Test]
    public void Read_DuplicateEntry_Refused()
    {
        var tar = new TarBuilder().ValidExtension().File("manifest.json", "{}"u8.ToArray()).Build();

        var ex = Assert.Throws<BundleException>(() => BundleReader.Read(tar));

        Assert.That(ex.Message, Is.EqualTo("bundle entry 'manifest.json' appears more than once"));
    }

    [Test]
    public void Read_EntryDeclaringTwoGigabytes_RefusedWithoutAllocatingIt()
    {
        var tar = TarBuilder.DeclareSize(new TarBuilder().ValidExtension().File("ui/huge.bin", new byte[512]).Build(), "ui/huge.bin", 2L << 30);

        var ex = Assert.Throws<BundleException>(() => BundleReader.Read(tar));

        Assert.That(ex.Message, Does.Contain("declares more data than the archive holds"));
    }

    [Test]
    public void Read_TooManyEntries_Refused()
    {
        var tar = new TarBuilder().ValidExtension().File("ui/a", [1]).File("ui/b", [1]).Build();

        var ex = Assert.Throws<BundleException>(() => BundleReader.Read(tar, new BundleReadLimits { MaxEntries = 3 }));

        Assert.That(ex.Message, Does.Contain("more than 3 entries"));
    }

    [Test]
    public void Read_FileOverSizeLimit_Refused()
    {
        var tar = new TarBuilder().ValidExtension().File("ui/big", new byte[1001]).Build();

        var ex = Assert.Throws<BundleException>(() => BundleReader.Read(tar, new BundleReadLimits { MaxFileBytes = 1000 }));

        Assert.That(ex.Message, Does.Contain("'ui/big' is 1001 bytes, over the 1000 byte limit"));
    }

    [Test]
    public void Read_NoManifest_Refused()
    {
        var tar = new TarBuilder().File("build/hello.wasm", TestExtension.Wasm).Build();

        var ex = Assert.Throws<BundleException>(() => BundleReader.Read(tar));

        Assert.That(ex.Message, Is.EqualTo("bundle has no manifest.json"));
    }

    [Test]
    public void Read_InvalidManifestInside_RefusedWithItsErrors()
    {
        var tar = new TarBuilder().File("manifest.json", "{\"manifestVersion\":1}"u8.ToArray()).Build();

        var ex = Assert.Throws<BundleException>(() => BundleReader.Read(tar));

        Assert.That(ex.Message, Does.Contain("manifestVersion: must be 2").And.Contain("publisher: is required"));
    }

    [Test]
    public void Read_MainNotInBundle_Refused()
    {
        var tar = new TarBuilder().ValidExtension().Build();
        var withoutMain = new TarBuilder().File("manifest.json", BundleReader.Read(tar).ManifestBytes).Build();

        var ex = Assert.Throws<BundleException>(() => BundleReader.Read(withoutMain));

        Assert.That(ex.Message, Is.EqualTo("main module 'build/hello.wasm' is not in the bundle"));
    }

    [Test]
    public void Read_Garbage_RefusedAsBundleException()
    {
        var garbage = Enumerable.Range(0, 2048).Select(i => (byte)(i * 7 + 3)).ToArray();

        Assert.Throws<BundleException>(() => BundleReader.Read(garbage));
    }

    [Test]
    public void Read_TruncatedGzip_Refused()
    {
        var gz = BundlePacker.Pack(TestExtension.Create(_temp.Path)).ToGzip();

        Assert.Throws<BundleException>(() => BundleReader.Read(gz.AsSpan(0, gz.Length / 2)));
    }
}
