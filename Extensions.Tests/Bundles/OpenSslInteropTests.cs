using System.Text;
using Extensions.Modules.Bundles;
using NUnit.Framework;

namespace Extensions.Tests.Bundles;

/// <summary>Keys and signatures must work with standard tooling, not only with our own code.</summary>
public sealed class OpenSslInteropTests
{
    private const string Hash = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    private TempDirectory _temp = null!;

    [SetUp]
    public void SetUp() => _temp = new TempDirectory();

    [TearDown]
    public void TearDown() => _temp.Dispose();

    [Test]
    public void OpenSslSignature_WithKeyWeSaved_VerifiesWithOurTrust()
    {
        var key = PublisherKey.Generate();
        key.Save(_temp.Combine("key.pem"), _temp.Combine("key.pub.pem"));
        File.WriteAllBytes(_temp.Combine("msg"), Encoding.UTF8.GetBytes(Hash));

        OpenSsl.Succeed("pkeyutl", "-sign", "-rawin", "-inkey", _temp.Combine("key.pem"), "-in", _temp.Combine("msg"), "-out", _temp.Combine("sig"));

        var signature = new BundleSignature("ed25519", key.KeyId, Hash, Convert.ToBase64String(File.ReadAllBytes(_temp.Combine("sig"))));
        var check = TrustBundle.Empty.WithKey("samples", key.PublicKeyRaw).Verify(signature, Hash, "samples");
        Assert.That(check.Code, Is.EqualTo(SignatureCodes.Ok), check.Message);
        // Ed25519 is deterministic, so both implementations must produce the very same bytes.
        Assert.That(signature.Signature, Is.EqualTo(BundleSignature.Create(Hash, key).Signature));
    }

    [Test]
    public void OurSignature_VerifiesWithOpenSslAndOurPublicPem()
    {
        var key = PublisherKey.Generate();
        key.Save(_temp.Combine("key.pem"), _temp.Combine("key.pub.pem"));
        File.WriteAllBytes(_temp.Combine("msg"), Encoding.UTF8.GetBytes(Hash));
        var signature = Convert.FromBase64String(BundleSignature.Create(Hash, key).Signature);
        File.WriteAllBytes(_temp.Combine("sig"), signature);
        signature[0] ^= 1;
        File.WriteAllBytes(_temp.Combine("bad"), signature);

        string[] Verify(string sig) => ["pkeyutl", "-verify", "-pubin", "-inkey", _temp.Combine("key.pub.pem"), "-rawin", "-in", _temp.Combine("msg"), "-sigfile", _temp.Combine(sig)];

        OpenSsl.Succeed(Verify("sig"));
        Assert.That(OpenSsl.Run(Verify("bad")).ExitCode, Is.Not.Zero, "openssl accepted a corrupted signature, so the check above proves nothing");
    }

    [Test]
    public void OpenSslGeneratedKey_LoadsWithMatchingPublicKey()
    {
        OpenSsl.Succeed("genpkey", "-algorithm", "ed25519", "-out", _temp.Combine("key.pem"));
        OpenSsl.Succeed("pkey", "-in", _temp.Combine("key.pem"), "-pubout", "-out", _temp.Combine("key.pub.pem"));

        var key = PublisherKey.Load(_temp.Combine("key.pem"));

        Assert.That(key.PublicKeyRaw, Is.EqualTo(PublicKeyPem.ReadRaw(File.ReadAllText(_temp.Combine("key.pub.pem")))));
    }

    [Test]
    public void OpenSslGeneratedPublicKey_AddedToTrust_VerifiesOurSignature()
    {
        OpenSsl.Succeed("genpkey", "-algorithm", "ed25519", "-out", _temp.Combine("key.pem"));
        OpenSsl.Succeed("pkey", "-in", _temp.Combine("key.pem"), "-pubout", "-out", _temp.Combine("key.pub.pem"));
        var trust = TrustBundle.Empty.WithKey("acme", PublicKeyPem.ReadRaw(File.ReadAllText(_temp.Combine("key.pub.pem"))));

        var signature = BundleSignature.Create(Hash, PublisherKey.Load(_temp.Combine("key.pem")));

        Assert.That(trust.Verify(signature, Hash, "acme").Code, Is.EqualTo(SignatureCodes.Ok));
    }
}
