using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace Extensions.Modules.Bundles;

/// <summary>The only place that touches BouncyCastle's Ed25519 primitives.</summary>
internal static class Ed25519Crypto
{
    public const int PublicKeySize = 32;

    public static byte[] Sign(Ed25519PrivateKeyParameters key, ReadOnlySpan<byte> message)
    {
        var signer = new Ed25519Signer();
        signer.Init(true, key);
        signer.BlockUpdate(message);
        return signer.GenerateSignature();
    }

    public static bool Verify(byte[] rawPublicKey, ReadOnlySpan<byte> message, byte[] signature)
    {
        var verifier = new Ed25519Signer();
        verifier.Init(false, new Ed25519PublicKeyParameters(rawPublicKey));
        verifier.BlockUpdate(message);
        return verifier.VerifySignature(signature);
    }

    /// <summary>Rejects wrong lengths and encodings that are not a curve point, so bad keys fail when added, not when used.</summary>
    public static bool IsValidPublicKey(ReadOnlySpan<byte> raw)
    {
        if (raw.Length != PublicKeySize) return false;
        try
        {
            return new Ed25519PublicKeyParameters(raw.ToArray()) is not null;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
