using System.Security.Cryptography;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.EdEC;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace Extensions.Modules.Bundles;

/// <summary>A publisher's Ed25519 signing key pair, stored in the PEM forms OpenSSL reads and writes.</summary>
public sealed class PublisherKey
{
    private const string PrivateLabel = "PRIVATE KEY";
    private readonly Ed25519PrivateKeyParameters _private;
    private readonly byte[] _public;

    private PublisherKey(Ed25519PrivateKeyParameters key)
    {
        _private = key;
        _public = key.GeneratePublicKey().GetEncoded();
        KeyId = KeyIds.For(_public);
    }

    /// <summary>A copy, so callers can't alter the key this instance signs with.</summary>
    public byte[] PublicKeyRaw => _public.ToArray();
    public string KeyId { get; }

    public static PublisherKey Generate()
    {
        var generator = new Ed25519KeyPairGenerator();
        generator.Init(new Ed25519KeyGenerationParameters(new SecureRandom()));
        return new PublisherKey((Ed25519PrivateKeyParameters)generator.GenerateKeyPair().Private);
    }

    public static PublisherKey Load(string pemPath)
    {
        if (!File.Exists(pemPath)) throw new BundleException($"private key file '{pemPath}' does not exist");
        try
        {
            return FromPem(File.ReadAllText(pemPath));
        }
        catch (BundleException ex)
        {
            throw new BundleException($"'{pemPath}': {ex.Message}", ex);
        }
    }

    /// <summary>Reads an unencrypted PKCS#8 <c>-----BEGIN PRIVATE KEY-----</c> block.</summary>
    public static PublisherKey FromPem(string pemText)
    {
        var der = PemFile.Der(pemText, PrivateLabel, "private key");
        try
        {
            return PrivateKeyFactory.CreateKey(der) is Ed25519PrivateKeyParameters key
                ? new PublisherKey(key)
                : throw new BundleException("private key is not an Ed25519 key");
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or IOException or InvalidCastException or CryptographicException)
        {
            throw new BundleException($"private key PEM is malformed: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Writes the private key 0600 from creation on (no window where it is readable by others) and refuses to
    /// overwrite an existing one: a lost signing key can't be recovered.
    /// </summary>
    public void Save(string privatePath, string publicPath)
    {
        if (File.Exists(privatePath)) throw new BundleException($"refusing to overwrite existing private key '{privatePath}'");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = OwnerOnly;
        using (var stream = new FileStream(privatePath, options))
            stream.Write(System.Text.Encoding.ASCII.GetBytes(ToPrivatePem()));
        // The create mode is filtered by umask; set it explicitly so the result never depends on the caller's umask.
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(privatePath, OwnerOnly);
        File.WriteAllText(publicPath, PublicKeyPem.Write(_public));
    }

    /// <summary>PKCS#8 without the optional embedded public key, matching <c>openssl genpkey -algorithm ed25519</c>.</summary>
    internal string ToPrivatePem()
    {
        var info = new PrivateKeyInfo(new AlgorithmIdentifier(EdECObjectIdentifiers.id_Ed25519), new DerOctetString(_private.GetEncoded()));
        return PemFile.Write(PrivateLabel, info.GetEncoded(Asn1Encodable.Der));
    }

    internal byte[] Sign(ReadOnlySpan<byte> message) => Ed25519Crypto.Sign(_private, message);
}
