using System.Buffers;
using System.Security.Cryptography;

namespace Extensions.Modules.Storage;

/// <summary>The <c>sha256:&lt;64 lower-case hex&gt;</c> form used for every content address in the platform.</summary>
public static class ContentHash
{
    public const string Prefix = "sha256:";
    private static readonly SearchValues<char> LowerHex = SearchValues.Create("0123456789abcdef");

    public static string Of(ReadOnlySpan<byte> content) => Prefix + Convert.ToHexStringLower(SHA256.HashData(content));

    /// <summary>The hash of a stream's remaining bytes, read without holding them all in memory.</summary>
    public static string Of(Stream content) => Prefix + Convert.ToHexStringLower(SHA256.HashData(content));

    public static bool IsValid(string? value) =>
        value is { Length: 71 } && value.StartsWith(Prefix, StringComparison.Ordinal)
        && value.AsSpan(Prefix.Length).ContainsAnyExcept(LowerHex) is false;

    /// <summary>The 64 hex digits of a valid hash.</summary>
    public static string Hex(string contentHash) =>
        IsValid(contentHash) ? contentHash[Prefix.Length..] : throw new ArgumentException($"'{contentHash}' is not a sha256: content hash", nameof(contentHash));
}
