using System.Text.Json.Nodes;
using Extensions.Modules.Bundles;
using NUnit.Framework;

namespace Extensions.Tests.Bundles;

public sealed class TrustBundleTests
{
    private TempDirectory _temp = null!;

    [SetUp]
    public void SetUp() => _temp = new TempDirectory();

    [TearDown]
    public void TearDown() => _temp.Dispose();

    [Test]
    public void SaveThenLoad_KeepsPublishersKeysAndStates()
    {
        var a = PublisherKey.Generate();
        var b = PublisherKey.Generate();
        var trust = TrustBundle.Empty.WithKey("samples", a.PublicKeyRaw).WithKey("acme", b.PublicKeyRaw).WithRevoked(b.KeyId);
        var path = _temp.Combine("trust.json");

        trust.Save(path);
        var loaded = TrustBundle.Load(path);

        Assert.That(loaded.Keys.Select(k => (k.Publisher, k.KeyId, Convert.ToBase64String(k.PublicKey), k.State)), Is.EquivalentTo(new[]
        {
            ("samples", a.KeyId, Convert.ToBase64String(a.PublicKeyRaw), TrustedKey.Active),
            ("acme", b.KeyId, Convert.ToBase64String(b.PublicKeyRaw), TrustedKey.Revoked),
        }));
    }

    [Test]
    public void Save_File_HasTheDocumentedShape()
    {
        var key = PublisherKey.Generate();
        var path = _temp.Combine("trust.json");

        TrustBundle.Empty.WithKey("samples", key.PublicKeyRaw).Save(path);

        var saved = JsonNode.Parse(File.ReadAllText(path))!["publishers"]!["samples"]!["keys"]![0]!;
        Assert.That(saved["keyId"]!.GetValue<string>(), Is.EqualTo(key.KeyId));
        Assert.That(saved["publicKey"]!.GetValue<string>(), Is.EqualTo(Convert.ToBase64String(key.PublicKeyRaw)));
        Assert.That(saved["state"]!.GetValue<string>(), Is.EqualTo("active"));
    }

    [Test]
    public void Save_OverExistingFile_ReplacesItAndLeavesNoTempFiles()
    {
        var path = _temp.Combine("trust.json");
        File.WriteAllText(path, "old");

        TrustBundle.Empty.WithKey("samples", PublisherKey.Generate().PublicKeyRaw).Save(path);

        Assert.That(Directory.GetFiles(_temp.Path), Is.EqualTo(new[] { path }));
        Assert.That(TrustBundle.Load(path).Keys.Count(), Is.EqualTo(1));
    }

    [Test]
    public void Load_MissingFile_IsEmpty()
    {
        Assert.That(TrustBundle.Load(_temp.Combine("none.json")).Keys, Is.Empty);
    }

    [Test]
    public void Load_BrokenFile_MessageNamesThePath()
    {
        var path = _temp.Combine("trust.json");
        File.WriteAllText(path, "{");

        var ex = Assert.Throws<BundleException>(() => TrustBundle.Load(path));

        Assert.That(ex.Message, Does.StartWith($"trust bundle '{path}': not valid JSON"));
    }

    [Test]
    public void WithKey_SameKeyTwice_AddedOnce()
    {
        var key = PublisherKey.Generate();

        var trust = TrustBundle.Empty.WithKey("samples", key.PublicKeyRaw).WithKey("samples", key.PublicKeyRaw);

        Assert.That(trust.Keys.Count(), Is.EqualTo(1));
    }

    [Test]
    public void WithKey_RevokedKeyAddedAgain_StaysRevoked()
    {
        var key = PublisherKey.Generate();

        var trust = TrustBundle.Empty.WithKey("samples", key.PublicKeyRaw).WithRevoked(key.KeyId).WithKey("samples", key.PublicKeyRaw);

        Assert.That(trust.Keys.Single().State, Is.EqualTo(TrustedKey.Revoked));
    }

    [Test]
    public void WithKey_DoesNotChangeTheOriginal()
    {
        var original = TrustBundle.Empty;

        _ = original.WithKey("samples", PublisherKey.Generate().PublicKeyRaw);

        Assert.That(original.Keys, Is.Empty);
    }

    [TestCase("Samples")]
    [TestCase("")]
    [TestCase("a.b")]
    public void WithKey_InvalidPublisher_Throws(string publisher)
    {
        Assert.Throws<BundleException>(() => TrustBundle.Empty.WithKey(publisher, PublisherKey.Generate().PublicKeyRaw));
    }

    [Test]
    public void WithKey_NotA32ByteKey_Throws()
    {
        Assert.Throws<BundleException>(() => TrustBundle.Empty.WithKey("samples", new byte[33]));
    }

    [Test]
    public void WithRevoked_UnknownKey_ThrowsNamingIt()
    {
        var ex = Assert.Throws<BundleException>(() => TrustBundle.Empty.WithRevoked("ed25519:0000000000000000"));

        Assert.That(ex.Message, Is.EqualTo("key ed25519:0000000000000000 is not in the trust bundle"));
    }

    private static IEnumerable<TestCaseData> BrokenFiles()
    {
        var key = PublisherKey.Generate();
        var publicKey = Convert.ToBase64String(key.PublicKeyRaw);
        string File(string publisher, string keyId, string pub, string state) => new JsonObject
        {
            ["publishers"] = new JsonObject
            {
                [publisher] = new JsonObject
                {
                    ["keys"] = new JsonArray(new JsonObject { ["keyId"] = keyId, ["publicKey"] = pub, ["state"] = state }),
                },
            },
        }.ToJsonString();

        yield return new TestCaseData(File("samples", "ed25519:0000000000000000", publicKey, "active"), "does not match its public key").SetArgDisplayNames("keyIdMismatch");
        yield return new TestCaseData(File("samples", key.KeyId, publicKey, "trusted"), "state: must be 'active' or 'revoked'").SetArgDisplayNames("state");
        yield return new TestCaseData(File("samples", key.KeyId, "AAAA", "active"), "publicKey").SetArgDisplayNames("shortKey");
        yield return new TestCaseData(File("Samples", key.KeyId, publicKey, "active"), "not a valid publisher name").SetArgDisplayNames("publisher");
        yield return new TestCaseData("""{"publishers":[]}""", "publishers: must be a JSON object").SetArgDisplayNames("publishersArray");
        yield return new TestCaseData("""{"publishers":{"a":{"keys":[]},"a":{"keys":[]}}}""", "not valid JSON").SetArgDisplayNames("duplicatePublisher");
    }

    [TestCaseSource(nameof(BrokenFiles))]
    public void Parse_BrokenFile_ThrowsSayingWhy(string json, string expected)
    {
        var ex = Assert.Throws<BundleException>(() => TrustBundle.Parse(json));

        Assert.That(ex.Message, Does.Contain(expected));
    }
}
