using System.Security.Cryptography;

namespace Extensions.Modules.Bundles;

/// <summary>Short, stable names for public keys, shown to operators and carried in signature files.</summary>
public static class KeyIds
{
    public const string Prefix = "ed25519:";

    /// <summary><c>ed25519:</c> + the first 16 hex digits of SHA-256 over the raw 32-byte key.</summary>
    public static string For(ReadOnlySpan<byte> rawPublicKey)
    {
        if (rawPublicKey.Length != Ed25519Crypto.PublicKeySize)
            throw new ArgumentException($"an Ed25519 public key is {Ed25519Crypto.PublicKeySize} bytes, not {rawPublicKey.Length}", nameof(rawPublicKey));
        return Prefix + Convert.ToHexStringLower(SHA256.HashData(rawPublicKey))[..16];
    }
}
