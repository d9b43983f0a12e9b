using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Extensions.Modules.Registry.Auth;

/// <summary>
/// Counts failed password sign-ins in fixed windows (System.Threading.RateLimiting): per (tenant, user name, address), so one
/// user's password can't be guessed from one place, and per address, so one place can't spray many names. A key whose
/// failures are used up is refused, right password or not, until its window ends. Only failures take permits. Idle keys are
/// dropped by the partitioned limiter itself.
/// </summary>
internal sealed class SignInThrottle : IDisposable
{
    private readonly PartitionedRateLimiter<string> _perUser;
    private readonly PartitionedRateLimiter<string> _perAddress;

    public SignInThrottle(IOptions<RegistryOptions> options)
    {
        var window = TimeSpan.FromSeconds(options.Value.SignInLockoutSeconds);
        _perUser = Create(options.Value.SignInMaxFailures, window);
        _perAddress = Create(options.Value.SignInMaxFailuresPerAddress, window);
    }

    /// <returns>How long to wait when the user name from this address, or the address, has no failures left; else null.</returns>
    public TimeSpan? Blocked(string tenant, string userName, string address)
    {
        foreach (var (limiter, key) in Keys(tenant, userName, address))
        {
            using var lease = limiter.AttemptAcquire(key, 0);
            if (!lease.IsAcquired)
            {
                return lease.TryGetMetadata(MetadataName.RetryAfter, out var retry) ? retry : TimeSpan.FromSeconds(1);
            }
        }

        return null;
    }

    /// <summary>Records a failed attempt. Returns true when it used up the last permit, i.e. throttling starts now.</summary>
    public bool Fail(string tenant, string userName, string address)
    {
        var exhausted = false;
        foreach (var (limiter, key) in Keys(tenant, userName, address))
        {
            using (limiter.AttemptAcquire(key, 1))
            {
            }

            using var probe = limiter.AttemptAcquire(key, 0);
            exhausted |= !probe.IsAcquired;
        }

        return exhausted;
    }

    public void Dispose()
    {
        _perUser.Dispose();
        _perAddress.Dispose();
    }

    private IEnumerable<(PartitionedRateLimiter<string>, string)> Keys(string tenant, string userName, string address) =>
        [(_perUser, $"{tenant}\n{userName}\n{address}"), (_perAddress, address)];

    private static PartitionedRateLimiter<string> Create(int failures, TimeSpan window) =>
        PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = failures,
            Window = window,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
}
