using System.ComponentModel.DataAnnotations;
using System.Net;
using Extensions.Modules.HostApi;
using Microsoft.Extensions.Options;

namespace Extensions.Tests.HostApi;

/// <summary>The address and host rules of <c>http_fetch</c>, one form at a time.</summary>
[TestFixture]
public sealed class EgressPolicyTests
{
    private static EgressPolicy Policy(params string[] allowedRanges) =>
        new(Options.Create(new HostApiOptions { EgressAllowedRanges = [.. allowedRanges] }));

    [TestCase("127.0.0.1", "loopback")]
    [TestCase("127.255.255.254", "loopback")]
    [TestCase("10.0.0.1", "private")]
    [TestCase("172.16.0.1", "private")]
    [TestCase("172.31.255.255", "private")]
    [TestCase("192.168.1.1", "private")]
    [TestCase("169.254.169.254", "link-local (cloud metadata)")]
    [TestCase("169.254.0.1", "link-local (cloud metadata)")]
    [TestCase("100.64.0.1", "shared (CGNAT)")]
    [TestCase("100.100.100.200", "shared (CGNAT)")]
    [TestCase("224.0.0.1", "multicast")]
    [TestCase("239.255.255.250", "multicast")]
    [TestCase("0.0.0.0", "unspecified")]
    [TestCase("255.255.255.255", "reserved or broadcast")]
    [TestCase("::", "unspecified")]
    [TestCase("::1", "loopback")]
    [TestCase("fc00::1", "unique local (private, cloud metadata)")]
    [TestCase("fd00:ec2::254", "unique local (private, cloud metadata)")]
    [TestCase("fe80::1", "link-local")]
    [TestCase("ff02::1", "multicast")]
    [TestCase("::ffff:127.0.0.1", "IPv4-mapped IPv6")]
    [TestCase("::ffff:169.254.169.254", "IPv4-mapped IPv6")]
    [TestCase("::ffff:8.8.8.8", "IPv4-mapped IPv6")]
    [TestCase("::127.0.0.1", "IPv4-compatible IPv6")]
    [TestCase("::10.0.0.1", "IPv4-compatible IPv6")]
    [TestCase("64:ff9b::7f00:1", "NAT64")]
    [TestCase("64:ff9b::a9fe:a9fe", "NAT64")]
    [TestCase("64:ff9b:1::1", "NAT64 (local use)")]
    [TestCase("2002:7f00:1::1", "6to4")]
    public void RefusedAddress_HasItsReason(string address, string reason) =>
        Assert.That(Policy().Refusal(IPAddress.Parse(address)), Is.EqualTo(reason));

    [TestCase("8.8.8.8")]
    [TestCase("93.184.215.14")]
    [TestCase("1.1.1.1")]
    [TestCase("172.32.0.1")]
    [TestCase("100.128.0.1")]
    [TestCase("2606:4700:4700::1111")]
    [TestCase("2a00:1450:4001:80b::200e")]
    public void PublicAddress_IsAllowed(string address) =>
        Assert.That(Policy().Refusal(IPAddress.Parse(address)), Is.Null);

    [Test]
    public void ScopedLinkLocal_IsRefused() =>
        Assert.That(Policy().Refusal(IPAddress.Parse("fe80::1%1")), Is.Not.Null);

    /// <summary>IPv4 spelled in decimal, hex, octal or short form is still 127.0.0.1 by the time it is checked.</summary>
    [TestCase("http://2130706433/")]
    [TestCase("http://0x7f.1/")]
    [TestCase("http://0x7f000001/")]
    [TestCase("http://0177.0.0.1/")]
    [TestCase("http://017700000001/")]
    [TestCase("http://127.1/")]
    [TestCase("http://[::ffff:7f00:1]/")]
    [TestCase("http://[0:0:0:0:0:ffff:127.0.0.1]/")]
    public void IPv4LiteralTricks_AreRefused(string url)
    {
        var host = EgressPolicy.HostOf(new Uri(url));
        Assert.That(IPAddress.TryParse(host, out var address), Is.True, host);
        Assert.That(Policy().Refusal(address!), Is.Not.Null, $"{url} → {address}");
    }

    [Test]
    public void HostOf_NormalisesTheTrickToTheDottedAddress() =>
        Assert.That(EgressPolicy.HostOf(new Uri("http://0x7f.1/")), Is.EqualTo("127.0.0.1"));

    [Test]
    public void OperatorRange_AllowsExactlyThatRange()
    {
        var policy = Policy("127.0.0.0/8", "fd12::/16");
        Assert.That(policy.Refusal(IPAddress.Parse("127.0.0.1")), Is.Null);
        Assert.That(policy.Refusal(IPAddress.Parse("fd12::5")), Is.Null);
        Assert.That(policy.Refusal(IPAddress.Parse("10.0.0.1")), Is.EqualTo("private"));
        Assert.That(policy.Refusal(IPAddress.Parse("::ffff:127.0.0.1")), Is.EqualTo("IPv4-mapped IPv6"), "a mapped form is not the IPv4 range");
        Assert.That(policy.Refusal(IPAddress.Parse("::1")), Is.EqualTo("loopback"));
    }

    [TestCase("api.example.com", "api.example.com", true)]
    [TestCase("API.Example.com", "api.example.com", true)]
    [TestCase("other.example.com", "api.example.com", false)]
    [TestCase("a.example.com", "*.example.com", true)]
    [TestCase("a.b.example.com", "*.example.com", true)]
    [TestCase("example.com", "*.example.com", false)]
    [TestCase("evilexample.com", "*.example.com", false)]
    [TestCase("example.com.evil.net", "*.example.com", false)]
    [TestCase("127.0.0.1", "api.example.com", false)]
    public void HostAllowlist_IsExactOrSubdomainWildcard(string host, string pattern, bool allowed) =>
        Assert.That(EgressPolicy.HostAllowed(host, [pattern]), Is.EqualTo(allowed));

    [Test]
    public void EmptyAllowlist_DeniesEverything() =>
        Assert.That(EgressPolicy.HostAllowed("api.example.com", []), Is.False);

    [TestCase("127.0.0.1/8")]
    [TestCase("localhost")]
    [TestCase("10.0.0.0/33")]
    public void BadOperatorRange_FailsValidation(string range)
    {
        var options = new HostApiOptions { EgressAllowedRanges = [range] };
        var results = new List<ValidationResult>();
        Assert.That(Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true), Is.False);
        Assert.That(results.Single().ErrorMessage, Does.Contain(range));
    }
}
