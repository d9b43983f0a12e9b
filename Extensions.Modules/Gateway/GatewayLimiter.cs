using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Extensions.Modules.Gateway;

/// <summary>
/// Token buckets per tenant and per install, and a cap on each tenant's invocations in flight. Partition keys are the
/// authenticated tenant and the resolved install, never anything the client chose, so there are never more partitions
/// than tenants and installs; idle ones are dropped by the partitioned limiter's own sweep.
/// </summary>
internal sealed class GatewayLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<string>? _tenants;
    private readonly PartitionedRateLimiter<InstallKey>? _installs;
    private readonly PartitionedRateLimiter<string>? _concurrency;
    private readonly PartitionedRateLimiter<EndpointKey> _endpoints;
    private readonly int _installCap;

    public GatewayLimiter(IOptions<GatewayOptions> options)
    {
        var o = options.Value;
        _installCap = o.InstallRequestsPerSecond;
        // An endpoint's own rate (from its manifest) is part of its partition key, which the gateway builds from the
        // resolved install and matched endpoint only; burst is one second's worth.
        _endpoints = PartitionedRateLimiter.Create<EndpointKey, EndpointKey>(key => RateLimitPartition.GetTokenBucketLimiter(key, k => new TokenBucketRateLimiterOptions
        {
            TokenLimit = k.Rate,
            TokensPerPeriod = k.Rate,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = false,
        }));
        if (o.TenantRequestsPerSecond > 0)
        {
            _tenants = Buckets<string>(o.TenantRequestsPerSecond, o.TenantBurst);
        }

        if (o.InstallRequestsPerSecond > 0)
        {
            _installs = Buckets<InstallKey>(o.InstallRequestsPerSecond, o.InstallBurst);
        }

        if (o.MaxConcurrentPerTenant > 0)
        {
            var permits = new ConcurrencyLimiterOptions { PermitLimit = o.MaxConcurrentPerTenant, QueueLimit = 0 };
            Func<string, RateLimiter> create = _ => new ConcurrencyLimiter(permits);
            _concurrency = PartitionedRateLimiter.Create<string, string>(tenant => new RateLimitPartition<string>(tenant, create), StringComparer.Ordinal);
        }
    }

    // The partitioned limiter replenishes every bucket from one timer; a timer per bucket would cost more than it buys.
    // The partitions' factory is made once: the limiter asks for a partition on every call, and the
    // RateLimitPartition.Get… helpers allocate a new factory each time.
    private static PartitionedRateLimiter<TKey> Buckets<TKey>(int perSecond, int burst) where TKey : notnull
    {
        var options = new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(burst, 1),
            TokensPerPeriod = perSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = false,
        };
        Func<TKey, RateLimiter> create = _ => new TokenBucketRateLimiter(options);
        return PartitionedRateLimiter.Create<TKey, TKey>(key => new RateLimitPartition<TKey>(key, create));
    }

    /// <returns>Null when the tenant may go on, else the seconds to wait before retrying.</returns>
    public int? TryTenant(string tenantId) => Take(_tenants, tenantId);

    /// <returns>Null when the install may go on, else the seconds to wait before retrying.</returns>
    public int? TryInstall(string tenantId, string installId) => Take(_installs, new InstallKey(tenantId, installId));

    /// <summary>An endpoint that declares its own <c>requestsPerSecond</c>: its bucket per install, capped by the operator's install rate.</summary>
    /// <returns>Null when the call may go on, else the seconds to wait before retrying.</returns>
    public int? TryEndpoint(string installId, string endpoint, int requestsPerSecond)
    {
        var rate = _installCap > 0 ? Math.Min(requestsPerSecond, _installCap) : requestsPerSecond;
        return Take(_endpoints, new EndpointKey(installId, endpoint, rate));
    }

    private readonly record struct EndpointKey(string InstallId, string Endpoint, int Rate);

    private readonly record struct InstallKey(string TenantId, string InstallId);

    /// <summary>A slot among the tenant's invocations in flight, or null when they are all taken. Dispose it when done.</summary>
    public IDisposable? TryEnter(string tenantId)
    {
        if (_concurrency is null)
        {
            return NoLease.Instance;
        }

        var lease = _concurrency.AttemptAcquire(tenantId);
        if (lease.IsAcquired)
        {
            return lease;
        }

        lease.Dispose();
        return null;
    }

    private static int? Take<TKey>(PartitionedRateLimiter<TKey>? limiter, TKey key)
    {
        if (limiter is null)
        {
            return null;
        }

        using var lease = limiter.AttemptAcquire(key);
        if (lease.IsAcquired)
        {
            return null;
        }

        return lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? Math.Max(1, (int)Math.Ceiling(after.TotalSeconds)) : 1;
    }

    public void Dispose()
    {
        _tenants?.Dispose();
        _installs?.Dispose();
        _concurrency?.Dispose();
        _endpoints.Dispose();
    }

    private sealed class NoLease : IDisposable
    {
        public static readonly NoLease Instance = new();

        public void Dispose()
        {
        }
    }
}
