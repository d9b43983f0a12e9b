namespace Extensions.Modules.Gateway;

/// <summary>
/// Which headers cross the gateway. In: content negotiation and conditionals, and the caller's own <c>x-</c> headers;
/// never credentials, cookies, forwarding or hop-by-hop headers. Out: what describes the guest's content, and its own
/// <c>x-</c> headers; never cookies, hop-by-hop or framing headers, CORS, or the host's security and usage headers.
/// </summary>
internal static class HeaderPolicy
{
    /// <summary>Request headers an extension may see (besides <c>x-</c> headers).</summary>
    private static readonly HashSet<string> RequestAllowlist = new(StringComparer.OrdinalIgnoreCase)
    {
        "accept", "accept-language", "content-type", "content-length", "if-match", "if-none-match", "if-modified-since", "user-agent",
    };

    /// <summary>Response headers an extension may set (besides its own <c>x-</c> headers).</summary>
    private static readonly HashSet<string> ResponseAllowlist = new(StringComparer.OrdinalIgnoreCase)
    {
        "content-type", "cache-control", "etag", "last-modified", "content-language", "vary", "location",
    };

    /// <summary><c>x-</c> headers the host owns: browser protections and its own bookkeeping.</summary>
    private static readonly HashSet<string> HostOwnedExtensionHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "x-content-type-options", "x-frame-options", "x-xss-protection", "x-permitted-cross-domain-policies",
        "x-dns-prefetch-control", "x-download-options", "x-powered-by", "x-request-id", IdempotencyStore.ReplayedHeader,
    };

    public static bool MayReachGuest(string name) => RequestAllowlist.Contains(name) || IsCallerExtensionHeader(name);

    public static bool MayLeaveGuest(string name, string value) =>
        IsToken(name) && IsSafeValue(value)
        && (ResponseAllowlist.Contains(name) || (IsCallerExtensionHeader(name) && !name.StartsWith("x-ext-", StringComparison.OrdinalIgnoreCase)));

    private static bool IsCallerExtensionHeader(string name) =>
        name.StartsWith("x-", StringComparison.OrdinalIgnoreCase)
        && !name.StartsWith("x-forwarded-", StringComparison.OrdinalIgnoreCase)
        && !HostOwnedExtensionHeaders.Contains(name);

    // RFC 9110 token characters; anything else would make Kestrel refuse the whole response.
    private static bool IsToken(string name) =>
        name.Length is > 0 and <= 256 && name.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c));

    private static bool IsSafeValue(string value) => value.Length <= 8192 && value.All(c => c is '\t' or (>= ' ' and < (char)127));
}
