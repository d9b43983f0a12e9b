using System.Text.Json;
using Extensions.Modules.Bundles;
using NUnit.Framework;

namespace Extensions.Tests.Bundles;

public sealed class BundleSignatureTests
{
    private const string Hash = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    private const string OtherHash = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

    private readonly PublisherKey _key = PublisherKey.Generate();

    private TrustBundle Trust(string publisher = "samples") => TrustBundle.Empty.WithKey(publisher, _key.PublicKeyRaw);

    [Test]
    public void Verify_FreshSignatureFromTrustedKey_Ok()
    {
        var check = Trust().Verify(BundleSignature.Create(Hash, _key), Hash, "samples");

        Assert.That(check, Is.EqualTo(new SignatureCheck(true, SignatureCodes.Ok, $"signed by {_key.KeyId} of publisher 'samples'")));
    }

    [Test]
    public void Verify_TamperedSignatureBytes_BadSignature()
    {
        var signature = BundleSignature.Create(Hash, _key);
        var bytes = Convert.FromBase64String(signature.Signature);
        bytes[10] ^= 0x01;

        var check = Trust().Verify(signature with { Signature = Convert.ToBase64String(bytes) }, Hash, "samples");

        Assert.That(check.Ok, Is.False);
        Assert.That(check.Code, Is.EqualTo(SignatureCodes.BadSignature));
    }

    [Test]
    public void Verify_SignatureFileRewrittenForAnotherBundle_BadSignature()
    {
        var forged = BundleSignature.Create(Hash, _key) with { ContentHash = OtherHash };

        Assert.That(Trust().Verify(forged, OtherHash, "samples").Code, Is.EqualTo(SignatureCodes.BadSignature));
    }

    [Test]
    public void Verify_SignatureOfAnotherBundle_HashMismatch()
    {
        var check = Trust().Verify(BundleSignature.Create(Hash, _key), OtherHash, "samples");

        Assert.That(check.Code, Is.EqualTo(SignatureCodes.HashMismatch));
        Assert.That(check.Message, Does.Contain(Hash).And.Contain(OtherHash));
    }

    [Test]
    public void Verify_KeyNotInTrust_UnknownKeyNamingIt()
    {
        var stranger = PublisherKey.Generate();

        var check = Trust().Verify(BundleSignature.Create(Hash, stranger), Hash, "samples");

        Assert.That(check.Code, Is.EqualTo(SignatureCodes.UnknownKey));
        Assert.That(check.Message, Is.EqualTo($"signing key {stranger.KeyId} is not in the trust bundle"));
    }

    [Test]
    public void Verify_RevokedKey_RevokedKey()
    {
        var trust = Trust().WithRevoked(_key.KeyId);

        var check = trust.Verify(BundleSignature.Create(Hash, _key), Hash, "samples");

        Assert.That(check.Code, Is.EqualTo(SignatureCodes.RevokedKey));
        Assert.That(check.Ok, Is.False);
    }

    [Test]
    public void Verify_KeyOfPublisherAForManifestOfB_PublisherMismatch()
    {
        var trust = Trust("a").WithKey("b", PublisherKey.Generate().PublicKeyRaw);

        var check = trust.Verify(BundleSignature.Create(Hash, _key), Hash, "b");

        Assert.That(check.Code, Is.EqualTo(SignatureCodes.PublisherMismatch));
        Assert.That(check.Message, Does.Contain("'a'").And.Contain("'b'"));
    }

    [Test]
    public void Verify_OtherAlgorithm_Unsupported()
    {
        var signature = BundleSignature.Create(Hash, _key) with { Algorithm = "rsa" };

        Assert.That(Trust().Verify(signature, Hash, "samples").Code, Is.EqualTo(SignatureCodes.UnsupportedAlgorithm));
    }

    [Test]
    public void Verify_SignedPackedBundle_OkAfterReadingItBack()
    {
        using var temp = new TempDirectory();
        var packed = BundlePacker.Pack(TestExtension.Create(temp.Path));
        var signatureFile = BundleSignature.Create(packed.ContentHash, _key).ToJson();

        var bundle = BundleReader.Read(packed.ToGzip());
        var check = Trust().Verify(BundleSignature.Parse(signatureFile), bundle.ContentHash, bundle.Manifest.Publisher);

        Assert.That(check.Code, Is.EqualTo(SignatureCodes.Ok));
    }

    [Test]
    public void ToJson_HasTheDocumentedShapeAndParsesBack()
    {
        var signature = BundleSignature.Create(Hash, _key);

        var json = signature.ToJson();

        using var document = JsonDocument.Parse(json);
        Assert.That(document.RootElement.EnumerateObject().Select(p => p.Name), Is.EqualTo(new[] { "algorithm", "keyId", "contentHash", "signature" }));
        Assert.That(document.RootElement.GetProperty("algorithm").GetString(), Is.EqualTo("ed25519"));
        Assert.That(Convert.FromBase64String(document.RootElement.GetProperty("signature").GetString()!), Has.Length.EqualTo(64));
        Assert.That(BundleSignature.Parse(json), Is.EqualTo(signature));
    }

    [TestCase("not json", "not valid JSON")]
    [TestCase("[]", "must be a JSON object")]
    [TestCase("""{"algorithm":"ed25519","contentHash":"sha256:00","signature":"AAAA"}""", "'keyId'")]
    [TestCase("""{"algorithm":"ed25519","keyId":"ed25519:00","contentHash":"sha256:00","signature":5}""", "'signature'")]
    [TestCase("""{"algorithm":"ed25519","keyId":"ed25519:00","contentHash":"sha256:00","signature":"%%%"}""", "not base64")]
    public void Parse_MalformedInput_ThrowsBundleException(string json, string expected)
    {
        var ex = Assert.Throws<BundleException>(() => BundleSignature.Parse(json));

        Assert.That(ex.Message, Does.Contain(expected));
    }

    [Test]
    public void Create_MalformedHash_Throws()
    {
        Assert.Throws<ArgumentException>(() => BundleSignature.Create("sha256:ABC", _key));
    }
}
