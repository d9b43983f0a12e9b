using System.Security.Cryptography;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.EdEC;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace Extensions.Modules.Bundles;

/// <summary>Ed25519 public keys as SubjectPublicKeyInfo PEM (what <c>openssl pkey -pubout</c> writes).</summary>
public static class PublicKeyPem
{
    private const string Label = "PUBLIC KEY";

    /// <summary>The raw 32-byte key inside a <c>-----BEGIN PUBLIC KEY-----</c> block.</summary>
    public static byte[] ReadRaw(string pemText)
    {
        var der = PemFile.Der(pemText, Label, "public key");
        try
        {
            return PublicKeyFactory.CreateKey(der) is Ed25519PublicKeyParameters key
                ? key.GetEncoded()
                : throw new BundleException("public key is not an Ed25519 key");
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or IOException or InvalidCastException or CryptographicException)
        {
            throw new BundleException($"public key PEM is malformed: {ex.Message}", ex);
        }
    }

    public static string Write(ReadOnlySpan<byte> rawPublicKey)
    {
        if (!Ed25519Crypto.IsValidPublicKey(rawPublicKey)) throw new ArgumentException("not a valid Ed25519 public key", nameof(rawPublicKey));
        var info = new SubjectPublicKeyInfo(new AlgorithmIdentifier(EdECObjectIdentifiers.id_Ed25519), rawPublicKey.ToArray());
        return PemFile.Write(Label, info.GetEncoded(Asn1Encodable.Der));
    }
}
