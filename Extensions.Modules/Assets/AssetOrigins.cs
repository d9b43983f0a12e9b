using System.Net;
using System.Security.Cryptography;
using System.Text;
using Extensions.Modules.Common;
using Microsoft.Extensions.Options;

namespace Extensions.Modules.Assets;

/// <summary>
/// Every extension gets its own origin on the asset listener, <c>{scheme}://{label}.{domain}:{port}</c>, so two extensions'
/// iframes can never script each other. The console builds iframe URLs and checks message origins with this.
/// </summary>
public sealed class AssetOrigins(IOptions<AssetsOptions> options, IListenerUrls listeners)
{
    private const string Base32 = "abcdefghijklmnopqrstuvwxyz234567";
    private const int SlugChars = 40;
    private const int HashChars = 16;

    /// <summary>
    /// A DNS label for an extension id: a readable slug (dots become '-', runs of '-' collapse so no label looks like an IDNA
    /// <c>xn--</c> one) plus 80 bits of SHA-256 of the exact id, so ids that slug alike (<c>a-b.c</c>, <c>a.b-c</c>) still differ.
    /// At most 57 characters of <c>[a-z0-9-]</c>.
    /// </summary>
    public static string Label(string extensionId)
    {
        var slug = new StringBuilder(SlugChars);
        foreach (var c in extensionId.ToLowerInvariant())
        {
            var mapped = char.IsAsciiLetterOrDigit(c) ? c : '-';
            if (slug.Length >= SlugChars) break;
            if (mapped == '-' && (slug.Length == 0 || slug[^1] == '-')) continue;
            slug.Append(mapped);
        }

        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(extensionId));
        var hash = new StringBuilder(HashChars);
        for (var bit = 0; hash.Length < HashChars; bit += 5)
        {
            var value = (digest[bit / 8] << 8 | digest[bit / 8 + 1]) >> (11 - bit % 8) & 31;
            hash.Append(Base32[value]);
        }

        return $"{slug.ToString().Trim('-')}-{hash}";
    }

    /// <summary>The origin that serves <paramref name="extensionId"/>'s UI, e.g. <c>http://samples-hello-ui-abcd….localhost:5081</c>.</summary>
    public string OriginFor(string extensionId)
    {
        var o = options.Value;
        var port = o.PublicPort != 0 ? o.PublicPort : new Uri(listeners.AssetsUrl).Port;
        var defaultPort = (o.Scheme == "https" && port == 443) || (o.Scheme == "http" && port == 80);
        return $"{o.Scheme}://{Label(extensionId)}.{o.BaseDomain}{(defaultPort ? "" : $":{port}")}";
    }

    /// <summary>Origins allowed to frame extension UI: the configured ones, or the console listener as 127.0.0.1 and localhost.</summary>
    public IReadOnlyList<string> ConsoleOrigins
    {
        get
        {
            if (options.Value.ConsoleOrigin.Length > 0)
            {
                return options.Value.ConsoleOrigin.Split(' ');
            }

            var console = new Uri(listeners.ConsoleUrl);
            var loopbackName = IPAddress.TryParse(console.Host.Trim('[', ']'), out var ip) && (IPAddress.IsLoopback(ip) || ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any));
            return loopbackName
                ? [$"{console.Scheme}://127.0.0.1:{console.Port}", $"{console.Scheme}://localhost:{console.Port}"]
                : [$"{console.Scheme}://{console.Authority}"];
        }
    }

    /// <summary>True when a request's Host (without port) is the asset host of <paramref name="extensionId"/>.</summary>
    internal bool IsHostOf(string host, string extensionId) =>
        string.Equals(host, $"{Label(extensionId)}.{options.Value.BaseDomain}", StringComparison.OrdinalIgnoreCase);
}
