using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Extensions.Modules.HostApi;

/// <summary>
/// Where <c>http_fetch</c> may go: a host the admin consented to (exact, or <c>*.suffix</c> for its subdomains; none means
/// nothing), and then only to public addresses. Every address a name resolves to is checked after resolution, and the
/// connection is made to the checked address itself, so a name cannot point somewhere else between check and connect.
/// </summary>
internal sealed class EgressPolicy(IOptions<HostApiOptions> options)
{
    /// <summary>Ranges no extension may reach unless the operator allows them (<see cref="HostApiOptions.EgressAllowedRanges"/>).</summary>
    private static readonly (IPNetwork Range, string Reason)[] Refused =
    [
        (IPNetwork.Parse("0.0.0.0/8"), "unspecified"),
        (IPNetwork.Parse("10.0.0.0/8"), "private"),
        (IPNetwork.Parse("100.64.0.0/10"), "shared (CGNAT)"),
        (IPNetwork.Parse("127.0.0.0/8"), "loopback"),
        (IPNetwork.Parse("169.254.0.0/16"), "link-local (cloud metadata)"),
        (IPNetwork.Parse("172.16.0.0/12"), "private"),
        (IPNetwork.Parse("192.0.0.0/24"), "IETF protocol assignments"),
        (IPNetwork.Parse("192.0.2.0/24"), "documentation"),
        (IPNetwork.Parse("192.88.99.0/24"), "6to4 relay"),
        (IPNetwork.Parse("192.168.0.0/16"), "private"),
        (IPNetwork.Parse("198.18.0.0/15"), "benchmarking"),
        (IPNetwork.Parse("198.51.100.0/24"), "documentation"),
        (IPNetwork.Parse("203.0.113.0/24"), "documentation"),
        (IPNetwork.Parse("224.0.0.0/4"), "multicast"),
        (IPNetwork.Parse("240.0.0.0/4"), "reserved or broadcast"),
        (IPNetwork.Parse("::/128"), "unspecified"),
        (IPNetwork.Parse("::1/128"), "loopback"),
        // Forms that carry an IPv4 address inside IPv6 would otherwise smuggle any of the above.
        (IPNetwork.Parse("::/96"), "IPv4-compatible IPv6"),
        (IPNetwork.Parse("::ffff:0:0/96"), "IPv4-mapped IPv6"),
        (IPNetwork.Parse("::ffff:0:0:0/96"), "IPv4-translated IPv6"),
        (IPNetwork.Parse("64:ff9b::/96"), "NAT64"),
        (IPNetwork.Parse("64:ff9b:1::/48"), "NAT64 (local use)"),
        (IPNetwork.Parse("100::/64"), "discard"),
        (IPNetwork.Parse("2001::/32"), "Teredo"),
        (IPNetwork.Parse("2001:db8::/32"), "documentation"),
        (IPNetwork.Parse("2002::/16"), "6to4"),
        (IPNetwork.Parse("fc00::/7"), "unique local (private, cloud metadata)"),
        (IPNetwork.Parse("fe80::/10"), "link-local"),
        (IPNetwork.Parse("fec0::/10"), "site-local"),
        (IPNetwork.Parse("ff00::/8"), "multicast"),
    ];

    private readonly IPNetwork[] _allowed = [.. options.Value.EgressAllowedRanges.Select(r => IPNetwork.Parse(r))];

    /// <summary>Whether <paramref name="host"/> (lower case, no trailing dot) is one the admin consented to.</summary>
    public static bool HostAllowed(string host, IReadOnlyList<string> allowedHosts)
    {
        foreach (var pattern in allowedHosts)
        {
            if (pattern.StartsWith("*.", StringComparison.Ordinal)
                ? host.Length > pattern.Length - 1 && host.EndsWith(pattern.AsSpan(1), StringComparison.OrdinalIgnoreCase)
                : host.Equals(pattern, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The host part of a URL as the allowlist sees it: lower case, IPv6 without brackets, no trailing dot.</summary>
    /// <remarks>
    /// <see cref="Uri"/> has already turned IPv4 spelled in decimal, hex, octal or with missing parts (<c>2130706433</c>,
    /// <c>0x7f.1</c>, <c>0177.0.0.1</c>) into dotted form, so such a URL matches only an allowlist entry for the dotted
    /// address, and is then subject to the address check like any other.
    /// </remarks>
    public static string HostOf(Uri uri) => uri.IdnHost.TrimEnd('.').ToLowerInvariant();

    /// <returns><c>null</c> when <paramref name="address"/> may be reached, else why not.</returns>
    public string? Refusal(IPAddress address)
    {
        // A zone id names a local interface: never meaningful for egress.
        if (address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0)
        {
            return Allowed(address) ? null : "scoped IPv6";
        }

        foreach (var (range, reason) in Refused)
        {
            if (Contains(range, address))
            {
                return Allowed(address) ? null : reason;
            }
        }

        return null;
    }

    private bool Allowed(IPAddress address)
    {
        foreach (var range in _allowed)
        {
            if (Contains(range, address))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Prefix match within one address family. <see cref="IPNetwork.Contains"/> is not used: it treats an IPv4-mapped IPv6
    /// address as the IPv4 address, so a mapped form would pass as a public IPv4 address instead of being refused as mapped.
    /// </summary>
    internal static bool Contains(IPNetwork range, IPAddress address)
    {
        var network = range.BaseAddress;
        if (network.AddressFamily != address.AddressFamily)
        {
            return false;
        }

        Span<byte> a = stackalloc byte[16];
        Span<byte> n = stackalloc byte[16];
        address.TryWriteBytes(a, out var length);
        network.TryWriteBytes(n, out _);
        var bits = range.PrefixLength;
        for (var i = 0; i < length && bits > 0; i++, bits -= 8)
        {
            var mask = bits >= 8 ? (byte)0xFF : (byte)(0xFF << (8 - bits));
            if ((a[i] & mask) != (n[i] & mask))
            {
                return false;
            }
        }

        return true;
    }
}
