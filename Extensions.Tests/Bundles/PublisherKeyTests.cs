using System.Security.Cryptography;
using Extensions.Modules.Bundles;
using NUnit.Framework;

namespace Extensions.Tests.Bundles;

public sealed class PublisherKeyTests
{
    // RFC 8032 section 7.1, test 1: secret key and the public key it must derive.
    private const string RfcSeedHex = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    private const string RfcPublicHex = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

    private TempDirectory _temp = null!;

    [SetUp]
    public void SetUp() => _temp = new TempDirectory();

    [TearDown]
    public void TearDown() => _temp.Dispose();

    [Test]
    public void KeyIds_For_RfcPublicKey_IsPrefixAndFirst16HexOfSha256()
    {
        // Expected value computed outside .NET: printf <key bytes> | sha256sum
        Assert.That(KeyIds.For(Convert.FromHexString(RfcPublicHex)), Is.EqualTo("ed25519:21fe31dfa154a261"));
    }

    [Test]
    public void KeyIds_For_WrongLength_Throws()
    {
        Assert.Throws<ArgumentException>(() => KeyIds.For(new byte[31]));
    }

    [Test]
    public void FromPem_RfcPkcs8Key_DerivesRfcPublicKey()
    {
        var der = Convert.FromHexString("302e020100300506032b657004220420" + RfcSeedHex);
        var pem = new string(PemEncoding.Write("PRIVATE KEY", der));

        var key = PublisherKey.FromPem(pem);

        Assert.That(Convert.ToHexStringLower(key.PublicKeyRaw), Is.EqualTo(RfcPublicHex));
        Assert.That(key.KeyId, Is.EqualTo("ed25519:21fe31dfa154a261"));
    }

    [Test]
    public void Generate_TwoKeys_AreDistinct()
    {
        var a = PublisherKey.Generate();
        var b = PublisherKey.Generate();

        Assert.That(a.PublicKeyRaw, Has.Length.EqualTo(32));
        Assert.That(b.PublicKeyRaw, Is.Not.EqualTo(a.PublicKeyRaw));
        Assert.That(b.KeyId, Is.Not.EqualTo(a.KeyId));
    }

    [Test]
    public void SaveThenLoad_SameKeyPair()
    {
        var key = PublisherKey.Generate();
        key.Save(_temp.Combine("key.pem"), _temp.Combine("key.pub.pem"));

        var loaded = PublisherKey.Load(_temp.Combine("key.pem"));

        Assert.That(loaded.PublicKeyRaw, Is.EqualTo(key.PublicKeyRaw));
        Assert.That(loaded.KeyId, Is.EqualTo(key.KeyId));
        Assert.That(PublicKeyPem.ReadRaw(File.ReadAllText(_temp.Combine("key.pub.pem"))), Is.EqualTo(key.PublicKeyRaw));
    }

    [Test]
    public void Save_Files_ArePemWithOwnerOnlyPrivateKey()
    {
        var privatePath = _temp.Combine("key.pem");
        var publicPath = _temp.Combine("key.pub.pem");

        PublisherKey.Generate().Save(privatePath, publicPath);

        Assert.That(File.ReadAllText(privatePath), Does.StartWith("-----BEGIN PRIVATE KEY-----\n"));
        Assert.That(File.ReadAllText(publicPath), Does.StartWith("-----BEGIN PUBLIC KEY-----\n"));
        if (!OperatingSystem.IsWindows())
            Assert.That(File.GetUnixFileMode(privatePath), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
    }

    [Test]
    public void Save_PrivateKeyExists_RefusesAndKeepsIt()
    {
        var privatePath = _temp.Combine("key.pem");
        var first = PublisherKey.Generate();
        first.Save(privatePath, _temp.Combine("a.pub.pem"));

        var ex = Assert.Throws<BundleException>(() => PublisherKey.Generate().Save(privatePath, _temp.Combine("b.pub.pem")));

        Assert.That(ex.Message, Does.Contain("refusing to overwrite"));
        Assert.That(PublisherKey.Load(privatePath).KeyId, Is.EqualTo(first.KeyId));
    }

    [Test]
    public void Load_PublicKeyFile_RefusedNamingTheLabel()
    {
        var key = PublisherKey.Generate();
        key.Save(_temp.Combine("key.pem"), _temp.Combine("key.pub.pem"));

        var ex = Assert.Throws<BundleException>(() => PublisherKey.Load(_temp.Combine("key.pub.pem")));

        Assert.That(ex.Message, Does.Contain("'PUBLIC KEY'"));
    }

    [Test]
    public void Load_MissingFile_Refused()
    {
        var ex = Assert.Throws<BundleException>(() => PublisherKey.Load(_temp.Combine("nope.pem")));

        Assert.That(ex.Message, Does.Contain("does not exist"));
    }

    [Test]
    public void FromPem_NonEd25519Key_Refused()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var ex = Assert.Throws<BundleException>(() => PublisherKey.FromPem(ecdsa.ExportPkcs8PrivateKeyPem()));

        Assert.That(ex.Message, Does.Contain("not an Ed25519 key"));
    }

    [Test]
    public void PublicKeyPem_ReadRaw_NotPem_Refused()
    {
        Assert.Throws<BundleException>(() => PublicKeyPem.ReadRaw("hello"));
    }
}
