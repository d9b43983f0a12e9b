using System.Buffers;
using System.Security.Cryptography;

namespace Extensions.Modules.Bundles;

/// <summary>The <c>sha256:&lt;hex&gt;</c> identity of a bundle's uncompressed tar.</summary>
public static class ContentHash
{
    public const string Prefix = "sha256:";
    private static readonly SearchValues<char> LowerHex = SearchValues.Create("0123456789abcdef");

    public static string Of(ReadOnlySpan<byte> tar) => Prefix + Convert.ToHexStringLower(SHA256.HashData(tar));

    public static bool IsWellFormed(string value) =>
        value.Length == Prefix.Length + 64
        && value.StartsWith(Prefix, StringComparison.Ordinal)
        && !value.AsSpan(Prefix.Length).ContainsAnyExcept(LowerHex);
}
