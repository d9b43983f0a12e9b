using System.Text;
using System.Text.RegularExpressions;
using Extensions.Modules.Storage;

namespace Extensions.Modules.Assets;

/// <summary>An asset request, parsed from the raw request target.</summary>
internal sealed record AssetRequest(string ExtensionId, string ContentHash, string FilePath);

/// <summary>
/// Parses <c>/ext-ui/{extensionId}/{contentHash}/{**path}</c> from what the client sent, not from the server's decoded path:
/// each segment is percent-decoded once, strictly, and refused when it is empty, <c>.</c> or <c>..</c>, or holds a separator, a
/// backslash or a control character (NUL included) in either form. What is left can only name a file inside the bundle.
/// </summary>
internal static partial class AssetPath
{
    public const string Prefix = "/ext-ui/";
    public const int MaxTargetChars = 2048;
    public const int MaxSegments = 32;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    [GeneratedRegex(@"^[a-z][a-z0-9-]{0,62}\.[a-z][a-z0-9-]{0,62}\z")]
    private static partial Regex ExtensionIdPattern();

    /// <returns>The request, or null with a reason safe to show.</returns>
    public static (AssetRequest? Request, string? Problem) Parse(string rawTarget)
    {
        if (rawTarget.Length > MaxTargetChars) return (null, $"the request target is longer than {MaxTargetChars} characters");
        var q = rawTarget.IndexOf('?', StringComparison.Ordinal);
        var path = q < 0 ? rawTarget : rawTarget[..q];
        if (!path.StartsWith(Prefix, StringComparison.Ordinal)) return (null, "asset paths start with /ext-ui/");

        var raw = path[Prefix.Length..].Split('/');
        if (raw.Length > MaxSegments) return (null, $"the path has more than {MaxSegments} segments");
        if (raw.Length < 3) return (null, "the path must be /ext-ui/{extensionId}/{contentHash}/{file}");

        var segments = new string[raw.Length];
        for (var i = 0; i < raw.Length; i++)
        {
            var segment = Decode(raw[i]);
            if (segment is null) return (null, "the path contains an invalid escape or invalid UTF-8");
            if (segment.Length == 0 || segment is "." or "..") return (null, "the path contains an empty, '.' or '..' segment");
            if (segment.Any(c => c is '/' or '\\' || char.IsControl(c))) return (null, "the path contains an encoded separator, a backslash or a control character");
            segments[i] = segment;
        }

        if (!ExtensionIdPattern().IsMatch(segments[0])) return (null, "the extension id is not of the form publisher.name");
        if (!ContentHash.IsValid(segments[1])) return (null, "the content hash must be sha256: followed by 64 lower-case hex digits");
        return (new AssetRequest(segments[0], segments[1], string.Join('/', segments[2..])), null);
    }

    /// <summary>Percent-decodes one segment; null when an escape is malformed or the bytes are not UTF-8.</summary>
    private static string? Decode(string segment)
    {
        if (!segment.Contains('%', StringComparison.Ordinal)) return segment;
        var bytes = new List<byte>(segment.Length);
        for (var i = 0; i < segment.Length; i++)
        {
            if (segment[i] != '%')
            {
                if (segment[i] > 0x7f) return null;
                bytes.Add((byte)segment[i]);
                continue;
            }

            if (i + 2 >= segment.Length || !Uri.IsHexDigit(segment[i + 1]) || !Uri.IsHexDigit(segment[i + 2])) return null;
            bytes.Add(Convert.ToByte(segment.Substring(i + 1, 2), 16));
            i += 2;
        }

        try
        {
            return StrictUtf8.GetString([.. bytes]);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }
}
